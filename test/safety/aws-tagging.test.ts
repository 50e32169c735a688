// The simulator tags as AWS does: a group tag reaches instances only with PropagateAtLaunch=true;
// EKS managed node groups tag their group and EC2 tags their instances as EKS/EC2 do; the managed
// tag sits on the group only (infra/lifecycle-hook.*). The default fleet has a second cluster's
// groups in the same account whose nodes are not in our Kubernetes API but whose events flow.
// Checked through the AWS SDK v3 and, when installed, the AWS CLI.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeTagsCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventBridgeEvent } from '../../sim/aws/events.ts';
import { type Simulator, startSimulator } from '../../sim/index.ts';

const run = promisify(execFile);
let sim: Simulator;
let asg: AutoScalingClient;
let ec2: EC2Client;
const events: EventBridgeEvent[] = [];

const awsCli = await run('aws', ['--version']).then(
  () => true,
  () => false,
);

beforeAll(async () => {
  sim = await startSimulator({ nodes: 4, bootDelayMs: 200, interruptionNoticeMs: 300 });
  asg = new AutoScalingClient(sim.awsClientConfig());
  ec2 = new EC2Client(sim.awsClientConfig());
  sim.events.subscribe((e) => {
    events.push(e);
  });
}, 30_000);

afterAll(async () => {
  await sim?.stop();
});

const ours = () => sim.aws.groups().filter((g) => g.cluster === sim.clusterName);
const theirs = () => sim.aws.groups().filter((g) => g.cluster !== sim.clusterName);

describe('group tags as EKS sets them, PropagateAtLaunch per tag', () => {
  it('an own group: EKS tags propagate, cluster-autoscaler and the managed tag do not', async () => {
    const name = ours()[0]!.name;
    const out = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
    const tags = Object.fromEntries(out.AutoScalingGroups![0]!.Tags!.map((t) => [t.Key, t]));
    const c = sim.clusterName;
    expect(tags['eks:cluster-name']).toMatchObject({ Value: c, PropagateAtLaunch: true });
    expect(tags['eks:nodegroup-name']).toMatchObject({ PropagateAtLaunch: true });
    expect(tags[`k8s.io/cluster-autoscaler/${c}`]).toMatchObject({
      Value: 'owned',
      PropagateAtLaunch: false,
    });
    expect(tags['k8s.io/cluster-autoscaler/enabled']).toMatchObject({
      Value: 'true',
      PropagateAtLaunch: false,
    });
    expect(tags['spotguard.io/managed']).toMatchObject({ Value: c, PropagateAtLaunch: false });
  });

  it('DescribeTags filters by group, key and propagate-at-launch', async () => {
    const out = await asg.send(
      new DescribeTagsCommand({
        Filters: [
          { Name: 'key', Values: ['spotguard.io/managed'] },
          { Name: 'propagate-at-launch', Values: ['false'] },
        ],
      }),
    );
    expect(out.Tags!.map((t) => t.ResourceId).sort()).toEqual(
      ours()
        .map((g) => g.name)
        .sort(),
    );
  });

  it("instances carry only what propagated plus EC2's own aws:* tags", async () => {
    const group = ours()[0]!;
    const id = [...group.instanceIds][0]!;
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    const tags = Object.fromEntries(out.Reservations![0]!.Instances![0]!.Tags!.map((t) => [t.Key, t.Value]));
    expect(tags).toMatchObject({
      'eks:cluster-name': sim.clusterName,
      'eks:nodegroup-name': group.nodegroup,
      'aws:autoscaling:groupName': group.name,
      'aws:ec2launchtemplate:version': '1',
    });
    expect(tags['aws:ec2launchtemplate:id']).toMatch(/^lt-[0-9a-f]{17}$/);
    expect(tags).not.toHaveProperty('spotguard.io/managed');
    expect(tags).not.toHaveProperty(`k8s.io/cluster-autoscaler/${sim.clusterName}`);
  });
});

describe("a second cluster's groups in the same account", () => {
  it('are in the default fleet, tagged for that cluster, and their nodes are not in our API', () => {
    expect(theirs().length).toBeGreaterThan(0);
    for (const g of theirs()) {
      expect(g.tags['eks:cluster-name']).toBe(g.cluster);
      expect(g.tags).not.toHaveProperty('spotguard.io/managed');
      for (const id of g.instanceIds) {
        const inst = sim.aws.instance(id)!;
        expect(inst.state).toBe('running');
        expect(sim.store.get('nodes', undefined, inst.privateDnsName)).toBeUndefined();
      }
    }
  });

  it('emit their own events (spot interruption, scale-in through their hook)', async () => {
    const g = theirs().find((x) => x.hooks.size > 0)!;
    const id = [...g.instanceIds][0]!;
    sim.aws.interruptSpot(id);
    await sim.waitFor(
      () =>
        events.some(
          (e) =>
            e['detail-type'] === 'EC2 Spot Instance Interruption Warning' && e.detail['instance-id'] === id,
        ),
      5_000,
      'ITN of the other cluster',
    );
    await sim.waitFor(
      () =>
        events.some(
          (e) =>
            e['detail-type'] === 'EC2 Instance-terminate Lifecycle Action' && e.detail.EC2InstanceId === id,
        ),
      5_000,
      "the other cluster's terminate hook",
    );
  });
});

describe.skipIf(!awsCli)('the AWS CLI sees the same tags', () => {
  const cli = (args: string[]) => {
    const { credentials, region } = sim.awsClientConfig();
    return run('aws', [...args, '--endpoint-url', sim.awsEndpoint, '--region', region, '--output', 'json'], {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_SESSION_TOKEN: credentials.sessionToken,
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      },
    }).then((r) => JSON.parse(r.stdout));
  };

  it('aws autoscaling describe-tags: the managed tag on our groups only, not propagated', async () => {
    const out = await cli([
      'autoscaling',
      'describe-tags',
      '--filters',
      'Name=key,Values=spotguard.io/managed',
    ]);
    expect(out.Tags.map((t: { ResourceId: string }) => t.ResourceId).sort()).toEqual(
      ours()
        .map((g) => g.name)
        .sort(),
    );
    expect(out.Tags.every((t: { PropagateAtLaunch: boolean }) => t.PropagateAtLaunch === false)).toBe(true);
  }, 30_000);

  it('aws ec2 describe-instances: no instance carries the managed tag; the other cluster is tagged as such', async () => {
    const out = await cli(['ec2', 'describe-instances']);
    const instances = out.Reservations.flatMap((r: { Instances: unknown[] }) => r.Instances) as Array<{
      InstanceId: string;
      Tags: Array<{ Key: string; Value: string }>;
    }>;
    expect(instances.length).toBe(sim.aws.instances().length);
    for (const i of instances) expect(i.Tags.map((t) => t.Key)).not.toContain('spotguard.io/managed');
    const other = theirs()[0]!;
    const mine = instances.find((i) => other.instanceIds.has(i.InstanceId))!;
    expect(mine.Tags).toContainEqual({ Key: 'eks:cluster-name', Value: other.cluster });
  }, 30_000);
});

if (!awsCli)
  console.warn('aws-tagging: the AWS CLI is not installed (apt-get install awscli): its checks are skipped');
