// One Powertools Logger and Metrics per container. Handlers add the Lambda context through middy;
// the CLI and tests use the same objects (metrics go to stdout as EMF, or are silenced).
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'spotguard' });

// Invocations that changed nothing publish no metrics; Powertools warns about that every time, which
// is noise in the logs at 3 a.m. Everything else it says goes through.
const quietAboutEmptyMetrics = {
  debug: console.debug,
  info: console.info,
  error: console.error,
  warn: (message: unknown, ...rest: unknown[]) => {
    if (typeof message === 'string' && message.startsWith('No application metrics to publish')) return;
    console.warn(message, ...rest);
  },
};

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Spotguard',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'spotguard',
  logger: quietAboutEmptyMetrics,
});

export { MetricUnit };

/** Metric names spotguard emits (alarms in serverless.yml refer to these). */
export const metricNames = {
  timeToCordonMs: 'TimeToCordonMs',
  drainDurationMs: 'DrainDurationMs',
  podsEvicted: 'PodsEvicted',
  podsBlockedByPdb: 'PodsBlockedByPdb',
  deadlineMissed: 'DeadlineMissed',
  interruptedSpotPool: 'InterruptedSpotPool',
  replacementsLaunched: 'ReplacementsLaunched',
  zonalScaleOuts: 'ZonalScaleOuts',
  lifecycleActionsCompleted: 'LifecycleActionsCompleted',
  lifecycleCompleteFailed: 'LifecycleCompleteFailed',
  eventsIgnored: 'EventsIgnored',
  duplicateEvents: 'DuplicateEvents',
  /** The idempotency store was unreachable or a record could not be written (never fails work). */
  idempotencyStoreDegraded: 'IdempotencyStoreDegraded',
  podsLeftAtDeadline: 'PodsLeftAtDeadline',
  /** Per spot group and zone (dimensions AutoScalingGroupName, AvailabilityZone): the storm alarm's metric. */
  spotInterruptions: 'SpotInterruptions',
  /** Emitted by the lifecycle action when the hook had already ended by its timeout. */
  lifecycleHookTimedOut: 'LifecycleHookTimedOut',
  /** Emitted by the rebalancer (shared/rebalancer rebalancerMetrics.zoneSkew) after a run, per workload. */
  workloadZoneSkew: 'WorkloadZoneSkew',
} as const;

/** One spot interruption of `group` in `zone`, as its own EMF line (its dimensions are its own). */
export function recordSpotInterruption(m: Pick<Metrics, 'singleMetric'>, group: string, zone: string): void {
  const one = m.singleMetric();
  one.addDimension('AutoScalingGroupName', group);
  one.addDimension('AvailabilityZone', zone);
  one.addMetric(metricNames.spotInterruptions, MetricUnit.Count, 1);
}
