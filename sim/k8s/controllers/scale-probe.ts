// Scale probe for the controllers: 500 nodes, 150 Deployments × 100 replicas (half with a zone
// topology spread constraint) go through the scheduler and kubelets until all 15,000 pods run;
// then 10 nodes are cordoned and their pods deleted, and the time until every pod runs again
// elsewhere is measured. Prints one JSON line; meant for a benchmark runner:
//   npx node sim/k8s/controllers/scale-probe.ts [nodes] [deployments] [replicas]
import { buildNodeObject } from '../node-factory.ts';
import { Store } from '../store.ts';
import { startControllers } from './index.ts';

const [nodeCount = 500, deploymentCount = 150, replicas = 100] = process.argv.slice(2).map(Number);
const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

const store = new Store();
for (let i = 0; i < nodeCount; i++) {
  store.create(
    'nodes',
    buildNodeObject({
      name: `ip-10-0-${i >> 8}-${i & 255}.ec2.internal`,
      instanceId: `i-${i.toString(16).padStart(17, '0')}`,
      zone: ZONES[i % 3]!,
      region: 'us-east-1',
      instanceType: 'm5.xlarge',
      capacityType: 'SPOT',
      nodegroup: 'spot',
    }),
  );
}
const controllers = startControllers(store, { podStartMs: 50, podTerminationMs: 50, volumeDetachMs: 100 });
const total = deploymentCount * replicas;
const started = performance.now();
for (let d = 0; d < deploymentCount; d++) {
  const app = `app${d}`;
  const spread = {
    maxSkew: 1,
    topologyKey: 'topology.kubernetes.io/zone',
    whenUnsatisfiable: 'DoNotSchedule',
    labelSelector: { matchLabels: { app } },
  };
  store.create('deployments', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: app, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app } },
      template: {
        metadata: { labels: { app } },
        spec: {
          ...(d % 2 ? { topologySpreadConstraints: [spread] } : {}),
          containers: [
            { name: 'app', image: 'app:1', resources: { requests: { cpu: '50m', memory: '64Mi' } } },
          ],
        },
      },
    },
  });
}

const running = () =>
  store.list('pods', { filter: (p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp })
    .length;
async function until(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

const allRunning = await until(() => running() === total, 300_000);
const startMs = performance.now() - started;

const drained = store
  .list('nodes')
  .slice(0, 10)
  .map((n) => n.metadata.name);
const drainStarted = performance.now();
for (const name of drained) {
  store.mutate('nodes', undefined, name, (node) => {
    node.spec.unschedulable = true;
  });
  for (const pod of store.list('pods', { nodeName: name })) {
    store.mutate('pods', pod.metadata.namespace, pod.metadata.name, (draft) => {
      draft.metadata.deletionTimestamp = new Date().toISOString();
      draft.metadata.deletionGracePeriodSeconds = 30;
    });
  }
}
const replaced = await until(
  () => running() === total && drained.every((name) => store.list('pods', { nodeName: name }).length === 0),
  300_000,
);
const drainMs = performance.now() - drainStarted;
controllers.stop();
console.log(
  JSON.stringify({
    nodes: nodeCount,
    pods: total,
    allRunning,
    startMs: Math.round(startMs),
    replaced,
    drainedNodes: drained.length,
    drainReplaceMs: Math.round(drainMs),
    rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
  }),
);
