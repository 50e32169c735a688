// Runtime configuration: environment variables → one validated object. Bad values fail fast with
// the variable's name in the message, before any event is touched.
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const rebalancePolicies = ['cordon', 'drain', 'replace-then-drain'] as const;
export type RebalancePolicy = (typeof rebalancePolicies)[number];
export const replacementModes = ['detach', 'increment', 'none'] as const;
export type ReplacementMode = (typeof replacementModes)[number];

const envSchema = z.object({
  CLUSTER_NAME: z.string().min(1).optional(),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  MANAGED_TAG_KEY: z.string().min(1).default('spotguard.io/managed'),
  /** Default: CLUSTER_NAME (one install's tag is not another's), else "true". */
  MANAGED_TAG_VALUE: z.string().min(1).optional(),
  /** Namespace of spotguard's Leases and idempotency records. */
  SPOTGUARD_NAMESPACE: z.string().min(1).default('spotguard'),
  REBALANCE_POLICY: z.enum(rebalancePolicies).default('cordon'),
  REPLACEMENT_MODE: z.enum(replacementModes).default('detach'),
  /** Drains without a spot deadline (lifecycle hooks, state changes, manual) give up after this. */
  DRAIN_TIMEOUT_SECONDS: z.coerce.number().int().positive().default(600),
  /** Pods must be gone this long before the instance is. */
  SAFETY_MARGIN_SECONDS: z.coerce.number().int().min(0).default(10),
  EVICTION_CONCURRENCY: z.coerce.number().int().positive().max(500).default(32),
  DELETE_EMPTYDIR_DATA: bool.default(true),
  FORCE_UNMANAGED_PODS: bool.default(false),
  TAINT_EFFECT: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).default('NoSchedule'),
  /** NoExecute makes the taint manager evict past PDBs and the grace cap: refused unless this is true. */
  ALLOW_NOEXECUTE_TAINT: bool.default(false),
  /** A rebalance `cordon` is marked to expire after this (0 = never). */
  REBALANCE_CORDON_EXPIRY_SECONDS: z.coerce.number().int().min(0).default(3600),
  EXCLUDE_FROM_LOAD_BALANCERS: bool.default(true),
  POD_EVENTS: z.enum(['problems', 'all']).default('problems'),
  EVICTION_MODE: z.enum(['evict', 'delete']).default('evict'),
  /** SQS queue that lifecycle drains outlasting one invocation are re-queued to. */
  REQUEUE_QUEUE_URL: z.string().url().optional(),
  /** Seconds to keep idempotency records (redelivered events within this window are no-ops). */
  IDEMPOTENCY_TTL_SECONDS: z.coerce.number().int().positive().default(3600),
  /** Milliseconds kept free before the Lambda timeout to finish bookkeeping (complete hooks, re-queue). */
  LAMBDA_RESERVE_MS: z.coerce.number().int().min(1000).default(8000),
});

export type Config = {
  clusterName?: string;
  region: string;
  managedTag: { key: string; value: string };
  namespace: string;
  rebalancePolicy: RebalancePolicy;
  replacementMode: ReplacementMode;
  drainTimeoutMs: number;
  safetyMarginMs: number;
  evictionConcurrency: number;
  deleteEmptyDirData: boolean;
  forceUnmanagedPods: boolean;
  taintEffect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  rebalanceCordonExpiryMs: number;
  excludeFromLoadBalancers: boolean;
  podEvents: 'problems' | 'all';
  evictionMode: 'evict' | 'delete';
  requeueQueueUrl?: string;
  idempotencyTtlSeconds: number;
  lambdaReserveMs: number;
};

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Per-ASG overrides read from the group's tags. */
export const groupTags = {
  rebalancePolicy: 'spotguard.io/rebalance-policy',
  replacementMode: 'spotguard.io/replacement-mode',
} as const;

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid spotguard configuration: ${problems}`);
  }
  const e = parsed.data;
  if (e.TAINT_EFFECT === 'NoExecute' && !e.ALLOW_NOEXECUTE_TAINT) {
    throw new ConfigError(
      'invalid spotguard configuration: TAINT_EFFECT: NoExecute lets the taint manager evict past PodDisruptionBudgets and the grace cap; set ALLOW_NOEXECUTE_TAINT=true to accept that',
    );
  }
  return {
    clusterName: e.CLUSTER_NAME,
    region: e.AWS_REGION,
    managedTag: { key: e.MANAGED_TAG_KEY, value: e.MANAGED_TAG_VALUE ?? e.CLUSTER_NAME ?? 'true' },
    namespace: e.SPOTGUARD_NAMESPACE,
    rebalancePolicy: e.REBALANCE_POLICY,
    replacementMode: e.REPLACEMENT_MODE,
    drainTimeoutMs: e.DRAIN_TIMEOUT_SECONDS * 1000,
    safetyMarginMs: e.SAFETY_MARGIN_SECONDS * 1000,
    evictionConcurrency: e.EVICTION_CONCURRENCY,
    deleteEmptyDirData: e.DELETE_EMPTYDIR_DATA,
    forceUnmanagedPods: e.FORCE_UNMANAGED_PODS,
    taintEffect: e.TAINT_EFFECT,
    rebalanceCordonExpiryMs: e.REBALANCE_CORDON_EXPIRY_SECONDS * 1000,
    excludeFromLoadBalancers: e.EXCLUDE_FROM_LOAD_BALANCERS,
    podEvents: e.POD_EVENTS,
    evictionMode: e.EVICTION_MODE,
    requeueQueueUrl: e.REQUEUE_QUEUE_URL,
    idempotencyTtlSeconds: e.IDEMPOTENCY_TTL_SECONDS,
    lambdaReserveMs: e.LAMBDA_RESERVE_MS,
  };
}
