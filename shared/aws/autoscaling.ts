// The Auto Scaling calls spotguard makes, each small, with the group shape reduced to what the
// planners need. Retries/backoff come from the SDK client's retry strategy (shared/aws/clients.ts).
import {
  type AutoScalingClient,
  type AutoScalingGroup,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeLifecycleHooksCommand,
  DetachInstancesCommand,
  RecordLifecycleActionHeartbeatCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';

export interface GroupInstance {
  instanceId: string;
  availabilityZone: string;
  lifecycleState: string;
  instanceType?: string;
}

export interface GroupInfo {
  name: string;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  availabilityZones: string[];
  capacityRebalance: boolean;
  tags: Record<string, string>;
  instances: GroupInstance[];
}

export async function describeGroup(asg: AutoScalingClient, name: string): Promise<GroupInfo | undefined> {
  const out = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
  const g = out.AutoScalingGroups?.[0];
  return g ? toGroupInfo(g) : undefined;
}

/** Every group carrying the managed tag (paginated). */
export async function describeManagedGroups(
  asg: AutoScalingClient,
  tag: { key: string; value: string },
): Promise<GroupInfo[]> {
  const groups: GroupInfo[] = [];
  let token: string | undefined;
  do {
    const out = await asg.send(
      new DescribeAutoScalingGroupsCommand({
        Filters: [{ Name: `tag:${tag.key}`, Values: [tag.value] }],
        NextToken: token,
      }),
    );
    for (const g of out.AutoScalingGroups ?? []) groups.push(toGroupInfo(g));
    token = out.NextToken;
  } while (token);
  return groups;
}

export async function heartbeatTimeoutSeconds(
  asg: AutoScalingClient,
  groupName: string,
  hookName: string,
): Promise<number | undefined> {
  const out = await asg.send(
    new DescribeLifecycleHooksCommand({ AutoScalingGroupName: groupName, LifecycleHookNames: [hookName] }),
  );
  return out.LifecycleHooks?.[0]?.HeartbeatTimeout;
}

export interface LifecycleActionRef {
  autoScalingGroupName: string;
  lifecycleHookName: string;
  lifecycleActionToken: string;
  instanceId: string;
}

export async function completeLifecycleAction(
  asg: AutoScalingClient,
  ref: LifecycleActionRef,
  result: 'CONTINUE' | 'ABANDON',
): Promise<void> {
  await asg.send(
    new CompleteLifecycleActionCommand({
      AutoScalingGroupName: ref.autoScalingGroupName,
      LifecycleHookName: ref.lifecycleHookName,
      LifecycleActionToken: ref.lifecycleActionToken,
      InstanceId: ref.instanceId,
      LifecycleActionResult: result,
    }),
  );
}

export async function recordHeartbeat(asg: AutoScalingClient, ref: LifecycleActionRef): Promise<void> {
  await asg.send(
    new RecordLifecycleActionHeartbeatCommand({
      AutoScalingGroupName: ref.autoScalingGroupName,
      LifecycleHookName: ref.lifecycleHookName,
      LifecycleActionToken: ref.lifecycleActionToken,
      InstanceId: ref.instanceId,
    }),
  );
}

/** Detach without lowering desired capacity: the group launches a replacement at once. */
export async function detachForReplacement(asg: AutoScalingClient, groupName: string, instanceId: string) {
  await asg.send(
    new DetachInstancesCommand({
      AutoScalingGroupName: groupName,
      InstanceIds: [instanceId],
      ShouldDecrementDesiredCapacity: false,
    }),
  );
}

export async function setDesiredCapacity(asg: AutoScalingClient, groupName: string, desired: number) {
  await asg.send(
    new SetDesiredCapacityCommand({
      AutoScalingGroupName: groupName,
      DesiredCapacity: desired,
      HonorCooldown: false,
    }),
  );
}

export async function terminateInGroup(
  asg: AutoScalingClient,
  instanceId: string,
  decrementDesired: boolean,
) {
  await asg.send(
    new TerminateInstanceInAutoScalingGroupCommand({
      InstanceId: instanceId,
      ShouldDecrementDesiredCapacity: decrementDesired,
    }),
  );
}

function toGroupInfo(g: AutoScalingGroup): GroupInfo {
  return {
    name: g.AutoScalingGroupName ?? '',
    minSize: g.MinSize ?? 0,
    maxSize: g.MaxSize ?? 0,
    desiredCapacity: g.DesiredCapacity ?? 0,
    availabilityZones: g.AvailabilityZones ?? [],
    capacityRebalance: g.CapacityRebalance ?? false,
    tags: Object.fromEntries((g.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
    instances: (g.Instances ?? []).map((i) => ({
      instanceId: i.InstanceId ?? '',
      availabilityZone: i.AvailabilityZone ?? '',
      lifecycleState: i.LifecycleState ?? '',
      instanceType: i.InstanceType,
    })),
  };
}
