// The eviction subresource: policy/v1 Eviction where served, policy/v1beta1 on older servers
// (< 1.22). Same URL for both; the body's apiVersion selects the version. Which one the server
// speaks is discovered once per server URL and cached for the life of the process/container.
import { PolicyApi } from '@kubernetes/client-node';
import { apiErrorOf } from './api-error.ts';
import type { KubeClients } from './client.ts';

export type EvictionVersion = 'policy/v1' | 'policy/v1beta1';

const versionByServer = new Map<string, Promise<EvictionVersion>>();

/**
 * GET /apis/policy once per server. `onRequest` is called when a request is actually sent (for
 * request accounting). A failed discovery is not cached and assumes policy/v1.
 */
export function evictionVersion(k8s: KubeClients, onRequest?: () => void): Promise<EvictionVersion> {
  let version = versionByServer.get(k8s.server);
  if (!version) {
    onRequest?.();
    version = discover(k8s);
    versionByServer.set(k8s.server, version);
  }
  return version;
}

async function discover(k8s: KubeClients): Promise<EvictionVersion> {
  try {
    const group = await k8s.config.makeApiClient(PolicyApi).getAPIGroup();
    const versions = group.versions.map((v) => v.groupVersion);
    return versions.includes('policy/v1') || versions.length === 0 ? 'policy/v1' : 'policy/v1beta1';
  } catch {
    versionByServer.delete(k8s.server);
    return 'policy/v1';
  }
}

/** Forget discovered versions (tests that point the same URL at another server). */
export function resetEvictionVersionCache() {
  versionByServer.clear();
}

export interface EvictionTarget {
  namespace: string;
  name: string;
  uid: string;
  gracePeriodSeconds: number;
}

export function evictPod(k8s: KubeClients, pod: EvictionTarget, version: EvictionVersion): Promise<unknown> {
  return k8s.core.createNamespacedPodEviction({
    name: pod.name,
    namespace: pod.namespace,
    body: {
      apiVersion: version,
      kind: 'Eviction',
      metadata: { name: pod.name, namespace: pod.namespace },
      // uid precondition: a StatefulSet successor with the same name is never evicted by mistake
      deleteOptions: { gracePeriodSeconds: pod.gracePeriodSeconds, preconditions: { uid: pod.uid } },
    },
  });
}

export type EvictionFailure =
  /** 429 with a DisruptionBudget cause: a PDB refuses now; retry when it allows. */
  | { kind: 'budget'; message: string; budget?: string }
  /** 429 from API Priority and Fairness (no DisruptionBudget cause) or 5xx / no answer: retry later. */
  | { kind: 'retry'; message: string; retryAfterMs?: number }
  /** 404, or 409 on the uid precondition: the pod we meant is already gone. */
  | { kind: 'gone'; message: string }
  /** 403: the namespace is being deleted; the eviction API refuses, kubectl deletes the pod instead. */
  | { kind: 'namespace-terminating'; message: string }
  | { kind: 'fatal'; message: string; code: number };

export function classifyEvictionError(err: unknown): EvictionFailure {
  const info = apiErrorOf(err);
  const message = `${info.code ? `HTTP ${info.code} ` : ''}${info.reason ?? ''}${info.reason ? ': ' : ''}${info.message}`;
  if (info.code === 429 && info.causes.includes('DisruptionBudget')) {
    // cause message: "The disruption budget web needs 2 healthy pods and has 2 currently"
    const budget = info.causeMessages.map((m) => /disruption budget (\S+)/.exec(m)?.[1]).find(Boolean);
    return { kind: 'budget', message, ...(budget ? { budget } : {}) };
  }
  if (info.code === 429 || info.code === 0 || info.code >= 500) {
    // "more than one PodDisruptionBudget" is a 500 that no retry will fix
    if (/more than one PodDisruptionBudget/i.test(info.message))
      return { kind: 'fatal', message, code: info.code };
    return {
      kind: 'retry',
      message,
      ...(info.retryAfterSeconds !== undefined ? { retryAfterMs: info.retryAfterSeconds * 1000 } : {}),
    };
  }
  if (info.code === 404) return { kind: 'gone', message };
  // 409 on our uid precondition: the pod we meant is gone (a successor has its name). Any other 409
  // (e.g. the PDB was updated concurrently) is worth another try — kubectl does not take it as done.
  if (info.code === 409)
    return /precondition/i.test(info.message) ? { kind: 'gone', message } : { kind: 'retry', message };
  if (
    info.code === 403 &&
    (info.causes.includes('NamespaceTerminating') || /being terminated/i.test(info.message))
  )
    return { kind: 'namespace-terminating', message };
  return { kind: 'fatal', message, code: info.code };
}
