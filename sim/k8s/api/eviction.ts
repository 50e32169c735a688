// POST pods/{name}/eviction with kube-apiserver's semantics and messages
// (kubernetes pkg/registry/core/pod/storage/eviction.go).
import type { KObject, Store } from '../store.ts';
import { type DeleteOptions, deleteObject, isDryRun, type Scope } from './crud.ts';
import { ApiError, badRequest, failure, type Status, success } from './errors.ts';
import { disruptionAllowedCondition, isPodReady } from './pdb.ts';
import { RESOURCES, type ResourceType } from './resources.ts';
import { selectorFromObject, selects } from './selectors.ts';

/** Max size of status.disruptedPods before evictions are refused (MaxDisruptedPodSize). */
const MAX_DISRUPTED_POD_SIZE = 2000;

const PODS = RESOURCES.find((t) => t.resource === 'pods')!;
const PDBS = RESOURCES.find((t) => t.resource === 'poddisruptionbudgets')!;

const nowIso = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export interface EvictionResult {
  code: number;
  status: Status;
}

// biome-ignore lint/suspicious/noExplicitAny: request body JSON
type Any = any;

function tooManyRequests(retryAfterSeconds: number, cause: string): ApiError {
  const details: Status['details'] = {
    causes: [{ reason: 'DisruptionBudget', message: cause }],
  };
  if (retryAfterSeconds > 0) details.retryAfterSeconds = retryAfterSeconds;
  return new ApiError(
    failure(
      429,
      'TooManyRequests',
      "Cannot evict pod as it would violate the pod's disruption budget.",
      details,
    ),
  );
}

const stillProcessing = (pdbName: string) =>
  tooManyRequests(10, `The disruption budget ${pdbName} is still being processed by the server.`);

function forbidden(pdbName: string, why: string): ApiError {
  return new ApiError(
    failure(403, 'Forbidden', `poddisruptionbudget.policy "${pdbName}" is forbidden: ${why}`, {
      name: pdbName,
      group: 'policy',
      kind: 'poddisruptionbudget',
    }),
  );
}

/** Eviction.deleteOptions merged with the request's ?dryRun (propagateDryRun). */
function deleteOptionsOf(eviction: Any, query: URLSearchParams): DeleteOptions {
  const fromBody: DeleteOptions = { ...(eviction.deleteOptions ?? {}) };
  const queryDryRun = query.getAll('dryRun');
  if (!fromBody.dryRun?.length) {
    if (queryDryRun.length) fromBody.dryRun = queryDryRun;
  } else if (queryDryRun.length && JSON.stringify(queryDryRun) !== JSON.stringify(fromBody.dryRun)) {
    throw badRequest(
      `Non-matching dry-run options in request and content: [${queryDryRun.join(' ')}] and [${fromBody.dryRun.join(' ')}]`,
    );
  }
  return fromBody;
}

/** canIgnorePDB: terminal, pending or already terminating pods are deleted without a budget check. */
function canIgnorePdb(pod: KObject): boolean {
  const phase = pod.status?.phase;
  return (
    phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || !!pod.metadata.deletionTimestamp
  );
}

function shouldEnforceResourceVersion(pod: KObject): boolean {
  const phase = pod.status?.phase;
  return !(phase === 'Succeeded' || phase === 'Failed' || pod.metadata.deletionTimestamp);
}

function matchingPdbs(store: Store, pod: KObject): KObject[] {
  return store.list(PDBS.storeKey, { namespace: pod.metadata.namespace ?? '' }).filter((pdb) => {
    // LabelSelectorAsSelector: a missing selector matches nothing, an empty one every pod
    return selects(selectorFromObject(pdb.spec?.selector), pod);
  });
}

/** checkAndDecrement: refuse with 429/403, or take one disruption from the budget. */
function checkAndDecrement(store: Store, pdb: KObject, podName: string, dryRun: boolean): void {
  const status = pdb.status ?? {};
  const name = pdb.metadata.name;
  if ((status.observedGeneration ?? 0) < (pdb.metadata.generation ?? 1)) throw stillProcessing(name);
  const allowed: number = status.disruptionsAllowed ?? 0;
  if (allowed < 0) throw forbidden(name, 'pdb disruptions allowed is negative');
  if (Object.keys(status.disruptedPods ?? {}).length > MAX_DISRUPTED_POD_SIZE) {
    throw forbidden(name, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
  }
  if (allowed === 0) {
    throw tooManyRequests(
      0,
      `The disruption budget ${name} needs ${status.desiredHealthy ?? 0} healthy pods and has ${status.currentHealthy ?? 0} currently`,
    );
  }
  if (dryRun) return;
  const next = structuredClone(pdb);
  next.status.disruptionsAllowed = allowed - 1;
  if (next.status.disruptionsAllowed === 0) {
    next.status.conditions = disruptionAllowedCondition(status.conditions, 0, status.observedGeneration ?? 0);
  }
  next.status.disruptedPods = { ...(status.disruptedPods ?? {}), [podName]: nowIso() };
  store.update(PDBS.storeKey, next, { resourceVersion: pdb.metadata.resourceVersion });
}

/**
 * addConditionAndDeletePod: mark the pod with the DisruptionTarget condition (PodDisruptionConditions,
 * on by default since 1.26), then delete it with the eviction's options.
 */
function deletePod(scope: Scope, pod: KObject, options: DeleteOptions, enforceRv: boolean, pdbName?: string) {
  let deleteOptions: DeleteOptions =
    enforceRv && !options.preconditions?.resourceVersion
      ? {
          ...options,
          preconditions: { ...options.preconditions, resourceVersion: pod.metadata.resourceVersion },
        }
      : options;
  const dryRun = isDryRun(options.dryRun);
  try {
    if (!dryRun) {
      const marked = markDisruptionTarget(scope.store, pod, deleteOptions);
      if (deleteOptions.preconditions?.resourceVersion) {
        deleteOptions = {
          ...deleteOptions,
          preconditions: { ...deleteOptions.preconditions, resourceVersion: marked.metadata.resourceVersion },
        };
      }
    }
    deleteObject(scope, pod.metadata.name, deleteOptions, dryRun);
  } catch (error) {
    if (
      pdbName &&
      error instanceof ApiError &&
      error.status.reason === 'Conflict' &&
      deleteOptions !== options
    ) {
      throw stillProcessing(pdbName);
    }
    throw error;
  }
}

function markDisruptionTarget(store: Store, pod: KObject, options: DeleteOptions): KObject {
  const latest = store.get(PODS.storeKey, pod.metadata.namespace, pod.metadata.name)!;
  const pre = options.preconditions;
  // these preconditions are checked by the condition update, with its own wording (and resource "Pod")
  const conflict = (why: string) =>
    new ApiError(
      failure(409, 'Conflict', `Operation cannot be fulfilled on Pod "${pod.metadata.name}": ${why}`, {
        name: pod.metadata.name,
        kind: 'Pod',
      }),
    );
  if (pre?.uid && pre.uid !== latest.metadata.uid) {
    throw conflict(
      `the UID in the precondition (${pre.uid}) does not match the UID in record (${latest.metadata.uid}). The object might have been deleted and then recreated`,
    );
  }
  if (pre?.resourceVersion && pre.resourceVersion !== latest.metadata.resourceVersion) {
    throw conflict(
      `the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${latest.metadata.resourceVersion}). The object might have been modified`,
    );
  }
  return store.mutate(PODS.storeKey, pod.metadata.namespace, pod.metadata.name, (draft) => {
    draft.status ??= {};
    const conditions: { type: string; status: string }[] = draft.status.conditions ?? [];
    const existing = conditions.find((c) => c.type === 'DisruptionTarget');
    if (existing?.status === 'True') return false;
    const condition = {
      type: 'DisruptionTarget',
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime: nowIso(),
      reason: 'EvictionByEvictionAPI',
      message: 'Eviction API: evicting',
    };
    draft.status.conditions = [...conditions.filter((c) => c.type !== 'DisruptionTarget'), condition];
  });
}

/**
 * Evicts `name` in `namespace`. Returns the answer for a decided eviction (201 Success, or the 500
 * Status for several budgets); throws ApiError for refusals (404, 429, 403, 400).
 */
export function evictPod(
  store: Store,
  namespace: string,
  name: string,
  body: Any,
  query: URLSearchParams,
  opts: { policyV1: boolean } = { policyV1: true },
): EvictionResult {
  // the decoder fills a missing kind and apiVersion in from the route's kind (policy/v1beta1 Eviction
  // on a 1.20 server, policy/v1 on a server with policy/v1)
  const kind = body && typeof body === 'object' ? body.kind || 'Eviction' : undefined;
  if (kind !== 'Eviction') throw badRequest(`not a Eviction object: ${kind ?? typeof body}`);
  const apiVersion: string = body.apiVersion || (opts.policyV1 ? 'policy/v1' : 'policy/v1beta1');
  const accepted = opts.policyV1 ? ['policy/v1', 'policy/v1beta1'] : ['policy/v1beta1'];
  if (!accepted.includes(apiVersion)) {
    // the decoder's error as transformDecodeError (endpoints/handlers/rest.go) wraps it
    const version = String(apiVersion).split('/').at(-1);
    throw badRequest(
      `Eviction in version "${version}" cannot be handled as a Eviction: no kind "Eviction" is registered for version "${apiVersion}" in scheme "k8s.io/kubernetes/pkg/api/legacyscheme/scheme.go:30"`,
    );
  }
  if (body.metadata?.name !== name) throw badRequest('name in URL does not match name in Eviction object');
  const options = deleteOptionsOf(body, query);
  const dryRun = isDryRun(options.dryRun);
  const scope: Scope = { store, type: PODS as ResourceType, namespace };
  const pod = store.get(PODS.storeKey, namespace, name);
  if (!pod) throw new ApiError(failure(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' }));

  const succeeded = { code: 201, status: success(201) };
  if (canIgnorePdb(pod)) {
    deletePod(scope, pod, options, shouldEnforceResourceVersion(pod));
    return succeeded;
  }
  const pdbs = matchingPdbs(store, pod);
  if (pdbs.length > 1) {
    const status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
      code: 500,
    } as Status;
    return { code: 500, status };
  }
  if (pdbs.length === 0) {
    deletePod(scope, pod, options, false);
    return succeeded;
  }
  const pdb = pdbs[0]!;
  if (!isPodReady(pod)) {
    // an unready pod does not count as healthy: evicting it takes nothing from the budget
    const alwaysAllow = pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow';
    const healthyEnough =
      (pdb.status?.currentHealthy ?? 0) >= (pdb.status?.desiredHealthy ?? 0) &&
      (pdb.status?.desiredHealthy ?? 0) > 0;
    if (alwaysAllow || healthyEnough) {
      deletePod(scope, pod, options, true, pdb.metadata.name);
      return succeeded;
    }
  }
  checkAndDecrement(store, pdb, pod.metadata.name, dryRun);
  deletePod(scope, pod, options, false);
  return succeeded;
}
