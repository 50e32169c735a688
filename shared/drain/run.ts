// Carries out a DrainPlan: evictions in plan order with bounded concurrency, pods under one budget
// as many at a time as it allows (retried the moment it allows more), independent budgets in parallel;
// then waits for each pod to leave the node (one watch) and for stateful pods' volumes to detach.
import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import type { KubeClients } from '../k8s/client.ts';
import { classifyEvictionError, type EvictionVersion, evictPod } from '../k8s/eviction.ts';
import { deletePod } from '../k8s/pods.ts';
import type { EventSink } from './events.ts';
import { type ResolvedDrainOptions, waitUntil } from './options.ts';
import { cappedGrace, podKey } from './planner.ts';
import { jittered, type RequestMeter, sleep } from './requests.ts';
import {
  BudgetSlots,
  BudgetWatch,
  GoneTracker,
  type TrackedPod,
  untilAborted,
  VolumeDetachTracker,
} from './trackers.ts';
import type {
  DrainOptions,
  DrainPlan,
  DrainProgress,
  EvictionGate,
  PlannedEviction,
  PodOutcome,
} from './types.ts';

const BUDGET_BACKOFF_START_MS = 100;
const BUDGET_BACKOFF_MAX_MS = 2_000;

interface PodRun {
  eviction: PlannedEviction;
  /** Already terminating when the drain started: waited for, not evicted. */
  waitOnly: boolean;
  evictedAt?: number;
  goneAt?: number;
  detachedAt?: number;
  blockedBy?: string;
  error?: string;
  /** Gone (and volumes detached when awaited), or given up on. */
  settled: boolean;
  gone: TrackedPod;
}

export interface RunContext {
  k8s: KubeClients;
  meter: RequestMeter;
  events: EventSink;
  options: ResolvedDrainOptions;
  evictionVersion: EvictionVersion;
  pdbs: V1PodDisruptionBudget[];
  pdbResourceVersion: string;
  podResourceVersion: string;
  /** Aborts at waitUntil or when the caller's signal fires. */
  stop: AbortSignal;
  startedAt: number;
  onProgress?: (p: DrainProgress) => void;
  /** traffic-aware drain (issue 14) */
  evictionGate?: EvictionGate;
  logger?: DrainOptions['logger'];
}

export interface RunResult {
  pods: PodOutcome[];
  volumesReleased: string[];
  complete: boolean;
  evicted: number;
  blocked: Record<string, string>;
  failed: number;
}

export async function carryOutDrainPlan(plan: DrainPlan, ctx: RunContext): Promise<RunResult> {
  const goneTracker = new GoneTracker(ctx.k8s, plan.node, ctx.meter);
  const budgets = new BudgetWatch(ctx.k8s, ctx.meter, ctx.evictionVersion, ctx.pdbs, ctx.pdbResourceVersion);
  const volumes = new VolumeDetachTracker(ctx.k8s, plan.node, ctx.meter, ctx.stop);
  const terminating = plan.skipped.filter((s) => s.reason === 'terminating');
  const runs: PodRun[] = [
    ...plan.evictions.map((eviction) => newRun(eviction, false, goneTracker)),
    ...terminating.map((s) =>
      newRun(
        {
          ...s,
          uid: s.uid ?? '',
          gracePeriodSeconds: 0,
          priority: 0,
          stateful: false,
          persistentVolumes: [],
          expectedBlocked: false,
        },
        true,
        goneTracker,
      ),
    ),
  ];
  goneTracker.start(ctx.podResourceVersion, (err) =>
    ctx.logger?.debug('pod watch interrupted', { error: String(err) }),
  );
  const report = () => ctx.onProgress?.(progressOf(runs, ctx.startedAt));
  try {
    const slots = new BudgetSlots(budgets);
    const finished: Promise<void>[] = [];
    for (const run of runs) {
      if (run.waitOnly) {
        finished.push(awaitRemoval(run, ctx, volumes, report));
        continue;
      }
      const budget = run.eviction.budget;
      // issue 14: the load balancer's gate first (targets drained), then the budget's slot.
      const evicted = holdForGate(run, ctx).then(() =>
        budget
          ? slots.acquire(budget, ctx.stop).then(async (release) => {
              try {
                return ctx.stop.aborted
                  ? false
                  : await requestEviction(run, ctx, budgets, goneTracker, report);
              } finally {
                release();
              }
            })
          : requestEviction(run, ctx, budgets, goneTracker, report),
      );
      finished.push(evicted.then((ok) => (ok ? awaitRemoval(run, ctx, volumes, report) : undefined)));
    }
    report();
    await untilAborted(Promise.all(finished), ctx.stop);
  } finally {
    goneTracker.stop();
    budgets.stop();
  }
  return summarize(plan, runs, ctx.options.waitForVolumeDetach);
}

/** Traffic-aware drain (issue 14): waits for DrainOptions.evictionGate, never past the stop signal. */
async function holdForGate(run: PodRun, ctx: RunContext): Promise<void> {
  const gate = ctx.evictionGate;
  if (gate) await untilAborted(gate.beforeEviction(run.eviction, ctx.stop), ctx.stop);
}

function newRun(eviction: PlannedEviction, waitOnly: boolean, tracker: GoneTracker): PodRun {
  return { eviction, waitOnly, settled: false, gone: tracker.track(eviction) };
}

/** Sends the eviction (or delete) until the API server accepts it; false when the pod is given up on. */
async function requestEviction(
  run: PodRun,
  ctx: RunContext,
  budgets: BudgetWatch,
  goneTracker: GoneTracker,
  report: () => void,
): Promise<boolean> {
  const pod = run.eviction;
  let backoffMs = BUDGET_BACKOFF_START_MS;
  while (!ctx.stop.aborted) {
    const gracePeriodSeconds = graceNow(pod, ctx.options);
    const sentAt = Date.now();
    try {
      await ctx.meter.call(
        () =>
          ctx.options.evictionMode === 'delete'
            ? deletePod(ctx.k8s, pod, gracePeriodSeconds)
            : evictPod(ctx.k8s, { ...pod, gracePeriodSeconds }, ctx.evictionVersion),
        { signal: ctx.stop },
      );
      run.evictedAt = Date.now();
      run.blockedBy = undefined;
      if (pod.budget) budgets.consumed(pod.budget);
      ctx.evictionGate?.evicted(pod, new Date(run.evictedAt));
      ctx.events.pod(
        pod,
        'Evicting',
        `spotguard evicting (grace ${gracePeriodSeconds}s): ${ctx.options.reason}`,
        'Normal',
      );
      report();
      return true;
    } catch (err) {
      const failure = classifyEvictionError(err);
      if (failure.kind === 'gone') {
        run.evictedAt = Date.now();
        goneTracker.markGone(podKey(pod));
        return true;
      }
      if (failure.kind === 'namespace-terminating' && ctx.options.evictionMode === 'evict') {
        // kubectl drain deletes such pods: the eviction API refuses them while the namespace goes away
        await ctx.meter.call(() => deletePod(ctx.k8s, pod, gracePeriodSeconds), { signal: ctx.stop });
        run.evictedAt = Date.now();
        report();
        return true;
      }
      if (failure.kind === 'fatal' || failure.kind === 'namespace-terminating') {
        run.error = failure.message;
        ctx.events.pod(pod, 'EvictionFailed', `spotguard could not evict: ${failure.message}`, 'Warning');
        ctx.logger?.warn('eviction failed', { pod: podKey(pod), error: failure.message });
        report();
        return false;
      }
      if (failure.kind === 'retry') {
        await sleep(failure.retryAfterMs ?? jittered(backoffMs), ctx.stop);
      } else {
        const budget =
          pod.budget ?? (failure.budget ? `${pod.namespace}/${failure.budget}` : `${pod.namespace}/?`);
        if (!run.blockedBy) {
          ctx.events.pod(
            pod,
            'EvictionBlocked',
            `PodDisruptionBudget ${budget} does not allow eviction now; retrying`,
            'Warning',
          );
        }
        run.blockedBy = budget;
        report();
        budgets.refused(budget, sentAt);
        await budgets.waitForAllowance(budget, jittered(backoffMs), ctx.stop);
      }
      backoffMs = Math.min(BUDGET_BACKOFF_MAX_MS, backoffMs * 2);
    }
  }
  return false;
}

async function awaitRemoval(run: PodRun, ctx: RunContext, volumes: VolumeDetachTracker, report: () => void) {
  await untilAborted(run.gone.gone.promise, ctx.stop);
  if (!run.gone.gone.done) return;
  run.goneAt = run.gone.goneAt;
  if (!run.waitOnly) {
    ctx.events.pod(run.eviction, 'Evicted', `spotguard: pod left node for ${ctx.options.reason}`, 'Normal');
  }
  if (run.eviction.stateful && ctx.options.waitForVolumeDetach) {
    run.detachedAt = await volumes.waitDetached(run.eviction.persistentVolumes);
    if (run.detachedAt === undefined) return;
  }
  run.settled = true;
  report();
}

/** The planned grace, capped again by the time left now (an eviction may have waited on a budget). */
function graceNow(pod: PlannedEviction, options: ResolvedDrainOptions): number {
  if (!options.deadline) return pod.gracePeriodSeconds;
  return cappedGrace(pod.gracePeriodSeconds, options, waitUntil(options, new Date()), new Date());
}

function progressOf(runs: PodRun[], startedAt: number): DrainProgress {
  const blockers = new Map<string, number>();
  for (const run of runs) {
    if (run.blockedBy) blockers.set(run.blockedBy, (blockers.get(run.blockedBy) ?? 0) + 1);
  }
  const left = runs.filter((r) => !r.settled).length;
  return {
    phase: left === 0 ? 'done' : runs.some((r) => r.evictedAt) ? 'waiting' : 'evicting',
    podsLeft: left,
    podsTotal: runs.length,
    blockers: [...blockers].map(([budget, waiting]) => ({ budget, waiting })),
    elapsedMs: Date.now() - startedAt,
  };
}

function summarize(plan: DrainPlan, runs: PodRun[], waitForVolumeDetach: boolean): RunResult {
  const pods: PodOutcome[] = [];
  const blocked: Record<string, string> = {};
  const volumesReleased: string[] = [];
  let evicted = 0;
  let failed = 0;
  for (const run of runs) {
    const id = { namespace: run.eviction.namespace, name: run.eviction.name };
    if (run.waitOnly) {
      pods.push(
        run.goneAt
          ? { ...id, outcome: 'skipped', reason: 'terminating: already being deleted (gone now)' }
          : { ...id, outcome: 'still-terminating' },
      );
    } else if (run.goneAt !== undefined && run.evictedAt !== undefined) {
      evicted++;
      pods.push({
        ...id,
        outcome: 'evicted',
        goneAfterMs: Math.max(0, run.goneAt - run.evictedAt),
        ...(run.detachedAt !== undefined
          ? { volumesReleasedAfterMs: Math.max(0, run.detachedAt - run.goneAt) }
          : {}),
      });
      if (run.detachedAt !== undefined) volumesReleased.push(...run.eviction.persistentVolumes);
    } else if (run.evictedAt !== undefined) {
      pods.push({ ...id, outcome: 'still-terminating' });
    } else if (run.blockedBy || (run.eviction.budget && !run.error)) {
      // never sent: it queued behind another pod of the same budget that the budget held back
      const budget = run.blockedBy ?? run.eviction.budget!;
      blocked[podKey(id)] = budget;
      pods.push({ ...id, outcome: 'blocked-by-pdb', pdb: budget });
    } else {
      failed++;
      pods.push({
        ...id,
        outcome: 'failed',
        error: run.error ?? 'not evicted before the drain stopped (deadline, timeout or abort)',
      });
    }
  }
  for (const skip of plan.skipped) {
    if (skip.reason !== 'terminating')
      pods.push({
        namespace: skip.namespace,
        name: skip.name,
        outcome: 'skipped',
        reason: `${skip.reason}: ${skip.detail}`,
      });
  }
  // kubectl drain fails on pods it may not evict (unmanaged, emptyDir): so is this drain not complete
  const complete =
    !leavesPodsBehind(plan) &&
    runs.every(
      (r) =>
        r.goneAt !== undefined &&
        (!waitForVolumeDetach || !r.eviction.stateful || r.detachedAt !== undefined),
    );
  return { pods, volumesReleased, complete, evicted, blocked, failed };
}

/** Pods skipped that kubectl would refuse to leave behind (no --force / --delete-emptydir-data). */
export function leavesPodsBehind(plan: DrainPlan): boolean {
  return plan.skipped.some((s) => s.reason === 'unmanaged' || s.reason === 'local-storage');
}
