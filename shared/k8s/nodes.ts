// Node reads and the one patch shape spotguard uses on nodes (JSON merge patch; the content type is
// set explicitly because client-node would otherwise send application/json-patch+json).
import { PatchStrategy, setHeaderOptions, type V1Node } from '@kubernetes/client-node';
import type { KubeClients } from './client.ts';

export const readNode = (k8s: KubeClients, name: string): Promise<V1Node> => k8s.core.readNode({ name });

export async function listNodes(k8s: KubeClients): Promise<V1Node[]> {
  return (await k8s.core.listNode({})).items;
}

/**
 * RFC 7386 merge patch. Put metadata.resourceVersion in the patch to make it conditional: the API
 * server answers 409 Conflict when the node changed since it was read.
 */
export function mergePatchNode(k8s: KubeClients, name: string, patch: object): Promise<V1Node> {
  return k8s.core.patchNode(
    { name, body: patch, fieldManager: 'spotguard' },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}
