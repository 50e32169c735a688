// A host for simulated Lambda containers (run by bench/storm.ts and test/perf, forked with IPC):
// imports the packaged bundle once per container, each import a fresh module instance (own
// clients, token, caches, idempotency state: `?container=N` makes a new ES module record), then
// invokes container N's handler with the event the parent sends, once, as Lambda would.
//
// Messages in:  { kind: 'load', bundle, count }  then  { kind: 'invoke', container, event, timeoutMs }
// Messages out: { kind: 'loaded', importMs[] }, { kind: 'done', container, startedAt, endedAt, error?, outcome? }
import { pathToFileURL } from 'node:url';

type Handler = (event: unknown, context: unknown) => Promise<{ reports?: { outcome?: string }[] }>;

const handlers: Handler[] = [];

function context(container: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  return {
    awsRequestId: `storm-${process.pid}-${container}`,
    functionName: 'spotguard-bench-spotInterruption',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:spotguard-bench-spotInterruption',
    memoryLimitInMB: '1769',
    logGroupName: '/aws/lambda/spotguard-bench-spotInterruption',
    logStreamName: `storm/${container}`,
    getRemainingTimeInMillis: () => deadline - Date.now(),
    callbackWaitsForEmptyEventLoop: false,
  };
}

process.on('message', async (msg: Record<string, unknown>) => {
  if (msg.kind === 'load') {
    const importMs: number[] = [];
    const url = pathToFileURL(String(msg.bundle)).href;
    for (let i = 0; i < Number(msg.count); i++) {
      const t0 = performance.now();
      const mod = (await import(`${url}?container=${i}`)) as { handler: Handler };
      importMs.push(performance.now() - t0);
      handlers.push(mod.handler);
    }
    process.send!({ kind: 'loaded', importMs });
    return;
  }
  if (msg.kind === 'invoke') {
    const container = Number(msg.container);
    const startedAt = Date.now();
    try {
      const result = await handlers[container]!(msg.event, context(container, Number(msg.timeoutMs)));
      const outcome = result.reports?.map((r) => r.outcome).join(',');
      process.send!({ kind: 'done', container, startedAt, endedAt: Date.now(), outcome });
    } catch (err) {
      const e = err as Error;
      const error = `${e.name}: ${e.message}${e.cause ? ` (cause: ${String(e.cause)})` : ''}`;
      process.send!({ kind: 'done', container, startedAt, endedAt: Date.now(), error });
    }
  }
});
