// The rebalancer's settings from the environment (REBALANCER_*), validated like shared/config.ts:
// a bad value fails naming the variable.
import { z } from 'zod';
import { ConfigError } from '../config.ts';
import { defaultRebalancerConfig, type RebalancerConfig } from './types.ts';

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
const schema = z.object({
  /** "none" (default) leaves workloads without a zone constraint alone; a number balances them to it. */
  REBALANCER_DEFAULT_MAX_SKEW: z
    .union([z.literal('none'), z.coerce.number().int().positive()])
    .default('none'),
  REBALANCER_MAX_EVICTIONS_PER_WORKLOAD: z.coerce
    .number()
    .int()
    .positive()
    .default(defaultRebalancerConfig.maxEvictionsPerWorkload),
  REBALANCER_MAX_EVICTIONS_PER_RUN: z.coerce
    .number()
    .int()
    .positive()
    .default(defaultRebalancerConfig.maxEvictionsPerRun),
  REBALANCER_COOLDOWN_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .default(defaultRebalancerConfig.cooldownMs / 1000),
  REBALANCER_INCLUDE_SCHEDULE_ANYWAY: bool.default(true),
  REBALANCER_ALLOW_LOCAL_STORAGE: bool.default(false),
  /** How long one wave's replacements may take to be Ready. */
  REBALANCER_WAIT_SECONDS: z.coerce.number().int().positive().default(180),
});

export function loadRebalancerConfig(
  env: Record<string, string | undefined> = process.env,
): RebalancerConfig & { waitMs: number } {
  const parsed = schema.safeParse(
    Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('REBALANCER_') && v !== '')),
  );
  if (!parsed.success) {
    throw new ConfigError(
      `invalid rebalancer configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const e = parsed.data;
  return {
    defaultMaxSkew: e.REBALANCER_DEFAULT_MAX_SKEW === 'none' ? null : e.REBALANCER_DEFAULT_MAX_SKEW,
    maxEvictionsPerWorkload: e.REBALANCER_MAX_EVICTIONS_PER_WORKLOAD,
    maxEvictionsPerRun: e.REBALANCER_MAX_EVICTIONS_PER_RUN,
    cooldownMs: e.REBALANCER_COOLDOWN_SECONDS * 1000,
    includeScheduleAnyway: e.REBALANCER_INCLUDE_SCHEDULE_ANYWAY,
    allowLocalStorage: e.REBALANCER_ALLOW_LOCAL_STORAGE,
    namespaces: [],
    waitMs: e.REBALANCER_WAIT_SECONDS * 1000,
  };
}
