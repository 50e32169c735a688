// The rebalancer function's Lambda wiring: middy with Powertools logger and metrics, the trigger
// read from the input, one runRebalancer call. SQS input (the debounced launch queue) is one run
// for the whole batch; records that do not parse are returned as batch item failures.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { SQSRecord } from 'aws-lambda';
import { loadConfig } from '../config.ts';
import { getKubeClients } from '../k8s/client.ts';
import { logger, metrics } from '../observability.ts';
import { type RebalancerOptions, type RebalancerReport, runRebalancer } from './run.ts';
import { triggerOf } from './trigger.ts';

const isSqs = (raw: unknown): raw is { Records: SQSRecord[] } =>
  Array.isArray((raw as { Records?: unknown })?.Records) &&
  (raw as { Records: Array<{ eventSource?: string }> }).Records.every((r) => r?.eventSource === 'aws:sqs');

export async function handleRebalancerInput(
  raw: unknown,
  run: (options: RebalancerOptions) => Promise<RebalancerReport>,
): Promise<{
  report?: RebalancerReport;
  because?: string;
  batchItemFailures?: Array<{ itemIdentifier: string }>;
}> {
  if (!isSqs(raw)) {
    const t = triggerOf(raw);
    return t.run ? { report: await run(t.options) } : { because: t.because };
  }
  const failures: Array<{ itemIdentifier: string }> = [];
  let launchedAt: string | undefined;
  for (const record of raw.Records) {
    try {
      const t = triggerOf({ Records: [record] });
      if (t.run) launchedAt = [launchedAt ?? '', t.options.launchedAt ?? ''].sort().at(-1);
    } catch (err) {
      logger.error('record rejected: it will be dead-lettered', {
        messageId: record.messageId,
        error: String(err),
      });
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  if (launchedAt === undefined) return { because: 'no launch in this batch', batchItemFailures: failures };
  return {
    report: await run({ trigger: 'launch', ...(launchedAt ? { launchedAt } : {}) }),
    batchItemFailures: failures,
  };
}

export const rebalancerHandler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true, throwOnEmptyMetrics: false }))
  .handler(async (event: unknown) => {
    logger.appendKeys({ spotguardFunction: 'rebalancer' });
    const namespace = loadConfig().namespace;
    const k8s = await getKubeClients();
    return handleRebalancerInput(event, (options) =>
      runRebalancer({ k8s, namespace, metrics, logger }, options),
    );
  });
