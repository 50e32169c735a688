// An ITN joining a drain that already holds the node (terminate hook, rebalance, manual): the running
// drain adopts the tighter deadline — every pod gone or its deletion due before deadline − margin.
import { afterEach, describe, expect, it } from 'vitest';
import { drainNode } from '../../shared/drain/executor.ts';
import {
  addDeployment,
  addNode,
  podsOn,
  runningPodsOn,
  type SimCluster,
  startCluster,
  waitFor,
} from './sim-harness.ts';

const NODE = 'ip-10-0-5-10.ec2.internal';
const SPARE = 'ip-10-0-5-20.ec2.internal';

let sim: SimCluster;
afterEach(async () => {
  await sim?.stop();
});

async function slowPods(count: number) {
  // pods take their whole grace to stop (a kubelet honouring 300 s): only the grace decides when
  sim = await startCluster({ podTerminationMs: 600_000 });
  addNode(sim.store, NODE);
  addDeployment(sim.store, 'web', { replicas: count, grace: 300 });
  await waitFor(`${count} pods running`, () => runningPodsOn(sim.store, NODE).length === count);
  addNode(sim.store, SPARE);
}

const dueBy = (until: number) =>
  podsOn(sim.store, NODE).every(
    (p) => p.metadata.deletionTimestamp && Date.parse(p.metadata.deletionTimestamp) <= until,
  );

describe('ITN joining a drain without a deadline', () => {
  it('re-deletes pods already terminating with 300 s so they are due before deadline − margin', async () => {
    await slowPods(4);
    const hook = new AbortController();
    const first = drainNode(sim.k8s, NODE, {
      reason: 'asg-termination',
      holder: 'lambda-hook',
      timeoutMs: 60_000,
      signal: hook.signal,
    });
    await waitFor('the hook drain evicted with 300 s', () =>
      podsOn(sim.store, NODE).every((p) => p.metadata.deletionGracePeriodSeconds === 300),
    );
    const firstDue = Date.parse(String(podsOn(sim.store, NODE)[0]!.metadata.deletionTimestamp));
    const deadline = new Date(Date.now() + 20_000);
    const until = deadline.getTime() - 10_000;
    expect(firstDue).toBeGreaterThan(until); // as evicted by the hook drain, too late
    const itn = new AbortController();
    const second = drainNode(sim.k8s, NODE, {
      reason: 'spot-interruption',
      holder: 'lambda-itn',
      deadline,
      safetyMarginMs: 10_000,
      signal: itn.signal,
    });
    await waitFor('every pod due before deadline − margin', () => dueBy(until), 8_000);
    for (const p of podsOn(sim.store, NODE)) {
      expect(p.metadata.deletionGracePeriodSeconds).toBeLessThan(300);
      expect(p.metadata.deletionGracePeriodSeconds).toBeGreaterThanOrEqual(1);
    }
    itn.abort();
    hook.abort();
    const [, joined] = await Promise.all([first, second]);
    expect(joined.joinedExistingDrain).toBe(true);
  }, 40_000);

  it('evicts the pods the holder has not evicted yet with the capped grace (PDB-free here)', async () => {
    await slowPods(3);
    // a live holder that evicts nothing (e.g. waiting on a replacement)
    const renewTime = new Date().toISOString().replace('Z', '000Z');
    sim.store.create('leases', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: `spotguard-drain-${NODE}`, namespace: 'spotguard' },
      spec: {
        holderIdentity: 'lambda-rebalance',
        leaseDurationSeconds: 30,
        acquireTime: renewTime,
        renewTime,
        leaseTransitions: 0,
      },
    });
    const deadline = new Date(Date.now() + 25_000);
    const until = deadline.getTime() - 10_000;
    const itn = new AbortController();
    const report = drainNode(sim.k8s, NODE, {
      reason: 'spot-interruption',
      holder: 'lambda-itn',
      deadline,
      safetyMarginMs: 10_000,
      signal: itn.signal,
    });
    await waitFor('every pod evicted and due in time', () => dueBy(until), 8_000);
    expect(sim.requests.byKey()['create pods/eviction']).toBe(3);
    itn.abort();
    expect((await report).joinedExistingDrain).toBe(true);
  }, 40_000);
});
