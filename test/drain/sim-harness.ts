// A simulated cluster for drain tests: API server + controllers on loopback, clients built the way
// the product builds them (kubeconfig → client-node), scenario helpers that write to the Store.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { type KubeClients, kubeClientsFromConfig } from '../../shared/k8s/client.ts';
import { FaultInjector } from '../../sim/faults.ts';
import { kubeconfigYaml, startKubeApi } from '../../sim/k8s/api/server.ts';
import { type ControllerOptions, startControllers } from '../../sim/k8s/controllers/index.ts';
import { buildNodeObject } from '../../sim/k8s/node-factory.ts';
import { type KObject, Store } from '../../sim/k8s/store.ts';

export interface SimCluster {
  store: Store;
  k8s: KubeClients;
  faults: FaultInjector;
  kubeconfigPath: string;
  requests: { total(): number; byKey(): Record<string, number>; reset(): void };
  stop(): Promise<void>;
}

export async function startCluster(
  opts: ControllerOptions & { servePolicyV1?: boolean } = {},
): Promise<SimCluster> {
  const store = new Store();
  const faults = new FaultInjector();
  const api = await startKubeApi({ store, port: 0, faults, servePolicyV1: opts.servePolicyV1 ?? true });
  const controllers = startControllers(store, {
    podStartMs: opts.podStartMs ?? 50,
    podTerminationMs: opts.podTerminationMs ?? 100,
    volumeDetachMs: opts.volumeDetachMs ?? 100,
    schedulerIntervalMs: opts.schedulerIntervalMs ?? 100,
  });
  const yaml = kubeconfigYaml(api.url);
  const kubeconfigPath = join(mkdtempSync(join(tmpdir(), 'spotguard-drain-')), 'kubeconfig');
  writeFileSync(kubeconfigPath, yaml);
  const config = new KubeConfig();
  config.loadFromString(yaml);
  ensureNamespace(store, 'spotguard');
  return {
    store,
    k8s: kubeClientsFromConfig(config),
    faults,
    kubeconfigPath,
    requests: api.requests,
    async stop() {
      controllers.stop();
      await api.stop();
    },
  };
}

export function ensureNamespace(store: Store, name: string) {
  if (store.get('namespaces', undefined, name)) return;
  store.create('namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  });
}

let nodeCounter = 0;
export function addNode(store: Store, name: string, zone = 'us-east-1a', taints?: object[]): KObject {
  nodeCounter++;
  return store.create(
    'nodes',
    buildNodeObject({
      name,
      instanceId: `i-0${String(nodeCounter).padStart(16, '0')}`,
      zone,
      region: 'us-east-1',
      instanceType: 'm6i.xlarge',
      capacityType: 'SPOT',
      nodegroup: 'spot-a',
      maxPods: 250,
      cpu: '64',
      memory: '256Gi',
      ...(taints ? { taints } : {}),
    }),
  );
}

interface WorkloadOptions {
  namespace?: string;
  replicas: number;
  grace?: number;
  priority?: number;
  labels?: Record<string, string>;
}

function podTemplate(name: string, o: WorkloadOptions, extra: object = {}) {
  return {
    metadata: { labels: { app: name, ...o.labels } },
    spec: {
      terminationGracePeriodSeconds: o.grace ?? 5,
      ...(o.priority !== undefined ? { priority: o.priority } : {}),
      containers: [
        {
          name: 'main',
          image: 'public.ecr.aws/nginx/nginx:1.27',
          resources: { requests: { cpu: '10m', memory: '16Mi' } },
        },
      ],
      ...extra,
    },
  };
}

export function addDeployment(store: Store, name: string, o: WorkloadOptions): KObject {
  const namespace = o.namespace ?? 'default';
  ensureNamespace(store, namespace);
  return store.create('deployments', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: { replicas: o.replicas, selector: { matchLabels: { app: name } }, template: podTemplate(name, o) },
  });
}

export function addStatefulSet(store: Store, name: string, o: WorkloadOptions): KObject {
  const namespace = o.namespace ?? 'default';
  ensureNamespace(store, namespace);
  return store.create('statefulsets', {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace },
    spec: {
      replicas: o.replicas,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: podTemplate(name, o, { volumes: [] }),
      volumeClaimTemplates: [
        {
          metadata: { name: 'data' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        },
      ],
    },
  });
}

export function addDaemonSet(store: Store, name: string): KObject {
  ensureNamespace(store, 'kube-system');
  return store.create('daemonsets', {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: 'kube-system' },
    spec: { selector: { matchLabels: { app: name } }, template: podTemplate(name, { replicas: 0 }) },
  });
}

export function addBarePod(store: Store, name: string, node: string): KObject {
  return store.create('pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image: 'busybox' }],
    },
    status: { phase: 'Pending' },
  });
}

export function addPdb(
  store: Store,
  name: string,
  app: string,
  budget: { maxUnavailable?: number | string; minAvailable?: number | string },
  namespace = 'default',
): KObject {
  return store.create('poddisruptionbudgets', {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace },
    spec: { selector: { matchLabels: { app } }, ...budget },
  });
}

export const podsOn = (store: Store, node: string) => store.list('pods', { nodeName: node });

export const runningPodsOn = (store: Store, node: string) =>
  podsOn(store, node).filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);

export async function waitFor(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
