// Traffic-aware drains end to end: simulator ITN → the real Lambda handler → targets deregistered
// before any eviction, evictions held until draining ends (or the deadline says go), other clusters'
// target groups untouched, ELBv2 throttled → drain proceeds and says so; the traffic player counts
// failed requests throughout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadBalancerDrainReport } from '../../shared/drain/types.ts';
import { TrafficPlayer } from '../../sim/traffic/player.ts';
import { type E2E, eventsAbout, podsOn, readyPods, startE2E } from '../e2e/harness.ts';
import { binding, createTargetGroup, webWorkload } from './fixtures.ts';

let e: E2E;
let ipGroup: string;
let instanceGroup: string;
let foreignGroup: string;

beforeAll(async () => {
  e = await startE2E({
    scenario: {
      cluster: { name: 'traffic-e2e', region: 'us-east-1', zones: ['us-east-1a', 'us-east-1b'] },
      nodeGroups: [{ name: 'spot-a', zone: 'us-east-1a', capacityType: 'SPOT', desired: 5, max: 10 }],
      workloads: [],
    },
    elbTimings: { secondMs: 100, healthyAfterSeconds: 5, propagationSeconds: 10 },
    lbControllerReactionMs: 200,
    // deadline − grace (5 s) − margin leaves room for a 3 s draining
    interruptionNoticeMs: 40_000,
  });
  await e.sim.waitFor(() => e.sim.store.list('nodes').length === 5, 15_000, 'nodes');
  ipGroup = await createTargetGroup(e.sim, 'k8s-default-web-ip', { delaySeconds: 30 });
  instanceGroup = await createTargetGroup(e.sim, 'k8s-default-web-inst', {
    type: 'instance',
    delaySeconds: 20,
  });
  // another cluster's target group that happens to hold the same IPs (another VPC)
  foreignGroup = await createTargetGroup(e.sim, 'k8s-other-web', {
    cluster: 'other-cluster',
    delaySeconds: 30,
  });
  e.sim.applyManifests([
    ...webWorkload(10),
    binding('web-ip', 'web', ipGroup, 'ip'),
    binding('web-inst', 'web', instanceGroup, 'instance'),
  ]);
  await e.sim.waitFor(() => readyPods(e.sim, 'default', 'app', 'web').length === 10, 15_000, 'web ready');
  await e.sim.waitFor(
    () => e.sim.elbv2.health(ipGroup).filter((h) => h.state === 'healthy').length === 10,
    15_000,
    'targets healthy',
  );
}, 60_000);

afterAll(async () => {
  await e?.stop();
});

function nodeWithMostWebPods(): { node: string; instanceId: string } {
  const nodes = e.sim.store.list('nodes').map((n) => n.metadata.name);
  nodes.sort((a, b) => webPodsOn(b).length - webPodsOn(a).length);
  return { node: nodes[0]!, instanceId: e.sim.aws.instanceByNodeName(nodes[0]!)!.instanceId };
}
const webPodsOn = (node: string) => podsOn(e.sim, node).filter((p) => p.metadata.labels?.app === 'web');

/** Pod key → when its deletionTimestamp was first seen. */
function watchEvictions(): Map<string, number> {
  const seen = new Map<string, number>();
  e.sim.store.watch('pods', (ev) => {
    const key = `${ev.object.metadata.namespace}/${ev.object.metadata.name}`;
    if (ev.object.metadata.deletionTimestamp && !seen.has(key)) seen.set(key, Date.now());
  });
  return seen;
}

async function interruptAndReport(instanceId: string) {
  e.sim.aws.interruptSpot(instanceId);
  await e.sim.waitFor(() => e.reports().some((r) => r.instanceId === instanceId), 30_000, 'ITN handled');
  return e.reports().find((r) => r.instanceId === instanceId)!;
}

describe('traffic-aware drain on a spot interruption', () => {
  it('ip and instance targets are deregistered before the first eviction; evictions wait for draining; no request fails', async () => {
    const { node, instanceId } = nodeWithMostWebPods();
    const pods = webPodsOn(node);
    expect(pods.length).toBeGreaterThanOrEqual(2);
    const ips = pods.map((p) => p.status.podIP as string);
    e.sim.elbv2.register(
      foreignGroup,
      ips.map((id) => ({ id, port: 8080 })),
    );
    const evictions = watchEvictions();
    const player = new TrafficPlayer(e.sim.elbv2, e.sim.serving, { ratePerSecond: 100, groups: [ipGroup] });
    player.start();
    const report = await interruptAndReport(instanceId);
    await new Promise((r) => setTimeout(r, 1500)); // replacements settle
    const stats = player.stop();

    expect(report.drain?.complete).toBe(true);
    const lb = report.drain?.loadBalancers as LoadBalancerDrainReport;
    expect(lb.source).toBe('bindings');
    expect(lb.unavailable).toBe(false);
    expect(lb.pods.map((p) => p.pod).sort()).toEqual(pods.map((p) => `default/${p.metadata.name}`).sort());
    const firstEviction = Math.min(...evictions.values());
    const ipGroupState = e.sim.elbv2.group(ipGroup)!;
    for (const p of lb.pods) {
      expect(Date.parse(p.deregisteredAt!)).toBeLessThan(firstEviction);
      // held until the 30 "s" (3 s) delay was over, and evicted after that
      expect(p.cutShortByDeadline).toBe(false);
      expect(Date.parse(p.drainedAt!) - Date.parse(p.deregisteredAt!)).toBeGreaterThanOrEqual(2_900);
      expect(Date.parse(p.evictedAt!)).toBeGreaterThanOrEqual(Date.parse(p.drainedAt!));
      expect(evictions.get(p.pod)!).toBeGreaterThanOrEqual(Date.parse(p.drainedAt!));
    }
    expect(ipGroupState.targets.some((t) => ips.includes(t.id))).toBe(false);
    // instance mode: the instance left the instance group's targets too
    expect(
      e.sim.elbv2.health(instanceGroup).some((h) => h.target.id === instanceId && h.state !== 'draining'),
    ).toBe(false);
    // the other cluster's group still holds the same IPs, registered and not draining
    expect(
      e.sim.elbv2.health(foreignGroup).filter((h) => ips.includes(h.target.id) && h.state !== 'draining')
        .length,
    ).toBe(ips.length);
    expect(stats.sent).toBeGreaterThan(200);
    expect(stats.failed).toBe(0);
    const events = eventsAbout(e.sim, 'Node', node).map((ev) => ev.reason);
    expect(events).toContain('LoadBalancerDeregistered');
    expect(events.filter((r) => r === 'LoadBalancerDrained').length).toBe(pods.length);
  }, 60_000);

  it('ELBv2 throttled: the drain proceeds without load-balancer draining and says so', async () => {
    const off = e.sim.faults.add({ service: 'elasticloadbalancing', status: 429 });
    try {
      const { node, instanceId } = nodeWithMostWebPods();
      const report = await interruptAndReport(instanceId);
      expect(report.drain?.complete).toBe(true);
      const lb = report.drain?.loadBalancers as LoadBalancerDrainReport;
      expect(lb.unavailable).toBe(true);
      expect(lb.notes.join(' ')).toMatch(/ELBv2 unavailable \(.*Throttling.*\): the drain proceeds/);
      await e.sim.waitFor(
        () => eventsAbout(e.sim, 'Node', node).some((ev) => ev.reason === 'LoadBalancerDrainSkipped'),
        5_000,
        'skip event',
      );
    } finally {
      off();
    }
  }, 60_000);

  it('ELBv2 unreachable (never answers): evictions go ahead after 5 s without it and the report says so', async () => {
    const off = e.sim.faults.add({ service: 'elasticloadbalancing', timeout: true });
    try {
      const { instanceId } = nodeWithMostWebPods();
      const report = await interruptAndReport(instanceId);
      expect(report.drain?.complete).toBe(true);
      const lb = report.drain?.loadBalancers as LoadBalancerDrainReport;
      expect(lb.unavailable).toBe(true);
      expect(lb.notes.join(' ')).toMatch(/did not answer within 5000 ms\): the drain proceeds/);
    } finally {
      off();
    }
  }, 60_000);
});
