// Spot interruption warning: close the node, move its pods before the deadline, and ask for the
// replacement at the same time (detach, or desired+1 given back when the plan ends), plus a
// same-zone scale-out when pods pinned to the zone by their volumes would have nowhere to go.
import { planReplacement, planZonalCapacity } from '../capacity/planner.ts';
import { groupTags, replacementModes } from '../config.ts';
import type { SpotInterruptionEvent } from '../events/types.ts';
import type { Observed } from '../observe.ts';
import { cordonStep, drainStep, gate, type NodePlan, owedIncrement, type PlanConfig } from './common.ts';
import type { NodeStep } from './node-steps.ts';

const TRIGGER = 'spot-interruption';

export function planSpotInterruption(ev: SpotInterruptionEvent, o: Observed, c: PlanConfig): NodePlan {
  const stop = gate(o, TRIGGER, { needNode: true, mutatesAws: false });
  if (stop) return stop;
  const node = o.nodeName!;
  const comingBack = ev.instanceAction !== 'terminate';
  const steps: NodeStep[] = [
    cordonStep(o, TRIGGER, comingBack, 'keep new pods off a node that is going away'),
    drainStep(o, c, TRIGGER, {
      deadline: ev.deadline,
      comingBack,
      why: `move pods before ${ev.instanceAction} at ${ev.deadline} (minus the safety margin)`,
    }),
  ];
  const plan: NodePlan = { target: `node/${node}`, trigger: TRIGGER, steps, deadline: ev.deadline };
  if (comingBack) return plan; // the instance stops or hibernates: it comes back, no replacement
  if (o.ownership.verdict !== 'ours') {
    steps[1]!.why += '; capacity left alone: ownership unknown';
    return plan;
  }
  const tagged = o.group?.tags[groupTags.replacementMode];
  const mode = replacementModes.find((m) => m === tagged) ?? c.replacementMode;
  const owed = owedIncrement(o);
  const replacement = planReplacement({
    instanceId: ev.instanceId,
    group: o.group,
    mode,
    alreadyRequested: owed !== undefined,
  });
  plan.replacement = replacement;
  if (replacement.action === 'detach') {
    steps.push({
      kind: 'detach',
      id: 'replace',
      group: replacement.group,
      instanceId: ev.instanceId,
      node,
      why: `${replacement.reason}: the group launches the replacement now, not after the instance is gone`,
    });
  } else if (replacement.action === 'increment' || owed) {
    const group = replacement.action === 'increment' ? replacement.group : owed!;
    const giveBack = {
      kind: 'give-back' as const,
      id: 'give-back',
      group,
      instanceId: ev.instanceId,
      node,
      why: 'the desired+1 made for this instance is given back: its instance leaves through the group',
    };
    if (replacement.action === 'increment') {
      steps.push({
        kind: 'increment',
        id: 'replace',
        group,
        instanceId: ev.instanceId,
        node,
        newDesired: replacement.newDesired,
        why: replacement.reason,
        undo: giveBack,
      });
    } else {
      // A crash left the increment recorded on the node: finish it when this drain ends.
      steps.push({ ...giveBack, after: ['drain'], why: `${giveBack.why} (recorded by an earlier run)` });
    }
  }
  const zonal = o.zonal;
  if (zonal && zonal.pods.length > 0) {
    const decisions = planZonalCapacity({
      needs: [{ zone: zonal.zone, pods: zonal.pods }],
      nodesWithRoom: new Map([[zonal.zone, zonal.fitting]]),
      groups: zonal.groups,
      replacement,
    });
    for (const [i, z] of decisions.entries()) {
      if (z.action !== 'scale-out') continue;
      steps.push({
        kind: 'scale-out',
        id: `scale-out-${i}`,
        group: z.group,
        zone: z.zone,
        newDesired: z.newDesired,
        node,
        why: z.reason,
      });
    }
    plan.zonal = decisions;
    plan.notes = decisions.filter((z) => z.action !== 'scale-out').map((z) => z.reason);
  }
  return plan;
}
