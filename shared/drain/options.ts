// Defaults and the names spotguard writes onto Kubernetes objects.
import type { DrainOptions, TaintEffect } from './types.ts';

export const DEFAULT_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_SAFETY_MARGIN_MS = 10_000;
export const DEFAULT_CONCURRENCY = 32;
export const DEFAULT_POD_GRACE_SECONDS = 30;

export const LABEL_PREFIX = 'spotguard.io/';
export const ANNOTATION_CORDONED_BY = 'spotguard.io/cordoned-by';
export const ANNOTATION_CORDON_REASON = 'spotguard.io/cordon-reason';
export const ANNOTATION_CORDONED_AT = 'spotguard.io/cordoned-at';
export const ANNOTATION_COMING_BACK = 'spotguard.io/coming-back';
export const ANNOTATION_PRE_CORDONED = 'spotguard.io/pre-cordoned';
export const LABEL_EXCLUDE_FROM_LB = 'node.kubernetes.io/exclude-from-external-load-balancers';
/** Pods with this label value are spotguard itself and are never evicted. */
export const SPOTGUARD_APP_LABEL = 'app.kubernetes.io/name';
export const SPOTGUARD_APP_NAME = 'spotguard';
export const SPOTGUARD_COMPONENT = 'spotguard';

export const taintKeyFor = (reason: string) => `${LABEL_PREFIX}${reason}`;

export const leaseNameFor = (node: string) => `spotguard-drain-${node}`;
export const leaseNamespace = () => process.env.SPOTGUARD_NAMESPACE || 'spotguard';

export interface ResolvedDrainOptions {
  reason: string;
  deadline?: Date;
  timeoutMs: number;
  safetyMarginMs: number;
  gracePeriodSeconds?: number;
  force: boolean;
  deleteEmptyDirData: boolean;
  evictionMode: 'evict' | 'delete';
  taintEffect: TaintEffect;
  excludeFromLoadBalancers: boolean;
  concurrency: number;
  podEvents: 'all' | 'problems';
  holder: string;
  /** Namespace of the per-node Lease. */
  namespace: string;
  comingBack: boolean;
  dryRun: boolean;
  waitForVolumeDetach: boolean;
}

export function resolveOptions(opts: DrainOptions): ResolvedDrainOptions {
  if (!opts.reason || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(opts.reason)) {
    throw new Error(
      `drain reason "${opts.reason}" is not usable as a taint key suffix (lowercase letters, digits, '-', '.')`,
    );
  }
  if (!opts.holder) throw new Error('drain holder is required (identity written into the per-node Lease)');
  return {
    reason: opts.reason,
    deadline: opts.deadline,
    timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    safetyMarginMs: opts.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS,
    gracePeriodSeconds: opts.gracePeriodSeconds,
    force: opts.force ?? false,
    deleteEmptyDirData: opts.deleteEmptyDirData ?? true,
    evictionMode: opts.evictionMode ?? 'evict',
    taintEffect: opts.taintEffect ?? 'NoSchedule',
    excludeFromLoadBalancers: opts.excludeFromLoadBalancers ?? false,
    concurrency: Math.max(1, opts.concurrency ?? DEFAULT_CONCURRENCY),
    podEvents: opts.podEvents ?? 'problems',
    holder: opts.holder,
    namespace: opts.namespace ?? leaseNamespace(),
    comingBack: opts.comingBack ?? false,
    dryRun: opts.dryRun ?? false,
    waitForVolumeDetach: opts.waitForVolumeDetach ?? true,
  };
}

/** The moment all terminations must be finished: deadline − margin, or start + timeout. */
export function waitUntil(
  opts: Pick<ResolvedDrainOptions, 'deadline' | 'safetyMarginMs' | 'timeoutMs'>,
  now: Date,
) {
  if (opts.deadline) return new Date(opts.deadline.getTime() - opts.safetyMarginMs);
  return new Date(now.getTime() + opts.timeoutMs);
}
