// Pods under one budget go as many at a time as the budget allows (its disruptionsAllowed), not one
// by one: fewer round trips of "evict, wait for the replacement, evict" on a PDB-bound drain.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { drainNode } from '../../shared/drain/executor.ts';
import {
  addDeployment,
  addNode,
  addPdb,
  runningPodsOn,
  type SimCluster,
  startCluster,
  waitFor,
} from '../drain/sim-harness.ts';

const NODE = 'ip-10-0-3-10.ec2.internal';
const SPARE = 'ip-10-0-3-20.ec2.internal';

let sim: SimCluster;
beforeEach(async () => {
  // replacements take long to start: a budget only allows more once they are Ready
  sim = await startCluster({ podStartMs: 2_000, podTerminationMs: 100 });
  addNode(sim.store, NODE);
});
afterEach(async () => {
  await sim?.stop();
});

it("sends a budget's allowed disruptions together, and no eviction beyond them is refused before the budget refills", async () => {
  addDeployment(sim.store, 'web', { replicas: 6 });
  addPdb(sim.store, 'web-pdb', 'web', { maxUnavailable: 3 });
  await waitFor('6 pods running', () => runningPodsOn(sim.store, NODE).length === 6, 20_000);
  await waitFor(
    'budget allows 3',
    () => sim.store.get('poddisruptionbudgets', 'default', 'web-pdb')?.status?.disruptionsAllowed === 3,
  );
  addNode(sim.store, SPARE);
  const evictedAt: number[] = [];
  sim.store.watch('pods', (ev) => {
    if (
      ev.type === 'MODIFIED' &&
      ev.object.metadata.deletionTimestamp &&
      !ev.oldObject?.metadata.deletionTimestamp
    )
      evictedAt.push(Date.now());
  });
  sim.requests.reset();
  const report = await drainNode(sim.k8s, NODE, {
    reason: 'spot-interruption',
    holder: 'req-1',
    timeoutMs: 30_000,
  });

  expect(report.complete).toBe(true);
  expect(report.pods.filter((p) => p.outcome === 'evicted')).toHaveLength(6);
  expect(runningPodsOn(sim.store, NODE)).toHaveLength(0);
  // the first three went at once (well inside one replacement start), the rest after a refill
  const sorted = evictedAt.filter((_, i) => i < 6).sort((a, b) => a - b);
  expect(sorted[2]! - sorted[0]!).toBeLessThan(1_000);
  expect(sorted[3]! - sorted[0]!).toBeGreaterThanOrEqual(1_000);
  // Refusals are not multiplied by refills: a loaded machine can make the disruption controller's
  // status lag the three evictions, so each of the 3 slots may be refused once on a stale budget —
  // never more (a slot that kept probing a budget at 0 would send many more).
  expect(sim.requests.byKey()['create pods/eviction']).toBeLessThanOrEqual(6 + 3);
});
