// What the alarm planner reads, once: the account's Auto Scaling groups (with owner, kind and
// capacity type) and the spot instances EC2 took back recently, per group and zone.
import {
  type AutoScalingClient,
  type AutoScalingGroup,
  DescribeAutoScalingGroupsCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { ASG_NAME_TAG } from '../aws/instances.ts';
import { CLUSTER_TAG_PREFIX, EKS_CLUSTER_TAG } from '../resolve/node-resolver.ts';

export interface ObservedGroup {
  name: string;
  /** The cluster the group's tags name (undefined: untagged, never ours). */
  cluster?: string;
  /** EKS managed node group (tag eks:nodegroup-name): one capacity type, its mixed policy is EKS's. */
  managed: boolean;
  capacity: 'SPOT' | 'ON_DEMAND' | 'MIXED';
  /** The InstancesDistribution, when the group has a MixedInstancesPolicy. */
  mixed?: { base: number; pct: number };
  zones: string[];
  min: number;
  max: number;
  desired: number;
  tags: Record<string, string>;
  instances: { instanceId: string; zone: string; lifecycleState: string }[];
}

function toObserved(g: AutoScalingGroup): ObservedGroup {
  const tags = Object.fromEntries((g.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  const dist = g.MixedInstancesPolicy?.InstancesDistribution;
  const mixed = dist
    ? { base: dist.OnDemandBaseCapacity ?? 0, pct: dist.OnDemandPercentageAboveBaseCapacity ?? 100 }
    : undefined;
  const cluster =
    tags[EKS_CLUSTER_TAG] ??
    Object.keys(tags)
      .find((k) => k.startsWith(CLUSTER_TAG_PREFIX))
      ?.slice(CLUSTER_TAG_PREFIX.length);
  const capacity =
    !mixed || mixed.pct === 100 ? 'ON_DEMAND' : mixed.pct === 0 && mixed.base === 0 ? 'SPOT' : 'MIXED';
  return {
    name: g.AutoScalingGroupName ?? '',
    ...(cluster ? { cluster } : {}),
    managed: 'eks:nodegroup-name' in tags,
    capacity,
    ...(mixed ? { mixed } : {}),
    zones: g.AvailabilityZones ?? [],
    min: g.MinSize ?? 0,
    max: g.MaxSize ?? 0,
    desired: g.DesiredCapacity ?? 0,
    tags,
    instances: (g.Instances ?? []).map((i) => ({
      instanceId: i.InstanceId ?? '',
      zone: i.AvailabilityZone ?? '',
      lifecycleState: i.LifecycleState ?? '',
    })),
  };
}

export async function describeAllGroups(asg: AutoScalingClient): Promise<ObservedGroup[]> {
  const out: ObservedGroup[] = [];
  let token: string | undefined;
  do {
    const page = await asg.send(new DescribeAutoScalingGroupsCommand({ NextToken: token, MaxRecords: 100 }));
    out.push(...(page.AutoScalingGroups ?? []).map(toObserved));
    token = page.NextToken;
  } while (token);
  return out;
}

export async function describeClusterGroups(
  asg: AutoScalingClient,
  cluster: string,
): Promise<ObservedGroup[]> {
  return (await describeAllGroups(asg)).filter((g) => g.cluster === cluster);
}

export interface LostSpot {
  instanceId: string;
  zone: string;
  /** aws:autoscaling:groupName; absent once spotguard detached the instance for its replacement. */
  group?: string;
  /** The cluster the instance's own tags name. */
  cluster?: string;
}

/**
 * Spot instances EC2 interrupted that are still listed (EC2 lists terminated instances for about
 * an hour). Only StateReason Server.SpotInstanceTermination counts.
 */
export async function recentSpotInterruptions(ec2: EC2Client): Promise<LostSpot[]> {
  const lost: LostSpot[] = [];
  let token: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'instance-lifecycle', Values: ['spot'] },
          { Name: 'instance-state-name', Values: ['shutting-down', 'terminated'] },
        ],
        NextToken: token,
      }),
    );
    for (const r of page.Reservations ?? []) {
      for (const i of r.Instances ?? []) {
        if (i.StateReason?.Code !== 'Server.SpotInstanceTermination') continue;
        const tags = Object.fromEntries((i.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
        const group = tags[ASG_NAME_TAG];
        const cluster =
          tags[EKS_CLUSTER_TAG] ??
          Object.keys(tags)
            .find((k) => k.startsWith(CLUSTER_TAG_PREFIX))
            ?.slice(CLUSTER_TAG_PREFIX.length);
        lost.push({
          instanceId: i.InstanceId ?? '',
          zone: i.Placement?.AvailabilityZone ?? '',
          ...(group ? { group } : {}),
          ...(cluster ? { cluster } : {}),
        });
      }
    }
    token = page.NextToken;
  } while (token);
  return lost;
}
