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
import { type Config, loadConfig } from './config.ts';
import { ConfigMapCacheClient } from './dedup/configmap-cache.ts';
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
  const persistenceStore = new CachePersistenceLayer({
    client: new ConfigMapCacheClient({ core: async () => k8s.core, namespace: config.namespace }),
  });
  const handleOnce = makeIdempotent(
    async (event: DomainEvent, deps: ActionDeps) =>
      JSON.parse(JSON.stringify(await handleEvent(event, deps))),
    { persistenceStore, config: idempotencyConfig, dataIndexArgument: 0 },
  ) as (event: DomainEvent, deps: ActionDeps) => Promise<HandleReport>;
  return {
    config,
    k8s,
    aws,
    logger: overrides.logger ?? defaultLogger,
    metrics: overrides.metrics ?? defaultMetrics,
    handleOnce,
    idempotencyConfig,
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
      // Another invocation is handling this very event right now: no second action.
      rt.metrics.addMetric(metricNames.duplicateEvents, 'Count', 1);
      return {
        kind: event.kind,
        dedupKey: event.dedupKey,
        outcome: 'duplicate',
        summary: 'the same event is being handled by another invocation',
        actions: [],
      };
    }
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
  if (ctx.lambdaContext) rt.idempotencyConfig.registerLambdaContext(ctx.lambdaContext);
  const deps = depsFor(rt, ctx);
  const reports: HandleReport[] = [];
  if (!isSqsEvent(raw)) {
    // One input may name several instances (AWS Health): their drains run side by side. A failure
    // fails the invocation (Lambda retries; the events already handled are no-ops then).
    const settled = await Promise.allSettled(parse(raw).map((event) => handleOne(rt, event, deps)));
    for (const s of settled) if (s.status === 'fulfilled') reports.push(s.value);
    const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed.length > 0) throw failed[0]!.reason;
    return { reports };
  }
  const processor = new BatchProcessor(EventType.SQS);
  const response = await processPartialResponse(
    raw as never,
    async (record: SQSRecord) => {
      try {
        for (const event of parse({ Records: [record] })) reports.push(await handleOne(rt, event, deps));
      } catch (err) {
        rt.logger.error('record failed: it will be redelivered, then dead-lettered', {
          messageId: record.messageId,
          error: String(err),
          ...(err instanceof Error && err.cause ? { cause: String(err.cause) } : {}),
        });
        throw err;
      }
    },
    processor,
    { throwOnFullBatchFailure: false },
  );
  return { reports, batchItemFailures: response.batchItemFailures };
}
