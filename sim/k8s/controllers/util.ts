// Small helpers shared by the simulated controllers: work queues, timers, label selectors, pod
// state predicates and graceful pod deletion (what the API server does for DELETE on a pod).
import { createHash, randomBytes } from 'node:crypto';
import { type LabelSelectorRequirement, matchesRequirement } from '../../../shared/k8s/label-requirements.ts';
import { type KObject, type OwnerReference, type Store, StoreError } from '../store.ts';

export { type LabelSelectorRequirement, matchesRequirement };

export const nowIso = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export const keyOf = (obj: KObject): string => `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;

export function splitKey(key: string): [namespace: string | undefined, name: string] {
  const slash = key.indexOf('/');
  const ns = key.slice(0, slash);
  return [ns === '' ? undefined : ns, key.slice(slash + 1)];
}

/**
 * Deduplicating queue drained on the next macrotask. Store watchers fire synchronously inside
 * another component's write, so controllers only enqueue there and do their writes here.
 */
export class WorkQueue {
  private readonly pending = new Set<string>();
  /** key → consecutive failures, for the retry backoff */
  private readonly failures = new Map<string, number>();
  private handle: NodeJS.Immediate | undefined;
  private stopped = false;
  private readonly process: (key: string) => void;
  private readonly name: string;

  constructor(name: string, process: (key: string) => void) {
    this.name = name;
    this.process = process;
  }

  add(key: string): void {
    if (this.stopped) return;
    this.pending.add(key);
    this.handle ??= setImmediate(() => this.drain());
  }

  stop(): void {
    this.stopped = true;
    if (this.handle) clearImmediate(this.handle);
    this.pending.clear();
  }

  private drain(): void {
    this.handle = undefined;
    const keys = [...this.pending];
    this.pending.clear();
    for (const key of keys) {
      if (this.stopped) return;
      try {
        this.process(key);
        this.failures.delete(key);
      } catch (err) {
        // a controller bug must not take the whole simulator down: retry with backoff like a real
        // workqueue (200 ms doubling to 10 s), logging the first failure and then every tenth
        const failures = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, failures);
        if (failures % 10 === 1)
          console.error(`[sim ${this.name}] reconcile ${key} failed (${failures}×):`, err);
        setTimeout(() => this.add(key), Math.min(10_000, 200 * 2 ** (failures - 1))).unref();
      }
    }
  }
}

/** setTimeout/setInterval handles, unref'd, all cleared on stop(). */
export class Timers {
  private readonly handles = new Set<NodeJS.Timeout>();
  private stopped = false;

  after(ms: number, fn: () => void): NodeJS.Timeout | undefined {
    if (this.stopped) return undefined;
    const handle = setTimeout(() => {
      this.handles.delete(handle);
      if (!this.stopped) fn();
    }, ms);
    // the simulator never keeps a process alive by itself (a 300 s toleration timer would)
    handle.unref();
    this.handles.add(handle);
    return handle;
  }

  every(ms: number, fn: () => void): void {
    if (this.stopped) return;
    const handle = setInterval(() => {
      if (!this.stopped) fn();
    }, ms);
    handle.unref();
    this.handles.add(handle);
  }

  cancel(handle: NodeJS.Timeout | undefined): void {
    if (!handle) return;
    clearTimeout(handle);
    this.handles.delete(handle);
  }

  stop(): void {
    this.stopped = true;
    for (const handle of this.handles) clearTimeout(handle);
    this.handles.clear();
  }
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** metav1.LabelSelector semantics; an empty selector matches everything, a missing one nothing. */
export function matchesSelector(
  labels: Record<string, string> | undefined,
  selector: LabelSelector | undefined,
) {
  if (!selector) return false;
  const have = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (have[k] !== v) return false;
  for (const req of selector.matchExpressions ?? []) {
    if (!matchesRequirement(have, req)) return false;
  }
  return true;
}

export const controllerOf = (obj: KObject): OwnerReference | undefined =>
  obj.metadata.ownerReferences?.find((ref) => ref.controller);

export function ownerReferenceTo(owner: KObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export const isTerminal = (pod: KObject): boolean =>
  pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** Counts toward a controller's replicas: not finished and not being deleted. */
export const isActivePod = (pod: KObject): boolean => !isTerminal(pod) && !pod.metadata.deletionTimestamp;

export function conditionStatus(obj: KObject, type: string): string | undefined {
  return (obj.status?.conditions as { type: string; status: string }[] | undefined)?.find(
    (c) => c.type === type,
  )?.status;
}

export const isPodReady = (pod: KObject): boolean => conditionStatus(pod, 'Ready') === 'True';

export const isNodeReady = (node: KObject): boolean => conditionStatus(node, 'Ready') === 'True';

/** Available = Ready for at least minReadySeconds. Returns ms still to wait, 0 when available, -1 when not ready. */
export function msUntilAvailable(pod: KObject, minReadySeconds: number): number {
  if (!isPodReady(pod)) return -1;
  if (!minReadySeconds) return 0;
  const ready = pod.status.conditions.find((c: { type: string }) => c.type === 'Ready');
  const since = Date.parse(ready?.lastTransitionTime ?? '') || 0;
  return Math.max(0, since + minReadySeconds * 1000 - Date.now());
}

/**
 * What DELETE on a pod does in the API server: a pod never bound to a node goes at once, otherwise
 * deletionTimestamp + grace period are set and the kubelet removes it when its containers stopped.
 */
export function deletePodGracefully(store: Store, pod: KObject, graceSeconds?: number): void {
  const ns = pod.metadata.namespace;
  const name = pod.metadata.name;
  if (!store.get('pods', ns, name)) return;
  if (!pod.spec?.nodeName || isTerminal(pod)) {
    store.delete('pods', ns, name);
    return;
  }
  store.mutate('pods', ns, name, (draft) => {
    if (draft.metadata.deletionTimestamp) return false;
    const grace = graceSeconds ?? draft.spec?.terminationGracePeriodSeconds ?? 30;
    draft.metadata.deletionTimestamp = new Date(Date.now() + grace * 1000)
      .toISOString()
      .replace(/\.\d+Z$/, 'Z');
    draft.metadata.deletionGracePeriodSeconds = grace;
  });
}

/** JSON with object keys sorted, so equal objects give equal strings whatever their key order. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Like the pod-template-hash the deployment controller computes: fnv32a rendered in k8s' safe alphabet. */
export function templateHash(template: unknown, collisionCount = 0): string {
  let hash = 0x811c9dc5;
  const text = stableStringify(template) + (collisionCount ? String(collisionCount) : '');
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return [...String(hash)]
    .map((digit, i) => SAFE_ALPHABET[(Number(digit) + i * 7) % SAFE_ALPHABET.length])
    .join('');
}

export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

export const randomHex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** An IntOrString such as maxSurge: "25%" of total (rounded up or down) or an absolute number. */
export function intOrPercent(
  value: number | string | undefined,
  total: number,
  roundUp: boolean,
  dflt: string,
) {
  const v = value ?? dflt;
  if (typeof v === 'number') return v;
  if (v.endsWith('%')) {
    const exact = (Number(v.slice(0, -1)) * total) / 100;
    return roundUp ? Math.ceil(exact) : Math.floor(exact);
  }
  return Number(v);
}

/** store.create for objects with generateName, retrying the rare random-suffix collision like the API does. */
export function createGenerated(store: Store, resource: string, obj: KObject): KObject {
  for (let attempt = 0; ; attempt++) {
    try {
      return store.create(resource, obj);
    } catch (err) {
      if (!(err instanceof StoreError && err.reason === 'AlreadyExists') || attempt >= 8) throw err;
    }
  }
}

/**
 * Stores `current` with a new status (and optionally spec fields) in one structured clone instead
 * of mutate's two: the hot path of 15,000 pods being bound and started. `current` must be the
 * stored snapshot read in this same tick; it is not modified.
 */
export function writeStatus(
  store: Store,
  resource: string,
  current: KObject,
  status: Record<string, unknown>,
  specFields?: Record<string, unknown>,
): KObject {
  const spec = specFields ? { ...current.spec, ...specFields } : current.spec;
  return store.update(resource, { ...current, spec, status });
}

/**
 * The informer wiring every workload controller shares: queue an owner when it changes (not when it
 * is deleted: the garbage collector handles that) or when an object it controls changes, and queue
 * every existing owner once at start. Returns the functions that stop the watches.
 */
export function watchOwnerAndDependents(
  store: Store,
  queue: WorkQueue,
  owner: { resource: string; kind: string },
  dependents: string,
): Array<() => void> {
  const stops: Array<() => void> = [];
  const ownerWatch = store.watch(owner.resource, (event) => {
    if (event.type !== 'DELETED') queue.add(keyOf(event.object));
  });
  const dependentWatch = store.watch(dependents, (event) => {
    const controller = controllerOf(event.object);
    if (controller?.kind === owner.kind)
      queue.add(`${event.object.metadata.namespace ?? ''}/${controller.name}`);
  });
  for (const stop of [ownerWatch, dependentWatch]) if (stop) stops.push(stop);
  for (const obj of store.list(owner.resource)) queue.add(keyOf(obj));
  return stops;
}
