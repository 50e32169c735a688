// Pods on one node: listed and watched through the spec.nodeName field selector (never a GET per pod).
import type { V1Pod } from '@kubernetes/client-node';
import type { KubeClients } from './client.ts';
import { type ResumableWatch, startWatch, type WatchEventType } from './watch.ts';

export const nodeFieldSelector = (node: string) => `spec.nodeName=${node}`;

export async function listPodsOnNode(
  k8s: KubeClients,
  node: string,
): Promise<{ pods: V1Pod[]; resourceVersion: string }> {
  const list = await k8s.core.listPodForAllNamespaces({ fieldSelector: nodeFieldSelector(node) });
  return { pods: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
}

export interface PodWatchOptions {
  resourceVersion: string;
  /** Raw wire JSON (timestamps are strings). */
  onEvent: (type: WatchEventType, pod: V1Pod) => void;
  relist: () => Promise<string>;
  onRequest?: () => void;
  onError?: (err: unknown) => void;
}

export function watchPodsOnNode(k8s: KubeClients, node: string, opts: PodWatchOptions): ResumableWatch {
  return startWatch(k8s, {
    path: '/api/v1/pods',
    query: { fieldSelector: nodeFieldSelector(node) },
    ...opts,
  });
}

/** Plain DELETE (evictionMode 'delete'): bypasses PodDisruptionBudgets. uid precondition: never a successor pod. */
export function deletePod(
  k8s: KubeClients,
  pod: { namespace: string; name: string; uid: string },
  gracePeriodSeconds: number,
): Promise<unknown> {
  return k8s.core.deleteNamespacedPod({
    name: pod.name,
    namespace: pod.namespace,
    gracePeriodSeconds,
    body: { gracePeriodSeconds, preconditions: { uid: pod.uid } },
  });
}
