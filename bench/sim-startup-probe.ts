// One measurement of simulator start-up, in its own process (run by bench/sim-startup.ts):
// 500 nodes, 15,000 pods, then one node's pods listed through client-node by field selector.
import { performance } from 'node:perf_hooks';
import { kubeClientsFromConfig } from '../shared/k8s/client.ts';
import { startSimulator } from '../sim/index.ts';

const DEPLOYMENTS = 30;
const REPLICAS = 500;
const namespaces = Array.from({ length: 10 }, (_, i) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: `team-${i}` },
}));
const deployments = Array.from({ length: DEPLOYMENTS }, (_, i) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: `app-${i}`, namespace: `team-${i % 10}` },
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
const workloads = [...namespaces, ...deployments];

const t0 = performance.now();
const sim = await startSimulator({ nodes: 500, scenario: { workloads } });
const k8s = kubeClientsFromConfig(sim.kubeConfig());
await k8s.core.getAPIResources(); // the API answers
const startMs = performance.now() - t0;

const node = sim.store.list('nodes')[0]!.metadata.name;
await k8s.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` }); // warm-up
const t1 = performance.now();
const LISTS = 20;
for (let i = 0; i < LISTS; i++)
  await k8s.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` });
const podsOnNodeListMs = (performance.now() - t1) / LISTS;

(globalThis as { gc?: () => void }).gc?.();
const mem = process.memoryUsage();
const out = {
  startMs,
  rssMb: mem.rss / 2 ** 20,
  heapMb: mem.heapUsed / 2 ** 20,
  nodes: sim.store.count('nodes'),
  pods: sim.store.count('pods'),
  podsOnNodeListMs,
};
await sim.stop();
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
