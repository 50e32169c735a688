// The narrow interface capacity decisions and runners need: a few Auto Scaling calls, nothing else.
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import {
  describeGroup,
  describeManagedGroups,
  detachForReplacement,
  type GroupInfo,
  setDesiredCapacity,
  terminateInGroup,
} from '../aws/autoscaling.ts';

export interface CapacityApi {
  group(name: string): Promise<GroupInfo | undefined>;
  /** Groups carrying the managed tag (ownership is checked again by the caller). */
  managedGroups(tag: { key: string; value: string }): Promise<GroupInfo[]>;
  detach(group: string, instanceId: string): Promise<void>;
  setDesired(group: string, desired: number): Promise<void>;
  terminate(instanceId: string, decrementDesired: boolean): Promise<void>;
}

export function capacityApi(asg: AutoScalingClient): CapacityApi {
  return {
    group: (name) => describeGroup(asg, name),
    managedGroups: (tag) => describeManagedGroups(asg, tag),
    detach: (group, id) => detachForReplacement(asg, group, id),
    setDesired: (group, desired) => setDesiredCapacity(asg, group, desired),
    terminate: (id, dec) => terminateInGroup(asg, id, dec),
  };
}
