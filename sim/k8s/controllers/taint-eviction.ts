// Taint eviction controller (the NoExecute taint manager): pods on a node with a NoExecute taint
// they do not tolerate are deleted at once; pods tolerating it for tolerationSeconds are deleted
// when that runs out (counted from the taint's timeAdded). Deletion is graceful and not
// PDB-checked, like the real one, and marks the pod DisruptionTarget=True first.
import type { KObject, Store } from '../store.ts';
import type { EventRecorder } from './events.ts';
import { type Taint, type Toleration, tolerates } from './predicates.ts';
import {
  deletePodGracefully,
  keyOf,
  nowIso,
  splitKey,
  stableStringify,
  type Timers,
  WorkQueue,
} from './util.ts';

const SOURCE = { component: 'taint-eviction-controller' };

interface TimedToleration extends Toleration {
  tolerationSeconds?: number;
}

export class TaintEvictionController {
  private readonly store: Store;
  private readonly recorder: EventRecorder;
  private readonly timers: Timers;
  private readonly queue: WorkQueue;
  /** node → its NoExecute taints as last seen */
  private readonly nodeTaints = new Map<string, string>();
  /** pod key → pending eviction */
  private readonly scheduled = new Map<string, { at: number; timer: NodeJS.Timeout | undefined }>();
  private readonly unwatch: (() => void)[] = [];

  constructor(store: Store, recorder: EventRecorder, timers: Timers) {
    this.store = store;
    this.recorder = recorder;
    this.timers = timers;
    this.queue = new WorkQueue('taint-eviction-controller', (key) => this.reconcile(key));
    const nodeWatch = store.watch('nodes', (event) => {
      const name = event.object.metadata.name;
      const taints = event.type === 'DELETED' ? '' : stableStringify(noExecuteTaints(event.object));
      if ((this.nodeTaints.get(name) ?? '[]') === taints) return;
      if (event.type === 'DELETED') this.nodeTaints.delete(name);
      else this.nodeTaints.set(name, taints);
      this.queue.add(`node:${name}`);
    });
    const podWatch = store.watch('pods', (event) => {
      const pod = event.object;
      if (event.type === 'DELETED') this.cancel(keyOf(pod));
      else if (pod.spec?.nodeName && (this.nodeTaints.get(pod.spec.nodeName) ?? '[]') !== '[]') {
        this.queue.add(`pod:${keyOf(pod)}`);
      }
    });
    for (const stop of [nodeWatch, podWatch]) if (stop) this.unwatch.push(stop);
    for (const node of store.list('nodes')) {
      this.nodeTaints.set(node.metadata.name, stableStringify(noExecuteTaints(node)));
      this.queue.add(`node:${node.metadata.name}`);
    }
  }

  stop(): void {
    this.queue.stop();
    for (const stop of this.unwatch) stop();
  }

  private reconcile(key: string): void {
    if (key.startsWith('node:')) {
      const nodeName = key.slice('node:'.length);
      const node = this.store.get('nodes', undefined, nodeName);
      for (const pod of this.store.list('pods', { nodeName })) this.check(pod, node);
      return;
    }
    const [namespace, name] = splitKey(key.slice('pod:'.length));
    const pod = this.store.get('pods', namespace, name);
    if (pod?.spec?.nodeName) this.check(pod, this.store.get('nodes', undefined, pod.spec.nodeName));
  }

  private check(pod: KObject, node: KObject | undefined): void {
    const key = keyOf(pod);
    const taints = node ? noExecuteTaints(node) : [];
    if (taints.length === 0 || pod.metadata.deletionTimestamp) {
      this.cancel(key);
      return;
    }
    const tolerations: TimedToleration[] = pod.spec?.tolerations ?? [];
    if (taints.some((taint) => !tolerates(tolerations, taint))) {
      this.evict(key);
      return;
    }
    const at = evictionTime(taints, tolerations);
    if (at === undefined) {
      this.cancel(key);
      return;
    }
    const current = this.scheduled.get(key);
    if (current && current.at <= at) return;
    this.cancel(key);
    this.scheduled.set(key, {
      at,
      timer: this.timers.after(Math.max(0, at - Date.now()), () => this.evict(key)),
    });
  }

  private cancel(key: string): void {
    const current = this.scheduled.get(key);
    if (!current) return;
    this.timers.cancel(current.timer);
    this.scheduled.delete(key);
  }

  private evict(key: string): void {
    this.cancel(key);
    const [namespace, name] = splitKey(key);
    const pod = this.store.get('pods', namespace, name);
    if (!pod || pod.metadata.deletionTimestamp) return;
    const marked = this.store.mutate('pods', namespace, name, (draft) => {
      draft.status ??= {};
      const conditions = (draft.status.conditions ?? []).filter(
        (c: { type: string }) => c.type !== 'DisruptionTarget',
      );
      conditions.push({
        type: 'DisruptionTarget',
        status: 'True',
        lastProbeTime: null,
        lastTransitionTime: nowIso(),
        reason: 'DeletionByTaintManager',
        message: 'Taint manager: deleting due to NoExecute taint',
      });
      draft.status.conditions = conditions;
    });
    this.recorder.record(marked, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`, SOURCE);
    deletePodGracefully(this.store, marked);
  }
}

function noExecuteTaints(node: KObject): (Taint & { timeAdded?: string })[] {
  return (node.spec?.taints ?? []).filter((t: Taint) => t.effect === 'NoExecute');
}

/**
 * When a pod that tolerates every NoExecute taint must still go: the earliest taint's timeAdded
 * plus the shortest tolerationSeconds among the tolerations in use (per taint, the first one that
 * tolerates it, as the real taint manager picks them); undefined = tolerated forever.
 */
function evictionTime(
  taints: (Taint & { timeAdded?: string })[],
  tolerations: TimedToleration[],
): number | undefined {
  let seconds = Number.POSITIVE_INFINITY;
  for (const taint of taints) {
    const used = tolerations.find((toleration) => tolerates([toleration], taint));
    if (used?.tolerationSeconds !== undefined)
      seconds = Math.min(seconds, Math.max(0, used.tolerationSeconds));
  }
  if (!Number.isFinite(seconds)) return undefined;
  const since = Math.min(...taints.map((t) => Date.parse(t.timeAdded ?? '') || Date.now()));
  return since + seconds * 1000;
}
