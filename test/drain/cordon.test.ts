import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cordonNode, uncordonNode } from '../../shared/drain/cordon.ts';
import { addNode, type SimCluster, startCluster } from './sim-harness.ts';

const NODE = 'ip-10-0-3-10.ec2.internal';
let sim: SimCluster;
beforeEach(async () => {
  sim = await startCluster();
  addNode(sim.store, NODE, 'us-east-1a', [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }]);
});
afterEach(async () => {
  await sim?.stop();
});

const node = () => sim.store.get('nodes', undefined, NODE)!;

describe('cordonNode / uncordonNode', () => {
  it('sets taint, annotations and optional labels in one merge patch and undoes exactly that', async () => {
    sim.requests.reset();
    const result = await cordonNode(sim.k8s, NODE, {
      reason: 'spot-interruption',
      holder: 'req-1',
      taintEffect: 'NoExecute',
      excludeFromLoadBalancers: true,
      comingBack: true,
    });
    expect(result).toMatchObject({ changed: true, requests: 2 });
    expect(sim.requests.byKey()).toEqual({ 'get nodes': 1, 'patch nodes': 1 });
    expect(node().spec.taints).toEqual([
      { key: 'gpu', value: 'true', effect: 'NoSchedule' },
      expect.objectContaining({
        key: 'spotguard.io/spot-interruption',
        effect: 'NoExecute',
        timeAdded: expect.any(String),
      }),
    ]);
    expect(node().metadata.labels?.['node.kubernetes.io/exclude-from-external-load-balancers']).toBe('true');
    expect(node().metadata.annotations?.['spotguard.io/coming-back']).toBe('true');
    expect(node().metadata.annotations?.['spotguard.io/pre-cordoned']).toBeUndefined();

    const undone = await uncordonNode(sim.k8s, NODE, { onlyIfCordonedBy: 'spotguard' });
    expect(undone).toMatchObject({ changed: true, leftCordoned: false });
    expect(node().spec.unschedulable).toBeFalsy();
    expect(node().spec.taints).toEqual([{ key: 'gpu', value: 'true', effect: 'NoSchedule' }]);
    expect(
      node().metadata.labels?.['node.kubernetes.io/exclude-from-external-load-balancers'],
    ).toBeUndefined();
    expect(
      Object.keys(node().metadata.annotations ?? {}).filter((k) => k.startsWith('spotguard.io/')),
    ).toEqual([]);
  });

  it('keeps a cordon someone else set: drains on top, uncordon leaves the node unschedulable', async () => {
    sim.store.mutate('nodes', undefined, NODE, (n) => {
      n.spec.unschedulable = true;
    });
    const result = await cordonNode(sim.k8s, NODE, { reason: 'spot-interruption', holder: 'req-1' });
    expect(result.alreadyCordonedBy).toMatch(/unknown/);
    expect(node().metadata.annotations?.['spotguard.io/pre-cordoned']).toBe('true');

    const undone = await uncordonNode(sim.k8s, NODE, { onlyIfCordonedBy: 'spotguard' });
    expect(undone).toMatchObject({ changed: true, leftCordoned: true });
    expect(node().spec.unschedulable).toBe(true);
    expect(node().spec.taints).toEqual([{ key: 'gpu', value: 'true', effect: 'NoSchedule' }]);

    // 'anyone' is the operator's explicit override
    await cordonNode(sim.k8s, NODE, { reason: 'spot-interruption', holder: 'req-2' });
    const forced = await uncordonNode(sim.k8s, NODE, { onlyIfCordonedBy: 'anyone' });
    expect(forced.leftCordoned).toBe(false);
    expect(node().spec.unschedulable).toBeFalsy();
  });

  it('does not touch a node spotguard did not cordon, or cordoned for another reason', async () => {
    sim.store.mutate('nodes', undefined, NODE, (n) => {
      n.spec.unschedulable = true;
    });
    expect(await uncordonNode(sim.k8s, NODE, { onlyIfCordonedBy: 'spotguard' })).toMatchObject({
      changed: false,
    });
    expect(node().spec.unschedulable).toBe(true);

    await cordonNode(sim.k8s, NODE, { reason: 'rebalance-recommendation', holder: 'req-1' });
    const other = await uncordonNode(sim.k8s, NODE, {
      onlyIfCordonedBy: 'spotguard',
      reason: 'spot-interruption',
    });
    expect(other.changed).toBe(false);
    expect(node().metadata.annotations?.['spotguard.io/cordon-reason']).toBe('rebalance-recommendation');
  });

  it('retries on 409 when the node changed between read and patch, keeping the concurrent change', async () => {
    // a concurrent writer adds a taint right after our GET: the conditional patch must not erase it
    let raced = false;
    sim.faults.add({ verb: 'patch', resource: 'nodes', latencyMs: 200, count: 1 });
    sim.requests.reset();
    const racer = setInterval(() => {
      if (raced || !sim.requests.byKey()['patch nodes']) return;
      // our first PATCH is in flight (held 200 ms by the fault): change the node under it
      sim.store.mutate('nodes', undefined, NODE, (n) => {
        n.spec.taints = [...(n.spec.taints ?? []), { key: 'other-controller', effect: 'NoSchedule' }];
      });
      raced = true;
    }, 5);
    const result = await cordonNode(sim.k8s, NODE, { reason: 'spot-interruption', holder: 'req-1' });
    clearInterval(racer);
    expect(raced).toBe(true);
    expect(result.requests).toBe(4);
    expect(node().spec.taints.map((t: { key: string }) => t.key)).toEqual([
      'gpu',
      'other-controller',
      'spotguard.io/spot-interruption',
    ]);
  });

  it('is a single GET when the node already carries this cordon', async () => {
    await cordonNode(sim.k8s, NODE, { reason: 'spot-interruption', holder: 'req-1' });
    sim.requests.reset();
    const again = await cordonNode(sim.k8s, NODE, { reason: 'spot-interruption', holder: 'req-2' });
    expect(again).toMatchObject({ changed: false, requests: 1 });
    expect(sim.requests.byKey()).toEqual({ 'get nodes': 1 });
  });
});
