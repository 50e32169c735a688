import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { drainNode } from '../../shared/drain/executor.ts';
import {
  addDeployment,
  addNode,
  addPdb,
  runningPodsOn,
  type SimCluster,
  startCluster,
  waitFor,
} from './sim-harness.ts';

const NODE = 'ip-10-0-2-10.ec2.internal';
const SPARE = 'ip-10-0-2-20.ec2.internal';

let sim: SimCluster;
beforeEach(async () => {
  sim = await startCluster({ podStartMs: 100, podTerminationMs: 100 });
  addNode(sim.store, NODE);
});
afterEach(async () => {
  await sim?.stop();
});

const podEvents = (reason: string) =>
  sim.store.list('events').filter((e) => e.reason === reason && e.reportingComponent === 'spotguard');

describe('drainNode with PodDisruptionBudgets', () => {
  it('evicts one pod per budget at a time, retrying as soon as replacements make the budget allow it', async () => {
    addDeployment(sim.store, 'web', { replicas: 3 });
    addDeployment(sim.store, 'api', { replicas: 3 });
    addPdb(sim.store, 'web-pdb', 'web', { maxUnavailable: 1 });
    addPdb(sim.store, 'api-pdb', 'api', { maxUnavailable: 1 });
    await waitFor('6 pods running', () => runningPodsOn(sim.store, NODE).length === 6);
    addNode(sim.store, SPARE);
    sim.requests.reset();

    const report = await drainNode(sim.k8s, NODE, {
      reason: 'spot-interruption',
      holder: 'req-1',
      timeoutMs: 30_000,
    });

    expect(report.complete).toBe(true);
    expect(report.pods.filter((p) => p.outcome === 'evicted')).toHaveLength(6);
    expect(report.plan.budgets.map((b) => [b.budget, b.pods.length, b.expectedBlocked])).toEqual([
      ['default/api-pdb', 3, 2],
      ['default/web-pdb', 3, 2],
    ]);
    // refused evictions were reported on the pods and retried off the PDB watch, not by polling the PDB
    expect(podEvents('EvictionBlocked').length).toBeGreaterThan(0);
    const byKey = sim.requests.byKey();
    expect(byKey['create pods/eviction']).toBeGreaterThan(6);
    expect(byKey['watch poddisruptionbudgets']).toBeGreaterThanOrEqual(1);
    expect(byKey['get poddisruptionbudgets']).toBeUndefined();
    expect(report.apiRequests).toBe(sim.requests.total());
  });

  it('gives up at the deadline and names the budget that blocked each pod', async () => {
    addDeployment(sim.store, 'ledger', { replicas: 2 });
    addPdb(sim.store, 'ledger-pdb', 'ledger', { minAvailable: 2 });
    await waitFor('2 pods running', () => runningPodsOn(sim.store, NODE).length === 2);
    sim.requests.reset();

    const report = await drainNode(sim.k8s, NODE, {
      reason: 'spot-interruption',
      holder: 'req-1',
      deadline: new Date(Date.now() + 1_500),
      safetyMarginMs: 0,
    });

    expect(report.complete).toBe(false);
    expect(report.deadlineMissed).toBe(true);
    expect(report.pods).toHaveLength(2);
    for (const pod of report.pods) {
      expect(pod).toMatchObject({ outcome: 'blocked-by-pdb', pdb: 'default/ledger-pdb' });
    }
    expect(report.plan.evictions.every((e) => e.expectedBlocked)).toBe(true);
    expect(runningPodsOn(sim.store, NODE)).toHaveLength(2);
    const timeout = sim.store.list('events').filter((e) => e.reason === 'DrainTimeout');
    expect(timeout).toHaveLength(1);
    expect(timeout[0]!.message).toContain('blocked-by-pdb');
    // one slot per budget: only the head of the queue is retried, and reported once, not per retry
    expect(podEvents('EvictionBlocked')).toHaveLength(1);
    // and not resent while the watched budget still allows no disruption
    expect(sim.requests.byKey()['create pods/eviction']).toBe(1);
    expect(sim.requests.byKey()['watch poddisruptionbudgets']).toBe(1);
    const lease = sim.store.get('leases', 'spotguard', `spotguard-drain-${NODE}`)!;
    const result = JSON.parse(lease.metadata.annotations?.['spotguard.io/drain-result'] ?? '{}');
    expect(result.complete).toBe(false);
    expect(Object.values(result.blocked)).toEqual(['default/ledger-pdb', 'default/ledger-pdb']);
  });

  it('fails a pod covered by two budgets (the eviction API refuses it) with an EvictionFailed event, and drains the rest', async () => {
    addDeployment(sim.store, 'web', { replicas: 1, labels: { tier: 'front' } });
    addDeployment(sim.store, 'api', { replicas: 1 });
    addPdb(sim.store, 'web-pdb', 'web', { maxUnavailable: 1 });
    sim.store.create('poddisruptionbudgets', {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'front-pdb', namespace: 'default' },
      spec: { selector: { matchLabels: { tier: 'front' } }, maxUnavailable: 1 },
    });
    await waitFor('2 pods running', () => runningPodsOn(sim.store, NODE).length === 2);
    addNode(sim.store, SPARE);

    const report = await drainNode(sim.k8s, NODE, {
      reason: 'maintenance',
      holder: 'req-1',
      timeoutMs: 10_000,
    });

    expect(report.complete).toBe(false);
    const web = report.pods.find((p) => p.name.startsWith('web-'));
    expect(web).toMatchObject({
      outcome: 'failed',
      error: expect.stringContaining('more than one PodDisruptionBudget'),
    });
    expect(report.pods.find((p) => p.name.startsWith('api-'))?.outcome).toBe('evicted');
    expect(report.plan.evictions.find((e) => e.name.startsWith('web-'))).toMatchObject({
      multipleBudgets: true,
    });
    const failed = podEvents('EvictionFailed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ type: 'Warning', involvedObject: { kind: 'Pod', name: web?.name } });
  });

  it("evictionMode 'delete' bypasses the budget", async () => {
    addDeployment(sim.store, 'ledger', { replicas: 2 });
    addPdb(sim.store, 'ledger-pdb', 'ledger', { minAvailable: 2 });
    await waitFor('2 pods running', () => runningPodsOn(sim.store, NODE).length === 2);
    sim.requests.reset();

    const report = await drainNode(sim.k8s, NODE, {
      reason: 'maintenance',
      holder: 'req-1',
      evictionMode: 'delete',
      timeoutMs: 10_000,
    });

    expect(report.complete).toBe(true);
    expect(sim.requests.byKey()['delete pods']).toBe(2);
    expect(sim.requests.byKey()['create pods/eviction']).toBeUndefined();
  });
});
