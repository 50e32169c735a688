// What tells a drain a pod is stateful (PVC → zonal PV) and when its volume is free (VolumeAttachment gone).
import type {
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1VolumeAttachment,
} from '@kubernetes/client-node';
import type { KubeClients } from './client.ts';

export async function listPersistentVolumes(k8s: KubeClients): Promise<V1PersistentVolume[]> {
  return (await k8s.core.listPersistentVolume({})).items;
}

export async function listPersistentVolumeClaims(k8s: KubeClients): Promise<V1PersistentVolumeClaim[]> {
  return (await k8s.core.listPersistentVolumeClaimForAllNamespaces({})).items;
}

/** VolumeAttachments (storage.k8s.io/v1) to `node`. The API has no field selector for spec.nodeName. */
export async function listVolumeAttachmentsOnNode(
  k8s: KubeClients,
  node: string,
): Promise<V1VolumeAttachment[]> {
  return (await k8s.storage.listVolumeAttachment({})).items.filter((va) => va.spec?.nodeName === node);
}
