// Config + event → the drain engine's options, in one place.
import { elbv2Client } from '../aws/elbv2.ts';
import type { DrainOptions } from '../drain/types.ts';
import { TrafficDrain } from '../traffic/session.ts';
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
    ...loadBalancerDrain(d, extra),
    ...extra,
  };
}

/**
 * Traffic-aware drain (issue 14, shared/traffic): every drain deregisters the node's load-balancer
 * targets before evicting, where target groups of this cluster are found. Needs the cluster name
 * (the elbv2.k8s.aws/cluster tag); a dry run deregisters nothing.
 */
export function loadBalancerDrain(d: ActionDeps, extra: Partial<DrainOptions>): Partial<DrainOptions> {
  if (d.dryRun || extra.dryRun || !d.config.clusterName) return {};
  return {
    evictionGate: new TrafficDrain({
      k8s: d.k8s,
      elb: elbv2Client({ region: d.config.region }),
      clusterName: d.config.clusterName,
      trigger: extra.reason ?? 'drain',
      ...(extra.deadline ? { deadline: extra.deadline } : {}),
      marginMs: d.config.safetyMarginMs,
      ...(extra.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: extra.gracePeriodSeconds } : {}),
      holder: d.holder,
      logger: d.logger,
    }),
  };
}
