// StatefulSet controller: pods <sts>-<ordinal> with stable names and, per volumeClaimTemplate, a
// PVC <template>-<sts>-<ordinal> that outlives its pod (a recreated pod gets the same claim, so
// the scheduler keeps it in the volume's zone).
//
// podManagementPolicy OrderedReady (the default) creates ordinal n only when 0..n-1 are Ready and
// scales down from the highest ordinal one at a time; Parallel does both at once. RollingUpdate
// replaces outdated pods one at a time, highest ordinal first, while all others are Ready;
// OnDelete leaves them.
import type { KObject, Store } from '../store.ts';
import type { EventRecorder } from './events.ts';
import type { OwnerIndex } from './owner-index.ts';
import { podFromTemplate } from './pod-template.ts';
import {
  controllerOf,
  deletePodGracefully,
  isActivePod,
  isPodReady,
  isTerminal,
  ownerReferenceTo,
  splitKey,
  templateHash,
  WorkQueue,
  watchOwnerAndDependents,
} from './util.ts';
import { defaultStorageClassName } from './volumes.ts';

const SOURCE = { component: 'statefulset-controller' };
const REVISION_LABEL = 'controller-revision-hash';

export class StatefulSetController {
  private readonly store: Store;
  private readonly owners: OwnerIndex;
  private readonly recorder: EventRecorder;
  private readonly queue: WorkQueue;
  private readonly unwatch: (() => void)[] = [];

  constructor(store: Store, owners: OwnerIndex, recorder: EventRecorder) {
    this.store = store;
    this.owners = owners;
    this.recorder = recorder;
    this.queue = new WorkQueue('statefulset-controller', (key) => this.reconcile(key));
    this.unwatch.push(
      ...watchOwnerAndDependents(
        store,
        this.queue,
        { resource: 'statefulsets', kind: 'StatefulSet' },
        'pods',
      ),
    );
  }

  stop(): void {
    this.queue.stop();
    for (const stop of this.unwatch) stop();
  }

  private reconcile(key: string): void {
    const [namespace, name] = splitKey(key);
    const sts = this.store.get('statefulsets', namespace, name);
    if (!sts || sts.metadata.deletionTimestamp) return;
    const replicas: number = sts.spec?.replicas ?? 1;
    const revision = `${name}-${templateHash(sts.spec?.template)}`;
    const byOrdinal = new Map<number, KObject>();
    for (const pod of this.owners.dependents('pods', sts.metadata.uid!)) {
      if (controllerOf(pod)?.uid !== sts.metadata.uid) continue;
      const ordinal = ordinalOf(name, pod.metadata.name);
      if (ordinal !== undefined) byOrdinal.set(ordinal, pod);
    }
    for (const [ordinal, pod] of byOrdinal) {
      // a failed or completed pod is replaced under the same name, like the real controller does
      if (isTerminal(pod)) {
        this.store.delete('pods', pod.metadata.namespace, pod.metadata.name);
        byOrdinal.delete(ordinal);
      }
    }
    const ordered = (sts.spec?.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady';
    const settled = ordered ? this.scaleInOrder(sts, byOrdinal, replicas, revision) : true;
    if (!ordered) this.scaleInParallel(sts, byOrdinal, replicas, revision);
    if (settled) this.rollingUpdate(sts, byOrdinal, replicas, revision);
    this.updateStatus(sts, byOrdinal, replicas, revision);
  }

  /** Parallel: create every missing ordinal and delete every extra one at once. */
  private scaleInParallel(
    sts: KObject,
    byOrdinal: Map<number, KObject>,
    replicas: number,
    revision: string,
  ): void {
    for (let ordinal = 0; ordinal < replicas; ordinal++) {
      if (!byOrdinal.has(ordinal)) byOrdinal.set(ordinal, this.createPod(sts, ordinal, revision));
    }
    for (const [ordinal, pod] of byOrdinal) {
      if (ordinal >= replicas && isActivePod(pod)) this.deletePod(sts, pod);
    }
  }

  /**
   * OrderedReady: ordinal n is created only once 0..n-1 are Running and Ready, and the highest
   * extra ordinal is deleted only when every other pod is Ready, one at a time. Returns true when
   * the set is complete and healthy (rolling updates may proceed).
   */
  private scaleInOrder(
    sts: KObject,
    byOrdinal: Map<number, KObject>,
    replicas: number,
    revision: string,
  ): boolean {
    for (let ordinal = 0; ordinal < replicas; ordinal++) {
      const pod = byOrdinal.get(ordinal);
      if (!pod) {
        byOrdinal.set(ordinal, this.createPod(sts, ordinal, revision));
        return false;
      }
      if (!isActivePod(pod) || !isPodReady(pod)) return false;
    }
    const extras = [...byOrdinal.keys()].filter((ordinal) => ordinal >= replicas).sort((a, b) => b - a);
    if (extras.length === 0) return true;
    const highest = byOrdinal.get(extras[0]!)!;
    if (isActivePod(highest)) this.deletePod(sts, highest);
    return false;
  }

  private deletePod(sts: KObject, pod: KObject): void {
    deletePodGracefully(this.store, pod);
    this.recorder.record(
      sts,
      'Normal',
      'SuccessfulDelete',
      `delete Pod ${pod.metadata.name} in StatefulSet ${sts.metadata.name} successful`,
      SOURCE,
    );
  }

  private createPod(sts: KObject, ordinal: number, revision: string): KObject {
    const stsName = sts.metadata.name;
    const podName = `${stsName}-${ordinal}`;
    const claimVolumes = (sts.spec?.volumeClaimTemplates ?? []).map((template: KObject) => ({
      name: template.metadata.name,
      persistentVolumeClaim: { claimName: this.ensureClaim(sts, template, ordinal, podName) },
    }));
    const templateVolumes = (sts.spec?.template?.spec?.volumes ?? []).filter(
      (v: { name: string }) => !claimVolumes.some((c: { name: string }) => c.name === v.name),
    );
    const pod = this.store.create(
      'pods',
      podFromTemplate(
        sts.spec?.template,
        {
          name: podName,
          namespace: sts.metadata.namespace,
          labels: {
            [REVISION_LABEL]: revision,
            'statefulset.kubernetes.io/pod-name': podName,
            'apps.kubernetes.io/pod-index': String(ordinal),
          },
          ownerReferences: [ownerReferenceTo(sts)],
        },
        {
          hostname: podName,
          ...(sts.spec?.serviceName ? { subdomain: sts.spec.serviceName } : {}),
          volumes: [...templateVolumes, ...claimVolumes],
        },
      ),
    );
    this.recorder.record(
      sts,
      'Normal',
      'SuccessfulCreate',
      `create Pod ${podName} in StatefulSet ${stsName} successful`,
      SOURCE,
    );
    return pod;
  }

  /** Creates the claim for one template and ordinal unless it exists already. Returns its name. */
  private ensureClaim(sts: KObject, template: KObject, ordinal: number, podName: string): string {
    const claimName = `${template.metadata.name}-${sts.metadata.name}-${ordinal}`;
    if (this.store.get('persistentvolumeclaims', sts.metadata.namespace, claimName)) return claimName;
    const deleteWithSet = sts.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete';
    this.store.create('persistentvolumeclaims', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: claimName,
        namespace: sts.metadata.namespace,
        labels: { ...(template.metadata.labels ?? {}), ...(sts.spec?.selector?.matchLabels ?? {}) },
        ...(deleteWithSet ? { ownerReferences: [ownerReferenceTo(sts)] } : {}),
      },
      spec: {
        accessModes: template.spec?.accessModes ?? ['ReadWriteOnce'],
        resources: template.spec?.resources ?? { requests: { storage: '1Gi' } },
        storageClassName: template.spec?.storageClassName ?? defaultStorageClassName(this.store),
        volumeMode: template.spec?.volumeMode ?? 'Filesystem',
      },
      status: { phase: 'Pending' },
    });
    this.recorder.record(
      sts,
      'Normal',
      'SuccessfulCreate',
      `create Claim ${claimName} Pod ${podName} in StatefulSet ${sts.metadata.name} success`,
      SOURCE,
    );
    return claimName;
  }

  /** Replaces the highest-ordinal outdated pod once every pod is Ready and none is terminating. */
  private rollingUpdate(
    sts: KObject,
    byOrdinal: Map<number, KObject>,
    replicas: number,
    revision: string,
  ): void {
    if (sts.spec?.updateStrategy?.type === 'OnDelete') return;
    const partition: number = sts.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    const pods = [...byOrdinal.entries()].filter(([ordinal]) => ordinal < replicas);
    if (pods.some(([, pod]) => !isActivePod(pod) || !isPodReady(pod))) return;
    const outdated = pods
      .filter(([ordinal, pod]) => ordinal >= partition && pod.metadata.labels?.[REVISION_LABEL] !== revision)
      .sort(([a], [b]) => b - a);
    const victim = outdated[0]?.[1];
    if (victim) deletePodGracefully(this.store, victim);
  }

  private updateStatus(
    sts: KObject,
    byOrdinal: Map<number, KObject>,
    replicas: number,
    revision: string,
  ): void {
    const active = [...byOrdinal.values()].filter(isActivePod);
    const ready = active.filter(isPodReady).length;
    const updated = active.filter((pod) => pod.metadata.labels?.[REVISION_LABEL] === revision).length;
    const current = this.store.get('statefulsets', sts.metadata.namespace, sts.metadata.name)!;
    const status = {
      observedGeneration: current.metadata.generation ?? 1,
      replicas: active.length,
      readyReplicas: ready,
      availableReplicas: ready,
      currentReplicas: updated === replicas ? updated : active.length - updated,
      updatedReplicas: updated,
      currentRevision: updated === replicas ? revision : (current.status?.currentRevision ?? revision),
      updateRevision: revision,
      collisionCount: 0,
    };
    const before = current.status ?? {};
    if (Object.entries(status).every(([k, v]) => before[k] === v)) return;
    this.store.mutate('statefulsets', sts.metadata.namespace, sts.metadata.name, (draft) => {
      draft.status = { ...draft.status, ...status };
    });
  }
}

function ordinalOf(stsName: string, podName: string): number | undefined {
  if (!podName.startsWith(`${stsName}-`)) return undefined;
  const rest = podName.slice(stsName.length + 1);
  return /^\d+$/.test(rest) ? Number(rest) : undefined;
}
