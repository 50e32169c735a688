// EBS CSI volume plumbing shared by the scheduler (WaitForFirstConsumer provisioning) and the
// kubelet (VolumeAttachments): storage classes, PV provisioning and PVC↔PV binding.
import type { KObject, Store } from '../store.ts';
import { nowIso, randomHex, sha256Hex } from './util.ts';

export const EBS_DRIVER = 'ebs.csi.aws.com';
export const ZONE_KEYS = ['topology.kubernetes.io/zone', 'topology.ebs.csi.aws.com/zone'];

export interface StorageClassInfo {
  name: string;
  provisioner: string;
  volumeBindingMode: 'WaitForFirstConsumer' | 'Immediate';
  reclaimPolicy: string;
  allowedTopologies?: { matchLabelExpressions?: { key: string; values: string[] }[] }[];
}

/** What the simulated cluster uses when no StorageClass object exists: the gp3 class EKS users install. */
const BUILTIN_GP3: StorageClassInfo = {
  name: 'gp3',
  provisioner: EBS_DRIVER,
  volumeBindingMode: 'WaitForFirstConsumer',
  reclaimPolicy: 'Delete',
};

/** The default class's name: the StorageClass annotated as default, else gp3. */
export function defaultStorageClassName(store: Store): string {
  const annotated = store
    .list('storageclasses')
    .find((sc) => sc.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true');
  return annotated?.metadata.name ?? BUILTIN_GP3.name;
}

/** The class a PVC provisions from, or undefined when it names a class that does not exist. */
export function storageClassOf(store: Store, pvc: KObject): StorageClassInfo | undefined {
  const name: string = pvc.spec?.storageClassName ?? defaultStorageClassName(store);
  const sc = store.get('storageclasses', undefined, name);
  if (!sc) return name === BUILTIN_GP3.name ? BUILTIN_GP3 : undefined;
  return {
    name,
    provisioner: sc.provisioner,
    volumeBindingMode: sc.volumeBindingMode ?? 'Immediate',
    reclaimPolicy: sc.reclaimPolicy ?? 'Delete',
    allowedTopologies: sc.allowedTopologies,
  };
}

/** Claim names of the pod's persistentVolumeClaim volumes. */
export function claimNamesOf(pod: KObject): string[] {
  const out: string[] = [];
  for (const volume of pod.spec?.volumes ?? []) {
    const claim = volume?.persistentVolumeClaim?.claimName;
    if (claim) out.push(claim);
  }
  return out;
}

/** Creates the PV for `pvc` in `zone` (what the EBS CSI provisioner does) and binds both ways. */
export function provisionVolume(
  store: Store,
  pvc: KObject,
  sc: StorageClassInfo,
  zone: string,
  nodeName?: string,
) {
  const pvName = `pvc-${pvc.metadata.uid}`;
  const storage = pvc.spec?.resources?.requests?.storage ?? '1Gi';
  if (!store.get('persistentvolumes', undefined, pvName)) {
    store.create('persistentvolumes', {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name: pvName,
        annotations: {
          'pv.kubernetes.io/provisioned-by': sc.provisioner,
          'volume.kubernetes.io/provisioner-deletion-secret-name': '',
          'volume.kubernetes.io/provisioner-deletion-secret-namespace': '',
        },
      },
      spec: {
        accessModes: pvc.spec?.accessModes ?? ['ReadWriteOnce'],
        capacity: { storage },
        claimRef: {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          name: pvc.metadata.name,
          namespace: pvc.metadata.namespace,
          uid: pvc.metadata.uid,
          resourceVersion: pvc.metadata.resourceVersion,
        },
        csi: {
          driver: sc.provisioner,
          fsType: 'ext4',
          volumeAttributes: {
            'storage.kubernetes.io/csiProvisionerIdentity': `1732000000000-8081-${sc.provisioner}`,
          },
          volumeHandle: `vol-0${randomHex(8).slice(0, 16)}`,
        },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: [zone] }] },
            ],
          },
        },
        persistentVolumeReclaimPolicy: sc.reclaimPolicy,
        storageClassName: sc.name,
        volumeMode: pvc.spec?.volumeMode ?? 'Filesystem',
      },
      status: { phase: 'Bound', lastPhaseTransitionTime: nowIso() },
    });
  }
  store.mutate('persistentvolumeclaims', pvc.metadata.namespace, pvc.metadata.name, (draft) => {
    draft.metadata.annotations = {
      ...(draft.metadata.annotations ?? {}),
      'pv.kubernetes.io/bind-completed': 'yes',
      'pv.kubernetes.io/bound-by-controller': 'yes',
      'volume.beta.kubernetes.io/storage-provisioner': sc.provisioner,
      'volume.kubernetes.io/storage-provisioner': sc.provisioner,
      ...(nodeName ? { 'volume.kubernetes.io/selected-node': nodeName } : {}),
    };
    draft.spec = { ...draft.spec, volumeName: pvName, storageClassName: sc.name, volumeMode: 'Filesystem' };
    draft.status = {
      phase: 'Bound',
      accessModes: draft.spec.accessModes ?? ['ReadWriteOnce'],
      capacity: { storage },
    };
  });
  return pvName;
}

/** The VolumeAttachment name the attach/detach controller uses: csi-sha256(volumeHandle+driver+node). */
export function attachmentName(pv: KObject, nodeName: string): string {
  const handle = pv.spec?.csi?.volumeHandle ?? pv.metadata.name;
  const driver = pv.spec?.csi?.driver ?? EBS_DRIVER;
  return `csi-${sha256Hex(`${handle}${driver}${nodeName}`)}`;
}

export function buildVolumeAttachment(pv: KObject, nodeName: string): KObject {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'VolumeAttachment',
    metadata: {
      name: attachmentName(pv, nodeName),
      // no external-attacher finalizer: the simulated attacher deletes attachments outright
      annotations: { 'csi.alpha.kubernetes.io/node-id': nodeName },
    },
    spec: {
      attacher: pv.spec?.csi?.driver ?? EBS_DRIVER,
      nodeName,
      source: { persistentVolumeName: pv.metadata.name },
    },
    status: { attached: true, attachmentMetadata: { devicePath: '/dev/xvdaa' } },
  };
}
