// Cold path benchmark: a fresh Node 24 process imports the spotInterruption bundle from the
// unzipped task folder (as Lambda does) and handles one ITN against the simulator, then a second
// (warm). Times: process start → handler ready, invoke → cordon PATCH acknowledged (the instant the
// simulator stored the unschedulable node), and the sum; with 0 ms and 20 ms simulated AWS latency,
// with and without a V8 compile cache shipped next to the bundle.
// Targets (issue 13): import ≤ 120 ms, cold invoke→cordon ≤ 60 ms, warm ≤ 10 ms, start→cordon ≤ 200 ms.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildCompileCache, COMPILE_CACHE_DIR, repoRoot } from '../scripts/package.ts';
import { startSimulator } from '../sim/index.ts';
import { simulatorEnvironment } from '../sim/lambda-bridge.ts';
import { buildInterruptionBundle } from './storm-harness.ts';
import { median } from './support.ts';

const exec = promisify(execFile);
const NODE = path.join(repoRoot, 'node_modules', '.bin', 'node');
const RUNS = Number(process.env.COLD_RUNS ?? 7);
const AWS_SERVICES = ['ec2', 'eks', 'sts', 'autoscaling'];

interface Probe {
  origin: number;
  readyMs: number;
  importMs: number;
  invokeAt: number;
  doneAt: number;
  warmInvokeAt: number;
  warmDoneAt: number;
  error: string;
}

interface Sample {
  importMs: number;
  readyMs: number;
  coldCordonMs: number;
  warmCordonMs: number;
  startToCordonMs: number;
  awsBeforeCordon: number;
  kubeBeforeCordon: number;
  /** the requests before the cordon, by kind */
  before: string;
}

const itn = (instanceId: string, region: string, n: number) => ({
  version: '0',
  id: `c01dc01d-0000-4000-8000-${String(n).padStart(12, '0')}`,
  'detail-type': 'EC2 Spot Instance Interruption Warning',
  source: 'aws.ec2',
  account: '123456789012',
  time: new Date().toISOString(),
  region,
  resources: [`arn:aws:ec2:${region}:123456789012:instance/${instanceId}`],
  detail: { 'instance-id': instanceId, 'instance-action': 'terminate' },
});

type Variant = { name: string; awsLatencyMs: number; cache: boolean; endpointParam: boolean };

export async function run() {
  const bundle = await buildInterruptionBundle();
  const built = mkdtempSync(path.join(tmpdir(), 'spotguard-task-'));
  cpSync(path.dirname(bundle), built, { recursive: true });
  buildCompileCache(built, 'handler.mjs');
  // the cache is built in one folder and used from another, as from the build machine to /var/task
  const task = mkdtempSync(path.join(tmpdir(), 'spotguard-task-'));
  cpSync(built, task, { recursive: true });
  const cacheDir = path.join(task, COMPILE_CACHE_DIR);
  const variants: Variant[] = [
    { name: 'as packaged, AWS 0 ms', awsLatencyMs: 0, cache: false, endpointParam: false },
    { name: 'as packaged, AWS 20 ms', awsLatencyMs: 20, cache: false, endpointParam: false },
    { name: '+ compile cache, AWS 0 ms', awsLatencyMs: 0, cache: true, endpointParam: false },
    { name: '+ compile cache, AWS 20 ms', awsLatencyMs: 20, cache: true, endpointParam: false },
    {
      name: '+ compile cache + endpoint/CA parameters, AWS 20 ms',
      awsLatencyMs: 20,
      cache: true,
      endpointParam: true,
    },
  ];
  const nodes = variants.length * RUNS * 2 + 2;
  const sim = await startSimulator({
    clusterName: 'cold',
    nodes,
    spotShare: 1,
    podTerminationMs: 100,
    podStartMs: 100,
  });
  sim.store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'spotguard' } });
  const cordonAt = new Map<string, number>();
  sim.store.watch('nodes', (ev) => {
    if (ev.object.spec?.unschedulable && !cordonAt.has(ev.object.metadata.name))
      cordonAt.set(ev.object.metadata.name, Date.now());
  });
  const { SPOTGUARD_KUBECONFIG: _, ...env } = simulatorEnvironment(sim, {
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'WARN',
  });
  const free = sim.aws.instances().filter((i) => i.state === 'running');
  const results: { variant: Variant; samples: Sample[] }[] = [];
  const load = loadavg()[0]!;
  for (const variant of variants) {
    sim.faults.clear();
    if (variant.awsLatencyMs > 0)
      for (const service of AWS_SERVICES) sim.faults.add({ service, latencyMs: variant.awsLatencyMs });
    const samples: Sample[] = [];
    for (let r = 0; r < RUNS; r++) {
      const [a, b] = [free.shift()!, free.shift()!];
      const venv: Record<string, string> = { PATH: process.env.PATH ?? '', ...env };
      if (variant.cache)
        Object.assign(venv, { NODE_COMPILE_CACHE: cacheDir, NODE_COMPILE_CACHE_PORTABLE: '1' });
      if (variant.endpointParam)
        Object.assign(venv, { SPOTGUARD_CLUSTER_ENDPOINT: sim.k8sUrl, SPOTGUARD_CLUSTER_CA: '' });
      sim.awsRequests.reset();
      sim.kubeRequests.reset();
      let kubeAtCordon = -1;
      let awsAtCordon = -1;
      let before = '';
      const stop = sim.store.watch('nodes', (ev) => {
        if (
          kubeAtCordon < 0 &&
          ev.object.metadata.name === a.privateDnsName &&
          ev.object.spec?.unschedulable
        ) {
          kubeAtCordon = sim.kubeRequests.total();
          awsAtCordon = sim.awsRequests.total();
          const counts = { ...sim.awsRequests.snapshot(), ...sim.kubeRequests.byKey() };
          before = Object.entries(counts)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ');
        }
      });
      const { stdout } = await exec(
        NODE,
        [
          path.join(import.meta.dirname, 'cold-probe.mjs'),
          path.join(task, 'handler.mjs'),
          JSON.stringify(itn(a.instanceId, sim.region, r * 2)),
          JSON.stringify(itn(b.instanceId, sim.region, r * 2 + 1)),
        ],
        { env: venv, timeout: 120_000, maxBuffer: 16 * 2 ** 20 },
      );
      if (stop) stop();
      const line = stdout.split('\n').find((l) => l.startsWith('PROBE '));
      const p = JSON.parse(line!.slice(6)) as Probe;
      if (p.error) throw new Error(`cold probe failed: ${p.error}`);
      const cold = cordonAt.get(a.privateDnsName)!;
      const warm = cordonAt.get(b.privateDnsName)!;
      samples.push({
        importMs: p.importMs,
        readyMs: p.readyMs,
        coldCordonMs: cold - p.invokeAt,
        warmCordonMs: warm - p.warmInvokeAt,
        startToCordonMs: cold - p.origin,
        awsBeforeCordon: awsAtCordon,
        kubeBeforeCordon: kubeAtCordon,
        before,
      });
    }
    results.push({ variant, samples });
  }
  await sim.stop();
  return { title: 'Cold path: ITN → cordon from a fresh container', markdown: report(results, load) };
}

const ms = (x: number) => `${x.toFixed(0)} ms`;
const mark = (v: number, target: number) => (v <= target ? '✅' : '❌');

function report(results: { variant: Variant; samples: Sample[] }[], load: number): string {
  const rows = results.map(({ variant, samples }) => {
    const m = (f: (s: Sample) => number) => median(samples.map(f));
    const imp = m((s) => s.importMs);
    const ready = m((s) => s.readyMs);
    const cold = m((s) => s.coldCordonMs);
    const warm = m((s) => s.warmCordonMs);
    const sum = m((s) => s.startToCordonMs);
    return (
      `| ${variant.name} | ${ms(imp)} ${mark(imp, 120)} | ${ms(ready)} | ${ms(cold)} ${mark(cold, 60)} | ` +
      `${ms(warm)} ${mark(warm, 10)} | ${ms(sum)} ${mark(sum, 200)} | ${m((s) => s.awsBeforeCordon)} + ${m((s) => s.kubeBeforeCordon)} |`
    );
  });
  return `Medians of ${RUNS} runs per row (1-min load average at the start: ${load.toFixed(1)}). Each run: a fresh \`node\` (Node 24 from node_modules) imports \`handler.mjs\` from an unzipped task folder (the spotInterruption bundle built with serverless.yml's esbuild options, bench/cold-probe.mjs), invokes the handler with an ITN for a simulated instance, then a second ITN for another one (warm). The Lambda configuration is the deployed one: EKS access from CLUSTER_NAME (DescribeCluster + IAM token), AWS endpoint on loopback. "invoke → cordon" ends when the simulator stored the unschedulable node (the PATCH's acknowledgement follows on loopback in < 1 ms). AWS latency is a fault-injector delay on every EC2, EKS, STS and Auto Scaling call.

| variant | import (target ≤ 120 ms) | process start → handler ready | cold invoke → cordon (≤ 60 ms) | warm invoke → cordon (≤ 10 ms) | process start → cordon (≤ 200 ms) | AWS + Kubernetes requests before the cordon |
|---|---|---|---|---|---|---|
${rows.join('\n')}

Requests before the cordon, first run of each row (the cordon PATCH itself included):
${results.map(({ variant, samples }) => `- ${variant.name}: ${samples[0]?.before}`).join('\n')}
`;
}
