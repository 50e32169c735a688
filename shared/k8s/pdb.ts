// PodDisruptionBudgets: listed once per drain, watched while an eviction waits on one. Served as
// policy/v1 (≥ 1.21) or only policy/v1beta1 (older): the version comes from eviction discovery.
import { KubernetesObjectApi, type V1PodDisruptionBudget } from '@kubernetes/client-node';
import type { KubeClients } from './client.ts';
import type { EvictionVersion } from './eviction.ts';
import { type ResumableWatch, startWatch, type WatchEventType } from './watch.ts';

const objectApis = new WeakMap<KubeClients, KubernetesObjectApi>();

export async function listPdbs(
  k8s: KubeClients,
  version: EvictionVersion = 'policy/v1',
): Promise<{ pdbs: V1PodDisruptionBudget[]; resourceVersion: string }> {
  if (version === 'policy/v1') {
    const list = await k8s.policy.listPodDisruptionBudgetForAllNamespaces({});
    return { pdbs: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
  }
  // client-node has no typed policy/v1beta1 client; the generic one reads the same shape
  let api = objectApis.get(k8s);
  if (!api) {
    api = KubernetesObjectApi.makeApiClient(k8s.config);
    objectApis.set(k8s, api);
  }
  const list = await api.list('policy/v1beta1', 'PodDisruptionBudget');
  return {
    pdbs: list.items as V1PodDisruptionBudget[],
    resourceVersion: list.metadata?.resourceVersion ?? '',
  };
}

export interface PdbWatchOptions {
  resourceVersion: string;
  version?: EvictionVersion;
  onEvent: (type: WatchEventType, pdb: V1PodDisruptionBudget) => void;
  relist: () => Promise<string>;
  onRequest?: () => void;
  onError?: (err: unknown) => void;
}

/** One watch over every PDB in the cluster: a single request however many budgets a drain waits on. */
export function watchPdbs(k8s: KubeClients, opts: PdbWatchOptions): ResumableWatch {
  const { version = 'policy/v1', ...rest } = opts;
  return startWatch(k8s, { path: `/apis/${version}/poddisruptionbudgets`, ...rest });
}
