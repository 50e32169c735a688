// The eviction gate against the deadline, and the tag fallback: drainNode with the TrafficDrain gate
// on the simulator, target groups found by the cluster tag when no TargetGroupBinding names them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { elbv2Client } from '../../shared/aws/elbv2.ts';
import { drainNode } from '../../shared/drain/executor.ts';
import { type KubeClients, kubeClientsFromConfig } from '../../shared/k8s/client.ts';
import { TrafficDrain } from '../../shared/traffic/session.ts';
import { type Simulator, startSimulator } from '../../sim/index.ts';
import { createTargetGroup, webWorkload } from './fixtures.ts';

let sim: Simulator;
let k8s: KubeClients;

beforeAll(async () => {
  sim = await startSimulator({
    clusterName: 'traffic-deadline',
    nodes: 2,
    spotShare: 1,
    bootDelayMs: 100,
    podStartMs: 100,
    podTerminationMs: 200,
    elbTimings: { secondMs: 100, healthyAfterSeconds: 2, propagationSeconds: 5 },
  });
  await sim.waitFor(() => sim.store.list('nodes').length === 2, 10_000, 'nodes');
  sim.applyManifests(webWorkload(4, { grace: 2 }));
  await sim.waitFor(
    () => sim.store.list('pods').filter((p) => p.status?.phase === 'Running').length === 4,
    10_000,
    'pods running',
  );
  k8s = kubeClientsFromConfig(sim.kubeConfig());
}, 30_000);

afterAll(async () => {
  await sim?.stop();
});

describe('eviction gate and the deadline', () => {
  it('no TargetGroupBinding: finds this cluster’s groups by tag; a 300 s delay is cut short at deadline − grace − margin', async () => {
    // registered by hand (no binding), tagged for this cluster; 300 "s" = 30 s of draining
    const arn = await createTargetGroup(sim, 'k8s-default-web-tags', { delaySeconds: 300 });
    const node = sim.store.list('nodes')[0]!.metadata.name;
    const pods = sim.store.list('pods', { nodeName: node });
    sim.elbv2.register(
      arn,
      pods.map((p) => ({ id: p.status.podIP, port: 8080 })),
    );
    const deadline = new Date(Date.now() + 6_000);
    const gate = new TrafficDrain({
      k8s,
      elb: elbv2Client({ ...sim.awsClientConfig(), maxAttempts: 1 }),
      clusterName: sim.clusterName,
      trigger: 'spot-interruption',
      deadline,
      marginMs: 1_000,
      pollMs: 200,
      holder: 'test',
    });
    const report = await drainNode(k8s, node, {
      reason: 'spot-interruption',
      deadline,
      safetyMarginMs: 1_000,
      holder: 'test',
      evictionGate: gate,
    });
    expect(report.complete).toBe(true);
    expect(Date.now()).toBeLessThan(deadline.getTime());
    const lb = report.loadBalancers!;
    expect(lb.source).toBe('tags');
    expect(lb.pods).toHaveLength(pods.length);
    const releaseAt = deadline.getTime() - 2_000 - 1_000;
    for (const p of lb.pods) {
      expect(p.cutShortByDeadline).toBe(true);
      expect(p.drainedAt).toBeUndefined();
      expect(Date.parse(p.evictedAt!)).toBeGreaterThanOrEqual(releaseAt);
      expect(Date.parse(p.evictedAt!)).toBeLessThan(releaseAt + 1_000);
    }
    // still draining when the pods were evicted: the group holds them as draining
    expect(sim.elbv2.health(arn).every((h) => h.state === 'draining')).toBe(true);
    const warning = sim.store
      .list('events')
      .find((e) => e.involvedObject?.name === node && e.reason === 'LoadBalancerDrained');
    expect(warning?.type).toBe('Warning');
    expect(warning?.message).toMatch(/cut short by the deadline/);
  }, 30_000);
});
