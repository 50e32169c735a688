// Turns raw input (EventBridge event, SQS batch, manual payload) into handled events: one parser,
// idempotency by dedup key, one action per event, per-record failures for SQS. Used by every
// Lambda function and by `spotguard handle`.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { CachePersistenceLayer } from '@aws-lambda-powertools/idempotency/cache';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { handleEvent } from './actions/dispatch.ts';
import type { ActionDeps, HandleReport } from './actions/types.ts';
import { type AwsClients, awsClients } from './aws/clients.ts';
import { deadLetterWithReason } from './aws/dead-letter.ts';
import { keepInFlight } from './aws/in-flight.ts';
import { type Config, loadConfig } from './config.ts';
import { ConfigMapCacheClient } from './dedup/configmap-cache.ts';
import { FallbackCacheClient, IdempotencyStoreSetupError } from './dedup/fallback-cache.ts';
import { leaseDurationSeconds } from './drain/lease.ts';
import { parse } from './events/parse.ts';
import type { DomainEvent } from './events/types.ts';
import { getKubeClients, type KubeClients } from './k8s/client.ts';
import { logger as defaultLogger, metrics as defaultMetrics, metricNames } from './observability.ts';
import { NodeResolver } from './resolve/node-resolver.ts';

export interface Runtime {
  config: Config;
  k8s: KubeClients;
  aws: AwsClients;
  logger: ActionDeps['logger'];
  metrics: Metrics;
  /** handleEvent behind Powertools idempotency (records stored as ConfigMaps). */
  handleOnce: (event: DomainEvent, deps: ActionDeps) => Promise<HandleReport>;
  idempotencyConfig: IdempotencyConfig;
}

export interface InvocationContext {
  /** Lease holder and log correlation: the Lambda request id or cli-<pid>. */
  holder: string;
  /** Milliseconds left in this invocation (Infinity on the CLI). */
  remainingMs: () => number;
  dryRun?: boolean;
  lambdaContext?: Context;
  parse?: typeof parse; // a function's own parser rejects misrouted kinds (shared/events/routing.ts)
}

export async function createRuntime(
  overrides: Partial<Pick<Runtime, 'config' | 'k8s' | 'aws' | 'logger' | 'metrics'>> = {},
): Promise<Runtime> {
  const config = overrides.config ?? loadConfig();
  const [k8s, aws] = await Promise.all([
    overrides.k8s ?? getKubeClients(),
    Promise.resolve(overrides.aws ?? awsClients({ region: config.region })),
  ]);
  const idempotencyConfig = new IdempotencyConfig({
    eventKeyJmesPath: 'dedupKey',
    expiresAfterSeconds: config.idempotencyTtlSeconds,
    throwOnNoIdempotencyKey: true,
    // A stored answer means this event was handled before: say so instead of acting again.
    responseHook: (response) => ({ ...(response as object), outcome: 'duplicate' }) as never,
  });
  const logger = overrides.logger ?? defaultLogger;
  const metrics = overrides.metrics ?? defaultMetrics;
  const persistenceStore = new CachePersistenceLayer({
    client: new FallbackCacheClient({
      primary: new ConfigMapCacheClient({ core: async () => k8s.core, namespace: config.namespace }),
      namespace: config.namespace,
      onProblem: (problem, key, err) => {
        metrics.addMetric(metricNames.idempotencyStoreDegraded, 'Count', 1);
        logger.warn(
          problem === 'unreachable'
            ? 'idempotency store unreachable: deduplicating in this container only'
            : 'idempotency record not written (the work itself is done; a redelivery would run again)',
          { problem, key, error: String(err) },
        );
      },
    }),
  });
  const handleOnce = makeIdempotent(
    async (event: DomainEvent, deps: ActionDeps) => {
      const result = await handleEvent(event, deps);
      // A failure must not be remembered as handled: throwing drops the in-progress record so the
      // retry (Lambda async retry, SQS redelivery) runs it again, then the DLQ gets it with the reason.
      if (failsInvocation(result)) throw new HandlingFailedError(result);
      return JSON.parse(JSON.stringify(result));
    },
    { persistenceStore, config: idempotencyConfig, dataIndexArgument: 0 },
  ) as (event: DomainEvent, deps: ActionDeps) => Promise<HandleReport>;
  return { config, k8s, aws, logger, metrics, handleOnce, idempotencyConfig };
}

/** An event whose handling raised an error (not an incomplete drain): the invocation fails with it. */
export class HandlingFailedError extends Error {
  readonly report: HandleReport;
  constructor(report: HandleReport) {
    super(
      `${report.kind}${report.instanceId ? ` ${report.instanceId}` : ''}${report.nodeName ? ` (${report.nodeName})` : ''}: ${report.error ?? report.summary}`,
    );
    this.name = 'HandlingFailedError';
    this.report = report;
  }
}

/** The same event is being handled elsewhere and its holder's time is not up: retry later. */
export class InProgressElsewhereError extends Error {
  constructor(dedupKey: string) {
    super(
      `${dedupKey}: being handled by another invocation; retried once that one finishes or its holder time is up`,
    );
    this.name = 'InProgressElsewhereError';
  }
}

/** Manual requests answer their caller (a report saying failed); AWS events fail the invocation. */
function failsInvocation(r: HandleReport): boolean {
  return r.outcome === 'failed' && r.error !== undefined && r.kind !== 'manual';
}

/**
 * How long an in-progress record blocks others: the invocation's remaining time, but never more
 * than one drain Lease period. A holder that died (SIGKILL, OOM, crash) is taken over by the next
 * retry after that; a holder still alive keeps its Lease renewed, so the taker joins its drain.
 */
function holderContext(ctx: InvocationContext): Context {
  const holdMs = leaseDurationSeconds() * 1000;
  return {
    ...(ctx.lambdaContext ?? ({} as Context)),
    getRemainingTimeInMillis: () => Math.max(1, Math.min(ctx.remainingMs(), holdMs)),
  };
}

export function depsFor(rt: Runtime, ctx: InvocationContext): ActionDeps {
  return {
    config: rt.config,
    k8s: rt.k8s,
    aws: rt.aws,
    resolver: new NodeResolver(
      { ec2: rt.aws.ec2, core: rt.k8s.core },
      { clusterName: rt.config.clusterName },
    ),
    logger: rt.logger,
    metrics: rt.metrics,
    holder: ctx.holder,
    timeLeftMs: () => ctx.remainingMs() - rt.config.lambdaReserveMs,
    now: () => new Date(),
    dryRun: ctx.dryRun ?? false,
  };
}

async function handleOne(rt: Runtime, event: DomainEvent, deps: ActionDeps): Promise<HandleReport> {
  // Nothing to remember for ignored input and dry runs: no record, no lock.
  if (event.kind === 'ignored' || deps.dryRun) return handleEvent(event, deps);
  // The instance → node lookup is a read: it runs while the idempotency record is written, so the
  // cordon does not wait for the record (bench/cordon-path.ts). The action reuses the answer.
  if (event.kind === 'spot-interruption') deps.resolver.resolve(event.instanceId).catch(() => undefined);
  // On-call requests are deduplicated only by an explicit requestId (a status is always fresh).
  if (event.kind === 'manual' && !event.requestId) return handleEvent(event, deps);
  try {
    const result = await rt.handleOnce(event, deps);
    if (result.outcome === 'duplicate') {
      rt.metrics.addMetric(metricNames.duplicateEvents, 'Count', 1);
      rt.logger.info('duplicate event: already handled, nothing done', { dedupKey: event.dedupKey });
    }
    return result;
  } catch (err) {
    if (err instanceof IdempotencyAlreadyInProgressError) {
      // Another invocation holds this very event. Not a duplicate to acknowledge: that holder may
      // have died mid-drain. Fail so the retry comes back once the holder's time is up.
      rt.metrics.addMetric(metricNames.duplicateEvents, 'Count', 1);
      throw new InProgressElsewhereError(event.dedupKey);
    }
    // Powertools wraps store errors; a misconfigured store says what to fix.
    if (err instanceof Error && err.cause instanceof IdempotencyStoreSetupError) throw err.cause;
    throw err;
  }
}

export interface ProcessResult {
  reports: HandleReport[];
  /** For SQS input: the records to redeliver (parse or handling failed). */
  batchItemFailures?: SQSBatchResponse['batchItemFailures'];
}

function isSqsEvent(raw: unknown): raw is { Records: SQSRecord[] } {
  const records = (raw as { Records?: unknown })?.Records;
  return Array.isArray(records) && records.length > 0 && records.every((r) => r?.eventSource === 'aws:sqs');
}

/**
 * Parses and handles one invocation's input. Direct input: throws on malformed input or failure
 * (Lambda retries, then the DLQ). SQS input: each record succeeds or is reported as a batch item
 * failure (redelivered, then dead-lettered by the queue's redrive policy).
 */
export async function processInput(
  rt: Runtime,
  raw: unknown,
  ctx: InvocationContext,
): Promise<ProcessResult> {
  rt.idempotencyConfig.registerLambdaContext(holderContext(ctx));
  const deps = depsFor(rt, ctx);
  const reports: HandleReport[] = [];
  if (!isSqsEvent(raw)) {
    // One input may name several instances (AWS Health): their drains run side by side. A failure
    // fails the invocation (Lambda retries; the events already handled are no-ops then).
    const settled = await Promise.allSettled(
      (ctx.parse ?? parse)(raw).map((event) => handleOne(rt, event, deps)),
    );
    for (const s of settled) if (s.status === 'fulfilled') reports.push(s.value);
    const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed.length > 0) throw failed[0]!.reason;
    return { reports };
  }
  const processor = new BatchProcessor(EventType.SQS);
  const response = await processPartialResponse(
    raw as never,
    async (record: SQSRecord) => {
      const inFlight = keepInFlight(rt.aws.sqs, record, (err) =>
        rt.logger.warn('could not shorten/renew the record visibility', { error: String(err) }),
      );
      try {
        for (const event of (ctx.parse ?? parse)({ Records: [record] }))
          reports.push(await handleOne(rt, event, deps));
      } catch (err) {
        const details = {
          messageId: record.messageId,
          receiveCount: record.attributes?.ApproximateReceiveCount,
          error: String(err),
          ...(err instanceof Error && err.cause ? { cause: String(err.cause) } : {}),
        };
        const deadLettered = await deadLetterWithReason(rt.aws.sqs, record, err).catch((dlqErr: unknown) => {
          rt.logger.warn('could not dead-letter with the reason; SQS redrive will move it as is', {
            error: String(dlqErr),
          });
          return false;
        });
        if (deadLettered) {
          rt.logger.error('record failed for the last time: sent to the DLQ with its reason', details);
          return; // the copy in the DLQ carries the reason; this one is deleted
        }
        rt.logger.error('record failed: it will be redelivered, then dead-lettered', details);
        throw err;
      } finally {
        inFlight.stop();
      }
    },
    processor,
    { throwOnFullBatchFailure: false },
  );
  return { reports, batchItemFailures: response.batchItemFailures };
}
