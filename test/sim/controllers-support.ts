// Shared setup for the controller tests: a Store with nodes, the controllers on fast timings, and
// a polling wait that names what it was waiting for when it times out.
import {
  type ControllerOptions,
  type Controllers,
  startControllers,
} from '../../sim/k8s/controllers/index.ts';
import { buildNodeObject, type SimNodeSpec } from '../../sim/k8s/node-factory.ts';
import { type KObject, Store } from '../../sim/k8s/store.ts';

export const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

export const FAST: ControllerOptions = {
  podStartMs: 20,
  podTerminationMs: 20,
  volumeDetachMs: 50,
  schedulerIntervalMs: 100,
};

let nodeCounter = 0;

export function nodeSpec(zone: string, extra: Partial<SimNodeSpec> = {}): SimNodeSpec {
  const n = ++nodeCounter;
  return {
    name: `ip-10-0-${ZONES.indexOf(zone) + 1}-${n}.ec2.internal`,
    instanceId: `i-0${n.toString(16).padStart(16, '0')}`,
    zone,
    region: 'us-east-1',
    instanceType: 'm5.xlarge',
    capacityType: 'SPOT',
    nodegroup: 'spot-a',
    ...extra,
  };
}

export interface Cluster {
  store: Store;
  controllers: Controllers;
  nodes: string[];
  stop(): void;
}

/** A store with `perZone` nodes in each zone and the controllers running. */
export function startCluster(perZone = 1, opts: ControllerOptions = FAST): Cluster {
  const store = new Store();
  const nodes: string[] = [];
  for (const zone of ZONES) {
    for (let i = 0; i < perZone; i++)
      nodes.push(store.create('nodes', buildNodeObject(nodeSpec(zone))).metadata.name);
  }
  const controllers = startControllers(store, opts);
  return { store, controllers, nodes, stop: () => controllers.stop() };
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined | false;
  while (Date.now() < deadline) {
    last = probe();
    if (last) return last;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

export const podsOf = (store: Store, prefix: string, namespace = 'default'): KObject[] =>
  store.list('pods', { namespace, filter: (p) => p.metadata.name.startsWith(prefix) });

export const runningPods = (store: Store, prefix: string, namespace = 'default'): KObject[] =>
  podsOf(store, prefix, namespace).filter(
    (p) =>
      p.status?.phase === 'Running' &&
      !p.metadata.deletionTimestamp &&
      p.status.conditions?.some(
        (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True',
      ),
  );

export const zoneOf = (store: Store, nodeName: string): string | undefined =>
  store.get('nodes', undefined, nodeName)?.metadata.labels?.['topology.kubernetes.io/zone'];

export function deployment(
  name: string,
  replicas: number,
  podSpec: object = {},
  extra: object = {},
): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'public.ecr.aws/nginx/nginx:1.27',
              resources: { requests: { cpu: '100m', memory: '128Mi' } },
            },
          ],
          ...podSpec,
        },
      },
      ...extra,
    },
  };
}

/** What the API server does for DELETE on a pod: mark it terminating with its grace period. */
export function deletePod(store: Store, pod: KObject, graceSeconds = 30): void {
  store.mutate('pods', pod.metadata.namespace, pod.metadata.name, (draft) => {
    draft.metadata.deletionTimestamp = new Date(Date.now() + graceSeconds * 1000).toISOString();
    draft.metadata.deletionGracePeriodSeconds = graceSeconds;
  });
}
