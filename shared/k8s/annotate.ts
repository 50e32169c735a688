// Adds annotations to a node with a merge patch (content type set explicitly: client-node would
// otherwise send json-patch).
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeClients } from './client.ts';

export async function annotateNode(
  k8s: KubeClients,
  name: string,
  annotations: Record<string, string | null>,
) {
  await k8s.core.patchNode(
    { name, body: { metadata: { annotations } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}
