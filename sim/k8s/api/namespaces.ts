// Namespace lifecycle as kube-apiserver + the namespace controller show it: DELETE marks the namespace
// Terminating and deletes its contents (pods gracefully); the namespace disappears once it is empty;
// nothing new may be created in it meanwhile.
import type { KObject, Store } from '../store.ts';
import { deleteObject, type Scope } from './crud.ts';
import { RESOURCES } from './resources.ts';

const NAMESPACED_STORE_KEYS = [...new Set(RESOURCES.filter((t) => t.namespaced).map((t) => t.storeKey))];
const NAMESPACES = RESOURCES.find((t) => t.resource === 'namespaces')!;

const nowIso = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export function isTerminating(store: Store, namespace: string): boolean {
  return store.get('namespaces', undefined, namespace)?.status?.phase === 'Terminating';
}

function isEmpty(store: Store, namespace: string): boolean {
  return NAMESPACED_STORE_KEYS.every((key) => store.list(key, { namespace }).length === 0);
}

/** Deletes everything in the namespace (what the namespace controller does) and the namespace once empty. */
function purge(store: Store, namespace: string): void {
  for (const storeKey of NAMESPACED_STORE_KEYS) {
    const type = RESOURCES.find((t) => t.storeKey === storeKey && t.namespaced)!;
    const scope: Scope = { store, type, namespace };
    for (const obj of store.list(storeKey, { namespace })) {
      if (obj.metadata.deletionTimestamp) continue;
      deleteObject(scope, obj.metadata.name, {}, false);
    }
  }
  if (isEmpty(store, namespace) && store.get('namespaces', undefined, namespace)) {
    store.delete('namespaces', undefined, namespace);
  }
}

/** DELETE of a namespace: mark it Terminating and start purging. Returns the namespace as it is then. */
export function deleteNamespace(store: Store, name: string, dryRun: boolean): KObject {
  const scope: Scope = { store, type: NAMESPACES };
  const current = store.get('namespaces', undefined, name);
  if (!current || dryRun || current.metadata.deletionTimestamp) return deleteObject(scope, name, {}, true);
  const terminating = store.mutate('namespaces', undefined, name, (ns) => {
    ns.metadata.deletionTimestamp = nowIso();
    ns.metadata.deletionGracePeriodSeconds = 0;
    ns.status = { ...ns.status, phase: 'Terminating' };
  });
  purge(store, name);
  return store.get('namespaces', undefined, name) ?? terminating;
}

/** Removes a Terminating namespace once its last object is gone. Returns a stop function. */
export function startNamespaceFinalizer(store: Store): () => void {
  const stop = store.watch('*', (event) => {
    if (event.type !== 'DELETED') return;
    const namespace = event.object.metadata.namespace;
    if (!namespace || !isTerminating(store, namespace)) return;
    setImmediate(() => {
      if (isTerminating(store, namespace) && isEmpty(store, namespace)) {
        store.delete('namespaces', undefined, namespace);
      }
    });
  });
  return stop === false ? () => {} : stop;
}
