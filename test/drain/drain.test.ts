import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { drainNode } from '../../shared/drain/executor.ts';
import type { DrainProgress } from '../../shared/drain/types.ts';
import {
  addBarePod,
  addDaemonSet,
  addDeployment,
  addNode,
  addStatefulSet,
  podsOn,
  runningPodsOn,
  type SimCluster,
  startCluster,
  waitFor,
} from './sim-harness.ts';

const NODE = 'ip-10-0-1-10.ec2.internal';
const SPARE = 'ip-10-0-1-20.ec2.internal';

let sim: SimCluster;
afterEach(async () => {
  await sim?.stop();
});

describe('drainNode on the simulator', () => {
  beforeEach(async () => {
    sim = await startCluster();
    addNode(sim.store, NODE, 'us-east-1a', [
      { key: 'dedicated', value: 'batch', effect: 'PreferNoSchedule' },
    ]);
    addDeployment(sim.store, 'web', { replicas: 4, grace: 5 });
    addDeployment(sim.store, 'critical', { replicas: 1, grace: 5, priority: 1000 });
    addStatefulSet(sim.store, 'db', { replicas: 1, grace: 5 });
    addDaemonSet(sim.store, 'node-agent');
    await waitFor('workloads running on the node', () => runningPodsOn(sim.store, NODE).length === 7);
    addNode(sim.store, SPARE, 'us-east-1a');
  });

  it('cordons and taints in one patch, evicts stateful pods first, waits for the volume, reports each pod', async () => {
    const evictionOrder: string[] = [];
    sim.store.watch('pods', (e) => {
      const pod = e.object;
      if (
        pod.spec?.nodeName === NODE &&
        pod.metadata.deletionTimestamp &&
        !evictionOrder.includes(pod.metadata.name)
      ) {
        evictionOrder.push(pod.metadata.name);
      }
    });
    sim.requests.reset();
    const progress: DrainProgress[] = [];
    const report = await drainNode(sim.k8s, NODE, {
      reason: 'spot-interruption',
      holder: 'req-1',
      deadline: new Date(Date.now() + 120_000),
      onProgress: (p) => progress.push(p),
    });

    expect(report.complete).toBe(true);
    expect(report.deadlineMissed).toBe(false);
    // cordon acknowledged after the node GET and ONE patch
    expect(report.cordon).toMatchObject({ requests: 2, changed: true });
    expect(sim.requests.byKey()['patch nodes']).toBe(1);
    const node = sim.store.get('nodes', undefined, NODE)!;
    expect(node.spec.unschedulable).toBe(true);
    expect(node.spec.taints).toEqual(
      expect.arrayContaining([
        { key: 'dedicated', value: 'batch', effect: 'PreferNoSchedule' },
        expect.objectContaining({ key: 'spotguard.io/spot-interruption', effect: 'NoSchedule' }),
      ]),
    );
    expect(node.metadata.annotations).toMatchObject({
      'spotguard.io/cordoned-by': 'spotguard',
      'spotguard.io/cordon-reason': 'spot-interruption',
      'spotguard.io/cordoned-at': expect.any(String),
    });

    // order: the pod on an EBS volume first, then the high-priority one
    expect(evictionOrder[0]).toBe('db-0');
    expect(evictionOrder[1]).toMatch(/^critical-/);
    const byName = Object.fromEntries(report.pods.map((p) => [p.name, p]));
    expect(byName['db-0']).toMatchObject({ outcome: 'evicted', volumesReleasedAfterMs: expect.any(Number) });
    expect(report.volumesReleased).toHaveLength(1);
    expect(sim.store.list('volumeattachments').filter((va) => va.spec.nodeName === NODE)).toHaveLength(0);
    const evicted = report.pods.filter((p) => p.outcome === 'evicted');
    expect(evicted).toHaveLength(6);
    const skipped = report.pods.filter((p) => p.outcome === 'skipped');
    expect(skipped).toEqual([
      expect.objectContaining({ namespace: 'kube-system', reason: expect.stringMatching(/^daemonset: /) }),
    ]);
    expect(podsOn(sim.store, NODE).map((p) => p.metadata.name)).toEqual([skipped[0]!.name]);

    // the report counts exactly what the API server saw
    expect(report.apiRequests).toBe(sim.requests.total());
    expect(sim.requests.byKey()['create pods/eviction']).toBe(6);
    expect(sim.requests.byKey()['get pods'] ?? 0).toBe(0);

    // node events, from spotguard
    const nodeEvents = sim.store
      .list('events')
      .filter((e) => e.involvedObject?.name === NODE && e.reportingComponent === 'spotguard')
      .map((e) => e.reason);
    expect(nodeEvents.sort()).toEqual(['Cordon', 'DrainComplete', 'DrainStarted']);

    // lease released with the result for anyone who joined
    const lease = sim.store.get('leases', 'spotguard', `spotguard-drain-${NODE}`)!;
    expect(lease.spec.holderIdentity).toBeUndefined();
    expect(JSON.parse(lease.metadata.annotations?.['spotguard.io/drain-result'] ?? '{}')).toMatchObject({
      complete: true,
      evicted: 6,
    });
    expect(progress.at(-1)).toMatchObject({ phase: 'done', podsLeft: 0 });
  });

  it('is a no-op on a node it already drained', async () => {
    await drainNode(sim.k8s, NODE, { reason: 'spot-interruption', holder: 'req-1' });
    sim.requests.reset();
    const again = await drainNode(sim.k8s, NODE, { reason: 'spot-interruption', holder: 'req-2' });
    expect(again.complete).toBe(true);
    expect(again.cordon?.changed).toBe(false);
    expect(again.pods.filter((p) => p.outcome !== 'skipped')).toEqual([]);
    const byKey = sim.requests.byKey();
    expect(byKey['patch nodes']).toBeUndefined();
    expect(byKey['create pods/eviction']).toBeUndefined();
    expect(byKey['update leases']).toBeUndefined();
  });

  it('dry run returns the plan and changes nothing', async () => {
    const nodeVersion = sim.store.get('nodes', undefined, NODE)!.metadata.resourceVersion;
    sim.requests.reset();
    const report = await drainNode(sim.k8s, NODE, {
      reason: 'spot-interruption',
      holder: 'req-1',
      dryRun: true,
    });
    expect(report.dryRun).toBe(true);
    expect(report.plan.evictions.map((e) => e.name)[0]).toBe('db-0');
    expect(report.plan.evictions).toHaveLength(6);
    expect(report.plan.skipped.map((s) => s.reason)).toEqual(['daemonset']);
    expect(sim.store.get('nodes', undefined, NODE)!.metadata.resourceVersion).toBe(nodeVersion);
    expect(sim.store.list('leases', { namespace: 'spotguard' })).toEqual([]);
    expect(podsOn(sim.store, NODE).filter((p) => p.metadata.deletionTimestamp)).toEqual([]);
    const byKey = sim.requests.byKey();
    expect(Object.keys(byKey).filter((k) => !k.startsWith('get') && !k.startsWith('list'))).toEqual([]);
  });
});

describe('drainNode: pod selection', () => {
  beforeEach(async () => {
    sim = await startCluster();
    addNode(sim.store, NODE);
    addBarePod(sim.store, 'bare', NODE);
    await waitFor('bare pod running', () => runningPodsOn(sim.store, NODE).length === 1);
  });

  it('leaves an unmanaged pod without force, evicts it with force', async () => {
    const without = await drainNode(sim.k8s, NODE, { reason: 'maintenance', holder: 'a' });
    expect(without.pods).toEqual([
      expect.objectContaining({
        name: 'bare',
        outcome: 'skipped',
        reason: expect.stringMatching(/^unmanaged: /),
      }),
    ]);
    expect(podsOn(sim.store, NODE)).toHaveLength(1);
    const forced = await drainNode(sim.k8s, NODE, { reason: 'maintenance', holder: 'b', force: true });
    expect(forced.pods).toEqual([expect.objectContaining({ name: 'bare', outcome: 'evicted' })]);
    expect(forced.complete).toBe(true);
    expect(podsOn(sim.store, NODE)).toHaveLength(0);
  });
});
