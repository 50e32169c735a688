// Config + event → the drain engine's options, in one place.
import type { DrainOptions } from '../drain/types.ts';
import type { ActionDeps } from './types.ts';

export function drainOptions(
  d: ActionDeps,
  extra: Pick<DrainOptions, 'reason'> & Partial<DrainOptions>,
): DrainOptions {
  const left = d.timeLeftMs();
  return {
    holder: d.holder,
    timeoutMs: d.config.drainTimeoutMs,
    safetyMarginMs: d.config.safetyMarginMs,
    deleteEmptyDirData: d.config.deleteEmptyDirData,
    force: d.config.forceUnmanagedPods,
    evictionMode: d.config.evictionMode,
    taintEffect: d.config.taintEffect,
    excludeFromLoadBalancers: d.config.excludeFromLoadBalancers,
    concurrency: d.config.evictionConcurrency,
    podEvents: d.config.podEvents,
    dryRun: d.dryRun,
    // Stop waiting before the Lambda is killed, so the report (and lifecycle completion) still happen.
    ...(Number.isFinite(left) ? { signal: AbortSignal.timeout(Math.max(0, left)) } : {}),
    logger: d.logger,
    metrics: d.metrics,
    ...extra,
  };
}
