import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { drainNode } from '../../shared/drain/executor.ts';
import { evictionVersion } from '../../shared/k8s/eviction.ts';
import {
  addDeployment,
  addNode,
  addPdb,
  runningPodsOn,
  type SimCluster,
  startCluster,
  waitFor,
} from './sim-harness.ts';

const NODE = 'ip-10-0-4-10.ec2.internal';
const SPARE = 'ip-10-0-4-20.ec2.internal';
const LEASE = `spotguard-drain-${NODE}`;

let sim: SimCluster;
afterEach(async () => {
  await sim?.stop();
});

async function clusterWith(pods: number, opts: Parameters<typeof startCluster>[0] = {}) {
  sim = await startCluster(opts);
  addNode(sim.store, NODE);
  addDeployment(sim.store, 'web', { replicas: pods });
  await waitFor(`${pods} pods running`, () => runningPodsOn(sim.store, NODE).length === pods);
  addNode(sim.store, SPARE);
  sim.requests.reset();
}

function leaseHeldBy(holder: string, renewedMsAgo: number) {
  const renewTime = new Date(Date.now() - renewedMsAgo).toISOString().replace('Z', '000Z');
  sim.store.create('leases', {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: LEASE, namespace: 'spotguard' },
    spec: {
      holderIdentity: holder,
      leaseDurationSeconds: 30,
      acquireTime: renewTime,
      renewTime,
      leaseTransitions: 0,
    },
  });
}

describe('one drain per node (Lease)', () => {
  it('a second concurrent drain joins the first: every pod is evicted exactly once', async () => {
    await clusterWith(8, { podTerminationMs: 400 });
    const [a, b] = await Promise.all([
      drainNode(sim.k8s, NODE, { reason: 'spot-interruption', holder: 'lambda-a', timeoutMs: 20_000 }),
      drainNode(sim.k8s, NODE, { reason: 'spot-interruption', holder: 'lambda-b', timeoutMs: 20_000 }),
    ]);
    expect([a.joinedExistingDrain, b.joinedExistingDrain].sort()).toEqual([false, true]);
    expect(a.complete).toBe(true);
    expect(b.complete).toBe(true);
    expect(sim.requests.byKey()['create pods/eviction']).toBe(8);
    // both may PATCH with the same resourceVersion; the loser gets 409 and then finds the cordon in place
    const taints = sim.store.get('nodes', undefined, NODE)!.spec.taints as { key: string }[];
    expect(taints.filter((t) => t.key === 'spotguard.io/spot-interruption')).toHaveLength(1);
  });

  it('waits for a live holder without a deadline of its own, evicting nothing', async () => {
    await clusterWith(2);
    leaseHeldBy('lambda-still-running', 0);
    // no deadline: nothing to tighten (an ITN joining adopts its deadline: test/drain/overlap.test.ts)
    const report = await drainNode(sim.k8s, NODE, {
      reason: 'asg-termination',
      holder: 'lambda-b',
      signal: AbortSignal.timeout(1_200),
    });
    expect(report.joinedExistingDrain).toBe(true);
    expect(report.complete).toBe(false);
    expect(report.pods.map((p) => p.outcome)).toEqual(['still-terminating', 'still-terminating']);
    expect(sim.requests.byKey()['create pods/eviction']).toBeUndefined();
    expect(sim.requests.byKey()['get leases']).toBeGreaterThan(0);
  });

  it('takes over an expired lease and resumes from the pods still on the node', async () => {
    await clusterWith(3);
    leaseHeldBy('lambda-that-timed-out', 60_000);
    const report = await drainNode(sim.k8s, NODE, {
      reason: 'spot-interruption',
      holder: 'lambda-c',
      timeoutMs: 10_000,
    });
    expect(report.joinedExistingDrain).toBe(false);
    expect(report.complete).toBe(true);
    expect(report.pods.filter((p) => p.outcome === 'evicted')).toHaveLength(3);
    const lease = sim.store.get('leases', 'spotguard', LEASE)!;
    expect(lease.spec.leaseTransitions).toBe(1);
    expect(lease.spec.holderIdentity).toBeUndefined();
  });
});

describe('lease timing (SPOTGUARD_DRAIN_LEASE_SECONDS=3)', () => {
  beforeEach(() => {
    process.env.SPOTGUARD_DRAIN_LEASE_SECONDS = '3';
  });
  afterEach(() => {
    delete process.env.SPOTGUARD_DRAIN_LEASE_SECONDS;
  });

  it('renews the lease while the drain runs', async () => {
    await clusterWith(2);
    addPdb(sim.store, 'web-pdb', 'web', { minAvailable: 2 });
    const renewals = new Set<string>();
    sim.store.watch('leases', (e) => {
      if (e.object.metadata.name === LEASE && e.object.spec.holderIdentity === 'req-1')
        renewals.add(e.object.spec.renewTime);
    });
    const report = await drainNode(sim.k8s, NODE, {
      reason: 'spot-interruption',
      holder: 'req-1',
      timeoutMs: 2_500,
    });
    expect(report.complete).toBe(false);
    expect(renewals.size).toBeGreaterThanOrEqual(2);
    expect(sim.store.get('leases', 'spotguard', LEASE)!.spec.leaseDurationSeconds).toBe(3);
  });

  it('waits for a live holder, then takes over when it stops renewing', async () => {
    await clusterWith(2);
    sim.store.create('leases', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: LEASE, namespace: 'spotguard' },
      spec: { holderIdentity: 'lambda-killed', leaseDurationSeconds: 3, renewTime: new Date().toISOString() },
    });
    const report = await drainNode(sim.k8s, NODE, {
      reason: 'spot-interruption',
      holder: 'req-2',
      timeoutMs: 15_000,
    });
    expect(report.joinedExistingDrain).toBe(false);
    expect(report.complete).toBe(true);
    expect(sim.requests.byKey()['get leases']).toBeGreaterThanOrEqual(2);
    expect(sim.store.get('leases', 'spotguard', LEASE)!.spec.leaseTransitions).toBe(1);
  });
});

describe('lease unavailable', () => {
  it('drains without the lease when its namespace is missing, and says so', async () => {
    await clusterWith(2);
    const warnings: string[] = [];
    const logger = {
      debug() {},
      info() {},
      error() {},
      warn: (message: string) => void warnings.push(message),
    };
    process.env.SPOTGUARD_NAMESPACE = 'not-created';
    try {
      const report = await drainNode(sim.k8s, NODE, { reason: 'spot-interruption', holder: 'req-1', logger });
      expect(report.complete).toBe(true);
      expect(warnings).toContain('drain lease unavailable: draining without it');
    } finally {
      delete process.env.SPOTGUARD_NAMESPACE;
    }
  });
});

describe('API server trouble', () => {
  it('honours 429 TooManyRequests (Retry-After, no PDB cause) and 5xx with retries', async () => {
    await clusterWith(4);
    sim.faults.add({
      verb: 'create',
      resource: 'pods',
      subresource: 'eviction',
      status: 429,
      retryAfterSeconds: 1,
      count: 2,
    });
    sim.faults.add({ verb: 'create', resource: 'pods', subresource: 'eviction', status: 503, count: 2 });
    const report = await drainNode(sim.k8s, NODE, {
      reason: 'spot-interruption',
      holder: 'req-1',
      timeoutMs: 20_000,
    });
    expect(report.complete).toBe(true);
    expect(report.pods.every((p) => p.outcome === 'evicted')).toBe(true);
    expect(sim.requests.byKey()['create pods/eviction']).toBe(8);
    // a throttled eviction is not a PDB refusal
    expect(sim.store.list('events').filter((e) => e.reason === 'EvictionBlocked')).toEqual([]);
    expect(await evictionVersion(sim.k8s)).toBe('policy/v1');
  });

  it('drains through policy/v1beta1 on a server without policy/v1 (Kubernetes < 1.22)', async () => {
    sim = await startCluster({ servePolicyV1: false });
    addNode(sim.store, NODE);
    addDeployment(sim.store, 'web', { replicas: 3 });
    addPdb(sim.store, 'web-pdb', 'web', { maxUnavailable: 1 });
    await waitFor('3 pods running', () => runningPodsOn(sim.store, NODE).length === 3);
    addNode(sim.store, SPARE);
    sim.requests.reset();
    const report = await drainNode(sim.k8s, NODE, {
      reason: 'spot-interruption',
      holder: 'req-1',
      timeoutMs: 20_000,
    });
    expect(report.complete).toBe(true);
    expect(report.apiRequests).toBe(sim.requests.total());
    expect(report.plan.budgets).toEqual([expect.objectContaining({ budget: 'default/web-pdb' })]);
    expect(await evictionVersion(sim.k8s)).toBe('policy/v1beta1');
    expect(runningPodsOn(sim.store, NODE)).toEqual([]);
  });

  it('stops waiting when the caller aborts and reports what is left', async () => {
    await clusterWith(2);
    addPdb(sim.store, 'web-pdb', 'web', { minAvailable: 2 });
    await waitFor(
      'PDB status',
      () => sim.store.get('poddisruptionbudgets', 'default', 'web-pdb')?.status?.currentHealthy === 2,
    );
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 300);
    const report = await drainNode(sim.k8s, NODE, {
      reason: 'spot-interruption',
      holder: 'req-1',
      signal: abort.signal,
    });
    expect(report.complete).toBe(false);
    expect(report.pods.map((p) => p.outcome)).toEqual(['blocked-by-pdb', 'blocked-by-pdb']);
  });
});
