// A large cluster starts with its Deployment pods already Running, and the controllers adopt them
// (no pod is created or replaced). How fast it starts is measured by the benchmarks, not here.
import { AppsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.ts';

const DEPLOYMENTS = 30;
const REPLICAS = 500;
let sim: Simulator;

beforeAll(async () => {
  const workloads = Array.from({ length: DEPLOYMENTS }, (_, i) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `app-${i}`, namespace: 'default' },
    spec: {
      replicas: REPLICAS,
      selector: { matchLabels: { app: `app-${i}` } },
      template: {
        metadata: { labels: { app: `app-${i}` } },
        spec: {
          containers: [
            { name: 'app', image: 'nginx:1.27', resources: { requests: { cpu: '10m', memory: '16Mi' } } },
          ],
        },
      },
    },
  }));
  sim = await startSimulator({ nodes: 500, scenario: { workloads } });
}, 60_000);
afterAll(async () => {
  await sim?.stop();
});

it('500 nodes and 15,000 Deployment pods are Running at start and adopted by the controllers', async () => {
  const running = () => sim.store.list('pods', { filter: (p) => p.status?.phase === 'Running' }).length;
  expect(sim.store.count('nodes')).toBe(500);
  expect(running()).toBe(DEPLOYMENTS * REPLICAS);
  const apps = sim.kubeConfig().makeApiClient(AppsV1Api);
  await sim.waitFor(
    () => sim.store.list('deployments').every((d) => d.status?.availableReplicas === REPLICAS),
    20_000,
    'deployment status',
  );
  const deployment = await apps.readNamespacedDeployment({ name: 'app-7', namespace: 'default' });
  expect(deployment.status).toMatchObject({
    replicas: REPLICAS,
    updatedReplicas: REPLICAS,
    availableReplicas: REPLICAS,
  });
  expect(sim.store.count('replicasets')).toBe(DEPLOYMENTS);
  expect(sim.store.count('pods')).toBe(DEPLOYMENTS * REPLICAS);
  // spread: every node carries pods, within one of each other
  const perNode = sim.store
    .list('nodes')
    .map((n) => sim.store.list('pods', { nodeName: n.metadata.name }).length);
  expect(Math.max(...perNode) - Math.min(...perNode)).toBeLessThanOrEqual(1);
});
