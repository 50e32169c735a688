// spotguard's drain engine (shared/drain) against a real Kubernetes 1.20 control plane, side by side
// with the simulator: the same workload on the node, the same drainNode call, and the outcome must be
// the same — and right. On 1.20 the engine has to find policy/v1beta1 for PDBs and evictions itself.
// Run with `npm run test:real-k8s` (DEBUG_DRAIN=1 prints the engine's log and progress).
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
  beforeAll(async () => {
    const ns = `${NAMESPACE_PREFIX}1`;
    const [simResult, realResult] = await Promise.all([drainLoadedNode(sim, ns), drainLoadedNode(real, ns)]);
    run = { sim: simResult, real: realResult };
  }, 180_000);

  it('on the real control plane: Deployment pods evicted through the PDB, bare and DaemonSet pods skipped', () => {
    expect(run.real).toMatchObject({
      complete: true,
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
