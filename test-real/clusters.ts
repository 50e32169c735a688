// The two clusters of the differential suite behind one interface: the real 1.20 control plane
// (started by test-real/run.ts, kubelets played by kubelets.ts) and the simulator (its API server,
// controllers and kubelets on loopback). Scenarios only see a Cluster, so the same function runs on
// both and the results can be compared.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi, type V1Node } from '@kubernetes/client-node';
import { kubeconfigYaml, startKubeApi } from '../sim/k8s/api/server.ts';
import { startControllers } from '../sim/k8s/controllers/index.ts';
import { Store } from '../sim/k8s/store.ts';
import { eksNode, startKubelets } from './kubelets.ts';

export interface Cluster {
  readonly name: 'simulator' | 'real';
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  /** generic client: the way to reach policy/v1beta1, which client-node has no typed API for */
  readonly objects: KubernetesObjectApi;
  /** node names in index order; zones round-robin a, b, c */
  readonly nodeNames: string[];
  /** a kubeconfig file for command-line clients (kubectl) */
  readonly kubeconfigPath: string;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  nodes: number;
  /** index of the first node (eksNode(i)): test files use distinct ranges so names never collide */
  firstIndex?: number;
  /** bound pod → Running/Ready */
  podStartMs: number;
  /** upper bound for a terminating pod's removal */
  podTerminationMs: number;
}

// podStartMs leaves room between back-to-back evictions and a replacement pod becoming Ready, so
// "the next eviction is refused" does not race the ReplicaSet on a slow machine
export const DEFAULT_CLUSTER: ClusterOptions = { nodes: 6, podStartMs: 1000, podTerminationMs: 1000 };

function clients(kc: KubeConfig) {
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    objects: KubernetesObjectApi.makeApiClient(kc),
  };
}

/** The real control plane that test-real/run.ts started; fails with a clear message without it. */
export async function connectRealCluster(opts: ClusterOptions = DEFAULT_CLUSTER): Promise<Cluster> {
  const path = process.env.REAL_K8S_KUBECONFIG;
  if (!path) {
    throw new Error('REAL_K8S_KUBECONFIG is not set: run this suite through `npm run test:real-k8s`');
  }
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  const kubelets = await startKubelets(kc, {
    nodes: opts.nodes,
    firstIndex: opts.firstIndex ?? 0,
    startMs: opts.podStartMs,
    termMs: opts.podTerminationMs,
  });
  return {
    name: 'real',
    ...clients(kc),
    nodeNames: kubelets.nodeNames,
    kubeconfigPath: path,
    stop: () => kubelets.stop({ deleteNodes: true }),
  };
}

/** Registers the same EKS-like nodes the kubelet player registers on the real side. */
export async function registerNodes(core: CoreV1Api, count: number, firstIndex = 0): Promise<string[]> {
  const nodes: V1Node[] = Array.from({ length: count }, (_, i) => eksNode(firstIndex + i));
  for (const node of nodes) await core.createNode({ body: node });
  return nodes.map((n) => n.metadata!.name!);
}

/**
 * The simulator as a 1.20 server: PDBs and evictions in policy/v1beta1 only. Its own controllers
 * play scheduler, controller-manager and kubelets; the nodes are the ones the real side registers.
 */
export async function startSimCluster(opts: ClusterOptions = DEFAULT_CLUSTER): Promise<Cluster> {
  const store = new Store();
  const api = await startKubeApi({ store, port: 0, servePolicyV1: false });
  const controllers = startControllers(store, {
    podStartMs: opts.podStartMs,
    podTerminationMs: opts.podTerminationMs,
  });
  const kubeconfigDir = mkdtempSync(join(tmpdir(), 'spotguard-sim-kubeconfig-'));
  const kubeconfigPath = join(kubeconfigDir, 'kubeconfig');
  writeFileSync(kubeconfigPath, kubeconfigYaml(api.url));
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  // client-node refuses plain http:// servers unless TLS verification is marked as skipped
  kc.clusters = kc.clusters.map((cluster) => ({ ...cluster, skipTLSVerify: true }));
  const cluster = clients(kc);
  const nodeNames = await registerNodes(cluster.core, opts.nodes, opts.firstIndex ?? 0);
  return {
    name: 'simulator',
    ...cluster,
    nodeNames,
    kubeconfigPath,
    async stop() {
      controllers.stop();
      await api.stop();
      rmSync(kubeconfigDir, { recursive: true, force: true });
    },
  };
}
