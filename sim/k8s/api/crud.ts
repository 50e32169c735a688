// Generic create / get / list / update / patch / delete over the Store with kube-apiserver semantics
// (resourceVersion preconditions, status subresource, generation, graceful pod deletion, finalizers,
// dry run). Input and output are storage-form objects; the HTTP layer converts versions.
import { isDeepStrictEqual } from 'node:util';
import { type KObject, type Store, StoreError } from '../store.ts';
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  failure,
  invalid,
  notFound,
  STALE_OBJECT,
} from './errors.ts';
import type { ResourceType } from './resources.ts';
import { validateCreate, validateUpdate } from './validation.ts';

export interface Scope {
  store: Store;
  type: ResourceType;
  /** namespace from the URL ('' / undefined for cluster-scoped or all namespaces) */
  namespace?: string;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
  propagationPolicy?: string;
  /** deprecated form of propagationPolicy: Orphan */
  orphanDependents?: boolean;
}

const gr = (type: ResourceType) => ({ group: type.group, resource: type.resource });

const nowIso = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

const nsOf = (scope: Scope) => (scope.type.namespaced ? scope.namespace : undefined);

export function getObject(scope: Scope, name: string): KObject {
  const obj = scope.store.get(scope.type.storeKey, nsOf(scope), name);
  if (!obj) throw notFound(gr(scope.type), name);
  return obj;
}

/** Status a resource gets on create (what each registry strategy's PrepareForCreate leaves). */
function statusOnCreate(type: ResourceType, obj: KObject): unknown {
  switch (type.resource) {
    case 'pods':
      return { phase: 'Pending', ...(obj.status?.qosClass ? { qosClass: obj.status.qosClass } : {}) };
    case 'namespaces':
      return { phase: 'Active' };
    case 'poddisruptionbudgets':
      return { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
    case 'deployments':
    case 'replicasets':
    case 'statefulsets':
    case 'daemonsets':
    case 'replicationcontrollers':
    case 'jobs':
    case 'cronjobs':
      return {};
    default:
      return obj.status;
  }
}

/** NamespaceLifecycle admission: the namespace must exist and not be terminating. */
function checkNamespaceAdmits(scope: Scope, namespace: string) {
  const ns = scope.store.get('namespaces', undefined, namespace);
  if (!ns) throw notFound({ group: '', resource: 'namespaces' }, namespace);
  if (ns.status?.phase === 'Terminating') {
    throw new ApiError(
      failure(
        403,
        'Forbidden',
        `unable to create new content in namespace ${namespace} because it is being terminated`,
        {
          name: namespace,
          kind: 'namespaces',
          causes: [
            {
              reason: 'NamespaceTerminating',
              message: `namespace ${namespace} is being terminated`,
              field: 'metadata.namespace',
            },
          ],
        },
      ),
    );
  }
}

export function createObject(scope: Scope, input: KObject, dryRun: boolean): KObject {
  const { type } = scope;
  const obj = structuredClone(input);
  obj.metadata ??= {} as KObject['metadata'];
  const meta = obj.metadata;
  if (type.namespaced) {
    if (meta.namespace && scope.namespace && meta.namespace !== scope.namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    meta.namespace = scope.namespace || meta.namespace || 'default';
    checkNamespaceAdmits(scope, meta.namespace);
  } else {
    delete meta.namespace;
  }
  if (!meta.name && !meta.generateName) {
    throw invalid(type.kind, type.group, '', [
      {
        field: 'metadata.name',
        message: 'Required value: name or generateName is required',
        reason: 'FieldValueRequired',
      },
    ]);
  }
  for (const field of [
    'uid',
    'resourceVersion',
    'creationTimestamp',
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
  ] as const) {
    delete meta[field];
  }
  meta.generation = 1;
  // the generated suffix is 5 of [a-z0-9]: validate the name as it will be
  validateCreate(type, { ...obj, metadata: { ...meta, name: meta.name || `${meta.generateName}x0000` } });
  const status = type.hasStatus ? statusOnCreate(type, obj) : obj.status;
  if (status === undefined) delete obj.status;
  else obj.status = status;
  if (dryRun) {
    if (meta.name && scope.store.get(type.storeKey, meta.namespace, meta.name))
      throw alreadyExists(gr(type), meta.name);
    return {
      ...obj,
      metadata: {
        ...meta,
        name: meta.name || `${meta.generateName}dryrun`,
        uid: '',
        creationTimestamp: nowIso(),
      },
    };
  }
  try {
    return scope.store.create(type.storeKey, obj);
  } catch (error) {
    if (error instanceof StoreError && error.reason === 'AlreadyExists')
      throw alreadyExists(gr(type), meta.name);
    throw error;
  }
}

const specOf = (obj: KObject) => {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...spec } = obj;
  return spec;
};

/**
 * Builds the object an update (PUT, or the result of a PATCH) would store, applying the server's
 * rules: status only through the status subresource, system metadata kept, generation bumped when
 * the spec changes. Throws Conflict when the caller's resourceVersion is stale.
 */
export function prepareUpdate(scope: Scope, current: KObject, input: KObject, subresource: string): KObject {
  const { type } = scope;
  const name = current.metadata.name;
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    throw badRequest('the object provided is unrecognized (must be of type ' + type.kind + ')');
  }
  input.metadata ??= {} as KObject['metadata'];
  if (input.metadata.name && input.metadata.name !== name) {
    throw badRequest(
      `the name of the object (${input.metadata.name}) does not match the name on the URL (${name})`,
    );
  }
  const rv = input.metadata.resourceVersion;
  if (rv && rv !== current.metadata.resourceVersion) throw conflict(gr(type), name, STALE_OBJECT);
  let next: KObject;
  if (subresource === 'status') {
    next = { ...current, status: input.status };
  } else {
    next = { ...input, metadata: { ...input.metadata } };
    if (type.hasStatus) {
      if (current.status === undefined) delete next.status;
      else next.status = current.status;
    }
  }
  const meta = next.metadata;
  meta.name = name;
  if (current.metadata.namespace) meta.namespace = current.metadata.namespace;
  else delete meta.namespace;
  meta.uid = current.metadata.uid;
  meta.creationTimestamp = current.metadata.creationTimestamp;
  meta.resourceVersion = current.metadata.resourceVersion;
  for (const field of ['deletionTimestamp', 'deletionGracePeriodSeconds'] as const) {
    if (current.metadata[field] === undefined) delete meta[field];
    else (meta as unknown as Record<string, unknown>)[field] = current.metadata[field];
  }
  meta.generation = current.metadata.generation ?? 1;
  if (subresource !== 'status' && !isDeepStrictEqual(specOf(current), specOf(next))) meta.generation++;
  validateUpdate(type, current, next);
  next.apiVersion = current.apiVersion;
  next.kind = current.kind;
  return next;
}

/** Stores a prepared update (no write when nothing changed, like the real server). */
export function commitUpdate(scope: Scope, current: KObject, next: KObject, dryRun: boolean): KObject {
  if (isDeepStrictEqual(current, next)) return current;
  if (dryRun) return next;
  // a terminating object whose last finalizer is gone disappears
  if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length && finalizersBlocked(current)) {
    if (scope.type.resource !== 'pods' || next.metadata.deletionGracePeriodSeconds === 0) {
      scope.store.update(scope.type.storeKey, next, { resourceVersion: current.metadata.resourceVersion });
      return scope.store.delete(scope.type.storeKey, next.metadata.namespace, next.metadata.name);
    }
  }
  try {
    return scope.store.update(scope.type.storeKey, next, {
      resourceVersion: current.metadata.resourceVersion,
    });
  } catch (error) {
    if (error instanceof StoreError && error.reason === 'Conflict') {
      throw conflict(gr(scope.type), next.metadata.name, STALE_OBJECT);
    }
    throw error;
  }
}

const finalizersBlocked = (obj: KObject) => (obj.metadata.finalizers?.length ?? 0) > 0;

export function updateObject(
  scope: Scope,
  name: string,
  input: KObject,
  subresource: string,
  dryRun: boolean,
): KObject {
  const current = getObject(scope, name);
  return commitUpdate(scope, current, prepareUpdate(scope, current, input, subresource), dryRun);
}

function checkPreconditions(scope: Scope, obj: KObject, options: DeleteOptions) {
  const pre = options.preconditions;
  const name = obj.metadata.name;
  if (pre?.uid && pre.uid !== obj.metadata.uid) {
    throw conflict(
      gr(scope.type),
      name,
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`,
    );
  }
  if (pre?.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion) {
    throw conflict(
      gr(scope.type),
      name,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`,
    );
  }
}

/** Grace period a pod deletion gets (pod strategy CheckGracefulDelete). */
function podGracePeriod(pod: KObject, options: DeleteOptions): number {
  if (!pod.spec?.nodeName) return 0; // never scheduled: nothing to stop
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return 0;
  return options.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
}

/**
 * DELETE: pods on a node get deletionTimestamp + deletionGracePeriodSeconds and stay until the
 * kubelet removes them; objects with finalizers stay until the finalizers are gone; everything else
 * goes at once. Returns the object as it is after the call (what the real server answers with).
 */
export function deleteObject(scope: Scope, name: string, options: DeleteOptions, dryRun: boolean): KObject {
  const { store, type } = scope;
  const current = getObject(scope, name);
  checkPreconditions(scope, current, options);
  const grace = type.resource === 'pods' ? podGracePeriod(current, options) : 0;
  const gcFinalizer = current.metadata.deletionTimestamp ? undefined : propagationFinalizer(options);
  if (grace === 0 && !finalizersBlocked(current) && !gcFinalizer) {
    if (dryRun) return current;
    return store.delete(type.storeKey, current.metadata.namespace, name);
  }
  const previousGrace = current.metadata.deletionGracePeriodSeconds;
  if (current.metadata.deletionTimestamp && previousGrace !== undefined && previousGrace <= grace) {
    return current; // already terminating at least as fast
  }
  const next = structuredClone(current);
  // A second DELETE with a shorter grace moves the deletion earlier, counted from the first one's
  // start (kube-apiserver rest.BeforeDelete: old deletionTimestamp − old grace + new grace).
  const startMs =
    current.metadata.deletionTimestamp && previousGrace !== undefined
      ? Date.parse(current.metadata.deletionTimestamp) - previousGrace * 1000
      : Date.now();
  next.metadata.deletionTimestamp = new Date(startMs + grace * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  next.metadata.deletionGracePeriodSeconds = grace;
  next.metadata.generation = (next.metadata.generation ?? 1) + 1;
  if (gcFinalizer && !next.metadata.finalizers?.includes(gcFinalizer)) {
    next.metadata.finalizers = [...(next.metadata.finalizers ?? []), gcFinalizer];
  }
  if (dryRun) return next;
  return store.update(type.storeKey, next, { resourceVersion: current.metadata.resourceVersion });
}

/**
 * Foreground and Orphan propagation leave the object terminating with the `foregroundDeletion` /
 * `orphan` finalizer for the garbage collector (sim/k8s/controllers/gc.ts) to finish.
 */
function propagationFinalizer(options: DeleteOptions): string | undefined {
  if (options.propagationPolicy === 'Foreground') return 'foregroundDeletion';
  if (options.propagationPolicy === 'Orphan' || options.orphanDependents === true) return 'orphan';
  return undefined;
}

export function parseDeleteOptions(body: unknown, query: URLSearchParams): DeleteOptions {
  const options: DeleteOptions =
    body && typeof body === 'object' && !Array.isArray(body) ? { ...(body as DeleteOptions) } : {};
  const grace = query.get('gracePeriodSeconds');
  if (grace !== null) {
    const n = Number(grace);
    if (!Number.isInteger(n)) throw badRequest(`strconv.ParseInt: parsing "${grace}": invalid syntax`);
    options.gracePeriodSeconds = n;
  }
  // a negative grace period acts as 1 s (as the kubelet treats it)
  if (options.gracePeriodSeconds !== undefined && options.gracePeriodSeconds < 0)
    options.gracePeriodSeconds = 1;
  const dryRun = query.getAll('dryRun');
  if (dryRun.length > 0) options.dryRun = dryRun;
  const propagation = query.get('propagationPolicy');
  if (propagation) options.propagationPolicy = propagation;
  return options;
}

/** dryRun=All (the only value the real server accepts); anything else is a 400. */
export function isDryRun(values: string[] | undefined): boolean {
  if (!values || values.length === 0) return false;
  for (const v of values) {
    if (v !== 'All') {
      throw new ApiError(failure(400, 'BadRequest', `Invalid dry run value: ${v}`));
    }
  }
  return true;
}
