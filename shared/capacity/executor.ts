// Applies the capacity plans: one replacement per interrupted instance, plus a scale-out of a
// single-zone group when pods pinned to the zone would have nowhere to go.

import type { ActionDeps } from '../actions/types.ts';
import {
  describeGroup,
  describeManagedGroups,
  detachForReplacement,
  setDesiredCapacity,
} from '../aws/autoscaling.ts';
import type { InstanceInfo } from '../aws/instances.ts';
import { groupTags, replacementModes } from '../config.ts';
import { annotateNode } from '../k8s/annotate.ts';
import { metricNames } from '../observability.ts';
import { planReplacement, planZonalCapacity, type ReplacementPlan, type ZonalScaleOut } from './planner.ts';
import { nodesWithRoomByZone, zonalPodsOnNode } from './zonal.ts';

/** Set on the node when desired capacity was raised for it (increment mode). */
export const REPLACEMENT_ANNOTATION = 'spotguard.io/replacement-requested';

export interface CapacityResult {
  replacement: ReplacementPlan;
  zonal: ZonalScaleOut[];
  actions: string[];
}

export async function replaceCapacity(
  instance: InstanceInfo,
  node: { name: string; zone?: string; annotations?: Record<string, string> },
  d: ActionDeps,
): Promise<CapacityResult> {
  const actions: string[] = [];
  const groupName = instance.autoScalingGroupName;
  const group = groupName ? await describeGroup(d.aws.autoScaling, groupName) : undefined;
  // A group tag overrides the configured mode; an unknown value falls back to it.
  const tagged = group?.tags[groupTags.replacementMode];
  const mode = replacementModes.find((m) => m === tagged) ?? d.config.replacementMode;
  const replacement = planReplacement({
    instanceId: instance.instanceId,
    group,
    mode,
    alreadyRequested: Boolean(node.annotations?.[REPLACEMENT_ANNOTATION]),
  });
  if (!d.dryRun && replacement.action === 'detach') {
    await detachForReplacement(d.aws.autoScaling, replacement.group, instance.instanceId);
  } else if (!d.dryRun && replacement.action === 'increment') {
    await setDesiredCapacity(d.aws.autoScaling, replacement.group, replacement.newDesired);
    // Recorded so a second event for the same instance does not add another one.
    await annotateNode(d.k8s, node.name, { [REPLACEMENT_ANNOTATION]: `increment:${replacement.group}` });
  }
  if (replacement.action !== 'none') {
    actions.push(`replacement: ${replacement.action} in ${replacement.group}`);
    d.metrics.addMetric(metricNames.replacementsLaunched, 'Count', 1);
  } else {
    actions.push(`no replacement: ${replacement.reason}`);
  }

  let zonal: ZonalScaleOut[] = [];
  const zone = node.zone ?? instance.availabilityZone;
  const pinned = zone ? await zonalPodsOnNode(d.k8s, node.name) : [];
  if (zone && pinned.length > 0) {
    const [room, groups] = await Promise.all([
      nodesWithRoomByZone(d.k8s, [zone], node.name),
      describeManagedGroups(d.aws.autoScaling, d.config.managedTag),
    ]);
    zonal = planZonalCapacity({ needs: [{ zone, pods: pinned }], nodesWithRoom: room, groups, replacement });
    for (const step of zonal) {
      if (step.action === 'scale-out') {
        if (!d.dryRun) await setDesiredCapacity(d.aws.autoScaling, step.group, step.newDesired);
        d.metrics.addMetric(metricNames.zonalScaleOuts, 'Count', 1);
        actions.push(`zonal scale-out: ${step.group} → ${step.newDesired} (${step.reason})`);
      } else if (step.action === 'unresolved') {
        d.logger.warn('zonal pods may stay Pending', { zone: step.zone, reason: step.reason });
        actions.push(`zonal capacity unresolved: ${step.reason}`);
      }
    }
  }
  return { replacement, zonal, actions };
}
