// What an instance's life does to its Kubernetes Node: the kubelet registers it after boot, a stop
// makes it NotReady with the cloud provider's shutdown taint, a start brings it back, and the
// cloud node-lifecycle controller deletes it once the instance is terminated.
import { buildNodeObject } from '../k8s/node-factory.ts';
import type { Store } from '../k8s/store.ts';
import type { SimInstance } from './cloud.ts';

export const SHUTDOWN_TAINT_KEY = 'node.cloudprovider.kubernetes.io/shutdown';

export interface NodeExtras {
  labels?: Record<string, string>;
  taints?: Array<{ key: string; value?: string; effect: string }>;
}

export function joinNode(store: Store, instance: SimInstance, region: string, extras: NodeExtras = {}): void {
  if (store.get('nodes', undefined, instance.privateDnsName)) return;
  const node = buildNodeObject({
    name: instance.privateDnsName,
    instanceId: instance.instanceId,
    zone: instance.zone,
    region,
    instanceType: instance.instanceType,
    capacityType: instance.capacityType,
    nodegroup: instance.nodegroup,
    ...(extras.labels ? { labels: extras.labels } : {}),
    ...(extras.taints ? { taints: extras.taints } : {}),
  });
  store.create('nodes', node);
}

export function removeNode(store: Store, nodeName: string): void {
  if (store.get('nodes', undefined, nodeName)) store.delete('nodes', undefined, nodeName);
}

/** Stopped instance: kubelet silent → Ready=Unknown, plus the shutdown taint the cloud provider adds. */
export function markNodeShutdown(store: Store, nodeName: string): void {
  if (!store.get('nodes', undefined, nodeName)) return;
  store.mutate('nodes', undefined, nodeName, (node) => {
    setReadyCondition(node, 'Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.');
    const taints: Array<{ key: string; effect: string }> = node.spec.taints ?? [];
    if (!taints.some((t) => t.key === SHUTDOWN_TAINT_KEY)) {
      taints.push({ key: SHUTDOWN_TAINT_KEY, effect: 'NoSchedule' });
    }
    node.spec.taints = taints;
  });
}

/** Started again: Ready=True and the shutdown taint removed. */
export function markNodeRunning(store: Store, nodeName: string): void {
  if (!store.get('nodes', undefined, nodeName)) return;
  store.mutate('nodes', undefined, nodeName, (node) => {
    setReadyCondition(node, 'True', 'KubeletReady', 'kubelet is posting ready status');
    const taints: Array<{ key: string }> = node.spec.taints ?? [];
    const kept = taints.filter((t) => t.key !== SHUTDOWN_TAINT_KEY);
    if (kept.length > 0) node.spec.taints = kept;
    else delete node.spec.taints;
  });
}

// biome-ignore lint/suspicious/noExplicitAny: wire object
function setReadyCondition(node: any, status: string, reason: string, message: string): void {
  node.status ??= {};
  const conditions: Array<Record<string, string>> = node.status.conditions ?? [];
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const ready = conditions.find((c) => c.type === 'Ready');
  if (ready) {
    if (ready.status !== status) ready.lastTransitionTime = now;
    Object.assign(ready, { status, reason, message, lastHeartbeatTime: now });
  } else {
    conditions.push({
      type: 'Ready',
      status,
      reason,
      message,
      lastHeartbeatTime: now,
      lastTransitionTime: now,
    });
  }
  node.status.conditions = conditions;
}
