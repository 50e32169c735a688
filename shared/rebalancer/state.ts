// What the rebalancer remembers between runs, in the cluster (a ConfigMap in spotguard's
// namespace): when each workload was last moved (the cooldown) and when the last run started
// (a burst of launch events is one run).
import type { V1ConfigMap } from '@kubernetes/client-node';
import { isConflict, isNotFound } from '../k8s/api-error.ts';
import type { KubeClients } from '../k8s/client.ts';

export const STATE_CONFIGMAP = 'spotguard-rebalancer';
const LAST_RUN_KEY = 'last-run-started';

export interface RebalancerState {
  lastMoved: Record<string, string>;
  lastRunStarted?: string;
}

// ConfigMap keys allow [-._a-zA-Z0-9]; '_' never occurs in namespace, kind or object names.
const toKey = (workload: string) => `w_${workload.split('/').join('_')}`;
const fromKey = (key: string) => key.slice(2).split('_').join('/');

export async function readState(k8s: KubeClients, namespace: string): Promise<RebalancerState> {
  try {
    const cm = await k8s.core.readNamespacedConfigMap({ name: STATE_CONFIGMAP, namespace });
    const data = cm.data ?? {};
    const lastMoved = Object.fromEntries(
      Object.entries(data)
        .filter(([k]) => k.startsWith('w_'))
        .map(([k, v]) => [fromKey(k), v]),
    );
    return { lastMoved, ...(data[LAST_RUN_KEY] ? { lastRunStarted: data[LAST_RUN_KEY] } : {}) };
  } catch (err) {
    if (isNotFound(err)) return { lastMoved: {} };
    throw err;
  }
}

/**
 * Records moves and/or the run start (read-modify-write, retried on a conflict with a concurrent
 * run); entries older than `forgetBeforeMs` are dropped so the ConfigMap stays small.
 */
export async function writeState(
  k8s: KubeClients,
  namespace: string,
  change: { moved?: string[]; runStarted?: string; at: Date; forgetBefore: Date },
): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    let cm: V1ConfigMap | undefined;
    try {
      cm = await k8s.core.readNamespacedConfigMap({ name: STATE_CONFIGMAP, namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const data = { ...(cm?.data ?? {}) };
    for (const [k, v] of Object.entries(data))
      if (k.startsWith('w_') && new Date(v) < change.forgetBefore) delete data[k];
    for (const w of change.moved ?? []) data[toKey(w)] = change.at.toISOString();
    if (change.runStarted) data[LAST_RUN_KEY] = change.runStarted;
    const body: V1ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: STATE_CONFIGMAP,
        namespace,
        labels: { 'app.kubernetes.io/managed-by': 'spotguard' },
        ...(cm?.metadata?.resourceVersion ? { resourceVersion: cm.metadata.resourceVersion } : {}),
      },
      data,
    };
    try {
      if (cm) await k8s.core.replaceNamespacedConfigMap({ name: STATE_CONFIGMAP, namespace, body });
      else await k8s.core.createNamespacedConfigMap({ namespace, body });
      return;
    } catch (err) {
      if (!isConflict(err) && !(cm === undefined && /already exists|409/.test(String(err)))) throw err;
    }
  }
  throw new Error(`ConfigMap ${namespace}/${STATE_CONFIGMAP}: still conflicting after 5 attempts`);
}
