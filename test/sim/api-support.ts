// Shared setup for the API server tests: a Store + startKubeApi on a random port, a client-node
// KubeConfig and a kubeconfig file for kubectl, object builders, and a stand-in kubelet that
// removes pods once they get a deletionTimestamp (the real kubelet lives in sim/k8s/controllers).
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, KubeConfig } from '@kubernetes/client-node';
import { FaultInjector } from '../../sim/faults.ts';
import { type KubeApi, type KubeApiOptions, kubeconfigYaml, startKubeApi } from '../../sim/k8s/api/server.ts';
import { type KObject, Store } from '../../sim/k8s/store.ts';

export interface TestCluster {
  store: Store;
  api: KubeApi;
  faults: FaultInjector;
  kc: KubeConfig;
  kubeconfigPath: string;
  /** kubectl's leading arguments (kubeconfig and a private cache dir), for spawning it yourself */
  kubectlArgs: string[];
  /** runs kubectl against the cluster; never throws, resolves with exit code and output */
  kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

export async function startTestCluster(
  options: Partial<KubeApiOptions> & { historyLimit?: number } = {},
): Promise<TestCluster> {
  const { historyLimit, ...apiOptions } = options;
  const store = new Store(historyLimit ? { historyLimit } : {});
  const faults = new FaultInjector();
  const api = await startKubeApi({ store, faults, port: 0, ...apiOptions });
  const dir = mkdtempSync(join(tmpdir(), 'spotguard-api-test-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, kubeconfigYaml(api.url));
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(api.url));
  const kubectlArgs = ['--kubeconfig', kubeconfigPath, '--cache-dir', join(dir, 'cache')];
  const kubectl = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'kubectl',
        [...kubectlArgs, ...args],
        { timeout: 25_000, env: { ...process.env, HOME: dir } },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  return { store, api, faults, kc, kubeconfigPath, kubectlArgs, kubectl, stop: () => api.stop() };
}

/** The parsed Status body of a failed client-node call. */
export async function statusOf(
  call: Promise<unknown>,
): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ApiException) {
      // client-node keeps the raw JSON body, except for codes its OpenAPI spec declares without one (401)
      const raw = error.body as unknown;
      return {
        code: error.code,
        body: typeof raw === 'string' ? JSON.parse(raw) : ((raw ?? {}) as Record<string, unknown>),
      };
    }
    throw error;
  }
  throw new Error('expected the call to fail, it succeeded');
}

export function node(name: string, opts: { ready?: boolean; labels?: Record<string, string> } = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...opts.labels } },
    spec: { providerID: `aws:///us-east-1a/i-${name.replace(/\W/g, '').slice(0, 17)}` },
    status: {
      conditions: [
        { type: 'Ready', status: opts.ready === false ? 'False' : 'True', reason: 'KubeletReady' },
      ],
      allocatable: { cpu: '3920m', memory: '15Gi', pods: '110' },
      capacity: { cpu: '4', memory: '16Gi', pods: '110' },
      nodeInfo: { kubeletVersion: 'v1.30.11-eks-473151a' },
      addresses: [{ type: 'InternalIP', address: '10.0.1.23' }],
    },
  };
}

export interface PodOptions {
  namespace?: string;
  node?: string;
  labels?: Record<string, string>;
  ready?: boolean;
  phase?: string;
  owner?: KObject;
}

export function pod(name: string, opts: PodOptions = {}): KObject {
  const ready = opts.ready ?? true;
  const obj: KObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: opts.namespace ?? 'default', labels: opts.labels ?? {} },
    spec: {
      containers: [{ name: 'app', image: 'public.ecr.aws/nginx/nginx:1.27' }],
      terminationGracePeriodSeconds: 30,
      ...(opts.node ? { nodeName: opts.node } : {}),
    },
    status: {
      phase: opts.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: [{ name: 'app', ready, restartCount: 0, state: { running: {} } }],
    },
  };
  if (opts.owner) {
    obj.metadata.ownerReferences = [
      {
        apiVersion: opts.owner.apiVersion,
        kind: opts.owner.kind,
        name: opts.owner.metadata.name,
        uid: opts.owner.metadata.uid!,
        controller: true,
        blockOwnerDeletion: true,
      },
    ];
  }
  return obj;
}

export function pdb(
  name: string,
  spec: {
    minAvailable?: number | string;
    maxUnavailable?: number | string;
    matchLabels: Record<string, string>;
  },
  namespace = 'default',
): KObject {
  const { matchLabels, ...budget } = spec;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace },
    spec: { ...budget, selector: { matchLabels } },
  };
}

export function workload(
  kind: 'Deployment' | 'ReplicaSet' | 'StatefulSet' | 'DaemonSet',
  name: string,
  replicas: number,
  namespace = 'default',
): KObject {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } } },
    },
  };
}

/** Stand-in kubelet: pods that get a deletionTimestamp are removed at once. Returns a stop function. */
export function fakeKubelet(store: Store): () => void {
  const stop = store.watch('pods', (event) => {
    if (event.type !== 'MODIFIED' || !event.object.metadata.deletionTimestamp) return;
    const { namespace, name } = event.object.metadata;
    setImmediate(() => {
      if (store.get('pods', namespace, name)) store.delete('pods', namespace, name);
    });
  });
  return stop === false ? () => {} : stop;
}

/** Resolves after pending setImmediate work (the PDB status updater runs once per event-loop turn). */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

/** GET a URL and parse the JSON answer (wire-level checks). */
// biome-ignore lint/suspicious/noExplicitAny: assertions walk arbitrary JSON
export async function getJson(url: string): Promise<any> {
  return (await fetch(url)).json();
}

/** The parsed JSON body of a fetch Response. */
// biome-ignore lint/suspicious/noExplicitAny: assertions walk arbitrary JSON
export const jsonOf = (response: Response): Promise<any> => response.json();
