import {
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  DetachInstancesCommand,
  PutLifecycleHookCommand,
  paginateDescribeAutoScalingGroups,
  RecordLifecycleActionHeartbeatCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AwsFixture, sdkError, startAwsFixture, ZONES } from './aws-fixture.ts';

let sim: AwsFixture;

beforeEach(async () => {
  sim = await startAwsFixture();
});
afterEach(async () => {
  await sim.stop();
});

const TERMINATING = 'autoscaling:EC2_INSTANCE_TERMINATING';
const LAUNCHING = 'autoscaling:EC2_INSTANCE_LAUNCHING';

function spotGroup(
  name = 'spot-a',
  desired = 3,
  extra: Partial<Parameters<AwsFixture['cloud']['createGroup']>[0]> = {},
) {
  return sim.cloud.createGroup({ name, zones: ZONES, capacityType: 'SPOT', desired, max: 10, ...extra });
}

function activeIds(groupName: string): string[] {
  const group = sim.cloud.group(groupName)!;
  return sim.cloud
    .groupInstances(group)
    .filter((i) => i.lifecycleState === 'InService' || i.lifecycleState?.startsWith('Pending'))
    .map((i) => i.instanceId);
}

describe('DescribeAutoScalingGroups', () => {
  it('returns groups with tags, zones, distribution and instances', async () => {
    spotGroup('spot-a', 3);
    sim.cloud.createGroup({ name: 'on-demand', zones: ZONES, capacityType: 'ON_DEMAND', desired: 1 });
    const out = await sim.asg.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['spot-a'] }),
    );
    expect(out.AutoScalingGroups).toHaveLength(1);
    const group = out.AutoScalingGroups![0]!;
    expect(group.AutoScalingGroupName).toBe('spot-a');
    expect(group.AutoScalingGroupARN).toMatch(
      /^arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:.+:autoScalingGroupName\/spot-a$/,
    );
    expect(group.DesiredCapacity).toBe(3);
    expect(group.AvailabilityZones).toEqual(ZONES);
    expect(group.CapacityRebalance).toBe(true);
    expect(group.MixedInstancesPolicy?.InstancesDistribution?.OnDemandPercentageAboveBaseCapacity).toBe(0);
    expect(group.Instances).toHaveLength(3);
    expect(new Set(group.Instances!.map((i) => i.AvailabilityZone))).toEqual(new Set(ZONES));
    expect(
      group.Instances!.every(
        (i) => i.LifecycleState === 'InService' && /^i-[0-9a-f]{17}$/.test(i.InstanceId!),
      ),
    ).toBe(true);
    const tags = Object.fromEntries(group.Tags!.map((t) => [t.Key, t.Value]));
    expect(tags).toMatchObject({
      'eks:cluster-name': 'test-cluster',
      'kubernetes.io/cluster/test-cluster': 'owned',
      'spotguard.io/managed': 'test-cluster',
      'eks:nodegroup-name': 'spot-a',
      'k8s.io/cluster-autoscaler/node-template/label/eks.amazonaws.com/capacityType': 'SPOT',
    });
    expect(group.CreatedTime).toBeInstanceOf(Date);
  });

  it('filters by tag and paginates with NextToken', async () => {
    for (let i = 0; i < 5; i++) spotGroup(`spot-${i}`, 1);
    sim.cloud.createGroup({
      name: 'other',
      zones: ZONES,
      capacityType: 'ON_DEMAND',
      desired: 1,
      tags: { 'spotguard.io/managed': 'false' },
    });
    const byTag = await sim.asg.send(
      new DescribeAutoScalingGroupsCommand({
        Filters: [{ Name: 'tag:spotguard.io/managed', Values: ['test-cluster'] }],
      }),
    );
    expect(byTag.AutoScalingGroups!.map((g) => g.AutoScalingGroupName).sort()).toEqual([
      'spot-0',
      'spot-1',
      'spot-2',
      'spot-3',
      'spot-4',
    ]);
    const byKey = await sim.asg.send(
      new DescribeAutoScalingGroupsCommand({ Filters: [{ Name: 'tag-key', Values: ['eks:cluster-name'] }] }),
    );
    expect(byKey.AutoScalingGroups).toHaveLength(6);

    const names: string[] = [];
    let pages = 0;
    for await (const page of paginateDescribeAutoScalingGroups({ client: sim.asg, pageSize: 2 }, {})) {
      pages++;
      names.push(...page.AutoScalingGroups!.map((g) => g.AutoScalingGroupName!));
    }
    expect(pages).toBe(3);
    expect(names).toHaveLength(6);
    expect(sim.endpoint.requests.count('autoscaling', 'DescribeAutoScalingGroups')).toBe(5);
  });

  it('rejects an unknown filter name', async () => {
    const err = await sdkError(
      sim.asg.send(new DescribeAutoScalingGroupsCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] })),
    );
    expect(err.name).toBe('ValidationError');
    expect(err.message).toContain('colour');
  });
});

describe('capacity changes', () => {
  it('DescribeAutoScalingInstances reports group, zone and lifecycle state', async () => {
    spotGroup('spot-a', 2);
    const [id] = activeIds('spot-a');
    const out = await sim.asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [id!] }));
    expect(out.AutoScalingInstances).toEqual([
      expect.objectContaining({
        InstanceId: id,
        AutoScalingGroupName: 'spot-a',
        LifecycleState: 'InService',
        HealthStatus: 'HEALTHY',
      }),
    ]);
  });

  it('SetDesiredCapacity launches balanced across zones, and rejects values above max', async () => {
    spotGroup('spot-a', 3);
    await sim.asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'spot-a', DesiredCapacity: 6 }));
    await sim.until(
      () =>
        sim.cloud.groupInstances(sim.cloud.group('spot-a')!).every((i) => i.lifecycleState === 'InService'),
      'launches in service',
    );
    const zones = sim.cloud.groupInstances(sim.cloud.group('spot-a')!).map((i) => i.zone);
    for (const zone of ZONES) expect(zones.filter((z) => z === zone)).toHaveLength(2);
    const err = await sdkError(
      sim.asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'spot-a', DesiredCapacity: 11 })),
    );
    expect(err.name).toBe('ValidationError');
    expect(err.message).toBe(
      'New SetDesiredCapacity value 11 is above max value 10 for the AutoScalingGroup.',
    );
  });

  it('UpdateAutoScalingGroup changes sizes and the on-demand share of new launches', async () => {
    spotGroup('spot-a', 2);
    await sim.asg.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: 'spot-a',
        MinSize: 1,
        MaxSize: 8,
        DesiredCapacity: 4,
        CapacityRebalance: false,
        MixedInstancesPolicy: {
          InstancesDistribution: { OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 100 },
        },
      }),
    );
    const out = await sim.asg.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['spot-a'] }),
    );
    const group = out.AutoScalingGroups![0]!;
    expect([group.MinSize, group.MaxSize, group.DesiredCapacity, group.CapacityRebalance]).toEqual([
      1,
      8,
      4,
      false,
    ]);
    expect(group.MixedInstancesPolicy?.InstancesDistribution?.OnDemandPercentageAboveBaseCapacity).toBe(100);
    const types = sim.cloud.groupInstances(sim.cloud.group('spot-a')!).map((i) => i.capacityType);
    expect(types.filter((t) => t === 'ON_DEMAND')).toHaveLength(2);
    expect(types.filter((t) => t === 'SPOT')).toHaveLength(2);
  });

  it('DetachInstances without decrement keeps the instance running and launches a replacement', async () => {
    spotGroup('spot-a', 3);
    const [victim] = activeIds('spot-a');
    const out = await sim.asg.send(
      new DetachInstancesCommand({
        AutoScalingGroupName: 'spot-a',
        InstanceIds: [victim!],
        ShouldDecrementDesiredCapacity: false,
      }),
    );
    expect(out.Activities?.[0]?.Description).toContain(victim);
    expect(sim.cloud.instance(victim!)!.state).toBe('running');
    expect(sim.cloud.instance(victim!)!.lifecycleState).toBe('Detached');
    const active = activeIds('spot-a');
    expect(active).toHaveLength(3);
    expect(active).not.toContain(victim);
  });

  it('TerminateInstanceInAutoScalingGroup without decrement replaces in the emptied zone at once', async () => {
    spotGroup('spot-a', 3);
    const [victim] = activeIds('spot-a');
    const victimZone = sim.cloud.instance(victim!)!.zone;
    await sim.asg.send(
      new TerminateInstanceInAutoScalingGroupCommand({
        InstanceId: victim!,
        ShouldDecrementDesiredCapacity: false,
      }),
    );
    const active = activeIds('spot-a');
    expect(active).toHaveLength(3);
    const replacement = active.find((id) => id !== victim && sim.cloud.instance(id)!.state === 'pending');
    expect(sim.cloud.instance(replacement!)!.zone).toBe(victimZone);
    await sim.until(() => sim.cloud.instance(victim!)!.state === 'terminated', 'victim terminated');
  });

  it('TerminateInstanceInAutoScalingGroup with decrement shrinks the group, once per instance', async () => {
    spotGroup('spot-a', 3);
    const [victim] = activeIds('spot-a');
    const terminate = () =>
      sim.asg.send(
        new TerminateInstanceInAutoScalingGroupCommand({
          InstanceId: victim!,
          ShouldDecrementDesiredCapacity: true,
        }),
      );
    await terminate();
    await terminate(); // a retry (at-least-once delivery) must not shrink the group twice
    expect(sim.cloud.group('spot-a')!.desiredCapacity).toBe(2);
    expect(activeIds('spot-a')).toHaveLength(2);
  });
});

describe('lifecycle hooks', () => {
  it('PutLifecycleHook and DescribeLifecycleHooks round-trip, with the global timeout', async () => {
    spotGroup('spot-a', 1);
    await sim.asg.send(
      new PutLifecycleHookCommand({
        AutoScalingGroupName: 'spot-a',
        LifecycleHookName: 'drain',
        LifecycleTransition: TERMINATING,
        HeartbeatTimeout: 300,
        DefaultResult: 'CONTINUE',
        NotificationMetadata: '{"drain":true}',
      }),
    );
    const out = await sim.asg.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: 'spot-a' }));
    expect(out.LifecycleHooks).toEqual([
      expect.objectContaining({
        LifecycleHookName: 'drain',
        LifecycleTransition: TERMINATING,
        HeartbeatTimeout: 300,
        GlobalTimeout: 30_000,
        DefaultResult: 'CONTINUE',
        NotificationMetadata: '{"drain":true}',
      }),
    ]);
  });

  it('scale-in waits in Terminating:Wait until CompleteLifecycleAction by token', async () => {
    spotGroup('spot-a', 2, {
      hooks: [{ name: 'drain', transition: TERMINATING, heartbeatTimeoutSeconds: 60 }],
    });
    const [victim] = sim.cloud.scaleIn('spot-a', 1);
    expect(sim.cloud.instance(victim!)!.lifecycleState).toBe('Terminating:Wait');
    const event = sim.received.find((e) => e['detail-type'] === 'EC2 Instance-terminate Lifecycle Action')!;
    expect(event.detail).toMatchObject({
      EC2InstanceId: victim,
      LifecycleHookName: 'drain',
      AutoScalingGroupName: 'spot-a',
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sim.cloud.instance(victim!)!.state).toBe('running');
    await sim.asg.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: 'spot-a',
        LifecycleHookName: 'drain',
        LifecycleActionToken: String(event.detail.LifecycleActionToken),
        LifecycleActionResult: 'CONTINUE',
      }),
    );
    await sim.until(() => sim.cloud.instance(victim!)!.state === 'terminated', 'terminated after CONTINUE');
    expect(sim.cloud.group('spot-a')!.instanceIds.has(victim!)).toBe(false);
  });

  it('completes by instance id, and rejects unknown tokens like AWS', async () => {
    spotGroup('spot-a', 2, {
      hooks: [{ name: 'drain', transition: TERMINATING, heartbeatTimeoutSeconds: 60 }],
    });
    const err = await sdkError(
      sim.asg.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: 'spot-a',
          LifecycleHookName: 'drain',
          LifecycleActionToken: 'bcd2f1b8-9a78-44d3-8a7a-4dd07d7cf635',
          LifecycleActionResult: 'CONTINUE',
        }),
      ),
    );
    expect(err).toMatchObject({ name: 'ValidationError', status: 400 });
    expect(err.message).toBe(
      'No active Lifecycle Action found with token bcd2f1b8-9a78-44d3-8a7a-4dd07d7cf635',
    );
    const [victim] = sim.cloud.scaleIn('spot-a', 1);
    await sim.asg.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: 'spot-a',
        LifecycleHookName: 'drain',
        InstanceId: victim!,
        LifecycleActionResult: 'ABANDON',
      }),
    );
    await sim.until(() => sim.cloud.instance(victim!)!.state === 'terminated', 'terminated after ABANDON');
  });

  it('times out to the default result; heartbeats extend the timeout', async () => {
    spotGroup('spot-a', 3, {
      hooks: [
        { name: 'drain', transition: TERMINATING, heartbeatTimeoutSeconds: 1, defaultResult: 'CONTINUE' },
      ],
    });
    const [quiet, beating] = sim.cloud.scaleIn('spot-a', 2);
    const started = Date.now();
    const beat = setInterval(() => {
      sim.asg
        .send(
          new RecordLifecycleActionHeartbeatCommand({
            AutoScalingGroupName: 'spot-a',
            LifecycleHookName: 'drain',
            InstanceId: beating!,
          }),
        )
        .catch(() => undefined);
    }, 300);
    try {
      await sim.until(() => sim.cloud.instance(quiet!)!.state === 'terminated', 'timeout → CONTINUE', 3_000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
      expect(sim.cloud.instance(beating!)!.lifecycleState).toBe('Terminating:Wait');
      const pending = sim.cloud.pendingActions().find((a) => a.instanceId === beating);
      expect(pending!.globalDeadline.getTime() - started).toBeGreaterThanOrEqual(99_000);
    } finally {
      clearInterval(beat);
    }
    await sim.until(
      () => sim.cloud.instance(beating!)!.state === 'terminated',
      'heartbeats stopped → timeout',
      3_000,
    );
  });

  it('launch hook holds Pending:Wait while the node joins; CONTINUE puts it in service', async () => {
    spotGroup('spot-a', 1, {
      hooks: [{ name: 'ready', transition: LAUNCHING, heartbeatTimeoutSeconds: 60 }],
    });
    sim.cloud.setDesiredCapacity('spot-a', 2);
    const launched = activeIds('spot-a')
      .map((id) => sim.cloud.instance(id)!)
      .find((i) => i.lifecycleState === 'Pending:Wait')!;
    expect(launched).toBeDefined();
    await sim.until(
      () => sim.store.get('nodes', undefined, launched.privateDnsName) !== undefined,
      'node joined',
    );
    expect(launched.lifecycleState).toBe('Pending:Wait');
    const event = sim.received.find((e) => e['detail-type'] === 'EC2 Instance-launch Lifecycle Action')!;
    expect(event.detail).toMatchObject({
      Origin: 'EC2',
      Destination: 'AutoScalingGroup',
      LifecycleTransition: LAUNCHING,
    });
    await sim.asg.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: 'spot-a',
        LifecycleHookName: 'ready',
        LifecycleActionToken: String(event.detail.LifecycleActionToken),
        LifecycleActionResult: 'CONTINUE',
      }),
    );
    expect(launched.lifecycleState).toBe('InService');
    expect(
      sim.received.some(
        (e) =>
          e['detail-type'] === 'EC2 Instance Launch Successful' &&
          e.detail.EC2InstanceId === launched.instanceId,
      ),
    ).toBe(true);
  });

  it('launch hook ABANDON terminates the instance and launches another', async () => {
    spotGroup('spot-a', 0, {
      hooks: [{ name: 'ready', transition: LAUNCHING, heartbeatTimeoutSeconds: 60 }],
    });
    sim.cloud.setDesiredCapacity('spot-a', 1);
    const [first] = activeIds('spot-a');
    await sim.asg.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: 'spot-a',
        LifecycleHookName: 'ready',
        InstanceId: first!,
        LifecycleActionResult: 'ABANDON',
      }),
    );
    const now = activeIds('spot-a');
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(first);
    await sim.until(
      () => sim.cloud.instance(first!)!.state === 'terminated',
      'abandoned instance terminated',
    );
    expect(
      sim.received.some(
        (e) => e['detail-type'] === 'EC2 Instance Launch Unsuccessful' && e.detail.StatusCode === 'Failed',
      ),
    ).toBe(true);
  });
});
