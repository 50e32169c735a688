// An interruption storm against the simulator, shared by `npm run bench -- storm` and test/perf:
// a cluster with a mixed workload, ITNs for nodes in two zones spread over a window, each handed
// to its own simulated Lambda container (a fresh module instance of the packaged bundle, hosted by
// bench/storm-host.ts processes), with the simulator's API limits and AWS throttling on.
// Times come from the simulator's store (when the node became unschedulable, when a pod was gone).
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { build } from 'esbuild';
import { esbuildOptions, repoRoot } from '../scripts/package.ts';
import type { ThrottleRates } from '../sim/aws/throttle.ts';
import { type EventBridgeEvent, type Simulator, startSimulator } from '../sim/index.ts';
import type { InflightLimits } from '../sim/k8s/api/inflight.ts';
import type { KObject } from '../sim/k8s/store.ts';
import { simulatorEnvironment } from '../sim/lambda-bridge.ts';
import { stormWorkloads } from './storm-workloads.ts';

export interface StormOptions {
  nodes: number;
  /** Deployments with one replica per node (half of them under a maxUnavailable 25% PDB) */
  deployments: number;
  /** StatefulSet replicas on zonal volumes, per zone (one StatefulSet per zone) */
  statefulPerZone: number;
  itns: number;
  spreadMs: number;
  /** processes hosting the containers */
  hosts: number;
  inflight?: InflightLimits;
  awsThrottle?: ThrottleRates | false;
  /** Lambda timeout given to each invocation (the function's, 150 s) */
  timeoutMs?: number;
  /** the bundle to load (default: functions/spot-interruption built as serverless.yml says) */
  bundle?: string;
}

export interface NodeOutcome {
  node: string;
  instanceId: string;
  zone: string;
  eventAt: number;
  deadlineAt: number;
  cordonAt?: number;
  evictable: number;
  goneBeforeDeadline: number;
  endedAt?: number;
  error?: string;
  outcome?: string;
}

export interface StormResult {
  nodes: NodeOutcome[];
  kubeRequests: number;
  kubeRequestsByKey: Record<string, number>;
  peakInflight: number;
  rejected429: number;
  awsRequests: number;
  awsByAction: Record<string, number>;
  awsThrottled: number;
  importMs: number[];
  setupMs: number;
  pods: number;
  /** the simulator's event-loop delay during the storm (its API server, controllers and kubelets share it) */
  simLoopDelayMs: { p50: number; p99: number; max: number };
}

const ZONE_SUFFIXES = ['a', 'b', 'c'];

/** The spotInterruption bundle built with serverless.yml's esbuild options (what the zip holds). */
export async function buildInterruptionBundle(): Promise<string> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'spotguard-storm-'));
  await build({
    ...esbuildOptions(),
    entryPoints: [path.join(repoRoot, 'functions', 'spot-interruption', 'handler.ts')],
    outdir,
    outExtension: { '.js': '.mjs' },
    logLevel: 'error',
  });
  return path.join(outdir, 'handler.mjs');
}

interface Host {
  child: ChildProcess;
  containers: number;
}

function startHosts(count: number, perHost: number[], env: Record<string, string>, bundle: string) {
  const hosts: Host[] = [];
  const loaded: Promise<number[]>[] = [];
  for (let h = 0; h < count; h++) {
    const child = fork(path.join(import.meta.dirname, 'storm-host.ts'), [], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      execArgv: ['--max-old-space-size=4096'],
    });
    hosts.push({ child, containers: perHost[h]! });
    loaded.push(
      new Promise((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`storm host exited with ${code} while loading`)));
        child.on('message', (m: { kind: string; importMs: number[] }) => {
          if (m.kind === 'loaded') resolve(m.importMs);
        });
      }),
    );
    child.send({ kind: 'load', bundle, count: perHost[h] });
  }
  return { hosts, loaded: Promise.all(loaded).then((xs) => xs.flat()) };
}

const isDaemon = (pod: KObject) => pod.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet') ?? false;

export async function runStorm(opts: StormOptions): Promise<StormResult> {
  const t0 = performance.now();
  const bundle = opts.bundle ?? (await buildInterruptionBundle());
  const region = 'us-east-1';
  const zones = ZONE_SUFFIXES.map((z) => `${region}${z}`);
  const sim: Simulator = await startSimulator({
    clusterName: 'storm',
    region,
    zones,
    nodes: opts.nodes,
    spotShare: 0.9,
    scenario: { workloads: stormWorkloads(opts, zones) as never },
    ...(opts.inflight ? { inflight: opts.inflight } : {}),
    ...(opts.awsThrottle !== undefined ? { awsThrottle: opts.awsThrottle } : {}),
  });
  const perHost = Array.from(
    { length: opts.hosts },
    (_, h) => Math.floor(opts.itns / opts.hosts) + (h < opts.itns % opts.hosts ? 1 : 0),
  );
  // Lambda's configuration: EKS access from CLUSTER_NAME (DescribeCluster + IAM token), not a kubeconfig
  const { SPOTGUARD_KUBECONFIG: _, ...env } = simulatorEnvironment(sim, {
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'WARN',
  });
  const { hosts, loaded } = startHosts(opts.hosts, perHost, env, bundle);
  try {
    const expected = opts.nodes * opts.deployments + opts.nodes + 2 * opts.statefulPerZone;
    await sim.waitFor(
      () => sim.store.list('pods').filter((p) => p.status?.phase === 'Running').length >= expected,
      300_000,
      `${expected} pods running`,
    );
    const importMs = await loaded;
    const setupMs = performance.now() - t0;
    const result = await interrupt(sim, opts, zones, hosts);
    return { ...result, importMs, setupMs, pods: expected };
  } finally {
    for (const h of hosts) h.child.kill();
    await sim.stop();
  }
}

async function interrupt(sim: Simulator, opts: StormOptions, zones: string[], hosts: Host[]) {
  const victims = sim.aws
    .instances()
    .filter((i) => i.capacityType === 'SPOT' && i.state === 'running' && zones.slice(0, 2).includes(i.zone))
    // this cluster's nodes only: the account also holds a neighbour cluster's groups
    .filter((i) => sim.store.get('nodes', undefined, i.privateDnsName))
    .sort((a, b) =>
      a.zone === b.zone ? a.instanceId.localeCompare(b.instanceId) : a.zone < b.zone ? -1 : 1,
    );
  // alternate zones: i-th ITN from zone a or b
  const byZone = zones.slice(0, 2).map((z) => victims.filter((v) => v.zone === z));
  const chosen = Array.from({ length: opts.itns }, (_, i) => byZone[i % 2]![Math.floor(i / 2)]!);
  if (chosen.some((c) => !c)) throw new Error(`not enough spot nodes in two zones for ${opts.itns} ITNs`);
  const outcomes = new Map<string, NodeOutcome>();
  const podsOf = new Map<string, Set<string>>();
  const goneAt = new Map<string, number>();
  const stopWatch = sim.store.watch('*', (ev) => {
    if (ev.resource === 'nodes' && ev.object.spec?.unschedulable) {
      const o = outcomes.get(ev.object.metadata.name);
      if (o && o.cordonAt === undefined) o.cordonAt = Date.now();
    } else if (ev.resource === 'pods' && ev.type === 'DELETED') {
      goneAt.set(`${ev.object.metadata.namespace}/${ev.object.metadata.name}`, Date.now());
    }
  });
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  sim.kubeRequests.reset();
  sim.kubeInflight.reset();
  sim.awsRequests.reset();
  const throttledBefore = [...sim.awsThrottled.values()].reduce((a, b) => a + b, 0);
  const slots = hosts.flatMap((h, hi) => Array.from({ length: h.containers }, (_, c) => ({ host: hi, c })));
  let next = 0;
  let finished = 0;
  let allDone!: () => void;
  const done = new Promise<void>((r) => {
    allDone = r;
  });
  const byContainer = new Map<string, NodeOutcome>();
  for (const [hi, h] of hosts.entries()) {
    h.child.on(
      'message',
      (m: { kind: string; container: number; endedAt: number; error?: string; outcome?: string }) => {
        if (m.kind !== 'done') return;
        const o = byContainer.get(`${hi}/${m.container}`)!;
        o.endedAt = m.endedAt;
        if (m.error) o.error = m.error;
        if (m.outcome) o.outcome = m.outcome;
        if (++finished === opts.itns) allDone();
      },
    );
  }
  const unsubscribe = sim.events.subscribe((event: EventBridgeEvent) => {
    if (event['detail-type'] !== 'EC2 Spot Instance Interruption Warning') return;
    const instanceId = (event.detail as { 'instance-id': string })['instance-id'];
    const instance = sim.aws.instance(instanceId)!;
    const node = instance.privateDnsName;
    const slot = slots[next++]!;
    const o: NodeOutcome = {
      node,
      instanceId,
      zone: instance.zone,
      eventAt: Date.now(),
      deadlineAt: Date.now() + sim.aws.interruptionNoticeMs,
      evictable: 0,
      goneBeforeDeadline: 0,
    };
    const pods = sim.store.list('pods').filter((p) => p.spec?.nodeName === node && !isDaemon(p));
    podsOf.set(node, new Set(pods.map((p) => `${p.metadata.namespace}/${p.metadata.name}`)));
    o.evictable = pods.length;
    outcomes.set(node, o);
    byContainer.set(`${slot.host}/${slot.c}`, o);
    hosts[slot.host]!.child.send({
      kind: 'invoke',
      container: slot.c,
      event,
      timeoutMs: opts.timeoutMs ?? 150_000,
    });
  });
  const timers = chosen.map((v, i) =>
    setTimeout(() => sim.aws.interruptSpot(v.instanceId), (i * opts.spreadMs) / Math.max(1, opts.itns - 1)),
  );
  const limit = setTimeout(allDone, sim.aws.interruptionNoticeMs + opts.spreadMs + 10_000);
  await done;
  clearTimeout(limit);
  for (const t of timers) clearTimeout(t);
  unsubscribe();
  loop.disable();
  if (stopWatch) stopWatch();
  for (const o of outcomes.values()) {
    for (const key of podsOf.get(o.node) ?? []) {
      const at = goneAt.get(key);
      if (at !== undefined && at < o.deadlineAt) o.goneBeforeDeadline++;
    }
  }
  const throttledNow = [...sim.awsThrottled.values()].reduce((a, b) => a + b, 0);
  return {
    nodes: [...outcomes.values()],
    kubeRequests: sim.kubeRequests.total(),
    kubeRequestsByKey: sim.kubeRequests.byKey(),
    peakInflight: sim.kubeInflight.peak,
    rejected429: sim.kubeInflight.rejected,
    awsRequests: sim.awsRequests.total(),
    awsByAction: sim.awsRequests.snapshot(),
    awsThrottled: throttledNow - throttledBefore,
    simLoopDelayMs: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
  };
}
