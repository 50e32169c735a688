// A node plan's PlanReport → the HandleReport the functions return and log.
import type { HandleReport, LifecycleOutcome, Outcome } from '../actions/types.ts';
import type { DrainReport, UncordonResult } from '../drain/types.ts';
import type { NodePlan } from './common.ts';
import type { NodeEvent } from './plan-for.ts';
import { drainSummary } from './runners/node.ts';
import type { PlanReport, StepRecord } from './steps.ts';

const dataOf = <T>(r: StepRecord | undefined) => r?.data as T | undefined;

export function handleReportOf(ev: NodeEvent, plan: NodePlan, run: PlanReport): HandleReport {
  const byKind = (kind: string) => run.steps.find((s) => s.kind === kind);
  const drain = dataOf<{ drain: DrainReport }>(byKind('drain'))?.drain;
  const uncordon = dataOf<{ uncordon: UncordonResult }>(byKind('uncordon'))?.uncordon;
  const readyNode = dataOf<{ nodeName?: string }>(byKind('await-node-ready'))?.nodeName;
  const nodeName = plan.target.startsWith('node/') ? plan.target.slice('node/'.length) : readyNode;
  const actions = [
    ...(plan.notes ?? []),
    ...[...run.steps, ...run.undone].map((s) =>
      run.dryRun
        ? `would ${s.kind}: ${s.why}`
        : s.status === 'cancelled'
          ? `${s.kind} not run: ${s.detail}`
          : s.detail,
    ),
  ];
  const requeued = run.steps.some((s) => s.kind === 'requeue' && s.status === 'done');
  const lifecycle = lifecycleOf(run);
  // A step that threw (not a drain that ran out of time) makes the event failed.
  const crashed = run.steps.find((s) => s.status === 'failed' && s.data === undefined);
  const outcome: Outcome =
    plan.steps.length === 0
      ? (plan.outcome ?? 'ignored')
      : plan.outcome && !crashed
        ? plan.outcome
        : requeued
          ? 'continued'
          : crashed
            ? 'failed'
            : 'handled';
  const summary =
    plan.steps.length === 0
      ? (plan.nothingBecause ?? 'nothing to do')
      : `${nodeName ?? ev.instanceId}: ${drain ? drainSummary(drain) : (actions[actions.length - 1] ?? '')}`;
  return {
    kind: ev.kind,
    dedupKey: ev.dedupKey,
    instanceId: ev.instanceId,
    ...(nodeName ? { nodeName } : {}),
    outcome,
    summary: requeued ? `${nodeName ?? ev.instanceId}: continues in the next invocation` : summary,
    actions,
    plan: run,
    ...(drain ? { drain } : {}),
    ...(uncordon ? { uncordon } : {}),
    ...(plan.replacement ? { replacement: plan.replacement } : {}),
    ...(plan.zonal ? { zonal: plan.zonal } : {}),
    ...(lifecycle ? { lifecycle } : {}),
    ...(crashed ? { error: crashed.detail } : plan.error ? { error: plan.error } : {}),
  };
}

function lifecycleOf(run: PlanReport): LifecycleOutcome | undefined {
  const hook = run.steps.find((s) => s.kind === 'complete-hook');
  if (!hook) return undefined;
  const data = dataOf<{ result?: 'CONTINUE' | 'ABANDON'; completed?: boolean }>(hook);
  const beats = dataOf<{ count: number }>(run.steps.find((s) => s.kind === 'heartbeat'))?.count ?? 0;
  return {
    result: data?.result ?? 'CONTINUE',
    completed: data?.completed ?? false,
    why: hook.why,
    heartbeats: beats,
    ...(hook.status === 'failed' ? { error: hook.detail } : {}),
  };
}
