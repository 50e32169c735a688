// The bundles, not the TypeScript: handlers built with serverless.yml's esbuild options (what
// serverless-esbuild zips) are imported by a plain Node 24 process — no TypeScript, no node_modules —
// and invoked against the simulator. Catches what only bundling breaks: ESM/CommonJS interop, the
// createRequire banner, files read at run time, dynamic requires, minified names.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api } from '@kubernetes/client-node';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esbuildOptions, repoRoot } from '../../scripts/package.ts';
import { type Simulator, startSimulator } from '../../sim/index.ts';
import { simulatorEnvironment } from '../../sim/lambda-bridge.ts';

const run = promisify(execFile);
const NODE = path.join(repoRoot, 'node_modules', '.bin', 'node');

let sim: Simulator;
let core: CoreV1Api;
let env: Record<string, string>;
const bundles: Record<string, string> = {};

beforeAll(async () => {
  // outside the repo: a bundle that needed node_modules at run time would fail here
  const outdir = mkdtempSync(path.join(tmpdir(), 'spotguard-bundles-'));
  for (const fn of ['manual', 'spot-interruption']) {
    await build({
      ...esbuildOptions(),
      entryPoints: [path.join(repoRoot, 'functions', fn, 'handler.ts')],
      outdir: path.join(outdir, fn),
      outExtension: { '.js': '.mjs' },
      logLevel: 'error',
    });
    bundles[fn] = path.join(outdir, fn, 'handler.mjs');
  }
  sim = await startSimulator({
    nodes: 3,
    bootDelayMs: 500,
    podStartMs: 100,
    podTerminationMs: 200,
    volumeDetachMs: 100,
  });
  core = sim.kubeConfig().makeApiClient(CoreV1Api);
  env = simulatorEnvironment(sim, { POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true' });
}, 120_000);

afterAll(async () => {
  await sim?.stop();
});

/** Invokes a bundle's handler once in a fresh Node process; returns what the handler returned. */
async function invoke(fn: string, payload: unknown): Promise<Record<string, unknown>> {
  const script = path.join(path.dirname(bundles[fn]!), 'invoke.mjs');
  writeFileSync(
    script,
    `const { handler } = await import(${JSON.stringify(bundles[fn])});
const context = { awsRequestId: 'bundle-test', functionName: ${JSON.stringify(fn)}, functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:spotguard-test-${fn}', memoryLimitInMB: '512',
  getRemainingTimeInMillis: () => 60000, callbackWaitsForEmptyEventLoop: false };
const result = await handler(JSON.parse(process.argv[2]), context);
console.log('RESULT ' + JSON.stringify(result));
process.exit(0);`,
  );
  const { stdout } = await run(NODE, [script, JSON.stringify(payload)], {
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 90_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`${fn} bundle printed no result:\n${stdout.slice(-2000)}`);
  return JSON.parse(line.slice('RESULT '.length));
}

async function firstNode() {
  const nodes = (await core.listNode()).items;
  const node = nodes.find((n) => !n.spec?.unschedulable);
  if (!node?.spec?.providerID) throw new Error('the simulator has no schedulable node with a providerID');
  return { name: node.metadata!.name!, instanceId: node.spec.providerID.split('/').at(-1)! };
}

describe('bundled handlers in plain Node 24 against the simulator', () => {
  it('manual: a drain request cordons the node (Kubernetes calls from the bundle)', async () => {
    const { name } = await firstNode();
    const result = await invoke('manual', {
      spotguard: 'manual',
      action: 'drain',
      node: name,
      reason: 'bundle runtime test',
      requestedBy: 'test/deploy',
    });
    expect(result.reports).toEqual([expect.objectContaining({ kind: 'manual', nodeName: name })]);
    expect((await core.readNode({ name })).spec?.unschedulable).toBe(true);
  }, 120_000);

  it('spotInterruption: an EC2 warning for a simulated instance cordons its node (AWS SDK calls too)', async () => {
    const { name, instanceId } = await firstNode();
    const event = {
      version: '0',
      id: 'b0b0b0b0-0000-4000-8000-000000000001',
      'detail-type': 'EC2 Spot Instance Interruption Warning',
      source: 'aws.ec2',
      account: '123456789012',
      time: new Date().toISOString(),
      region: sim.region,
      resources: [`arn:aws:ec2:${sim.region}:123456789012:instance/${instanceId}`],
      detail: { 'instance-id': instanceId, 'instance-action': 'terminate' },
    };
    const result = await invoke('spot-interruption', event);
    expect(result.reports).toEqual([
      expect.objectContaining({ kind: 'spot-interruption', instanceId, nodeName: name }),
    ]);
    expect((await core.readNode({ name })).spec?.unschedulable).toBe(true);
  }, 120_000);
});
