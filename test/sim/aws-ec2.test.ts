import {
  DescribeInstancesCommand,
  paginateDescribeInstances,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SHUTDOWN_TAINT_KEY } from '../../sim/aws/node-sync.ts';
import { type AwsFixture, sdkError, startAwsFixture, ZONES } from './aws-fixture.ts';

let sim: AwsFixture;

beforeEach(async () => {
  sim = await startAwsFixture();
  for (const zone of ZONES)
    sim.cloud.createGroup({ name: `spot-${zone}`, zones: [zone], capacityType: 'SPOT', desired: 2 });
  sim.cloud.createGroup({ name: 'on-demand', zones: ZONES, capacityType: 'ON_DEMAND', desired: 1 });
});
afterEach(async () => {
  await sim.stop();
});

function firstOf(groupName: string) {
  return sim.cloud.groupInstances(sim.cloud.group(groupName)!)[0]!;
}

// biome-ignore lint/suspicious/noExplicitAny: wire object
function readyStatus(node: any): string | undefined {
  return node.status.conditions.find((c: { type: string }) => c.type === 'Ready')?.status;
}

describe('DescribeInstances', () => {
  it('describes instances by id with placement, lifecycle, state, DNS name and tags', async () => {
    const spot = firstOf('spot-us-east-1b');
    const out = await sim.ec2.send(new DescribeInstancesCommand({ InstanceIds: [spot.instanceId] }));
    const instance = out.Reservations![0]!.Instances![0]!;
    expect(instance).toMatchObject({
      InstanceId: spot.instanceId,
      InstanceType: 'm5.large',
      InstanceLifecycle: 'spot',
      PrivateDnsName: spot.privateDnsName,
      PrivateIpAddress: spot.privateIpAddress,
      Placement: { AvailabilityZone: 'us-east-1b' },
      State: { Code: 16, Name: 'running' },
    });
    expect(instance.PrivateDnsName).toMatch(/^ip-10-0-\d+-\d+\.ec2\.internal$/);
    expect(instance.SpotInstanceRequestId).toMatch(/^sir-/);
    const tags = Object.fromEntries(instance.Tags!.map((t) => [t.Key, t.Value]));
    expect(tags).toMatchObject({
      'aws:autoscaling:groupName': 'spot-us-east-1b',
      'eks:cluster-name': 'test-cluster',
      'kubernetes.io/cluster/test-cluster': 'owned',
    });
    const onDemand = firstOf('on-demand');
    const od = await sim.ec2.send(new DescribeInstancesCommand({ InstanceIds: [onDemand.instanceId] }));
    expect(od.Reservations![0]!.Instances![0]!.InstanceLifecycle).toBeUndefined();
  });

  it('filters by private-dns-name, tag, state and lifecycle', async () => {
    const target = firstOf('spot-us-east-1c');
    const byDns = await sim.ec2.send(
      new DescribeInstancesCommand({
        Filters: [{ Name: 'private-dns-name', Values: [target.privateDnsName] }],
      }),
    );
    expect(byDns.Reservations!.flatMap((r) => r.Instances!).map((i) => i.InstanceId)).toEqual([
      target.instanceId,
    ]);
    const byTag = await sim.ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'tag:aws:autoscaling:groupName', Values: ['spot-us-east-1a', 'on-demand'] },
          { Name: 'instance-state-name', Values: ['running'] },
        ],
      }),
    );
    expect(byTag.Reservations!.flatMap((r) => r.Instances!)).toHaveLength(3);
    const spotOnly = await sim.ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'instance-lifecycle', Values: ['spot'] }] }),
    );
    expect(spotOnly.Reservations!.flatMap((r) => r.Instances!)).toHaveLength(6);
    const wildcard = await sim.ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'tag:eks:nodegroup-name', Values: ['spot-*'] }] }),
    );
    expect(wildcard.Reservations!.flatMap((r) => r.Instances!)).toHaveLength(6);
  });

  it('paginates with MaxResults/NextToken', async () => {
    const ids: string[] = [];
    let pages = 0;
    for await (const page of paginateDescribeInstances({ client: sim.ec2, pageSize: 5 }, {})) {
      pages++;
      ids.push(...page.Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId!)));
    }
    expect(pages).toBe(2);
    expect(new Set(ids).size).toBe(7);
  });

  it('answers InvalidInstanceID.NotFound for an unknown id, like EC2', async () => {
    const err = await sdkError(
      sim.ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })),
    );
    expect(err).toMatchObject({ name: 'InvalidInstanceID.NotFound', status: 400 });
    expect(err.message).toBe("The instance ID 'i-0123456789abcdef0' does not exist");
    const malformed = await sdkError(sim.ec2.send(new DescribeInstancesCommand({ InstanceIds: ['node-1'] })));
    expect(malformed.name).toBe('InvalidInstanceID.Malformed');
  });
});

describe('instance ↔ node consistency', () => {
  it('every instance has a Node named by its PrivateDnsName with its id, zone and group', () => {
    const nodes = sim.store.list('nodes');
    expect(nodes).toHaveLength(7);
    for (const instance of sim.cloud.instances()) {
      const node = sim.store.get('nodes', undefined, instance.privateDnsName)!;
      expect(node, instance.instanceId).toBeDefined();
      expect(node.spec.providerID).toBe(`aws:///${instance.zone}/${instance.instanceId}`);
      expect(node.metadata.labels!['topology.kubernetes.io/zone']).toBe(instance.zone);
      expect(node.metadata.labels!['eks.amazonaws.com/capacityType']).toBe(instance.capacityType);
      expect(node.metadata.labels!['eks.amazonaws.com/nodegroup']).toBe(instance.groupName);
      expect(sim.cloud.instanceByNodeName(node.metadata.name)).toBe(instance);
    }
    expect(new Set(sim.cloud.instances().map((i) => i.privateDnsName)).size).toBe(7);
  });

  it('uses compute.internal names outside us-east-1', async () => {
    const other = await startAwsFixture({ region: 'eu-west-1', zones: ['eu-west-1a'] });
    try {
      const group = other.cloud.createGroup({
        name: 'g',
        zones: ['eu-west-1a'],
        capacityType: 'SPOT',
        desired: 1,
      });
      const instance = other.cloud.groupInstances(group)[0]!;
      expect(instance.privateDnsName).toMatch(/^ip-10-0-\d+-\d+\.eu-west-1\.compute\.internal$/);
    } finally {
      await other.stop();
    }
  });
});

describe('Terminate, Stop, Start', () => {
  it('TerminateInstances: shutting-down, then terminated; the Node is deleted and the group replaces it', async () => {
    const victim = firstOf('spot-us-east-1a');
    const out = await sim.ec2.send(new TerminateInstancesCommand({ InstanceIds: [victim.instanceId] }));
    expect(out.TerminatingInstances![0]).toMatchObject({
      InstanceId: victim.instanceId,
      CurrentState: { Code: 32, Name: 'shutting-down' },
      PreviousState: { Code: 16, Name: 'running' },
    });
    await sim.until(() => victim.state === 'terminated', 'terminated');
    expect(sim.store.get('nodes', undefined, victim.privateDnsName)).toBeUndefined();
    const group = sim.cloud.group('spot-us-east-1a')!;
    await sim.until(
      () => sim.cloud.groupInstances(group).filter((i) => i.lifecycleState === 'InService').length === 2,
      'replacement in service',
    );
    const described = await sim.ec2.send(new DescribeInstancesCommand({ InstanceIds: [victim.instanceId] }));
    expect(described.Reservations![0]!.Instances![0]!.State).toEqual({ Code: 48, Name: 'terminated' });
  });

  it('StopInstances makes the Node NotReady with the shutdown taint; StartInstances restores it', async () => {
    const target = firstOf('spot-us-east-1b');
    const stop = await sim.ec2.send(new StopInstancesCommand({ InstanceIds: [target.instanceId] }));
    expect(stop.StoppingInstances![0]!.CurrentState).toEqual({ Code: 64, Name: 'stopping' });
    await sim.until(() => target.state === 'stopped', 'stopped');
    let node = sim.store.get('nodes', undefined, target.privateDnsName)!;
    expect(readyStatus(node)).toBe('Unknown');
    expect(node.spec.taints).toContainEqual({ key: SHUTDOWN_TAINT_KEY, effect: 'NoSchedule' });
    const start = await sim.ec2.send(new StartInstancesCommand({ InstanceIds: [target.instanceId] }));
    expect(start.StartingInstances![0]!.CurrentState).toEqual({ Code: 0, Name: 'pending' });
    await sim.until(() => target.state === 'running', 'running again');
    node = sim.store.get('nodes', undefined, target.privateDnsName)!;
    expect(readyStatus(node)).toBe('True');
    expect(node.spec.taints ?? []).not.toContainEqual(expect.objectContaining({ key: SHUTDOWN_TAINT_KEY }));
  });
});
