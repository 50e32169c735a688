// EC2 instance facts spotguard needs, fetched in as few DescribeInstances calls as possible.
import { DescribeInstancesCommand, type EC2Client, type Instance } from '@aws-sdk/client-ec2';

export interface InstanceInfo {
  instanceId: string;
  /** Empty for terminated instances: EC2 clears it. */
  privateDnsName?: string;
  availabilityZone: string;
  instanceType: string;
  lifecycle: 'spot' | 'on-demand';
  state: string;
  tags: Record<string, string>;
  /** From the `aws:autoscaling:groupName` tag. */
  autoScalingGroupName?: string;
}

export const ASG_NAME_TAG = 'aws:autoscaling:groupName';
/** Ids per DescribeInstances call; EC2 accepts more, but the URL-encoded body stays small. */
const IDS_PER_CALL = 200;
const INSTANCE_ID_PATTERN = /i-[0-9a-f]{8,17}/g;

/**
 * Describes the given instances. Unknown ids are absent from the result: EC2 fails the whole
 * call with InvalidInstanceID.NotFound (or .Malformed) when any id is unknown, so we retry
 * without the ids the error names.
 */
export async function describeInstances(ec2: EC2Client, ids: string[]): Promise<Map<string, InstanceInfo>> {
  const result = new Map<string, InstanceInfo>();
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += IDS_PER_CALL) {
    for (const info of await describeBatch(ec2, unique.slice(i, i + IDS_PER_CALL))) {
      result.set(info.instanceId, info);
    }
  }
  return result;
}

async function describeBatch(ec2: EC2Client, ids: string[]): Promise<InstanceInfo[]> {
  let remaining = ids;
  while (remaining.length > 0) {
    try {
      return await describeAllPages(ec2, remaining);
    } catch (err) {
      const bad = invalidIdsIn(err, remaining);
      if (bad === undefined) throw err;
      // The error did not say which ids: ask one at a time so one bad id cannot hide the others.
      if (bad.length === 0) return describeOneByOne(ec2, remaining);
      remaining = remaining.filter((id) => !bad.includes(id));
    }
  }
  return [];
}

async function describeOneByOne(ec2: EC2Client, ids: string[]): Promise<InstanceInfo[]> {
  const found: InstanceInfo[] = [];
  for (const id of ids) {
    try {
      found.push(...(await describeAllPages(ec2, [id])));
    } catch (err) {
      if (invalidIdsIn(err, [id]) === undefined) throw err;
    }
  }
  return found;
}

async function describeAllPages(ec2: EC2Client, ids: string[]): Promise<InstanceInfo[]> {
  const found: InstanceInfo[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids, NextToken: nextToken }));
    for (const reservation of page.Reservations ?? []) {
      for (const instance of reservation.Instances ?? []) found.push(toInstanceInfo(instance));
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return found;
}

/**
 * For an "unknown instance id" error: the requested ids it names (possibly none).
 * For any other error: undefined.
 */
function invalidIdsIn(err: unknown, requested: string[]): string[] | undefined {
  const name = (err as { name?: string })?.name ?? '';
  if (name !== 'InvalidInstanceID.NotFound' && name !== 'InvalidInstanceID.Malformed') return undefined;
  const message = (err as Error).message ?? '';
  const named: string[] = message.match(INSTANCE_ID_PATTERN) ?? [];
  const malformed = /"([^"]+)"/.exec(message)?.[1];
  return requested.filter((id) => named.includes(id) || id === malformed);
}

export function toInstanceInfo(instance: Instance): InstanceInfo {
  const tags: Record<string, string> = {};
  for (const tag of instance.Tags ?? []) if (tag.Key) tags[tag.Key] = tag.Value ?? '';
  const asg = tags[ASG_NAME_TAG];
  return {
    instanceId: instance.InstanceId ?? '',
    ...(instance.PrivateDnsName ? { privateDnsName: instance.PrivateDnsName } : {}),
    availabilityZone: instance.Placement?.AvailabilityZone ?? '',
    instanceType: instance.InstanceType ?? '',
    lifecycle: instance.InstanceLifecycle === 'spot' ? 'spot' : 'on-demand',
    state: instance.State?.Name ?? 'unknown',
    tags,
    ...(asg ? { autoScalingGroupName: asg } : {}),
  };
}
