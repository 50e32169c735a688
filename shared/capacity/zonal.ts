// Reads the cluster state the zonal-capacity planner needs: which pods on a node are pinned to its
// zone by their volumes, and which nodes in a zone could still take a pod.
import type { V1Node, V1PersistentVolume } from '@kubernetes/client-node';
import type { KubeClients } from '../k8s/client.ts';

const ZONE_KEYS = ['topology.kubernetes.io/zone', 'topology.ebs.csi.aws.com/zone'];

export function zoneOfNode(node: V1Node): string | undefined {
  return node.metadata?.labels?.['topology.kubernetes.io/zone'];
}

export function zonesOfVolume(pv: V1PersistentVolume): string[] {
  const zones: string[] = [];
  for (const term of pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? []) {
    for (const expr of term.matchExpressions ?? []) {
      if (ZONE_KEYS.includes(expr.key) && expr.operator === 'In') zones.push(...(expr.values ?? []));
    }
  }
  return zones;
}

/** "namespace/name" of the pods on `nodeName` whose persistent volumes pin them to one zone. */
export async function zonalPodsOnNode(k8s: KubeClients, nodeName: string): Promise<string[]> {
  const pods = await k8s.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` });
  const pinned: string[] = [];
  for (const pod of pods.items) {
    if (pod.metadata?.deletionTimestamp) continue;
    const namespace = pod.metadata?.namespace ?? 'default';
    for (const volume of pod.spec?.volumes ?? []) {
      const claim = volume.persistentVolumeClaim?.claimName;
      if (!claim) continue;
      const pvc = await k8s.core.readNamespacedPersistentVolumeClaim({ name: claim, namespace });
      const pvName = pvc.spec?.volumeName;
      if (!pvName) continue;
      const pv = await k8s.core.readPersistentVolume({ name: pvName });
      if (zonesOfVolume(pv).length === 1) {
        pinned.push(`${namespace}/${pod.metadata?.name}`);
        break;
      }
    }
  }
  return pinned;
}

function schedulable(node: V1Node): boolean {
  if (node.spec?.unschedulable) return false;
  if ((node.spec?.taints ?? []).some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute'))
    return false;
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Per zone: how many Ready, schedulable, untainted nodes (other than `exclude`) have a free pod slot. */
export async function nodesWithRoomByZone(
  k8s: KubeClients,
  zones: string[],
  exclude: string,
): Promise<Map<string, number>> {
  const room = new Map<string, number>();
  for (const zone of zones) {
    const nodes = await k8s.core.listNode({ labelSelector: `topology.kubernetes.io/zone=${zone}` });
    let count = 0;
    for (const node of nodes.items) {
      if (node.metadata?.name === exclude || !schedulable(node)) continue;
      const maxPods = Number(node.status?.allocatable?.pods ?? 110);
      const pods = await k8s.core.listPodForAllNamespaces({
        fieldSelector: `spec.nodeName=${node.metadata?.name},status.phase!=Succeeded,status.phase!=Failed`,
      });
      if (pods.items.length < maxPods) {
        count++;
        break; // one is enough to know the zone has room
      }
    }
    room.set(zone, count);
  }
  return room;
}
