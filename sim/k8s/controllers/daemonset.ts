// DaemonSet controller: one pod per eligible node. Like the real controller it does not bind the
// pod itself: it pins it with node affinity on metadata.name and lets the scheduler bind it, and it
// adds the tolerations every DaemonSet pod gets (not-ready, unreachable, pressure conditions,
// unschedulable) so cordoned nodes keep their daemons. Pods on deleted nodes go with pod GC.
import type { KObject, Store } from '../store.ts';
import type { EventRecorder } from './events.ts';
import type { OwnerIndex } from './owner-index.ts';
import { podFromTemplate } from './pod-template.ts';
import {
  matchesNodeAffinity,
  type Taint,
  type Toleration,
  tolerates,
  untoleratedTaint,
} from './predicates.ts';
import {
  controllerOf,
  createGenerated,
  deletePodGracefully,
  intOrPercent,
  isActivePod,
  isPodReady,
  keyOf,
  ownerReferenceTo,
  splitKey,
  templateHash,
  WorkQueue,
  watchOwnerAndDependents,
} from './util.ts';

const SOURCE = { component: 'daemonset-controller' };

const DAEMON_TOLERATIONS: Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

export class DaemonSetController {
  private readonly store: Store;
  private readonly owners: OwnerIndex;
  private readonly recorder: EventRecorder;
  private readonly queue: WorkQueue;
  private readonly unwatch: (() => void)[] = [];

  constructor(store: Store, owners: OwnerIndex, recorder: EventRecorder) {
    this.store = store;
    this.owners = owners;
    this.recorder = recorder;
    this.queue = new WorkQueue('daemonset-controller', (key) => this.reconcile(key));
    this.unwatch.push(
      ...watchOwnerAndDependents(store, this.queue, { resource: 'daemonsets', kind: 'DaemonSet' }, 'pods'),
    );
    // any node change may add or remove a daemon pod: re-check every DaemonSet (there are few)
    const nodeWatch = store.watch('nodes', () => {
      for (const ds of store.list('daemonsets')) this.queue.add(keyOf(ds));
    });
    if (nodeWatch) this.unwatch.push(nodeWatch);
  }

  stop(): void {
    this.queue.stop();
    for (const stop of this.unwatch) stop();
  }

  private reconcile(key: string): void {
    const [namespace, name] = splitKey(key);
    const ds = this.store.get('daemonsets', namespace, name);
    if (!ds || ds.metadata.deletionTimestamp) return;
    const probe = this.podFor(ds, '');
    const podsByNode = new Map<string, KObject[]>();
    for (const pod of this.owners.dependents('pods', ds.metadata.uid!)) {
      if (controllerOf(pod)?.uid !== ds.metadata.uid || !isActivePod(pod)) continue;
      const node = targetNodeOf(pod);
      podsByNode.set(node, [...(podsByNode.get(node) ?? []), pod]);
    }
    let desired = 0;
    for (const node of this.store.list('nodes')) {
      const nodeName = node.metadata.name;
      const pods = podsByNode.get(nodeName) ?? [];
      podsByNode.delete(nodeName);
      const { place, keep } = placement(probe, node);
      if (!place && !(keep && pods.length > 0)) {
        for (const pod of pods) deletePodGracefully(this.store, pod);
        continue;
      }
      desired++;
      if (pods.length === 0) {
        const pod = createGenerated(this.store, 'pods', this.podFor(ds, nodeName));
        this.recorder.record(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, SOURCE);
      }
      for (const extra of pods.slice(1)) deletePodGracefully(this.store, extra);
    }
    // pods for nodes that no longer exist (pod GC removes bound ones; these were never bound)
    for (const pods of podsByNode.values()) for (const pod of pods) deletePodGracefully(this.store, pod);
    this.rollingUpdate(ds, desired);
    this.updateStatus(ds, desired);
  }

  /**
   * RollingUpdate: replace outdated pods while fewer than maxUnavailable (default 1) of the desired
   * pods are unavailable; the replacement is created on the next pass once the old pod is gone.
   */
  private rollingUpdate(ds: KObject, desired: number): void {
    if (ds.spec?.updateStrategy?.type === 'OnDelete') return;
    const revision = templateHash(ds.spec?.template);
    const pods = this.owners
      .dependents('pods', ds.metadata.uid!)
      .filter((pod) => controllerOf(pod)?.uid === ds.metadata.uid);
    const maxUnavailable = intOrPercent(
      ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable,
      desired,
      false,
      '1',
    );
    let unavailable = Math.max(0, desired - pods.filter((pod) => isActivePod(pod) && isPodReady(pod)).length);
    for (const pod of pods) {
      if (unavailable >= Math.max(1, maxUnavailable)) return;
      if (!isActivePod(pod) || pod.metadata.labels?.['controller-revision-hash'] === revision) continue;
      deletePodGracefully(this.store, pod);
      if (isPodReady(pod)) unavailable++;
    }
  }

  private podFor(ds: KObject, nodeName: string): KObject {
    const pod = podFromTemplate(ds.spec?.template, {
      name: '',
      generateName: `${ds.metadata.name}-`,
      namespace: ds.metadata.namespace,
      labels: {
        'controller-revision-hash': templateHash(ds.spec?.template),
        'pod-template-generation': String(ds.metadata.generation ?? 1),
      },
      ownerReferences: [ownerReferenceTo(ds)],
    });
    const tolerations: Toleration[] = pod.spec.tolerations ?? [];
    for (const t of DAEMON_TOLERATIONS) {
      if (!tolerations.some((have) => have.key === t.key && have.effect === t.effect)) tolerations.push(t);
    }
    pod.spec.tolerations = tolerations;
    if (nodeName) pod.spec.affinity = pinnedTo(pod.spec.affinity, nodeName);
    return pod;
  }

  private updateStatus(ds: KObject, desired: number): void {
    const pods = this.owners
      .dependents('pods', ds.metadata.uid!)
      .filter((pod) => controllerOf(pod)?.uid === ds.metadata.uid && isActivePod(pod));
    const scheduled = pods.filter((pod) => pod.spec?.nodeName);
    const ready = scheduled.filter(isPodReady).length;
    const revision = templateHash(ds.spec?.template);
    const current = this.store.get('daemonsets', ds.metadata.namespace, ds.metadata.name)!;
    const status = {
      observedGeneration: current.metadata.generation ?? 1,
      desiredNumberScheduled: desired,
      currentNumberScheduled: scheduled.length,
      numberMisscheduled: 0,
      numberReady: ready,
      numberAvailable: ready,
      numberUnavailable: Math.max(0, desired - ready),
      updatedNumberScheduled: scheduled.filter(
        (pod) => pod.metadata.labels?.['controller-revision-hash'] === revision,
      ).length,
    };
    const before = current.status ?? {};
    if (Object.entries(status).every(([k, v]) => before[k] === v)) return;
    this.store.mutate('daemonsets', ds.metadata.namespace, ds.metadata.name, (draft) => {
      draft.status = { ...draft.status, ...status };
    });
  }
}

/**
 * Whether a daemon pod should be placed on the node (affinity matches, every NoSchedule/NoExecute
 * taint tolerated; a cordon does not matter) or, if already there, keep running (only untolerated
 * NoExecute taints evict) — nodeShouldRunDaemonPod in the real controller.
 */
function placement(probe: KObject, node: KObject): { place: boolean; keep: boolean } {
  if (!matchesNodeAffinity(probe, node)) return { place: false, keep: false };
  const tolerations: Toleration[] = probe.spec?.tolerations ?? [];
  const keep = !(node.spec?.taints ?? []).some(
    (t: Taint) => t.effect === 'NoExecute' && !tolerates(tolerations, t),
  );
  return { place: keep && !untoleratedTaint(probe, node), keep };
}

/** The node a daemon pod is for: where it is bound, else the node its affinity pins it to. */
function targetNodeOf(pod: KObject): string {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  for (const term of terms ?? []) {
    for (const field of term.matchFields ?? []) {
      if (field.key === 'metadata.name' && field.operator === 'In') return field.values?.[0] ?? '';
    }
  }
  return '';
}

/** Adds `metadata.name In [node]` to every required node selector term (or creates one). */
function pinnedTo(affinity: KObject['spec'], nodeName: string) {
  const out = structuredClone(affinity ?? {});
  const pin = { key: 'metadata.name', operator: 'In', values: [nodeName] };
  out.nodeAffinity ??= {};
  const required = out.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required?.nodeSelectorTerms?.length) {
    out.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
      nodeSelectorTerms: [{ matchFields: [pin] }],
    };
    return out;
  }
  for (const term of required.nodeSelectorTerms) {
    term.matchFields = [
      ...(term.matchFields ?? []).filter((f: { key: string }) => f.key !== 'metadata.name'),
      pin,
    ];
  }
  return out;
}
