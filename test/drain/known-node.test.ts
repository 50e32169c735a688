// The cordon may start from a node the caller has just read (the resolver did): one PATCH instead
// of GET + PATCH on the cordon path. A stale copy is caught by the resourceVersion in the patch.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cordonNode } from '../../shared/drain/index.ts';
import { type KubeClients, kubeClientsFromConfig } from '../../shared/k8s/client.ts';
import { type Simulator, startSimulator } from '../../sim/index.ts';

let sim: Simulator;
let k8s: KubeClients;

beforeAll(async () => {
  sim = await startSimulator({ nodes: 2 });
  k8s = kubeClientsFromConfig(sim.kubeConfig());
});
afterAll(async () => {
  await sim?.stop();
});

const opts = { reason: 'spot-interruption', holder: 'known-node-test' };

it('a fresh known node: the cordon is a single PATCH', async () => {
  const name = sim.store.list('nodes')[0]!.metadata.name;
  const node = await k8s.core.readNode({ name });
  sim.kubeRequests.reset();
  const result = await cordonNode(k8s, name, { ...opts, knownNode: node });
  expect(result.requests).toBe(1);
  expect(sim.kubeRequests.byKey()).toEqual({ 'patch nodes': 1 });
  expect(sim.store.get('nodes', undefined, name)!.spec.unschedulable).toBe(true);
});

it('a stale known node: 409, re-read, and the concurrent change is kept', async () => {
  const name = sim.store.list('nodes')[1]!.metadata.name;
  const stale = await k8s.core.readNode({ name });
  // Someone else taints the node after our read.
  sim.store.mutate('nodes', undefined, name, (n) => {
    n.spec.taints = [...(n.spec.taints ?? []), { key: 'team.example/maintenance', effect: 'NoSchedule' }];
  });
  sim.kubeRequests.reset();
  const result = await cordonNode(k8s, name, { ...opts, knownNode: stale });
  expect(result.requests).toBe(3); // PATCH (409), GET, PATCH
  const taints = sim.store.get('nodes', undefined, name)!.spec.taints.map((t: { key: string }) => t.key);
  expect(taints).toEqual(
    expect.arrayContaining(['team.example/maintenance', 'spotguard.io/spot-interruption']),
  );
});
