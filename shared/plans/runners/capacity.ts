// Runners for the steps that change Auto Scaling capacity. Every desired+1 is recorded on the node
// (REPLACEMENT_ANNOTATION) until its give-back ran, so a crash in between is finished by the next run.
import { detachForReplacement, setDesiredCapacity, terminateInGroup } from '../../aws/autoscaling.ts';
import { REPLACEMENT_ANNOTATION } from '../../capacity/planner.ts';
import { annotateNode } from '../../k8s/annotate.ts';
import { isNotFound } from '../../k8s/api-error.ts';
import { metricNames } from '../../observability.ts';
import type { StepRunner } from '../execute.ts';
import type {
  AwaitReplacementStep,
  DetachStep,
  GiveBackStep,
  IncrementStep,
  ScaleOutStep,
} from '../node-steps.ts';
import type { NodeContext } from './context.ts';

const REPLACEMENT_POLL_MS = 2000;

export const runDetach: StepRunner<DetachStep, NodeContext> = async (step, ctx) => {
  await detachForReplacement(ctx.deps.aws.autoScaling, step.group, step.instanceId);
  ctx.deps.metrics.addMetric(metricNames.replacementsLaunched, 'Count', 1);
  return { status: 'done', detail: `replacement: detach from ${step.group}` };
};

export const runIncrement: StepRunner<IncrementStep, NodeContext> = async (step, ctx) => {
  // Recorded first: a crash after the SetDesiredCapacity still leaves the mark for the give-back.
  await annotateNode(ctx.deps.k8s, step.node, { [REPLACEMENT_ANNOTATION]: `increment:${step.group}` });
  await setDesiredCapacity(ctx.deps.aws.autoScaling, step.group, step.newDesired);
  ctx.deps.metrics.addMetric(metricNames.replacementsLaunched, 'Count', 1);
  return { status: 'done', detail: `replacement: increment in ${step.group} → desired ${step.newDesired}` };
};

export const runGiveBack: StepRunner<GiveBackStep, NodeContext> = async (step, ctx, done) => {
  const group = await ctx.capacity.group(step.group);
  if (!group) return { status: 'skipped', detail: `group ${step.group} is gone: nothing to give back` };
  const member = step.instanceId
    ? group.instances.find((i) => i.instanceId === step.instanceId && i.lifecycleState === 'InService')
    : undefined;
  const drained = !step.terminateIfDrained || done.get(step.terminateIfDrained)?.status === 'done';
  let detail: string;
  if (member && drained) {
    await terminateInGroup(ctx.deps.aws.autoScaling, member.instanceId, true);
    detail = `terminated ${member.instanceId} with ShouldDecrementDesiredCapacity=true (desired back down)`;
  } else {
    const desired = Math.max(group.minSize, group.desiredCapacity - 1);
    await setDesiredCapacity(ctx.deps.aws.autoScaling, group.name, desired);
    detail = `desired capacity of ${group.name} back to ${desired}${member ? ' (drain incomplete: the old instance stays)' : ''}`;
  }
  if (step.node) {
    await annotateNode(ctx.deps.k8s, step.node, { [REPLACEMENT_ANNOTATION]: null }).catch((err: unknown) => {
      if (!isNotFound(err)) throw err; // the node left with its instance: nothing to clear
    });
  }
  return { status: 'done', detail };
};

export const runScaleOut: StepRunner<ScaleOutStep, NodeContext> = async (step, ctx) => {
  await setDesiredCapacity(ctx.deps.aws.autoScaling, step.group, step.newDesired);
  ctx.deps.metrics.addMetric(metricNames.zonalScaleOuts, 'Count', 1);
  return { status: 'done', detail: `zonal scale-out: ${step.group} → ${step.newDesired} (${step.why})` };
};

/** Waits for a new InService instance of the group whose node is Ready. */
export const runAwaitReplacement: StepRunner<AwaitReplacementStep, NodeContext> = async (step, ctx) => {
  const d = ctx.deps;
  const before = new Set(step.known);
  while (d.timeLeftMs() > REPLACEMENT_POLL_MS + 30_000) {
    await new Promise((r) => setTimeout(r, REPLACEMENT_POLL_MS));
    const now = await ctx.capacity.group(step.group);
    const fresh = (now?.instances ?? []).filter(
      (i) => !before.has(i.instanceId) && i.lifecycleState === 'InService',
    );
    for (const instance of fresh) {
      const found = await d.resolver.resolve(instance.instanceId, { refresh: true });
      const ready =
        found.status === 'found' &&
        found.nodeName !== step.node &&
        (found.node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
      if (ready && found.status === 'found') {
        return {
          status: 'done',
          detail: `replacement ${instance.instanceId} (${found.nodeName}) Ready in ${step.group}`,
        };
      }
    }
  }
  return {
    status: 'failed',
    detail: `replacement in ${step.group} not Ready within this invocation; the node stays cordoned`,
  };
};
