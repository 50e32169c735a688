// Alarm-action settings from the environment (serverless.yml params of the same meaning).
import { z } from 'zod';

const schema = z.object({
  /** Most on-demand instances one storm may add across all groups; more is refused and reported. */
  FALLBACK_MAX_EXTRA_ON_DEMAND: z.coerce.number().int().min(0).default(10),
  /** Self-managed mixed groups during a fallback. */
  FALLBACK_ON_DEMAND_PERCENTAGE: z.coerce.number().int().min(0).max(100).default(100),
  FALLBACK_ON_DEMAND_BASE: z.coerce.number().int().min(0).default(0),
  STORM_ALARM_SUFFIX: z.string().min(1).default('-interruption-storm'),
  ZONE_SKEW_ALARM_SUFFIX: z.string().min(1).default('-zone-skew'),
  /** Longest wait for one instance to leave (through the terminate hook) while returning to spot. */
  RETURN_STEP_TIMEOUT_SECONDS: z.coerce.number().int().positive().default(600),
});

export interface AlarmConfig {
  fallbackMaxExtraOnDemand: number;
  fallbackOnDemandPercentage: number;
  fallbackOnDemandBase: number;
  stormAlarmSuffix: string;
  zoneSkewAlarmSuffix: string;
  returnStepTimeoutMs: number;
}

export function loadAlarmConfig(env: Record<string, string | undefined> = process.env): AlarmConfig {
  const e = schema.parse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  return {
    fallbackMaxExtraOnDemand: e.FALLBACK_MAX_EXTRA_ON_DEMAND,
    fallbackOnDemandPercentage: e.FALLBACK_ON_DEMAND_PERCENTAGE,
    fallbackOnDemandBase: e.FALLBACK_ON_DEMAND_BASE,
    stormAlarmSuffix: e.STORM_ALARM_SUFFIX,
    zoneSkewAlarmSuffix: e.ZONE_SKEW_ALARM_SUFFIX,
    returnStepTimeoutMs: e.RETURN_STEP_TIMEOUT_SECONDS * 1000,
  };
}
