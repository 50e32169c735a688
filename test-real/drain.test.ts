// spotguard's drain engine (shared/drain) against a real Kubernetes 1.20 control plane, side by side
// with the simulator: the same workload on the node, the same drainNode call, and the outcome must be
// the same — and right. On 1.20 the engine has to find policy/v1beta1 for PDBs and evictions itself.
// Run with `npm run test:real-k8s` (DEBUG_DRAIN=1 prints the engine's log and progress).

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uncordonNode } from '../shared/drain/cordon.ts';
import { drainNode } from '../shared/drain/executor.ts';
import type { DrainOptions } from '../shared/drain/types.ts';
import { kubeClientsFromConfig } from '../shared/k8s/client.ts';
import {
  type Cluster,
  type ClusterOptions,
  connectRealCluster,
  DEFAULT_CLUSTER,
  startSimCluster,
} from './clusters.ts';
import {
  createDaemonSet,
  createDeployment,
  createNamespace,
  createPdb,
  createPod,
  deleteNamespaces,
  isReady,
  listPods,
  readyPods,
  settledPdbStatus,
  withNodes,
} from './scenarios.ts';

// nodes 20..25: distinct from the differential suite's, so the two files never share node names
const CLUSTER: ClusterOptions = { ...DEFAULT_CLUSTER, firstIndex: 20 };
// unique per run, so a long-lived development cluster can run the file again
const NAMESPACE_PREFIX = `drain-${Date.now().toString(36)}-`;
const SIM_VS_REAL = 'simulator (received) vs real kube-apiserver 1.20 (expected)';

let sim: Cluster;
let real: Cluster;

beforeAll(async () => {
  [sim, real] = await Promise.all([startSimCluster(CLUSTER), connectRealCluster(CLUSTER)]);
  // where spotguard keeps its per-node drain Leases (as in a deployment)
  await Promise.all([sim, real].map((c) => createNamespace(c, 'spotguard').catch(ignoreAlreadyExists)));
});

const ignoreAlreadyExists = (err: { code?: number }) => {
  if (err.code !== 409) throw err;
};

afterAll(async () => {
  await Promise.all([sim, real].map((c) => c && deleteNamespaces(c, NAMESPACE_PREFIX)));
  await Promise.all([sim?.stop(), real?.stop()]);
}, 90_000);

/** web-5d9c7b8f6d-x2x4k → web, agent-7kq2p → agent: pod names without their random suffixes. */
const workloadOf = (podName: string) => podName.split('-')[0]!;

/**
 * On the first node: a 4-replica Deployment under a maxUnavailable=1 PDB, a bare pod and a DaemonSet
 * pod (the other nodes are cordoned while they start, so everything lands there). Then drains it
 * like a spot interruption would and reports what a test can compare.
 */
async function drainLoadedNode(c: Cluster, ns: string) {
  const target = c.nodeNames[0]!;
  await createNamespace(c, ns);
  await withNodes(
    c,
    (_name, i) => (i === 0 ? undefined : { unschedulable: true }),
    async () => {
      await createDeployment(c, ns, 'web', 4);
      await createPod(c, ns, 'bare', { nodeName: target });
      await createDaemonSet(c, ns, 'agent');
      await readyPods(c, ns, 'web', 4);
      await readyPods(c, ns, 'bare', 1);
      await readyPods(c, ns, 'agent', c.nodeNames.length);
    },
  );
  await createPdb(c, ns, 'web-pdb', 'web', { maxUnavailable: 1 });
  await settledPdbStatus(c, ns, 'web-pdb', 4);

  const k8s = kubeClientsFromConfig(c.kc);
  const options: DrainOptions = {
    reason: 'spot-interruption',
    holder: `differential-${c.name}`,
    deadline: new Date(Date.now() + 120_000),
    waitForVolumeDetach: false,
  };
  if (process.env.DEBUG_DRAIN) {
    options.logger = new Logger({ serviceName: `drain-${c.name}`, logLevel: 'DEBUG' });
    options.onProgress = (progress) => console.log(c.name, progress);
  }
  const report = await drainNode(k8s, target, options);
  const node = await c.core.readNode({ name: target });
  const podsLeft = (await listPods(c, ns)).filter(
    (p) => p.spec?.nodeName === target && !p.metadata?.deletionTimestamp,
  );
  const web = await listPods(c, ns, 'web');
  const uncordon = await uncordonNode(k8s, target, { onlyIfCordonedBy: 'spotguard' });
  const nodeAfterUncordon = await c.core.readNode({ name: target });
  return {
    complete: report.complete,
    deadlineMissed: report.deadlineMissed,
    // the engine drains every pod on the node; the comparison looks at this scenario's
    outcomes: report.pods
      .filter((p) => p.namespace === ns)
      .map((p) => `${workloadOf(p.name)}: ${p.outcome}${p.outcome === 'skipped' ? ` (${p.reason})` : ''}`)
      .sort(),
    nodeAfterDrain: {
      unschedulable: node.spec?.unschedulable,
      taints: (node.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`),
    },
    podsLeftOnNode: podsLeft.map((p) => workloadOf(p.metadata!.name!)).sort(),
    webReadyElsewhere: web.filter((p) => isReady(p) && p.spec?.nodeName !== target).length,
    uncordon: { changed: uncordon.changed, leftCordoned: uncordon.leftCordoned },
    nodeAfterUncordon: {
      unschedulable: nodeAfterUncordon.spec?.unschedulable ?? false,
      taints: nodeAfterUncordon.spec?.taints ?? [],
    },
  };
}

describe('drainNode on a node with a PDB-guarded Deployment, a bare pod and a DaemonSet pod', () => {
  let run: {
    sim: Awaited<ReturnType<typeof drainLoadedNode>>;
    real: Awaited<ReturnType<typeof drainLoadedNode>>;
  };
  const ns = `${NAMESPACE_PREFIX}spotguard`;
  beforeAll(async () => {
    const [simResult, realResult] = await Promise.all([drainLoadedNode(sim, ns), drainLoadedNode(real, ns)]);
    run = { sim: simResult, real: realResult };
  }, 180_000);
  // its workload must not show up in the next scenario's drain
  afterAll(() => Promise.all([sim, real].map((c) => deleteNamespaces(c, ns))), 90_000);

  it('on the real control plane: Deployment pods evicted through the PDB, bare and DaemonSet pods skipped (incomplete, as kubectl)', () => {
    expect(run.real).toMatchObject({
      // as kubectl drain without --force: a bare pod left behind means the drain is not complete
      complete: false,
      deadlineMissed: false,
      podsLeftOnNode: ['agent', 'bare'],
      webReadyElsewhere: 4,
    });
    expect(run.real.outcomes).toEqual([
      'agent: skipped (daemonset: managed by DaemonSet agent: it would be recreated here)',
      expect.stringMatching(/^bare: skipped \(unmanaged/),
      'web: evicted',
      'web: evicted',
      'web: evicted',
      'web: evicted',
    ]);
  });

  it('on the real control plane: cordon and spotguard taint set, then undone by uncordon', () => {
    expect(run.real.nodeAfterDrain).toEqual({
      unschedulable: true,
      taints: ['spotguard.io/spot-interruption:NoSchedule'],
    });
    expect(run.real.uncordon).toEqual({ changed: true, leftCordoned: false });
    expect(run.real.nodeAfterUncordon).toEqual({ unschedulable: false, taints: [] });
  });

  it('report, node state and pods left agree between the simulator and the real control plane', () => {
    expect(run.sim, SIM_VS_REAL).toEqual(run.real);
  });
});

interface KubectlRun {
  exitCode: number;
  /** distinct output lines (stdout and stderr), with pod name suffixes and the namespace replaced */
  lines: string[];
}

/** Runs kubectl against the cluster; never throws on a non-zero exit. */
async function kubectl(c: Cluster, ns: string, args: string[]): Promise<KubectlRun> {
  const run = promisify(execFile);
  let exitCode = 0;
  let output: string;
  try {
    const { stdout, stderr } = await run('kubectl', ['--kubeconfig', c.kubeconfigPath, ...args], {
      timeout: 90_000,
    });
    output = stdout + stderr;
  } catch (err) {
    const failure = err as { code?: number; stdout?: string; stderr?: string };
    exitCode = typeof failure.code === 'number' ? failure.code : -1;
    output = (failure.stdout ?? '') + (failure.stderr ?? '');
  }
  const lines = output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) =>
      line
        .replaceAll(ns, '<ns>')
        .replace(/\b(web|agent)-[a-z0-9]+(-[a-z0-9]+)?\b/g, '$1-*')
        .replace(/\(will retry after \d+s\)/, '(will retry after Ns)'),
    )
    // kubectl joins its warnings in map order, which Go randomises
    .map((line) =>
      line.startsWith('Warning: ') ? `Warning: ${line.slice(9).split('; ').sort().join('; ')}` : line,
    );
  return { exitCode, lines: [...new Set(lines)].sort() };
}

/**
 * kubectl drain (v1.32, a real client) on a node with a 3-replica Deployment under a maxUnavailable=1
 * PDB, a DaemonSet pod and a bare pod: first without --force (refused), then with it.
 */
async function kubectlDrain(c: Cluster, ns: string) {
  const target = c.nodeNames[1]!;
  await createNamespace(c, ns);
  await withNodes(
    c,
    (_name, i) => (i === 1 ? undefined : { unschedulable: true }),
    async () => {
      await createDeployment(c, ns, 'web', 3);
      await createPod(c, ns, 'bare', { nodeName: target });
      await createDaemonSet(c, ns, 'agent');
      await readyPods(c, ns, 'web', 3);
      await readyPods(c, ns, 'bare', 1);
      await readyPods(c, ns, 'agent', c.nodeNames.length);
    },
  );
  await createPdb(c, ns, 'web-pdb', 'web', { maxUnavailable: 1 });
  await settledPdbStatus(c, ns, 'web-pdb', 3);
  const drain = ['drain', target, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=60s'];
  const withoutForce = await kubectl(c, ns, drain);
  const withForce = await kubectl(c, ns, [...drain, '--force']);
  const left = (await listPods(c, ns)).filter(
    (p) => p.spec?.nodeName === target && !p.metadata?.deletionTimestamp,
  );
  await kubectl(c, ns, ['uncordon', target]);
  return {
    withoutForce,
    withForce,
    podsLeftOnNode: left.map((p) => workloadOf(p.metadata!.name!)).sort(),
  };
}

describe('kubectl drain (v1.32) on a node with a PDB-guarded Deployment, a DaemonSet pod and a bare pod', () => {
  let run: { sim: Awaited<ReturnType<typeof kubectlDrain>>; real: Awaited<ReturnType<typeof kubectlDrain>> };
  beforeAll(async () => {
    const ns = `${NAMESPACE_PREFIX}kubectl`;
    const [simResult, realResult] = await Promise.all([kubectlDrain(sim, ns), kubectlDrain(real, ns)]);
    run = { sim: simResult, real: realResult };
  }, 180_000);

  it('on the real control plane: refused without --force, done with it, PDB 429s retried', () => {
    expect(run.real.withoutForce.exitCode).toBe(1);
    expect(run.real.withForce.exitCode).toBe(0);
    expect(run.real.withForce.lines).toContain(
      'error when evicting pods/"web-*" -n "<ns>" (will retry after Ns): Cannot evict pod as it would violate the pod\'s disruption budget.',
    );
    expect(run.real.podsLeftOnNode).toEqual(['agent']);
  });

  it('exit codes and output lines (evictions, PDB retries, warnings) agree between simulator and real', () => {
    expect(run.sim, SIM_VS_REAL).toEqual(run.real);
  });

  // A 1.20.2 server (with its version set) sends no deprecation warning for policy/v1beta1 Eviction:
  // that API counts as deprecated only from 1.22. Neither side must print one.
  it('neither side prints a policy/v1beta1 deprecation warning (1.20 does not deprecate it)', () => {
    const deprecation = (lines: string[]) =>
      lines.filter((l) => /policy\/v1beta1 Eviction is deprecated/.test(l));
    expect(deprecation(run.real.withForce.lines)).toEqual([]);
    expect(deprecation(run.sim.withForce.lines), SIM_VS_REAL).toEqual([]);
  });
});
