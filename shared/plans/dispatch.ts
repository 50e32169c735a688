// One domain event → observe once → its plan → the one executor → the report.

import type { ActionDeps, HandleReport } from '../actions/types.ts';
import { onAlarm, type Rebalancer } from '../alarms/index.ts';
import { heartbeatTimeoutSeconds } from '../aws/autoscaling.ts';
import { capacityReads } from '../capacity/api.ts';
import type { DomainEvent } from '../events/types.ts';
import { metricNames, recordSpotInterruption } from '../observability.ts';
import { type Observed, observe } from '../observe.ts';
import { runRebalancer } from '../rebalancer/run.ts';
import type { NodePlan } from './common.ts';
import { executePlan, formatPlan } from './execute.ts';
import { onManual } from './manual.ts';
import { type NodeEvent, planFor } from './plan-for.ts';
import { handleReportOf } from './report.ts';
import { nodeRunners } from './runners/index.ts';

// infra/iam/derive.cjs cuts the case clauses of this file to the kinds of a function's route, so
// keep each one a single `return fn(…);`: what a function cannot receive, it cannot call.
export async function handleEvent(event: DomainEvent, d: ActionDeps): Promise<HandleReport> {
  switch (event.kind) {
    case 'manual':
      return onManual(event, d);
    case 'alarm':
      return onAlarm(event, d, rebalancerFor(d));
    case 'asg-activity':
    case 'ignored':
      return ignore(event, d);
    case 'spot-interruption':
    case 'rebalance-recommendation':
    case 'lifecycle-terminate':
    case 'lifecycle-launch':
    case 'state-change':
    case 'scheduled-change':
      return handleNodeEvent(event, d);
  }
}

/** The zone-skew alarm's action: one rebalancer run (its own cooldown and drain checks apply). */
function rebalancerFor(d: ActionDeps): Rebalancer {
  return {
    run: async ({ dryRun }) => {
      const r = await runRebalancer(
        { k8s: d.k8s, namespace: d.config.namespace, metrics: d.metrics, logger: d.logger },
        { trigger: 'alarm', dryRun },
      );
      return { summary: r.nothingBecause ?? `${r.evictions} evictions over ${r.workloads.length} workloads` };
    },
  };
}

async function ignore(
  event: Extract<DomainEvent, { kind: 'asg-activity' | 'alarm' | 'ignored' }>,
  d: ActionDeps,
): Promise<HandleReport> {
  d.metrics.addMetric(metricNames.eventsIgnored, 'Count', 1);
  const summary =
    event.kind === 'ignored' ? event.reason : `${event.kind}: no action configured for this kind yet`;
  return { kind: event.kind, dedupKey: event.dedupKey, outcome: 'ignored', summary, actions: [] };
}

/** What a planner reads beyond observe(): the lifecycle hook's heartbeat timeout. */
async function hookTimeoutOf(ev: NodeEvent, d: ActionDeps): Promise<number | undefined> {
  switch (ev.kind) {
    case 'lifecycle-terminate':
    case 'lifecycle-launch':
      return heartbeatTimeoutSeconds(d.aws.autoScaling, ev.autoScalingGroupName, ev.lifecycleHookName).catch(
        () => undefined,
      );
    default:
      return undefined;
  }
}

/** Observes and plans without running anything (what --dry-run prints). */
export async function planEvent(
  ev: NodeEvent,
  d: ActionDeps,
): Promise<{ observed: Observed; plan: NodePlan }> {
  const capacity = capacityReads(d.aws.autoScaling);
  const lifecycle = ev.kind === 'lifecycle-terminate' || ev.kind === 'lifecycle-launch' ? ev : undefined;
  const [observed, hookTimeoutSeconds] = await Promise.all([
    observe(
      {
        k8s: d.k8s,
        resolver: d.resolver,
        capacity,
        clusterName: d.config.clusterName,
        managedTag: d.config.managedTag,
        now: d.now,
      },
      ev.instanceId,
      {
        capacity: ev.kind === 'spot-interruption',
        ...(lifecycle ? { groupName: lifecycle.autoScalingGroupName } : {}),
      },
    ),
    hookTimeoutOf(ev, d),
  ]);
  if (hookTimeoutSeconds !== undefined) observed.hookTimeoutSeconds = hookTimeoutSeconds;
  return { observed, plan: planFor(ev, observed, d.config) };
}

async function handleNodeEvent(ev: NodeEvent, d: ActionDeps): Promise<HandleReport> {
  const { observed, plan } = await planEvent(ev, d);
  if (plan.steps.length === 0) {
    if (plan.outcome !== 'failed') d.metrics.addMetric(metricNames.eventsIgnored, 'Count', 1);
    d.logger.info('nothing to do', { instanceId: ev.instanceId, because: plan.nothingBecause });
  }
  if (ev.kind === 'spot-interruption' && observed.instance) {
    // The spot pool (type + AZ) as its own dimensions, so interruption-prone pools show up.
    const pool = d.metrics.singleMetric();
    pool.addDimension('InstanceType', observed.instance.instanceType);
    pool.addDimension('AvailabilityZone', observed.instance.availabilityZone);
    pool.addMetric(metricNames.interruptedSpotPool, 'Count', 1);
    // Per group and zone: the metric the interruption-storm alarm (→ spot fallback) watches.
    const group = observed.instance.autoScalingGroupName;
    if (group) recordSpotInterruption(d.metrics, group, observed.instance.availabilityZone);
  }
  if (d.dryRun) d.logger.info('dry run: the plan', { plan: formatPlan(plan) });
  const run = await executePlan(plan, nodeRunners, {
    dryRun: d.dryRun,
    now: d.now,
    deps: d,
    capacity: capacityReads(d.aws.autoScaling),
    observed,
  });
  const report = handleReportOf(ev, plan, run);
  const hook = run.steps.find((s) => s.kind === 'complete-hook');
  if (hook?.status === 'failed' && (hook.data as { retry?: boolean } | undefined)?.retry) {
    // Only a failed CompleteLifecycleAction is retried (SQS): the drain is a no-op the second time.
    throw new Error(`${report.summary}; ${hook.detail}`);
  }
  return report;
}
