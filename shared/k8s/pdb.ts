// PodDisruptionBudgets: listed once per drain, watched while an eviction waits on one. Served as
// policy/v1 (≥ 1.21) or only policy/v1beta1 (older): the version comes from eviction discovery.
import { CustomObjectsApi, type V1PodDisruptionBudget } from '@kubernetes/client-node';
import type { KubeClients } from './client.ts';
import type { EvictionVersion } from './eviction.ts';
import { type ResumableWatch, startWatch, type WatchEventType } from './watch.ts';

const objectApis = new WeakMap<KubeClients, CustomObjectsApi>();

export async function listPdbs(
  k8s: KubeClients,
  version: EvictionVersion = 'policy/v1',
): Promise<{ pdbs: V1PodDisruptionBudget[]; resourceVersion: string }> {
  if (version === 'policy/v1') {
    const list = await k8s.policy.listPodDisruptionBudgetForAllNamespaces({});
    return { pdbs: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
  }
  // client-node has no typed policy/v1beta1 client; the generic one reads the same shape in one
  // request (no discovery round trip)
  let api = objectApis.get(k8s);
  if (!api) {
    api = k8s.config.makeApiClient(CustomObjectsApi);
    objectApis.set(k8s, api);
  }
  const list = (await api.listClusterCustomObject({
    group: 'policy',
    version: 'v1beta1',
    plural: 'poddisruptionbudgets',
  })) as { items: V1PodDisruptionBudget[]; metadata?: { resourceVersion?: string } };
  return { pdbs: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
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
