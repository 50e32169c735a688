// ReplicaSet controller: keeps spec.replicas active pods named <rs>-<5 random>, deleting the least
// valuable extras first (unscheduled, then pending, then not ready, then newest), and reports status.
import type { KObject, Store } from '../store.ts';
import type { EventRecorder } from './events.ts';
import type { OwnerIndex } from './owner-index.ts';
import { podFromTemplate } from './pod-template.ts';
import {
  controllerOf,
  createGenerated,
  deletePodGracefully,
  isActivePod,
  isPodReady,
  keyOf,
  matchesSelector,
  msUntilAvailable,
  ownerReferenceTo,
  splitKey,
  type Timers,
  WorkQueue,
} from './util.ts';

const SOURCE = { component: 'replicaset-controller' };

export class ReplicaSetController {
  private readonly store: Store;
  private readonly owners: OwnerIndex;
  private readonly recorder: EventRecorder;
  private readonly timers: Timers;
  private readonly queue: WorkQueue;
  private readonly unwatch: (() => void)[] = [];

  constructor(store: Store, owners: OwnerIndex, recorder: EventRecorder, timers: Timers) {
    this.store = store;
    this.owners = owners;
    this.recorder = recorder;
    this.timers = timers;
    this.queue = new WorkQueue('replicaset-controller', (key) => this.reconcile(key));
    const rsWatch = store.watch('replicasets', (event) => {
      if (event.type !== 'DELETED') this.queue.add(keyOf(event.object));
    });
    const podWatch = store.watch('pods', (event) => {
      const owner = controllerOf(event.object);
      if (owner?.kind === 'ReplicaSet')
        this.queue.add(`${event.object.metadata.namespace ?? ''}/${owner.name}`);
    });
    for (const stop of [rsWatch, podWatch]) if (stop) this.unwatch.push(stop);
    for (const rs of store.list('replicasets')) this.queue.add(keyOf(rs));
  }

  stop(): void {
    this.queue.stop();
    for (const stop of this.unwatch) stop();
  }

  private reconcile(key: string): void {
    const [namespace, name] = splitKey(key);
    const rs = this.store.get('replicasets', namespace, name);
    if (!rs || rs.metadata.deletionTimestamp) return;
    const pods = this.owners
      .dependents('pods', rs.metadata.uid!)
      .filter((pod) => controllerOf(pod)?.uid === rs.metadata.uid);
    const active = pods.filter(isActivePod);
    const wanted: number = rs.spec?.replicas ?? 1;
    if (active.length < wanted) this.createPods(rs, wanted - active.length);
    else if (active.length > wanted) this.deletePods(rs, active, active.length - wanted);
    this.updateStatus(rs, key);
  }

  private createPods(rs: KObject, count: number): void {
    for (let i = 0; i < count; i++) {
      const pod = createGenerated(
        this.store,
        'pods',
        podFromTemplate(rs.spec.template, {
          name: '',
          generateName: `${rs.metadata.name}-`,
          namespace: rs.metadata.namespace,
          ownerReferences: [ownerReferenceTo(rs)],
        }),
      );
      this.recorder.record(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, SOURCE);
    }
  }

  private deletePods(rs: KObject, active: KObject[], count: number): void {
    const victims = [...active].sort(deletionPreference).slice(0, count);
    for (const pod of victims) {
      deletePodGracefully(this.store, pod);
      this.recorder.record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, SOURCE);
    }
  }

  private updateStatus(rs: KObject, key: string): void {
    const current = this.store.get('replicasets', rs.metadata.namespace, rs.metadata.name)!;
    const pods = this.owners
      .dependents('pods', rs.metadata.uid!)
      .filter((pod) => controllerOf(pod)?.uid === rs.metadata.uid && isActivePod(pod));
    const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
    let available = 0;
    let soonest = Number.POSITIVE_INFINITY;
    for (const pod of pods) {
      const wait = msUntilAvailable(pod, minReadySeconds);
      if (wait === 0) available++;
      else if (wait > 0) soonest = Math.min(soonest, wait);
    }
    if (Number.isFinite(soonest)) this.timers.after(soonest + 5, () => this.queue.add(key));
    const status = {
      replicas: pods.length,
      fullyLabeledReplicas: pods.filter((p) => matchesSelector(p.metadata.labels, rs.spec?.selector)).length,
      readyReplicas: pods.filter(isPodReady).length,
      availableReplicas: available,
      observedGeneration: current.metadata.generation ?? 1,
    };
    const before = current.status ?? {};
    if (Object.entries(status).every(([k, v]) => (before[k] ?? 0) === v)) return;
    this.store.mutate('replicasets', rs.metadata.namespace, rs.metadata.name, (draft) => {
      draft.status = { ...draft.status, ...status };
    });
  }
}

/** Lower sorts first = deleted first, like controller.ActivePods ordering in the real controller. */
function deletionPreference(a: KObject, b: KObject): number {
  const rank = (pod: KObject) => {
    if (!pod.spec?.nodeName) return 0;
    if (pod.status?.phase === 'Pending') return 1;
    if (!isPodReady(pod)) return 2;
    return 3;
  };
  return (
    rank(a) - rank(b) ||
    (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') ||
    b.metadata.name.localeCompare(a.metadata.name)
  );
}
