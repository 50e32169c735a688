// Local stand-in for the deployed wiring: the simulator's EventBridge events go to the real Lambda
// handlers (functions/<name>/handler.ts) as shared/routes.ts says — time-critical ones invoked
// directly (with Lambda's async retries), the others through simulated SQS queues with DLQs and
// an event source mapping. Used by `npm start` (the demo) and the end-to-end tests.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { type Route, routeFor, routes } from '../shared/routes.ts';
import type { EventBridgeEvent, Simulator } from './index.ts';

type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

export interface Invocation {
  functionName: string;
  delivery: 'direct' | 'sqs' | 'manual';
  input: unknown;
  startedAt: number;
  finishedAt?: number;
  result?: unknown;
  error?: string;
  attempt: number;
}

export interface LambdaBridgeOptions {
  /** Extra environment for the functions (e.g. REBALANCE_POLICY). */
  env?: Record<string, string>;
  /** Lambda async-invoke retries for direct functions (AWS: 2). */
  directRetries?: number;
  /** Delay between direct retries (AWS: about 1 and 2 minutes; shorter here). */
  retryDelayMs?: number;
  /** Concurrent pollers per queue (Lambda scales SQS consumers out). */
  queueConcurrency?: number;
  /** Scale Lambda timeouts down for fast scenarios (1 = as deployed). */
  timeoutScale?: number;
  /**
   * Queue visibility timeout (default: function timeout + 5 s; deployed queues use more, see
   * infra/queues.yml — the rule is only that it exceeds the function timeout); short in tests of redelivery.
   */
  visibilityTimeoutSeconds?: number;
}

export interface LambdaBridge {
  invocations: Invocation[];
  /** Direct invocation of a function by name (manual drains). */
  invoke(functionName: string, payload: unknown): Promise<unknown>;
  /** Resolves once nothing is in flight and every queue is empty. */
  idle(timeoutMs?: number): Promise<void>;
  /** Messages that ended in a dead-letter queue, per queue. */
  deadLetters(): Record<string, number>;
  stop(): void;
}

/** Points the process environment at the simulator, as Lambda's configuration would. */
export function simulatorEnvironment(
  sim: Simulator,
  extra: Record<string, string> = {},
): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'spotguard-sim-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, sim.kubeconfig, { mode: 0o600 });
  const aws = sim.awsClientConfig();
  return {
    CLUSTER_NAME: sim.clusterName,
    AWS_REGION: sim.region,
    AWS_ENDPOINT_URL: sim.awsEndpoint,
    AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: aws.credentials.sessionToken,
    SPOTGUARD_KUBECONFIG: kubeconfig,
    ...extra,
  };
}

async function loadHandler(route: Route): Promise<LambdaHandler> {
  const mod = (await import(`../functions/${route.functionName}/handler.ts`)) as { handler: LambdaHandler };
  return mod.handler;
}

function lambdaContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:spotguard-${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/spotguard-${functionName}`,
    logStreamName: `sim/${requestId}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The invocation record Lambda sends to an async invocation's OnFailure destination. */
export function onFailureRecord(route: Route, requestPayload: unknown, error: unknown, invokeCount: number) {
  const err = error instanceof Error ? error : new Error(String(error));
  return {
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: {
      requestId: randomUUID(),
      functionArn: `arn:aws:lambda:us-east-1:123456789012:function:spotguard-${route.functionName}:$LATEST`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: invokeCount,
    },
    requestPayload,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: {
      errorType: err.name,
      errorMessage: err.message,
      trace: (err.stack ?? '').split('\n').slice(0, 5),
    },
  };
}

export async function connectLambdas(sim: Simulator, opts: LambdaBridgeOptions = {}): Promise<LambdaBridge> {
  const directRetries = opts.directRetries ?? 2;
  const retryDelayMs = opts.retryDelayMs ?? 1000;
  const timeoutScale = opts.timeoutScale ?? 1;
  // The first queue URL is needed in the environment before any handler module loads.
  const lifecycleQueueUrl = `${sim.awsEndpoint}/123456789012/spotguard-lifecycle`;
  Object.assign(
    process.env,
    simulatorEnvironment(sim, { REQUEUE_QUEUE_URL: lifecycleQueueUrl, ...opts.env }),
  );

  // A deployed spotguard has its namespace (infra/rbac.yaml creates it) for Leases and dedup records.
  const namespace = process.env.SPOTGUARD_NAMESPACE || 'spotguard';
  if (!sim.store.get('namespaces', undefined, namespace)) {
    sim.store.create('namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace, labels: { 'kubernetes.io/metadata.name': namespace } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }

  const invocations: Invocation[] = [];
  let inFlight = 0;
  const stops: Array<() => void> = [];
  const handlers = new Map<string, LambdaHandler>();
  for (const route of routes) handlers.set(route.functionName, await loadHandler(route));

  const run = async (route: Route, delivery: Invocation['delivery'], input: unknown, attempt: number) => {
    const record: Invocation = {
      functionName: route.functionName,
      delivery,
      input,
      startedAt: Date.now(),
      attempt,
    };
    invocations.push(record);
    inFlight++;
    try {
      record.result = await handlers.get(route.functionName)!(
        input,
        lambdaContext(route.functionName, route.timeoutSeconds * 1000 * timeoutScale),
      );
      return record.result;
    } catch (err) {
      record.error = err instanceof Error ? err.message : String(err);
      throw err;
    } finally {
      record.finishedAt = Date.now();
      inFlight--;
    }
  };

  // One queue (+ DLQ) per SQS-fed function, several pollers each, like Lambda's scaling.
  const queueNames: string[] = [];
  for (const route of routes.filter((r) => r.delivery === 'sqs')) {
    const name = `spotguard-${route.queue}`;
    const dlq = sim.sqs.createQueue(`${name}-dlq`, { MessageRetentionPeriod: '1209600' });
    sim.sqs.createQueue(name, {
      VisibilityTimeout: String(
        opts.visibilityTimeoutSeconds ?? Math.ceil(route.timeoutSeconds * timeoutScale) + 5,
      ),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 3 }),
    });
    queueNames.push(name);
    for (let i = 0; i < (opts.queueConcurrency ?? 4); i++) {
      stops.push(
        sim.sqs.subscribe(name, (event) => run(route, 'sqs', event, 1) as Promise<never>, { batchSize: 1 }),
      );
    }
  }

  const deliver = async (event: EventBridgeEvent) => {
    const route = routeFor(event.source, event['detail-type']);
    if (!route) return; // no rule matches: EventBridge drops it
    if (route.delivery === 'sqs') {
      sim.sqs.sendMessage(`spotguard-${route.queue}`, JSON.stringify(event));
      return;
    }
    let lastError: unknown;
    for (let attempt = 1; attempt <= directRetries + 1; attempt++) {
      try {
        await run(route, 'direct', event, attempt);
        return;
      } catch (err) {
        lastError = err;
        if (attempt <= directRetries) await new Promise((r) => setTimeout(r, retryDelayMs));
      }
    }
    // What an async invocation's OnFailure destination receives: the request and the error.
    sim.sqs.sendMessage(
      `spotguard-${route.functionName}-dlq`,
      JSON.stringify(onFailureRecord(route, event, lastError, directRetries + 1)),
    );
  };
  for (const route of routes.filter((r) => r.delivery === 'direct')) {
    sim.sqs.createQueue(`spotguard-${route.functionName}-dlq`);
  }
  stops.push(sim.events.subscribe(deliver));

  const queueBusy = () =>
    queueNames.some((name) => {
      const a = sim.sqs.attributes(name);
      return (
        Number(a.ApproximateNumberOfMessages) +
          Number(a.ApproximateNumberOfMessagesNotVisible) +
          Number(a.ApproximateNumberOfMessagesDelayed) >
        0
      );
    });

  return {
    invocations,
    invoke: (functionName, payload) => {
      const route = routes.find((r) => r.functionName === functionName);
      if (!route) throw new Error(`no function named ${functionName}`);
      return run(route, 'manual', payload, 1);
    },
    async idle(timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      // Quiet twice in a row: a handler that just finished may have queued follow-up work.
      let quiet = 0;
      while (quiet < 2) {
        if (Date.now() > until)
          throw new Error(`functions still busy after ${timeoutMs} ms (${inFlight} in flight)`);
        await new Promise((r) => setTimeout(r, 100));
        quiet = inFlight === 0 && !queueBusy() ? quiet + 1 : 0;
      }
    },
    deadLetters() {
      const out: Record<string, number> = {};
      for (const name of [
        ...queueNames.map((q) => `${q}-dlq`),
        ...routes.filter((r) => r.delivery === 'direct').map((r) => `spotguard-${r.functionName}-dlq`),
      ]) {
        out[name] = Number(sim.sqs.attributes(name).ApproximateNumberOfMessages);
      }
      return out;
    },
    stop() {
      for (const stop of stops) stop();
    },
  };
}
