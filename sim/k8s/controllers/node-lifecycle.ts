// Node lifecycle controller, taint part: a node whose Ready condition is False gets the
// node.kubernetes.io/not-ready taints, Unknown gets node.kubernetes.io/unreachable (NoSchedule and
// NoExecute, with timeAdded), Ready again removes them. The real controller waits out
// node-monitor-grace-period first; here the condition change is the signal, so it taints at once.
import type { KObject, Store } from '../store.ts';
import type { Taint } from './predicates.ts';
import { nowIso, WorkQueue } from './util.ts';

const NOT_READY = 'node.kubernetes.io/not-ready';
const UNREACHABLE = 'node.kubernetes.io/unreachable';

export class NodeLifecycleController {
  private readonly store: Store;
  private readonly queue: WorkQueue;
  private readonly unwatch: (() => void)[] = [];

  constructor(store: Store) {
    this.store = store;
    this.queue = new WorkQueue('node-lifecycle-controller', (name) => this.reconcile(name));
    const stop = store.watch('nodes', (event) => {
      if (event.type !== 'DELETED') this.queue.add(event.object.metadata.name);
    });
    if (stop) this.unwatch.push(stop);
    for (const node of store.list('nodes')) this.queue.add(node.metadata.name);
  }

  stop(): void {
    this.queue.stop();
    for (const stop of this.unwatch) stop();
  }

  private reconcile(name: string): void {
    const node = this.store.get('nodes', undefined, name);
    if (!node) return;
    const wantedKey = lifecycleTaintKey(node);
    const taints: (Taint & { timeAdded?: string })[] = node.spec?.taints ?? [];
    const current = taints.filter((t) => t.key === NOT_READY || t.key === UNREACHABLE);
    const upToDate = wantedKey
      ? current.length === 2 && current.every((t) => t.key === wantedKey)
      : current.length === 0;
    if (upToDate) return;
    this.store.mutate('nodes', undefined, name, (draft) => {
      const kept = (draft.spec?.taints ?? []).filter(
        (t: Taint) => t.key !== NOT_READY && t.key !== UNREACHABLE,
      );
      if (wantedKey) {
        kept.push(
          { key: wantedKey, effect: 'NoSchedule' },
          { key: wantedKey, effect: 'NoExecute', timeAdded: nowIso() },
        );
      }
      draft.spec ??= {};
      if (kept.length > 0) draft.spec.taints = kept;
      else delete draft.spec.taints;
    });
  }
}

/** not-ready for Ready=False, unreachable for Ready=Unknown (or no Ready condition), none when Ready. */
function lifecycleTaintKey(node: KObject): string | undefined {
  const ready = node.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status;
  if (ready === 'True') return undefined;
  return ready === 'False' ? NOT_READY : UNREACHABLE;
}
