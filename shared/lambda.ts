// The one Lambda handler every function uses: middy with Powertools logger (Lambda context) and
// metrics (EMF, cold start), then processInput. Each function differs only in its name and in the
// events its EventBridge rule or queue delivers.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { routedParser } from './events/routing.ts';
import { logger, metrics } from './observability.ts';
import { createRuntime, processInput, type Runtime } from './runtime.ts';

let runtime: Promise<Runtime> | undefined;

/** Built once per container; a failed build (e.g. DescribeCluster throttled) is retried next time. */
function containerRuntime(): Promise<Runtime> {
  if (!runtime) {
    runtime = createRuntime();
    runtime.catch(() => {
      runtime = undefined;
    });
  }
  return runtime;
}

export function createHandler(functionName: string) {
  const parse = routedParser(functionName);
  return middy()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true, throwOnEmptyMetrics: false }))
    .handler(async (event: unknown, context: Context) => {
      logger.appendKeys({ spotguardFunction: functionName });
      const rt = await containerRuntime();
      const result = await processInput(rt, event, {
        holder: context.awsRequestId,
        remainingMs: () => context.getRemainingTimeInMillis(),
        lambdaContext: context,
        parse,
      });
      for (const r of result.reports) {
        logger.info(r.summary, {
          kind: r.kind,
          outcome: r.outcome,
          node: r.nodeName,
          instanceId: r.instanceId,
          actions: r.actions,
        });
      }
      // The SQS event source mapping (ReportBatchItemFailures) reads batchItemFailures and ignores the rest.
      return {
        ...(result.batchItemFailures ? { batchItemFailures: result.batchItemFailures } : {}),
        reports: result.reports,
      };
    });
}
