// Pure decisions about replacement capacity. The runners (shared/plans/runners/capacity.ts) apply them.
import type { GroupInfo } from '../aws/autoscaling.ts';
import type { ReplacementMode } from '../config.ts';

/** Set on the node while a desired+1 made for it is not given back (a crash leaves it for the next run). */
export const REPLACEMENT_ANNOTATION = 'spotguard.io/replacement-requested';

export type ReplacementPlan =
  | { action: 'detach'; group: string; reason: string }
  | { action: 'increment'; group: string; newDesired: number; reason: string }
  | { action: 'none'; group?: string; reason: string };

const activeStates = new Set(['Pending', 'Pending:Wait', 'Pending:Proceed', 'InService']);

/**
 * How to get a replacement for an interrupted instance two minutes early. At most one replacement
 * per instance: once detached it is no longer in the group, and an increment is recorded on the node.
 */
export function planReplacement(input: {
  instanceId: string;
  group?: GroupInfo;
  mode: ReplacementMode;
  alreadyRequested: boolean;
}): ReplacementPlan {
  const { group, mode, instanceId } = input;
  if (mode === 'none') return { action: 'none', reason: 'replacement disabled (REPLACEMENT_MODE=none)' };
  if (!group)
    return { action: 'none', reason: 'instance is not in an Auto Scaling group (standalone or detached)' };
  if (input.alreadyRequested) {
    return {
      action: 'none',
      group: group.name,
      reason: 'a replacement was already requested for this instance',
    };
  }
  const member = group.instances.find((i) => i.instanceId === instanceId);
  if (!member) return { action: 'none', group: group.name, reason: 'instance already left the group' };
  if (member.lifecycleState !== 'InService') {
    // Detach only works InService; Terminating:* means the group is already replacing or shrinking.
    return { action: 'none', group: group.name, reason: `instance is ${member.lifecycleState} in the group` };
  }
  const othersActive = group.instances.filter(
    (i) => i.instanceId !== instanceId && activeStates.has(i.lifecycleState),
  ).length;
  if (group.capacityRebalance && othersActive >= group.desiredCapacity) {
    return {
      action: 'none',
      group: group.name,
      reason: 'Capacity Rebalancing already launched a replacement (active instances cover desired capacity)',
    };
  }
  if (mode === 'detach') {
    return {
      action: 'detach',
      group: group.name,
      reason: 'detach with ShouldDecrementDesiredCapacity=false',
    };
  }
  if (group.desiredCapacity >= group.maxSize) {
    return { action: 'none', group: group.name, reason: `group at max size (${group.maxSize})` };
  }
  return {
    action: 'increment',
    group: group.name,
    newDesired: group.desiredCapacity + 1,
    reason: 'raise desired capacity by one until the instance is gone',
  };
}

export interface ZonalNeed {
  zone: string;
  /** Pods that can only run in this zone (bound to zonal volumes). */
  pods: string[];
}

export type ZonalScaleOut =
  | { zone: string; action: 'none'; reason: string }
  | { zone: string; action: 'scale-out'; group: string; newDesired: number; reason: string }
  | { zone: string; action: 'unresolved'; reason: string };

/**
 * For pods pinned to a zone: is there room in that zone once this node is gone? If not, scale out a
 * group that launches only into that zone (per-AZ node groups, as EKS recommends for stateful
 * workloads). A replacement already going to such a group counts.
 */
export function planZonalCapacity(input: {
  needs: ZonalNeed[];
  /**
   * Per zone: how many of the pinned pods fit (by requests vs allocatable) on the zone's other Ready,
   * schedulable nodes — read before any eviction (shared/observe.ts).
   */
  nodesWithRoom: Map<string, number>;
  groups: GroupInfo[];
  replacement: ReplacementPlan;
}): ZonalScaleOut[] {
  const out: ZonalScaleOut[] = [];
  const desired = new Map(input.groups.map((g) => [g.name, g.desiredCapacity]));
  for (const need of input.needs) {
    if (need.pods.length === 0) continue;
    if ((input.nodesWithRoom.get(need.zone) ?? 0) >= need.pods.length) {
      out.push({
        zone: need.zone,
        action: 'none',
        reason: `Ready nodes in ${need.zone} have room for its pods`,
      });
      continue;
    }
    const singleZone = input.groups.filter(
      (g) => g.availabilityZones.length === 1 && g.availabilityZones[0] === need.zone,
    );
    const rep = input.replacement;
    if (rep.action !== 'none' && singleZone.some((g) => g.name === rep.group)) {
      out.push({
        zone: need.zone,
        action: 'none',
        reason: `the replacement from ${rep.group} launches into ${need.zone}`,
      });
      continue;
    }
    const group = singleZone.find((g) => (desired.get(g.name) ?? 0) < g.maxSize);
    if (!group) {
      out.push({
        zone: need.zone,
        action: 'unresolved',
        reason:
          singleZone.length === 0
            ? `no Auto Scaling group launches only into ${need.zone}: ${need.pods.length} zonal pod(s) may stay Pending`
            : `every group for ${need.zone} is at max size`,
      });
      continue;
    }
    const newDesired = (desired.get(group.name) ?? 0) + 1;
    desired.set(group.name, newDesired);
    out.push({
      zone: need.zone,
      action: 'scale-out',
      group: group.name,
      newDesired,
      reason: `no Ready node with room in ${need.zone} for ${need.pods.length} zonal pod(s)`,
    });
  }
  return out;
}
