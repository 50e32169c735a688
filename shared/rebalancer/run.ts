// One rebalancer run: read the cluster once, plan, evict (unless dry run), wait for the
// replacements, report per workload before → planned → after, and publish each workload's zone
// skew (EMF) so a CloudWatch alarm can trigger the next run. The entry every trigger calls.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { KubeClients } from '../k8s/client.ts';
import { executePlan } from '../plans/execute.ts';
import type { PlanReport, StepRecord } from '../plans/steps.ts';
import { loadRebalancerConfig } from './config.ts';
import { observeCluster } from './observe.ts';
import { planRebalance } from './planner.ts';
import { rebalancerRunners } from './runners.ts';
import { writeState } from './state.ts';
import type { RebalancerConfig, WorkloadOutcome } from './types.ts';

export const rebalancerMetrics = {
  zoneSkew: 'WorkloadZoneSkew',
  evictions: 'RebalancerEvictions',
  blocked: 'RebalancerMovesBlocked',
} as const;

export interface RebalancerDeps {
  k8s: KubeClients;
  /** spotguard's namespace (state ConfigMap, drain Leases). */
  namespace: string;
  metrics?: Metrics;
  logger?: Pick<Logger, 'info'>;
  now?: () => Date;
  /** Progress lines for people (CLI). */
  onProgress?: (line: string) => void;
}

export interface RebalancerOptions extends Partial<RebalancerConfig> {
  /** schedule | launch | alarm | manual | cli */
  trigger: string;
  dryRun?: boolean;
  /** Launch-triggered: the newest launch's time; a run started ≥ settleMs after it already covered it. */
  launchedAt?: string;
  settleMs?: number;
  waitMs?: number;
}

export interface WorkloadReport {
  workload: string;
  constraints: Array<{
    label: string;
    maxSkew: number;
    before: Record<string, number>;
    planned: Record<string, number>;
  }>;
  after?: Record<string, number>;
  skewBefore: number;
  planned: number;
  made: number;
  /** Replacements that came back in a zone a pod was moved out of. */
  landedBack: number;
  landed: string[];
  blocked: string[];
}

export interface RebalancerReport {
  trigger: string;
  dryRun: boolean;
  nothingBecause?: string;
  workloads: WorkloadReport[];
  evictions: number;
  plan?: PlanReport;
}

export async function runRebalancer(
  deps: RebalancerDeps,
  options: RebalancerOptions,
): Promise<RebalancerReport> {
  const now = deps.now ?? (() => new Date());
  const { waitMs: envWait, ...envConfig } = loadRebalancerConfig();
  const { trigger, dryRun = false, launchedAt, settleMs = 90_000, waitMs = envWait, ...overrides } = options;
  const config: RebalancerConfig = {
    ...envConfig,
    ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)),
  };
  const startedAt = now();
  const observed = await observeCluster(deps.k8s, deps.namespace, startedAt);
  if (
    launchedAt &&
    observed.lastRunStarted &&
    new Date(observed.lastRunStarted).getTime() >= new Date(launchedAt).getTime() + settleMs
  ) {
    return {
      trigger,
      dryRun,
      nothingBecause: `a run at ${observed.lastRunStarted} already saw this launch`,
      workloads: [],
      evictions: 0,
    };
  }
  if (!dryRun)
    await writeState(deps.k8s, deps.namespace, {
      runStarted: startedAt.toISOString(),
      at: startedAt,
      forgetBefore: new Date(startedAt.getTime() - config.cooldownMs),
    });
  const plan = planRebalance(trigger, observed, config);
  deps.onProgress?.(
    plan.nothingBecause
      ? `nothing to do: ${plan.nothingBecause}`
      : `${plan.workloads.reduce((n, w) => n + w.moves.length, 0)} move(s) planned over ${plan.steps.length - 1} workload(s)`,
  );
  const runners = rebalancerRunners({
    k8s: deps.k8s,
    namespace: deps.namespace,
    replicaSetOwners: observed.replicaSetOwners,
    cooldownMs: config.cooldownMs,
    waitMs,
    ...(deps.onProgress ? { onEvent: deps.onProgress } : {}),
  });
  const executed = await executePlan(plan, runners, {
    dryRun,
    now,
    onStep: (r: StepRecord) => {
      if (r.endedAt) deps.onProgress?.(`${r.id}: ${r.status} — ${r.detail}`);
    },
  });
  const outcomes = new Map(
    executed.steps
      .filter((s) => s.data)
      .map((s) => [(s.data as WorkloadOutcome).workload, s.data as WorkloadOutcome]),
  );
  const workloads: WorkloadReport[] = plan.workloads.map((w) => {
    const o = outcomes.get(w.workload);
    const from = new Set(w.moves.map((m) => m.fromZone));
    return {
      workload: w.workload,
      constraints: w.constraints.map(({ label, maxSkew, before, planned }) => ({
        label,
        maxSkew,
        before,
        planned,
      })),
      ...(o ? { after: o.after } : {}),
      skewBefore: w.skewBefore,
      planned: w.moves.length,
      made: o?.evicted.length ?? 0,
      landedBack: o?.landed.filter((z) => from.has(z)).length ?? 0,
      landed: o?.landed ?? [],
      blocked: [...w.blocked, ...(o?.blocked ?? [])],
    };
  });
  const report: RebalancerReport = {
    trigger,
    dryRun,
    ...(plan.nothingBecause ? { nothingBecause: plan.nothingBecause } : {}),
    workloads,
    evictions: workloads.reduce((n, w) => n + w.made, 0),
    plan: executed,
  };
  publishMetrics(deps.metrics, report);
  deps.logger?.info('rebalancer run', {
    trigger,
    dryRun,
    evictions: report.evictions,
    nothingBecause: report.nothingBecause,
  });
  return report;
}

function publishMetrics(metrics: Metrics | undefined, report: RebalancerReport): void {
  if (!metrics) return;
  for (const w of report.workloads) {
    // one EMF line per workload: the Workload dimension lets an alarm watch the worst one
    const single = metrics.singleMetric();
    single.addDimension('Workload', w.workload);
    single.addMetric(rebalancerMetrics.zoneSkew, MetricUnit.Count, w.skewBefore);
  }
  if (!report.dryRun) {
    metrics.addMetric(rebalancerMetrics.evictions, MetricUnit.Count, report.evictions);
    metrics.addMetric(
      rebalancerMetrics.blocked,
      MetricUnit.Count,
      report.workloads.reduce((n, w) => n + w.blocked.length, 0),
    );
  }
}
