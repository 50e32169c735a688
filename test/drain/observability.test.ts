import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { drainNode } from '../../shared/drain/executor.ts';
import { nodeDrainStatus } from '../../shared/drain/status.ts';
import {
  addDeployment,
  addNode,
  runningPodsOn,
  type SimCluster,
  startCluster,
  waitFor,
} from './sim-harness.ts';

const NODE = 'ip-10-0-6-10.ec2.internal';
let sim: SimCluster;
beforeEach(async () => {
  sim = await startCluster();
  addNode(sim.store, NODE);
  addDeployment(sim.store, 'web', { replicas: 3 });
  await waitFor('3 pods running', () => runningPodsOn(sim.store, NODE).length === 3);
});
afterEach(async () => {
  await sim?.stop();
});

const spotguardEvents = () => sim.store.list('events').filter((e) => e.reportingComponent === 'spotguard');

describe('drain observability', () => {
  it('records metrics through a Powertools Metrics object', async () => {
    const metrics = new Metrics({ namespace: 'Spotguard', serviceName: 'drain-test' });
    const report = await drainNode(sim.k8s, NODE, { reason: 'spot-interruption', holder: 'req-1', metrics });
    expect(report.complete).toBe(true);
    const emf = metrics.serializeMetrics() as unknown as Record<string, unknown>;
    expect(emf).toMatchObject({ PodsEvicted: 3, PodsBlockedByPdb: 0, DeadlineMissed: 0 });
    expect(emf.TimeToCordonMs).toEqual(expect.any(Number));
    expect(emf.DrainDurationMs).toBeGreaterThanOrEqual(emf.TimeToCordonMs as number);
  });

  it("sends per-pod Evicting/Evicted events only with podEvents 'all'", async () => {
    sim.requests.reset();
    const quiet = await drainNode(sim.k8s, NODE, { reason: 'spot-interruption', holder: 'req-1' });
    expect(spotguardEvents().filter((e) => e.involvedObject.kind === 'Pod')).toEqual([]);
    expect(sim.requests.byKey()['create events']).toBe(3);
    expect(quiet.apiRequests).toBe(sim.requests.total());

    await waitFor('3 replacement pods on a second node', () => {
      if (!sim.store.get('nodes', undefined, 'ip-10-0-6-20.ec2.internal'))
        addNode(sim.store, 'ip-10-0-6-20.ec2.internal');
      return runningPodsOn(sim.store, 'ip-10-0-6-20.ec2.internal').length === 3;
    });
    const loud = await drainNode(sim.k8s, 'ip-10-0-6-20.ec2.internal', {
      reason: 'spot-interruption',
      holder: 'req-2',
      podEvents: 'all',
    });
    expect(loud.complete).toBe(true);
    const podEvents = spotguardEvents().filter((e) => e.involvedObject.kind === 'Pod');
    expect(podEvents.map((e) => e.reason).sort()).toEqual([
      'Evicted',
      'Evicted',
      'Evicted',
      'Evicting',
      'Evicting',
      'Evicting',
    ]);
    expect(podEvents[0]).toMatchObject({
      source: { component: 'spotguard' },
      reportingInstance: 'req-2',
      type: 'Normal',
    });
  });

  it('survives a broken pod watch: re-lists and still sees every pod go', async () => {
    addNode(sim.store, 'ip-10-0-6-30.ec2.internal');
    sim.faults.add({ verb: 'watch', resource: 'pods', status: 500, count: 2 });
    sim.requests.reset();
    const report = await drainNode(sim.k8s, NODE, {
      reason: 'spot-interruption',
      holder: 'req-1',
      timeoutMs: 15_000,
    });
    expect(report.complete).toBe(true);
    expect(sim.requests.byKey()['watch pods']).toBeGreaterThanOrEqual(2);
    expect(sim.requests.byKey()['list pods']).toBeGreaterThanOrEqual(2);
  });

  it('names a missing node; status says it does not exist', async () => {
    await expect(
      drainNode(sim.k8s, 'ip-10-9-9-9.ec2.internal', { reason: 'maintenance', holder: 'x' }),
    ).rejects.toThrow('cannot drain node "ip-10-9-9-9.ec2.internal": no such node');
    expect(await nodeDrainStatus(sim.k8s, 'ip-10-9-9-9.ec2.internal')).toMatchObject({ exists: false });
    expect(await nodeDrainStatus(sim.k8s, NODE)).toMatchObject({
      exists: true,
      unschedulable: false,
      podsToEvict: 3,
    });
  });
});
