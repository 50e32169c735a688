// Garbage collector: when an owner is deleted, its dependents (ownerReferences) go too —
// background propagation by default. Owners deleted with propagationPolicy Foreground or Orphan
// (deletionTimestamp + the `foregroundDeletion` / `orphan` finalizer, as the API server leaves
// them) are finished here: dependents deleted (or released) first, then the finalizer removed and
// the owner deleted.
import type { KObject, Store, StoreEvent } from '../store.ts';
import type { OwnerIndex } from './owner-index.ts';
import { deletePodGracefully, WorkQueue } from './util.ts';

const FOREGROUND = 'foregroundDeletion';
const ORPHAN = 'orphan';

interface OwnerRef {
  resource: string;
  namespace: string | undefined;
  name: string;
}

export class GarbageCollector {
  private readonly store: Store;
  private readonly owners: OwnerIndex;
  private readonly queue: WorkQueue;
  /** uid → owner waiting (foreground) for its dependents to be gone */
  private readonly finishing = new Map<string, OwnerRef>();
  private readonly unwatch: (() => void)[] = [];

  constructor(store: Store, owners: OwnerIndex) {
    this.store = store;
    this.owners = owners;
    this.queue = new WorkQueue('garbage-collector', (uid) => this.process(uid));
    const stop = store.watch('*', (event) => this.onEvent(event));
    if (stop) this.unwatch.push(stop);
  }

  stop(): void {
    this.queue.stop();
    for (const stop of this.unwatch) stop();
  }

  private onEvent(event: StoreEvent): void {
    const meta = event.object.metadata;
    const uid = meta.uid;
    if (!uid) return;
    if (event.type === 'DELETED') {
      this.finishing.delete(uid);
      if (this.owners.hasDependents(uid)) this.queue.add(uid);
      // a dependent went away: an owner deleting in the foreground may now be done
      for (const ref of meta.ownerReferences ?? []) if (this.finishing.has(ref.uid)) this.queue.add(ref.uid);
      return;
    }
    if (meta.deletionTimestamp && meta.finalizers?.some((f) => f === FOREGROUND || f === ORPHAN)) {
      this.finishing.set(uid, { resource: event.resource, namespace: meta.namespace, name: meta.name });
      this.queue.add(uid);
    }
  }

  private process(uid: string): void {
    const pending = this.finishing.get(uid);
    const owner = pending && this.store.get(pending.resource, pending.namespace, pending.name);
    if (pending && owner?.metadata.uid === uid) {
      this.finishOwner(pending, owner, uid);
      return;
    }
    this.deleteDependents(uid, false);
  }

  private finishOwner(ref: OwnerRef, owner: KObject, uid: string): void {
    const finalizers = owner.metadata.finalizers ?? [];
    if (finalizers.includes(ORPHAN)) {
      this.releaseDependents(uid);
      this.removeFinalizer(ref, ORPHAN);
      return;
    }
    if (this.owners.hasDependents(uid)) {
      this.deleteDependents(uid, true);
      return;
    }
    this.removeFinalizer(ref, FOREGROUND);
  }

  private removeFinalizer(ref: OwnerRef, finalizer: string): void {
    const updated = this.store.mutate(ref.resource, ref.namespace, ref.name, (draft) => {
      draft.metadata.finalizers = (draft.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    });
    if (!updated.metadata.finalizers?.length) {
      this.finishing.delete(updated.metadata.uid!);
      this.store.delete(ref.resource, ref.namespace, ref.name);
    }
  }

  /**
   * Dependents owned only by `uid` are deleted (in the foreground too when the owner is, so a
   * ReplicaSet waits for its pods); those with other owners just lose the reference.
   */
  private deleteDependents(uid: string, foreground: boolean): void {
    for (const resource of this.owners.resources()) {
      for (const dependent of this.owners.dependents(resource, uid)) {
        const others = (dependent.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
        if (others.length > 0) {
          this.store.mutate(resource, dependent.metadata.namespace, dependent.metadata.name, (draft) => {
            draft.metadata.ownerReferences = others;
          });
        } else if (resource === 'pods') {
          deletePodGracefully(this.store, dependent);
        } else if (foreground) {
          this.store.mutate(resource, dependent.metadata.namespace, dependent.metadata.name, (draft) => {
            if (draft.metadata.deletionTimestamp) return false;
            draft.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
            draft.metadata.finalizers = [...(draft.metadata.finalizers ?? []), FOREGROUND];
          });
        } else {
          this.store.delete(resource, dependent.metadata.namespace, dependent.metadata.name);
        }
      }
    }
  }

  private releaseDependents(uid: string): void {
    for (const resource of this.owners.resources()) {
      for (const dependent of this.owners.dependents(resource, uid)) {
        this.store.mutate(resource, dependent.metadata.namespace, dependent.metadata.name, (draft) => {
          draft.metadata.ownerReferences = (draft.metadata.ownerReferences ?? []).filter(
            (r) => r.uid !== uid,
          );
        });
      }
    }
  }
}
