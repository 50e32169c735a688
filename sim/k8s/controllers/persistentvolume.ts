// PersistentVolume controller and the EBS CSI provisioner for what the scheduler does not do:
// claims of an Immediate-binding class are provisioned at once (in the class's allowed zone, else
// the zone with the fewest volumes), a claim pre-bound to a PV (claimRef) is bound, and when a
// claim is deleted its PV is deleted (reclaimPolicy Delete, once no VolumeAttachment uses it) or
// marked Released (Retain).
import type { KObject, Store } from '../store.ts';
import { nowIso, WorkQueue } from './util.ts';
import { provisionVolume, storageClassOf, ZONE_KEYS } from './volumes.ts';

export class PersistentVolumeController {
  private readonly store: Store;
  private readonly queue: WorkQueue;
  private readonly unwatch: (() => void)[] = [];

  constructor(store: Store) {
    this.store = store;
    this.queue = new WorkQueue('persistentvolume-controller', (key) => this.reconcile(key));
    const pvcWatch = store.watch('persistentvolumeclaims', (event) => {
      const pvc = event.object;
      if (event.type === 'DELETED') this.queue.add(`released:${pvc.metadata.uid}`);
      else if (!pvc.spec?.volumeName && !pvc.metadata.deletionTimestamp) {
        this.queue.add(`claim:${pvc.metadata.namespace ?? ''}/${pvc.metadata.name}`);
      }
    });
    // a detached volume whose claim is gone can be deleted now
    const vaWatch = store.watch('volumeattachments', (event) => {
      if (event.type !== 'DELETED') return;
      const pv = store.get(
        'persistentvolumes',
        undefined,
        event.object.spec?.source?.persistentVolumeName ?? '',
      );
      if (pv?.status?.phase === 'Released') this.queue.add(`released:${pv.spec?.claimRef?.uid}`);
    });
    for (const stop of [pvcWatch, vaWatch]) if (stop) this.unwatch.push(stop);
    for (const pvc of store.list('persistentvolumeclaims')) {
      if (!pvc.spec?.volumeName) this.queue.add(`claim:${pvc.metadata.namespace ?? ''}/${pvc.metadata.name}`);
    }
  }

  stop(): void {
    this.queue.stop();
    for (const stop of this.unwatch) stop();
  }

  private reconcile(key: string): void {
    const colon = key.indexOf(':');
    const kind = key.slice(0, colon);
    const rest = key.slice(colon + 1);
    if (kind === 'released') {
      this.reclaim(rest);
      return;
    }
    const slash = rest.indexOf('/');
    const pvc = this.store.get(
      'persistentvolumeclaims',
      rest.slice(0, slash) || undefined,
      rest.slice(slash + 1),
    );
    if (!pvc || pvc.spec?.volumeName || pvc.metadata.deletionTimestamp) return;
    const preBound = this.store
      .list('persistentvolumes')
      .find(
        (pv) =>
          pv.spec?.claimRef?.name === pvc.metadata.name &&
          pv.spec?.claimRef?.namespace === pvc.metadata.namespace &&
          (!pv.spec.claimRef.uid || pv.spec.claimRef.uid === pvc.metadata.uid),
      );
    if (preBound) {
      this.bindStatic(pvc, preBound);
      return;
    }
    const sc = storageClassOf(this.store, pvc);
    if (sc?.volumeBindingMode !== 'Immediate') return; // WaitForFirstConsumer: the scheduler provisions
    provisionVolume(this.store, pvc, sc, this.zoneFor(sc.allowedTopologies));
  }

  private bindStatic(pvc: KObject, pv: KObject): void {
    this.store.mutate('persistentvolumes', undefined, pv.metadata.name, (draft) => {
      draft.spec.claimRef = {
        ...draft.spec.claimRef,
        uid: pvc.metadata.uid,
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
      };
      draft.status = { phase: 'Bound', lastPhaseTransitionTime: nowIso() };
    });
    this.store.mutate('persistentvolumeclaims', pvc.metadata.namespace, pvc.metadata.name, (draft) => {
      draft.metadata.annotations = {
        ...draft.metadata.annotations,
        'pv.kubernetes.io/bind-completed': 'yes',
      };
      draft.spec.volumeName = pv.metadata.name;
      draft.status = { phase: 'Bound', accessModes: pv.spec?.accessModes, capacity: pv.spec?.capacity };
    });
  }

  /** The PV of a deleted claim: deleted when its policy says so and nothing has it attached, else Released. */
  private reclaim(claimUid: string): void {
    const pv = this.store.list('persistentvolumes').find((p) => p.spec?.claimRef?.uid === claimUid);
    if (!pv) return;
    const attached = this.store
      .list('volumeattachments')
      .some((va) => va.spec?.source?.persistentVolumeName === pv.metadata.name);
    if (pv.spec?.persistentVolumeReclaimPolicy === 'Delete' && !attached) {
      this.store.delete('persistentvolumes', undefined, pv.metadata.name);
      return;
    }
    if (pv.status?.phase === 'Released') return;
    this.store.mutate('persistentvolumes', undefined, pv.metadata.name, (draft) => {
      draft.status = { phase: 'Released', lastPhaseTransitionTime: nowIso() };
    });
  }

  /** An allowed zone of the class, else the node zone holding the fewest volumes. */
  private zoneFor(
    allowed: { matchLabelExpressions?: { key: string; values: string[] }[] }[] | undefined,
  ): string {
    for (const term of allowed ?? []) {
      for (const expression of term.matchLabelExpressions ?? []) {
        if (ZONE_KEYS.includes(expression.key) && expression.values[0]) return expression.values[0];
      }
    }
    const volumesPerZone = new Map<string, number>();
    for (const node of this.store.list('nodes')) {
      const zone = node.metadata.labels?.['topology.kubernetes.io/zone'];
      if (zone) volumesPerZone.set(zone, 0);
    }
    for (const pv of this.store.list('persistentvolumes')) {
      const zone =
        pv.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.[0]?.values?.[0];
      if (volumesPerZone.has(zone)) volumesPerZone.set(zone, volumesPerZone.get(zone)! + 1);
    }
    const [zone] = [...volumesPerZone].sort(([a, x], [b, y]) => x - y || a.localeCompare(b))[0] ?? [
      'us-east-1a',
    ];
    return zone;
  }
}
