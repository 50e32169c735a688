// The Auto Scaling reads capacity decisions need (observe, the runners' group polls). The capacity
// mutations are called only by their runners (shared/plans/runners/capacity.ts), never through an
// object handed to every function: that keeps them out of the IAM role of functions whose planners
// cannot ask for capacity (infra/iam/derive.cjs reads what each bundle can still reach).
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { describeGroup, describeManagedGroups, type GroupInfo } from '../aws/autoscaling.ts';

export interface CapacityReads {
  group(name: string): Promise<GroupInfo | undefined>;
  /** Groups carrying the managed tag (ownership is checked again by the caller). */
  managedGroups(tag: { key: string; value: string }): Promise<GroupInfo[]>;
}

export function capacityReads(asg: AutoScalingClient): CapacityReads {
  return {
    group: (name) => describeGroup(asg, name),
    managedGroups: (tag) => describeManagedGroups(asg, tag),
  };
}
