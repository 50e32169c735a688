// Many nodes and pods at once: everything gets placed, capacity is never overcommitted, spread
// holds, and a drain of several nodes at once settles. Correctness only: speed lives in bench/.
import { afterEach, describe, expect, it } from 'vitest';
import { parseBytes, parseMilliCpu } from '../../shared/k8s/quantity.ts';
import {
  type Cluster,
  deletePod,
  deployment,
  runningPods,
  startCluster,
  waitFor,
  ZONES,
  zoneOf,
} from './controllers-support.ts';

let cluster: Cluster;
afterEach(() => cluster?.stop());

describe('at scale', () => {
  it('places 1,200 pods on 30 nodes within allocatable, keeps zone spread, and re-places a 6-node drain', async () => {
    cluster = startCluster(10);
    const { store, nodes } = cluster;
    for (let i = 0; i < 12; i++) {
      const spread =
        i % 2 === 0
          ? {
              topologySpreadConstraints: [
                {
                  maxSkew: 1,
                  topologyKey: 'topology.kubernetes.io/zone',
                  whenUnsatisfiable: 'DoNotSchedule',
                  labelSelector: { matchLabels: { app: `svc${i}` } },
                },
              ],
            }
          : {};
      store.create(
        'deployments',
        deployment(`svc${i}`, 100, {
          ...spread,
          containers: [
            { name: 'app', image: 'app:1', resources: { requests: { cpu: '60m', memory: '256Mi' } } },
          ],
        }),
      );
    }
    await waitFor('1,200 running pods', () => runningPods(store, 'svc').length === 1200, 60_000);
    assertWithinAllocatable(cluster);
    expect(new Set(runningPods(store, 'svc').map((p) => p.status.podIP)).size).toBe(1200);
    for (let i = 0; i < 12; i += 2) {
      const perZone = ZONES.map(
        (zone) =>
          runningPods(store, `svc${i}-`).filter((p) => zoneOf(store, p.spec.nodeName) === zone).length,
      );
      expect(Math.max(...perZone) - Math.min(...perZone), `svc${i} per zone ${perZone}`).toBeLessThanOrEqual(
        1,
      );
    }
    // two nodes per zone (nodes are listed zone by zone, 10 each): the spread deployments can stay balanced
    const drained = [nodes[0]!, nodes[1]!, nodes[10]!, nodes[11]!, nodes[20]!, nodes[21]!];
    for (const name of drained) {
      store.mutate('nodes', undefined, name, (n) => {
        n.spec.unschedulable = true;
      });
      for (const pod of store.list('pods', { nodeName: name })) deletePod(store, pod);
    }
    await waitFor(
      'all 1,200 running again, none on drained nodes',
      () => {
        const running = runningPods(store, 'svc');
        return running.length === 1200 && running.every((p) => !drained.includes(p.spec.nodeName));
      },
      60_000,
    );
    assertWithinAllocatable(cluster);
  }, 120_000);
});

function assertWithinAllocatable({ store }: Cluster): void {
  for (const node of store.list('nodes')) {
    const pods = store.list('pods', { nodeName: node.metadata.name });
    const cpu = pods.reduce(
      (sum, p) => sum + parseMilliCpu(p.spec.containers[0].resources?.requests?.cpu),
      0,
    );
    const memory = pods.reduce(
      (sum, p) => sum + parseBytes(p.spec.containers[0].resources?.requests?.memory),
      0,
    );
    expect(pods.length).toBeLessThanOrEqual(Number(node.status.allocatable.pods));
    expect(cpu, node.metadata.name).toBeLessThanOrEqual(parseMilliCpu(node.status.allocatable.cpu));
    expect(memory, node.metadata.name).toBeLessThanOrEqual(parseBytes(node.status.allocatable.memory));
  }
}
