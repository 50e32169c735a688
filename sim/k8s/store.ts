// The simulator's in-memory object store: the one place where simulated Kubernetes state lives.
// The HTTP API (sim/k8s/api), the controllers (sim/k8s/controllers) and the AWS side (sim/aws)
// all read and write through it. Objects are plain wire-format JSON (what the API server would
// send), never client-node model classes.
//
// Rules for callers:
// - Objects returned by get/list are the stored snapshots: treat them as read-only. To change an
//   object, use `mutate` (clone + change + store) or `update` (replace, with optional
//   resourceVersion precondition).
// - Every write bumps one global resourceVersion counter and notifies watchers synchronously.
import { randomUUID } from 'node:crypto';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  generateName?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
}

// biome-ignore lint/suspicious/noExplicitAny: wire objects are open-ended JSON
export type KObject = { apiVersion: string; kind: string; metadata: ObjectMeta; [field: string]: any };

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  resource: string;
  object: KObject;
  /** resourceVersion of this change (numeric form). */
  rv: number;
  /** MODIFIED only: the stored object this change replaced (lets watchers see an object leave a selector). */
  oldObject?: KObject;
}

export type StoreErrorReason = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Invalid';

export class StoreError extends Error {
  readonly reason: StoreErrorReason;
  readonly code: number;
  constructor(reason: StoreErrorReason, message: string) {
    super(message);
    this.name = 'StoreError';
    this.reason = reason;
    this.code = { NotFound: 404, AlreadyExists: 409, Conflict: 409, Invalid: 422 }[reason];
  }
}

export interface ListOptions {
  namespace?: string;
  /** Pods only: served from an index, never a scan of every pod. */
  nodeName?: string;
  /** Extra predicate applied after the index lookups. */
  filter?: (obj: KObject) => boolean;
}

type Watcher = (event: StoreEvent) => void;

const HISTORY_LIMIT = 20_000;

const keyOf = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;

export interface StoreOptions {
  /** How many recent changes a watch can resume from (default 20,000). */
  historyLimit?: number;
}

export class Store {
  private rv = 1;
  private readonly historyLimit: number;
  private readonly byResource = new Map<string, Map<string, KObject>>();
  /** pods by spec.nodeName ('' = unscheduled) */
  private readonly podsByNode = new Map<string, Set<string>>();
  /** per resource: namespace → keys */
  private readonly byNamespace = new Map<string, Map<string, Set<string>>>();
  private readonly watchers = new Map<string, Set<Watcher>>();
  private readonly history: StoreEvent[] = [];

  constructor(options: StoreOptions = {}) {
    this.historyLimit = options.historyLimit ?? HISTORY_LIMIT;
  }

  currentResourceVersion(): number {
    return this.rv;
  }

  /** Oldest resourceVersion a watch can still resume from; older ones get 410 Gone. */
  oldestResumableVersion(): number {
    return this.history.length > 0 ? this.history[0]!.rv - 1 : this.rv;
  }

  get(resource: string, namespace: string | undefined, name: string): KObject | undefined {
    return this.byResource.get(resource)?.get(keyOf(namespace, name));
  }

  list(resource: string, opts: ListOptions = {}): KObject[] {
    const objects = this.byResource.get(resource);
    if (!objects) return [];
    let keys: Iterable<string>;
    if (opts.nodeName !== undefined && resource === 'pods') {
      keys = this.podsByNode.get(opts.nodeName) ?? [];
    } else if (opts.namespace !== undefined) {
      keys = this.byNamespace.get(resource)?.get(opts.namespace) ?? [];
    } else {
      keys = objects.keys();
    }
    const out: KObject[] = [];
    for (const key of keys) {
      const obj = objects.get(key);
      if (!obj) continue;
      if (opts.namespace !== undefined && (obj.metadata.namespace ?? '') !== opts.namespace) continue;
      if (opts.filter && !opts.filter(obj)) continue;
      out.push(obj);
    }
    return out;
  }

  count(resource: string): number {
    return this.byResource.get(resource)?.size ?? 0;
  }

  create(resource: string, input: KObject): KObject {
    const obj = structuredClone(input);
    const meta = obj.metadata;
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomSuffix();
    if (!meta.name)
      throw new StoreError('Invalid', 'metadata.name: Required value: name or generateName is required');
    const objects = this.objectsOf(resource);
    const key = keyOf(meta.namespace, meta.name);
    if (objects.has(key)) {
      throw new StoreError('AlreadyExists', `${resource} "${meta.name}" already exists`);
    }
    meta.uid ??= randomUUID();
    meta.creationTimestamp ??= new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    meta.generation ??= 1;
    meta.resourceVersion = String(++this.rv);
    objects.set(key, obj);
    this.index(resource, key, undefined, obj);
    this.emit('ADDED', resource, obj);
    return obj;
  }

  /** Replaces the stored object. With `resourceVersion`, fails with Conflict when it is stale. */
  update(resource: string, input: KObject, precondition: { resourceVersion?: string } = {}): KObject {
    const objects = this.objectsOf(resource);
    const key = keyOf(input.metadata.namespace, input.metadata.name);
    const current = objects.get(key);
    if (!current) throw new StoreError('NotFound', `${resource} "${input.metadata.name}" not found`);
    if (precondition.resourceVersion && precondition.resourceVersion !== current.metadata.resourceVersion) {
      throw new StoreError(
        'Conflict',
        `Operation cannot be fulfilled on ${resource} "${input.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    const obj = structuredClone(input);
    obj.metadata.uid = current.metadata.uid;
    obj.metadata.creationTimestamp = current.metadata.creationTimestamp;
    obj.metadata.resourceVersion = String(++this.rv);
    objects.set(key, obj);
    this.index(resource, key, current, obj);
    this.emit('MODIFIED', resource, obj, current);
    return obj;
  }

  /**
   * Clone, change, store. `change` may return false to skip the write (no resourceVersion bump).
   * Throws NotFound when the object does not exist.
   */
  mutate(
    resource: string,
    namespace: string | undefined,
    name: string,
    // biome-ignore lint/suspicious/noConfusingVoidType: callers pass arrow functions that return nothing
    change: (draft: KObject) => undefined | boolean | void,
  ): KObject {
    const current = this.get(resource, namespace, name);
    if (!current) throw new StoreError('NotFound', `${resource} "${name}" not found`);
    const draft = structuredClone(current);
    if (change(draft) === false) return current;
    return this.update(resource, draft);
  }

  /** Removes the object at once (graceful deletion is API/kubelet behaviour on top of this). */
  delete(resource: string, namespace: string | undefined, name: string): KObject {
    const objects = this.objectsOf(resource);
    const key = keyOf(namespace, name);
    const current = objects.get(key);
    if (!current) throw new StoreError('NotFound', `${resource} "${name}" not found`);
    objects.delete(key);
    this.index(resource, key, current, undefined);
    const gone = { ...current, metadata: { ...current.metadata, resourceVersion: String(++this.rv) } };
    this.emit('DELETED', resource, gone);
    return gone;
  }

  /**
   * Calls `watcher` for every later change of `resource` ('*' for all). With `sinceResourceVersion`,
   * first replays the retained changes newer than it (returns false when that version is too old
   * to resume: the caller answers 410 Gone).
   */
  watch(resource: string, watcher: Watcher, sinceResourceVersion?: number): (() => void) | false {
    if (sinceResourceVersion !== undefined && sinceResourceVersion < this.oldestResumableVersion()) {
      return false;
    }
    if (sinceResourceVersion !== undefined) {
      for (let i = this.firstEventAfter(sinceResourceVersion); i < this.history.length; i++) {
        const event = this.history[i]!;
        if (resource === '*' || event.resource === resource) watcher(event);
      }
    }
    let set = this.watchers.get(resource);
    if (!set) {
      set = new Set();
      this.watchers.set(resource, set);
    }
    set.add(watcher);
    return () => set.delete(watcher);
  }

  /** Index of the first retained change newer than `rv` (history is ordered by rv). */
  private firstEventAfter(rv: number): number {
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.history[mid]!.rv > rv) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private objectsOf(resource: string): Map<string, KObject> {
    let objects = this.byResource.get(resource);
    if (!objects) {
      objects = new Map();
      this.byResource.set(resource, objects);
    }
    return objects;
  }

  private index(resource: string, key: string, before: KObject | undefined, after: KObject | undefined) {
    const ns = (before ?? after)!.metadata.namespace ?? '';
    let nsIndex = this.byNamespace.get(resource);
    if (!nsIndex) {
      nsIndex = new Map();
      this.byNamespace.set(resource, nsIndex);
    }
    if (!before && after) {
      let keys = nsIndex.get(ns);
      if (!keys) {
        keys = new Set();
        nsIndex.set(ns, keys);
      }
      keys.add(key);
    } else if (before && !after) {
      nsIndex.get(ns)?.delete(key);
    }
    if (resource !== 'pods') return;
    const oldNode = before?.spec?.nodeName ?? '';
    const newNode = after?.spec?.nodeName ?? '';
    if (before && (!after || oldNode !== newNode)) this.podsByNode.get(oldNode)?.delete(key);
    if (after && (!before || oldNode !== newNode)) {
      let keys = this.podsByNode.get(newNode);
      if (!keys) {
        keys = new Set();
        this.podsByNode.set(newNode, keys);
      }
      keys.add(key);
    }
  }

  private emit(type: WatchEventType, resource: string, object: KObject, oldObject?: KObject) {
    const event: StoreEvent = { type, resource, object, rv: this.rv };
    if (oldObject) event.oldObject = oldObject;
    this.history.push(event);
    // trim in chunks so a busy store does not shift the whole array on every write
    const slack = Math.max(1, Math.floor(this.historyLimit / 4));
    if (this.history.length > this.historyLimit + slack)
      this.history.splice(0, this.history.length - this.historyLimit);
    for (const watcher of this.watchers.get(resource) ?? []) watcher(event);
    for (const watcher of this.watchers.get('*') ?? []) watcher(event);
  }
}

function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let out = '';
  for (let i = 0; i < 5; i++) out += alphabet[Math.floor(Math.random() * alphabet.length)];
  return out;
}
