// Runners for the steps that touch the node: cordon, drain, uncordon, annotate.
import type { V1Node } from '@kubernetes/client-node';
import { loadBalancerDrain } from '../../actions/drain-options.ts';
import { EventSink } from '../../drain/events.ts';
import { cordonNode, drainNode, uncordonNode } from '../../drain/index.ts';
import { RequestMeter } from '../../drain/requests.ts';
import type { DrainReport } from '../../drain/types.ts';
import { annotateNode } from '../../k8s/annotate.ts';
import type { StepRunner } from '../execute.ts';
import type { AnnotateStep, CordonStep, DrainStep, UncordonStep } from '../node-steps.ts';
import type { NodeContext } from './context.ts';

export function drainSummary(drain: DrainReport): string {
  const evicted = drain.pods.filter((p) => p.outcome === 'evicted').length;
  const blocked = drain.pods.filter((p) => p.outcome === 'blocked-by-pdb').length;
  const state = drain.dryRun ? 'planned (dry run)' : drain.complete ? 'drained' : 'drain incomplete';
  const joined = drain.joinedExistingDrain ? ', joined the drain already running' : '';
  return `${state}: ${evicted} evicted, ${blocked} blocked by PDB, ${drain.plan.skipped.length} skipped${joined}`;
}

export const runCordon: StepRunner<CordonStep, NodeContext> = async (step, ctx) => {
  const { config, k8s, holder } = ctx.deps;
  const { nodeObject, ...cordon } = await cordonNode(k8s, step.node, {
    reason: step.reason,
    holder,
    taintEffect: config.taintEffect,
    excludeFromLoadBalancers: config.excludeFromLoadBalancers,
    comingBack: step.comingBack,
    ...(ctx.observed.node ? { knownNode: ctx.observed.node } : {}),
  });
  if (cordon.changed) {
    const events = new EventSink(
      k8s,
      new RequestMeter(1),
      { holder, podEvents: config.podEvents },
      ctx.deps.logger,
    );
    events.node(
      step.node,
      'Cordon',
      `spotguard cordoned the node and set taint spotguard.io/${step.reason}:${config.taintEffect}`,
      'Normal',
      'Cordon',
    );
    await events.flush();
  }
  return {
    status: 'done',
    detail: cordon.changed
      ? `cordoned and tainted spotguard.io/${step.reason}`
      : `already cordoned${cordon.alreadyCordonedBy ? ` by ${cordon.alreadyCordonedBy}` : ''} for ${step.reason}`,
    data: { ...cordon, nodeObject },
  };
};

export const runDrain: StepRunner<DrainStep, NodeContext> = async (step, ctx, done) => {
  const d = ctx.deps;
  const left = d.timeLeftMs();
  const cordoned = (done.get('cordon')?.data as { nodeObject?: V1Node } | undefined)?.nodeObject;
  const drain = await drainNode(d.k8s, step.node, {
    reason: step.reason,
    holder: d.holder,
    namespace: d.config.namespace,
    timeoutMs: d.config.drainTimeoutMs,
    safetyMarginMs: d.config.safetyMarginMs,
    deleteEmptyDirData: d.config.deleteEmptyDirData,
    force: d.config.forceUnmanagedPods,
    evictionMode: step.mode,
    taintEffect: d.config.taintEffect,
    excludeFromLoadBalancers: d.config.excludeFromLoadBalancers,
    concurrency: d.config.evictionConcurrency,
    podEvents: d.config.podEvents,
    comingBack: step.comingBack,
    ...(step.deadline ? { deadline: new Date(step.deadline) } : {}),
    ...(cordoned ? { knownNode: cordoned } : {}),
    // Stop waiting before the Lambda is killed, so the report (and lifecycle completion) still happen.
    ...(Number.isFinite(left) ? { signal: AbortSignal.timeout(Math.max(0, left)) } : {}),
    logger: d.logger,
    metrics: d.metrics,
    // Traffic-aware drain (shared/traffic): targets deregistered, pods held until drained.
    ...loadBalancerDrain(d, {
      reason: step.reason,
      ...(step.deadline ? { deadline: new Date(step.deadline) } : {}),
    }),
  });
  const outOfTime = !drain.complete && d.timeLeftMs() < 1000;
  return {
    status: drain.complete ? 'done' : 'failed',
    detail: drainSummary(drain),
    data: { drain, outOfTime },
  };
};

export const runUncordon: StepRunner<UncordonStep, NodeContext> = async (step, ctx) => {
  const uncordon = await uncordonNode(ctx.deps.k8s, step.node, {
    onlyIfCordonedBy: 'spotguard',
    ...(step.reason ? { reason: step.reason } : {}),
  });
  return { status: uncordon.changed ? 'done' : 'skipped', detail: uncordon.detail, data: { uncordon } };
};

export const runAnnotate: StepRunner<AnnotateStep, NodeContext> = async (step, ctx) => {
  await annotateNode(ctx.deps.k8s, step.node, step.annotations);
  return { status: 'done', detail: `annotated ${Object.keys(step.annotations).join(', ')}` };
};
