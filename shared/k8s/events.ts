// Kubernetes Events (core/v1) that spotguard reports on nodes and pods.
import { type CoreV1Event, V1MicroTime } from '@kubernetes/client-node';
import type { KubeClients } from './client.ts';

export interface EventTarget {
  kind: 'Node' | 'Pod';
  name: string;
  /** Pods only; node events go to the 'default' namespace like kubelet's and kubectl's. */
  namespace?: string;
  uid?: string;
}

export interface EventInput {
  target: EventTarget;
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  /** What spotguard did, e.g. 'Cordon', 'Drain', 'Evict'. */
  action: string;
  component: string;
  /** e.g. the Lambda request id: which spotguard instance reported it. */
  instance: string;
}

export function createEvent(k8s: KubeClients, input: EventInput, now = new Date()): Promise<CoreV1Event> {
  const namespace = input.target.namespace ?? 'default';
  const suffix = `${now.getTime().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`;
  return k8s.core.createNamespacedEvent({
    namespace,
    body: {
      metadata: { name: `${input.target.name}.${suffix}`, namespace },
      involvedObject: {
        apiVersion: 'v1',
        kind: input.target.kind,
        name: input.target.name,
        ...(input.target.namespace ? { namespace: input.target.namespace } : {}),
        // kubectl describe node looks events up by involvedObject.uid = the node's *name* (the
        // kubelet's convention, which node-termination-handler follows too), not its real uid.
        ...(input.target.kind === 'Node'
          ? { uid: input.target.name }
          : input.target.uid
            ? { uid: input.target.uid }
            : {}),
      },
      reason: input.reason,
      message: input.message,
      type: input.type,
      action: input.action,
      source: { component: input.component },
      reportingComponent: input.component,
      reportingInstance: input.instance,
      firstTimestamp: now,
      lastTimestamp: now,
      eventTime: new V1MicroTime(now.getTime()),
      count: 1,
    },
  });
}
