// PodDisruptionBudget status arithmetic (as the disruption controller computes it), read back
// through PolicyV1Api while pods and workloads change underneath.
import { CoreV1Api, PatchStrategy, PolicyV1Api, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computePdbStatus } from '../../sim/k8s/api/pdb.ts';
import type { KObject } from '../../sim/k8s/store.ts';
import { pdb, pod, settle, startTestCluster, type TestCluster, workload } from './api-support.ts';

let c: TestCluster;
let policy: PolicyV1Api;
let n = 0;

beforeAll(async () => {
  c = await startTestCluster();
  policy = c.kc.makeApiClient(PolicyV1Api);
});
afterAll(() => c.stop());

function namespace(): string {
  const name = `pdb-${++n}`;
  c.store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

/** `count` pods owned by `owner` (ready unless listed in `unready`). */
function podsOf(owner: KObject, count: number, unready: number[] = []): void {
  for (let i = 0; i < count; i++) {
    c.store.create(
      'pods',
      pod(`${owner.metadata.name}-${i}`, {
        namespace: owner.metadata.namespace!,
        node: 'n1',
        labels: { app: 'web' },
        owner,
        ready: !unready.includes(i),
      }),
    );
  }
}

async function statusOf(ns: string, name: string) {
  await settle();
  const read = await policy.readNamespacedPodDisruptionBudget({ name, namespace: ns });
  return read.status!;
}

describe('PDB status', () => {
  it('minAvailable int: expected = selected pods, allowed = healthy - minAvailable', async () => {
    const ns = namespace();
    for (let i = 0; i < 3; i++)
      c.store.create('pods', pod(`solo-${i}`, { namespace: ns, node: 'n1', labels: { app: 'web' } }));
    c.store.create('poddisruptionbudgets', pdb('web', { minAvailable: 2, matchLabels: { app: 'web' } }, ns));
    expect(await statusOf(ns, 'web')).toMatchObject({
      expectedPods: 3,
      desiredHealthy: 2,
      currentHealthy: 3,
      disruptionsAllowed: 1,
      observedGeneration: 1,
    });
  });

  it('minAvailable percent: expected = the Deployment replicas, desired rounds up', async () => {
    const ns = namespace();
    const deployment = c.store.create('deployments', workload('Deployment', 'web', 5, ns));
    const rs = workload('ReplicaSet', 'web-7d4b9', 5, ns);
    rs.metadata.ownerReferences = [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'web',
        uid: deployment.metadata.uid!,
        controller: true,
      },
    ];
    podsOf(c.store.create('replicasets', rs), 4); // one replica still missing
    c.store.create(
      'poddisruptionbudgets',
      pdb('web', { minAvailable: '50%', matchLabels: { app: 'web' } }, ns),
    );
    expect(await statusOf(ns, 'web')).toMatchObject({
      expectedPods: 5,
      desiredHealthy: 3, // ceil(2.5)
      currentHealthy: 4,
      disruptionsAllowed: 1,
    });
  });

  it('maxUnavailable int over a StatefulSet: desired = replicas - maxUnavailable', async () => {
    const ns = namespace();
    podsOf(c.store.create('statefulsets', workload('StatefulSet', 'db', 3, ns)), 3);
    c.store.create('poddisruptionbudgets', pdb('db', { maxUnavailable: 1, matchLabels: { app: 'web' } }, ns));
    expect(await statusOf(ns, 'db')).toMatchObject({
      expectedPods: 3,
      desiredHealthy: 2,
      currentHealthy: 3,
      disruptionsAllowed: 1,
    });
  });

  it('maxUnavailable percent rounds up (more may go), unready pods are not healthy', async () => {
    const ns = namespace();
    podsOf(c.store.create('replicasets', workload('ReplicaSet', 'api', 5, ns)), 5, [4]);
    c.store.create(
      'poddisruptionbudgets',
      pdb('api', { maxUnavailable: '30%', matchLabels: { app: 'web' } }, ns),
    );
    // maxUnavailable = ceil(1.5) = 2 → desired 3; healthy 4 → allowed 1
    expect(await statusOf(ns, 'api')).toMatchObject({
      expectedPods: 5,
      desiredHealthy: 3,
      currentHealthy: 4,
      disruptionsAllowed: 1,
    });
  });

  it("counts a ReplicationController created through the API as the pods' controller", async () => {
    const ns = namespace();
    const core = c.kc.makeApiClient(CoreV1Api);
    const rc = await core.createNamespacedReplicationController({
      namespace: ns,
      body: {
        metadata: { name: 'legacy' },
        spec: { replicas: 4, selector: { app: 'web' }, template: { metadata: { labels: { app: 'web' } } } },
      },
    });
    podsOf(c.store.get('replicationcontrollers', ns, rc.metadata!.name!)!, 2);
    c.store.create(
      'poddisruptionbudgets',
      pdb('legacy', { minAvailable: '25%', matchLabels: { app: 'web' } }, ns),
    );
    expect(await statusOf(ns, 'legacy')).toMatchObject({
      expectedPods: 4,
      desiredHealthy: 1,
      currentHealthy: 2,
      disruptionsAllowed: 1,
    });
  });

  it('follows pods as they become unready or start terminating', async () => {
    const ns = namespace();
    podsOf(c.store.create('replicasets', workload('ReplicaSet', 'web', 3, ns)), 3);
    c.store.create('poddisruptionbudgets', pdb('web', { minAvailable: 1, matchLabels: { app: 'web' } }, ns));
    expect((await statusOf(ns, 'web')).disruptionsAllowed).toBe(2);
    c.store.mutate('pods', ns, 'web-0', (p) => {
      p.status.conditions = [{ type: 'Ready', status: 'False' }];
    });
    expect(await statusOf(ns, 'web')).toMatchObject({ currentHealthy: 2, disruptionsAllowed: 1 });
    c.store.mutate('pods', ns, 'web-1', (p) => {
      p.metadata.deletionTimestamp = new Date().toISOString();
    });
    expect(await statusOf(ns, 'web')).toMatchObject({ currentHealthy: 1, disruptionsAllowed: 0 });
    const conditions = (await statusOf(ns, 'web')).conditions!;
    expect(conditions).toEqual([
      expect.objectContaining({ type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods' }),
    ]);
  });

  it('overwrites a status someone else wrote, as the controller does on every PDB update', async () => {
    const ns = namespace();
    podsOf(c.store.create('replicasets', workload('ReplicaSet', 'web', 2, ns)), 2);
    c.store.create('poddisruptionbudgets', pdb('web', { minAvailable: 1, matchLabels: { app: 'web' } }, ns));
    expect((await statusOf(ns, 'web')).disruptionsAllowed).toBe(1);
    c.store.mutate('poddisruptionbudgets', ns, 'web', (d) => {
      d.status.disruptionsAllowed = 99;
    });
    expect((await statusOf(ns, 'web')).disruptionsAllowed).toBe(1);
  });

  it('tracks the spec generation: a patched budget is recomputed with the new observedGeneration', async () => {
    const ns = namespace();
    podsOf(c.store.create('replicasets', workload('ReplicaSet', 'web', 4, ns)), 4);
    c.store.create('poddisruptionbudgets', pdb('web', { minAvailable: 1, matchLabels: { app: 'web' } }, ns));
    expect((await statusOf(ns, 'web')).disruptionsAllowed).toBe(3);
    await policy.patchNamespacedPodDisruptionBudget(
      { name: 'web', namespace: ns, body: { spec: { minAvailable: 3 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const after = await policy.readNamespacedPodDisruptionBudget({ name: 'web', namespace: ns });
    expect(after.metadata?.generation).toBe(2);
    expect(await statusOf(ns, 'web')).toMatchObject({
      observedGeneration: 2,
      desiredHealthy: 3,
      disruptionsAllowed: 1,
    });
  });

  it('fails safe for DaemonSet pods under a percentage budget (no scale): nothing allowed, SyncFailed', async () => {
    const ns = namespace();
    podsOf(c.store.create('daemonsets', workload('DaemonSet', 'agent', 0, ns)), 2);
    const budget = c.store.create(
      'poddisruptionbudgets',
      pdb('agent', { maxUnavailable: '50%', matchLabels: { app: 'web' } }, ns),
    );
    const status = computePdbStatus(c.store, budget);
    expect(status.disruptionsAllowed).toBe(0);
    expect(status.conditions).toEqual([
      expect.objectContaining({
        type: 'DisruptionAllowed',
        status: 'False',
        reason: 'SyncFailed',
        message: 'daemonsets.apps does not implement the scale subresource',
      }),
    ]);
  });
});
