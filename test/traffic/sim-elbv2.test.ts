// The simulated ELBv2 API and AWS Load Balancer Controller, through the SDK and the AWS CLI:
// registration by the controller (initial → healthy), deregistration (draining for the delay, never
// shorter than the propagation lag, then gone), AWS's errors and throttling, and the traffic player.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  DeregisterTargetsCommand,
  DescribeTagsCommand,
  DescribeTargetHealthCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.ts';
import { TrafficPlayer } from '../../sim/traffic/player.ts';
import { binding, createTargetGroup, elb, webWorkload } from './fixtures.ts';

const run = promisify(execFile);
let sim: Simulator;
let ipGroup: string;

const states = async (arn: string) =>
  (await elb(sim).send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))).TargetHealthDescriptions ??
  [];

beforeAll(async () => {
  sim = await startSimulator({
    clusterName: 'traffic-sim',
    nodes: 3,
    spotShare: 1,
    bootDelayMs: 100,
    podStartMs: 100,
    podTerminationMs: 200,
    elbTimings: { secondMs: 100, healthyAfterSeconds: 3, propagationSeconds: 8 },
    lbControllerReactionMs: 100,
  });
  await sim.waitFor(() => sim.store.list('nodes').length === 3, 10_000, 'nodes');
  ipGroup = await createTargetGroup(sim, 'k8s-default-web-ip', { type: 'ip', delaySeconds: 4 });
  sim.applyManifests([...webWorkload(3), binding('web-ip', 'web', ipGroup, 'ip')]);
}, 30_000);

afterAll(async () => {
  await sim?.stop();
});

describe('simulated ELBv2 and AWS Load Balancer Controller', () => {
  it('the controller registers Ready pod IPs on the targetPort: initial, then healthy', async () => {
    await sim.waitFor(() => sim.elbv2.health(ipGroup).length === 3, 10_000, 'three targets');
    const first = await states(ipGroup);
    const ips = sim.store.list('pods', { namespace: 'default' }).map((p) => p.status?.podIP);
    expect(first.map((d) => d.Target?.Id).sort()).toEqual([...ips].sort());
    expect(first.every((d) => d.Target?.Port === 8080)).toBe(true);
    expect(first.some((d) => d.TargetHealth?.State === 'initial')).toBe(true);
    await sim.waitFor(() => sim.elbv2.health(ipGroup).every((h) => h.state === 'healthy'), 5_000, 'healthy');
  });

  it('the AWS CLI reads target health and tags from the simulator', async () => {
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: 'ASIASIMULATOR',
      AWS_SECRET_ACCESS_KEY: 'simulator-secret',
      AWS_SESSION_TOKEN: 'simulator-session',
      AWS_DEFAULT_REGION: sim.region,
    };
    const args = ['--endpoint-url', sim.awsEndpoint, '--output', 'json'];
    const health = await run(
      'aws',
      ['elbv2', 'describe-target-health', '--target-group-arn', ipGroup, ...args],
      {
        env,
      },
    );
    const parsed = JSON.parse(health.stdout) as {
      TargetHealthDescriptions: { TargetHealth: { State: string } }[];
    };
    expect(parsed.TargetHealthDescriptions.map((d) => d.TargetHealth.State)).toEqual([
      'healthy',
      'healthy',
      'healthy',
    ]);
    const tags = await run('aws', ['elbv2', 'describe-tags', '--resource-arns', ipGroup, ...args], { env });
    expect(JSON.parse(tags.stdout).TagDescriptions[0].Tags).toContainEqual({
      Key: 'elbv2.k8s.aws/cluster',
      Value: 'traffic-sim',
    });
  }, 30_000);

  it('deregistration: draining for max(delay, propagation), routed until propagated, then gone', async () => {
    const [target] = sim.elbv2.health(ipGroup);
    const t = { Id: target!.target.id, Port: target!.target.port };
    await elb(sim).send(new DeregisterTargetsCommand({ TargetGroupArn: ipGroup, Targets: [t] }));
    const group = sim.elbv2.group(ipGroup)!;
    const after = await elb(sim).send(
      new DescribeTargetHealthCommand({ TargetGroupArn: ipGroup, Targets: [t] }),
    );
    expect(after.TargetHealthDescriptions?.[0]?.TargetHealth?.State).toBe('draining');
    // delay 4 "s" (400 ms) but propagation 8 "s": past the delay, still draining and still routed
    await new Promise((r) => setTimeout(r, 500));
    expect(sim.elbv2.health(ipGroup, [{ id: t.Id, port: t.Port }])[0]?.state).toBe('draining');
    expect(sim.elbv2.routable(group).map((x) => x.id)).toContain(t.Id);
    await sim.waitFor(
      () => sim.elbv2.health(ipGroup, [{ id: t.Id, port: t.Port }])[0]?.state === 'unused',
      3_000,
      'unused',
    );
    expect(sim.elbv2.routable(group).map((x) => x.id)).not.toContain(t.Id);
    // AWS refuses deregistering what is not registered
    await expect(
      elb(sim).send(new DeregisterTargetsCommand({ TargetGroupArn: ipGroup, Targets: [t] })),
    ).rejects.toMatchObject({ name: 'InvalidTargetException' });
  });

  it('DescribeTags takes at most 20 ARNs; throttling is answered as ELBv2 does', async () => {
    await expect(
      elb(sim).send(new DescribeTagsCommand({ ResourceArns: Array(21).fill(ipGroup) })),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    const off = sim.faults.add({
      service: 'elasticloadbalancing',
      verb: 'DescribeTargetHealth',
      status: 429,
    });
    await expect(states(ipGroup)).rejects.toMatchObject({
      name: 'Throttling',
      $metadata: { httpStatusCode: 400 },
    });
    off();
  });

  it('the traffic player spreads requests over routable targets; a deleted pod without preStop fails them', async () => {
    const player = new TrafficPlayer(sim.elbv2, sim.serving, { ratePerSecond: 200, groups: [ipGroup] });
    player.start();
    await new Promise((r) => setTimeout(r, 500));
    expect(player.stats.sent).toBeGreaterThan(50);
    expect(player.stats.failed).toBe(0);
    // kubectl-style: delete a pod while it is a healthy target
    const victim = sim.store
      .list('pods', { namespace: 'default' })
      .find((p) =>
        sim.elbv2.health(ipGroup).some((h) => h.target.id === p.status?.podIP && h.state === 'healthy'),
      )!;
    sim.store.mutate('pods', 'default', victim.metadata.name, (d) => {
      d.metadata.deletionTimestamp = new Date(Date.now() + 5_000).toISOString();
      d.metadata.deletionGracePeriodSeconds = 5;
    });
    await new Promise((r) => setTimeout(r, 600));
    const stats = player.stop();
    expect(stats.failed).toBeGreaterThan(0);
    expect(stats.failures.every((f) => f.target === victim.status.podIP)).toBe(true);
  });
});
