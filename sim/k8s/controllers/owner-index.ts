// owner uid → dependents, kept up to date from store watch events, so a controller finds its pods
// (or a deployment its ReplicaSets) without scanning every object.
import type { KObject, Store } from '../store.ts';
import { keyOf, splitKey } from './util.ts';

export class OwnerIndex {
  private readonly store: Store;
  /** resource → owner uid → dependent keys */
  private readonly index = new Map<string, Map<string, Set<string>>>();
  /** resource → dependent key → the owner uids it was indexed under */
  private readonly owners = new Map<string, Map<string, string[]>>();
  private readonly unwatch: (() => void)[] = [];

  constructor(store: Store, resources: string[]) {
    this.store = store;
    for (const resource of resources) {
      this.index.set(resource, new Map());
      this.owners.set(resource, new Map());
      for (const obj of store.list(resource)) this.set(resource, obj, false);
      const stop = store.watch(resource, (event) =>
        this.set(resource, event.object, event.type === 'DELETED'),
      );
      if (stop) this.unwatch.push(stop);
    }
  }

  /** Current objects of `resource` that list `ownerUid` among their ownerReferences. */
  dependents(resource: string, ownerUid: string): KObject[] {
    const keys = this.index.get(resource)?.get(ownerUid);
    if (!keys) return [];
    const out: KObject[] = [];
    for (const key of keys) {
      const [ns, name] = splitKey(key);
      const obj = this.store.get(resource, ns, name);
      if (obj) out.push(obj);
    }
    return out;
  }

  hasDependents(ownerUid: string): boolean {
    for (const byOwner of this.index.values()) if (byOwner.get(ownerUid)?.size) return true;
    return false;
  }

  resources(): string[] {
    return [...this.index.keys()];
  }

  stop(): void {
    for (const stop of this.unwatch) stop();
  }

  private set(resource: string, obj: KObject, deleted: boolean): void {
    const byOwner = this.index.get(resource)!;
    const ownersByKey = this.owners.get(resource)!;
    const key = keyOf(obj);
    const before = ownersByKey.get(key) ?? [];
    const after = deleted ? [] : (obj.metadata.ownerReferences ?? []).map((ref) => ref.uid);
    if (before.length === after.length && before.every((uid, i) => uid === after[i])) return;
    for (const uid of before) {
      const keys = byOwner.get(uid);
      keys?.delete(key);
      if (keys?.size === 0) byOwner.delete(uid);
    }
    for (const uid of after) {
      let keys = byOwner.get(uid);
      if (!keys) {
        keys = new Set();
        byOwner.set(uid, keys);
      }
      keys.add(key);
    }
    if (after.length) ownersByKey.set(key, after);
    else ownersByKey.delete(key);
  }
}
