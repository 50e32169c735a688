// One cold start, as Lambda does it (run by bench/cold.ts in a fresh `node`): import the packaged
// handler from the unzipped task folder, invoke it with argv[3], then again with argv[4] (warm).
// Prints wall-clock instants (Date.now) so the parent can line them up with the simulator's store.
const t = {
  origin: performance.timeOrigin,
  readyMs: 0,
  importMs: 0,
  invokeAt: 0,
  doneAt: 0,
  warmInvokeAt: 0,
  warmDoneAt: 0,
  error: '',
};
const context = (id) => ({
  awsRequestId: id,
  functionName: 'spotguard-bench-spotInterruption',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:spotguard-bench-spotInterruption',
  memoryLimitInMB: '1769',
  getRemainingTimeInMillis: () => 150_000,
  callbackWaitsForEmptyEventLoop: false,
});
const i0 = performance.now();
const { handler } = await import(process.argv[2]);
t.importMs = performance.now() - i0;
t.readyMs = performance.now(); // since the process started (performance.timeOrigin)
try {
  t.invokeAt = Date.now();
  await handler(JSON.parse(process.argv[3]), context('cold'));
  t.doneAt = Date.now();
  t.warmInvokeAt = Date.now();
  await handler(JSON.parse(process.argv[4]), context('warm'));
  t.warmDoneAt = Date.now();
} catch (err) {
  t.error = String(err);
}
process.stdout.write(`PROBE ${JSON.stringify(t)}\n`);
process.exit(0);
