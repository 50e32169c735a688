// B2 (issue 4, issue 7) on the REAL control plane: the PDB-bound drain, spotguard's drainNode vs real
// `kubectl drain`, against kube-apiserver + controller-manager + scheduler 1.20 (scripts/k8s-real,
// started and stopped here) with the kubelets played by test-real/kubelets.ts. Same scenario shape
// as bench/drain.ts: 4 Deployments × 10 replicas on one node under maxUnavailable 1 PDBs (policy/v1beta1,
// all 1.20 serves), a DaemonSet pod, replacements Ready 300 ms after they are bound to the spare node,
// pods removed 1 s after eviction. Every run gets fresh nodes and a fresh namespace.
//   BENCH_DRAIN_RUNS (default 3) runs per tool; the tools alternate who goes first.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import { drainNode } from '../shared/drain/index.ts';
import { kubeClientsFromConfig } from '../shared/k8s/client.ts';
import { resetEvictionVersionCache } from '../shared/k8s/eviction.ts';
import { buildNodeObject } from '../sim/k8s/node-factory.ts';
import { type RunningControlPlane, startControlPlane } from '../test-real/control-plane.ts';
import { startKubelets } from '../test-real/kubelets.ts';
import { median, podTemplate } from './support.ts';

const RUNS = Math.max(1, Number(process.env.BENCH_DRAIN_RUNS ?? 3));
const APPS = ['cart', 'checkout', 'search', 'profile'];
const REPLICAS = 10;
const POD_START_MS = 300;
const POD_TERMINATION_MS = 1000;
const STAMP = Date.now().toString(36);
const run$ = promisify(execFile);

type Tool = 'spotguard' | 'kubectl';

interface Sample {
  wallMs: number;
  /** spotguard: its own count (report.apiRequests); kubectl: round trips in its -v=6 log */
  requests: number;
  byKey: Record<string, number>;
  complete: boolean;
}

interface Clients {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  objects: KubernetesObjectApi;
  kubeconfig: string;
}

export async function run() {
  process.stderr.write('  starting the real control plane (scripts/k8s-real) …\n');
  const plane = await startControlPlane({ quiet: true });
  try {
    return {
      title: 'Drain on the real control plane: B2, spotguard vs kubectl drain',
      markdown: await measureAll(plane),
    };
  } finally {
    await plane.stop();
  }
}

async function measureAll(plane: RunningControlPlane): Promise<string> {
  const kc = new KubeConfig();
  kc.loadFromFile(plane.kubeconfig);
  const c: Clients = {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    objects: KubernetesObjectApi.makeApiClient(kc),
    kubeconfig: plane.kubeconfig,
  };
  // where spotguard keeps its per-node drain Leases
  await c.core.createNamespace({ body: { metadata: { name: 'spotguard' } } });
  const results: Record<Tool, Sample[]> = { spotguard: [], kubectl: [] };
  let k = 0;
  for (let i = 0; i < RUNS; i++) {
    const order: Tool[] = i % 2 === 0 ? ['spotguard', 'kubectl'] : ['kubectl', 'spotguard'];
    for (const tool of order) {
      const sample = await measure(c, tool, k++);
      results[tool].push(sample);
      process.stderr.write(
        `  B2-real ${tool} run ${i + 1}: ${sample.wallMs.toFixed(0)} ms, ${sample.requests} requests${sample.complete ? '' : ' (INCOMPLETE)'}\n`,
      );
    }
  }
  return render(results);
}

function benchNode(name: string, k: number, n: number, unschedulable: boolean): V1Node {
  const node = buildNodeObject({
    name,
    instanceId: `i-0b2${k.toString(16).padStart(6, '0')}0000000${n}`,
    zone: 'us-east-1a',
    region: 'us-east-1',
    instanceType: 'm6i.4xlarge',
    capacityType: 'SPOT',
    nodegroup: 'bench',
    cpu: '64',
    memory: '256Gi',
    maxPods: 250,
  }) as V1Node;
  if (unschedulable) node.spec = { ...node.spec, unschedulable: true };
  return node;
}

async function measure(c: Clients, tool: Tool, k: number): Promise<Sample> {
  const ns = `b2-${STAMP}-${k}`;
  const target = `ip-10-9-${k}-10.ec2.internal`;
  const spare = `ip-10-9-${k}-20.ec2.internal`;
  // the spare is cordoned while the workload starts, so all of it lands on the target
  const kubelets = await startKubelets(c.kc, {
    nodeObjects: [benchNode(target, k, 1, false), benchNode(spare, k, 2, true)],
    startMs: POD_START_MS,
    termMs: POD_TERMINATION_MS,
  });
  const home = mkdtempSync(join(tmpdir(), 'spotguard-bench-real-'));
  try {
    await setUp(c, ns, target, spare);
    const start = performance.now();
    let sample: Omit<Sample, 'wallMs'>;
    if (tool === 'spotguard') {
      resetEvictionVersionCache(); // a cold start discovers the eviction version, as kubectl discovers
      const report = await drainNode(kubeClientsFromConfig(c.kc), target, {
        reason: 'bench',
        holder: 'bench',
        timeoutMs: 300_000,
        // 1.20 refuses the Node events (eventTime in namespace default): logged, not fatal; keep quiet
        logger: new Logger({ serviceName: 'bench-drain-real', logLevel: 'ERROR' }),
      });
      sample = { requests: report.apiRequests, byKey: {}, complete: report.complete };
    } else {
      const { stderr } = await run$(
        'kubectl',
        [
          'drain',
          target,
          '--ignore-daemonsets',
          '--delete-emptydir-data',
          '--force',
          '--timeout=300s',
          '--kubeconfig',
          c.kubeconfig,
          '-v=6',
        ],
        { env: { ...process.env, HOME: home }, maxBuffer: 64 << 20 },
      );
      const trips = stderr
        .split('\n')
        .map((line) => /round_trippers\.go:\d+\] (\w+) https?:\/\/[^/]+(\S*?)(\?\S*)? \d{3}/.exec(line))
        .filter((m): m is RegExpExecArray => m !== null);
      const byKey: Record<string, number> = {};
      for (const [, verb, path] of trips) {
        const key = `${verb} ${requestKind(path!)}`;
        byKey[key] = (byKey[key] ?? 0) + 1;
      }
      sample = { requests: trips.length, byKey, complete: (await podsOn(c, ns, target)).length === 0 };
    }
    const wallMs = performance.now() - start;
    if (tool === 'spotguard') sample.complete &&= (await podsOn(c, ns, target)).length === 0;
    return { wallMs, ...sample };
  } finally {
    await tearDown(c, ns).catch((err) => process.stderr.write(`  cleanup of ${ns}: ${err}\n`));
    await kubelets.stop({ deleteNodes: true });
    rmSync(home, { recursive: true, force: true });
  }
}

/** /api/v1/namespaces/x/pods/y/eviction → pods/eviction; discovery paths → discovery. */
function requestKind(path: string): string {
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'api' ? parts.length <= 2 : parts.length <= 3) return 'discovery';
  const rest = parts.slice(parts[0] === 'api' ? 2 : 3);
  const i = rest[0] === 'namespaces' && rest.length > 2 ? 2 : 0;
  return [rest[i], rest[i + 2]].filter(Boolean).join('/');
}

const isRunning = (p: V1Pod) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp;
const isDaemon = (p: V1Pod) => (p.metadata?.ownerReferences ?? []).some((o) => o.kind === 'DaemonSet');

/** Non-DaemonSet pods of the namespace still on the node (not terminating). */
async function podsOn(c: Clients, ns: string, node: string): Promise<V1Pod[]> {
  const pods = await c.core.listNamespacedPod({ namespace: ns, fieldSelector: `spec.nodeName=${node}` });
  return pods.items.filter((p) => !p.metadata?.deletionTimestamp && !isDaemon(p));
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench setup: ${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function setUp(c: Clients, ns: string, target: string, spare: string) {
  await c.core.createNamespace({ body: { metadata: { name: ns } } });
  await c.apps.createNamespacedDaemonSet({
    namespace: ns,
    body: {
      metadata: { name: 'node-agent', namespace: ns },
      spec: { selector: { matchLabels: { app: 'node-agent' } }, template: podTemplate('node-agent') },
    },
  });
  for (const app of APPS) {
    await c.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: app, namespace: ns },
        spec: { replicas: REPLICAS, selector: { matchLabels: { app } }, template: podTemplate(app) },
      },
    });
  }
  const running = async (node: string) =>
    (await c.core.listNamespacedPod({ namespace: ns, fieldSelector: `spec.nodeName=${node}` })).items.filter(
      isRunning,
    ).length;
  await waitFor(`${APPS.length * REPLICAS + 1} pods running on ${target}`, async () => {
    return (await running(target)) === APPS.length * REPLICAS + 1;
  });
  await waitFor(`the DaemonSet pod running on ${spare}`, async () => (await running(spare)) === 1);
  for (const app of APPS) {
    await c.objects.create({
      apiVersion: 'policy/v1beta1',
      kind: 'PodDisruptionBudget',
      metadata: { name: `${app}-pdb`, namespace: ns },
      spec: { selector: { matchLabels: { app } }, maxUnavailable: 1 },
    });
  }
  // the disruption controller has counted every budget: one disruption allowed each
  await waitFor('the PDBs to allow one disruption each', async () => {
    const statuses = await Promise.all(
      APPS.map(async (app) => {
        const pdb = (await c.objects.read({
          apiVersion: 'policy/v1beta1',
          kind: 'PodDisruptionBudget',
          metadata: { name: `${app}-pdb`, namespace: ns },
        })) as { status?: { currentHealthy?: number; disruptionsAllowed?: number } };
        return pdb.status;
      }),
    );
    return statuses.every((s) => s?.currentHealthy === REPLICAS && s.disruptionsAllowed === 1);
  });
  await c.core.patchNode(
    { name: spare, body: { spec: { unschedulable: null } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/** Deletes the namespace and waits until it is gone (its pods removed by the kubelet player). */
async function tearDown(c: Clients, ns: string) {
  await c.core.deleteNamespace({ name: ns });
  await waitFor(
    `namespace ${ns} to be gone`,
    () =>
      c.core.readNamespace({ name: ns }).then(
        () => false,
        () => true,
      ),
    120_000,
  );
}

const ms = (x: number) => `${x.toFixed(0)} ms`;
const count = (x: number) => String(Math.round(x));

function render(results: Record<Tool, Sample[]>): string {
  const sg = results.spotguard;
  const kc = results.kubectl;
  const row = (label: string, a: number[], b: number[], fmt: (x: number) => string, target?: number) => {
    const ratio = median(a) / median(b);
    return `| ${label} | ${fmt(median(a))} (${a.map(fmt).join(', ')}) | ${fmt(median(b))} (${b.map(fmt).join(', ')}) | ${ratio.toFixed(2)}× | ${target !== undefined ? `≤ ${target}× ${ratio <= target ? '✅' : '❌'}` : ''} |`;
  };
  const allComplete = [...sg, ...kc].every((s) => s.complete);
  const breakdown = Object.entries(kc[0]!.byKey)
    .sort((a, b) => b[1] - a[1])
    .map(([key, n]) => `${key} ${n}`)
    .join(', ');
  return [
    `Medians of ${RUNS} runs (each value in brackets) on a real Kubernetes 1.20.2 control plane (kube-apiserver, kube-controller-manager, kube-scheduler, etcd on loopback, started by the bench through \`test-real/control-plane.ts\`); kubelets played by \`test-real/kubelets.ts\` (bound pods Ready after ${POD_START_MS} ms, terminating pods removed after ${POD_TERMINATION_MS / 1000} s). Scenario as B2 on the simulator: 4 Deployments × 10 replicas on one node, each under a \`maxUnavailable: 1\` PDB (policy/v1beta1: the only version 1.20 serves, so spotguard uses its eviction fallback), a DaemonSet pod, an empty spare node uncordoned just before the drain. Each run on fresh nodes and a fresh namespace; the tools alternate who goes first. kubectl is the real binary: \`kubectl drain --ignore-daemonsets --delete-emptydir-data --force -v=6\` with a fresh HOME (no discovery cache). ${allComplete ? 'Every drain completed.' : '**Some drains did not complete — see runs.**'}`,
    '',
    '| | spotguard | kubectl drain | ratio | target |',
    '|---|---|---|---|---|',
    row(
      'B2 wall time on the real control plane',
      sg.map((s) => s.wallMs),
      kc.map((s) => s.wallMs),
      ms,
      0.5,
    ),
    row(
      'B2 API requests (see below)',
      sg.map((s) => s.requests),
      kc.map((s) => s.requests),
      count,
    ),
    '',
    "Request counts are not from the server (an apiserver audit log would be too heavy here): spotguard's is its own count (`DrainReport.apiRequests`, a watch counts once, Node events included), kubectl's is the round trips in its `-v=6` log, discovery included. " +
      `kubectl, first run: ${breakdown}.`,
    '',
    "Caveat: 2 shared cores run the control plane, the kubelet player, the bench and kubectl together, so wall times carry the machine's noise; the simulator's B2 (section above) is the controlled comparison. The ratio is what counts here: both tools drain the same workload on the same server.",
  ].join('\n');
}
