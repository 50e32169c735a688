// Would a pod fit on a node? The scheduler's filters the rebalancer needs to predict where an
// evicted pod's replacement can land: Ready and schedulable, not being drained by spotguard,
// requests vs allocatable minus what runs there, nodeSelector / required node affinity, taints.
import type { V1Node, V1Pod, V1Taint, V1Toleration } from '@kubernetes/client-node';
import { ANNOTATION_CORDONED_BY, LABEL_PREFIX } from '../drain/options.ts';
import { matchesRequirement } from '../k8s/label-requirements.ts';
import { parseBytes, parseMilliCpu, parseQuantity } from '../k8s/quantity.ts';
import { ZONE_KEY } from './types.ts';

export interface Resources {
  milliCpu: number;
  memory: number;
  pods: number;
}

/** Effective requests: the larger of the containers' sum and any one init container (as the scheduler). */
export function podRequests(pod: V1Pod): Resources {
  const sum = { milliCpu: 0, memory: 0, pods: 1 };
  for (const c of pod.spec?.containers ?? []) {
    sum.milliCpu += parseMilliCpu(c.resources?.requests?.cpu);
    sum.memory += parseBytes(c.resources?.requests?.memory);
  }
  for (const c of pod.spec?.initContainers ?? []) {
    sum.milliCpu = Math.max(sum.milliCpu, parseMilliCpu(c.resources?.requests?.cpu));
    sum.memory = Math.max(sum.memory, parseBytes(c.resources?.requests?.memory));
  }
  return sum;
}

export const zoneOf = (node: V1Node): string | undefined => node.metadata?.labels?.[ZONE_KEY];

export function isReady(node: V1Node): boolean {
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** spotguard is draining (or has cordoned) this node: its taint or its cordon annotation is on it. */
export function spotguardDraining(node: V1Node): boolean {
  if (node.metadata?.annotations?.[ANNOTATION_CORDONED_BY]) return true;
  return (node.spec?.taints ?? []).some((t) => t.key.startsWith(LABEL_PREFIX));
}

function tolerates(tolerations: V1Toleration[], taint: V1Taint): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (!t.key) return t.operator === 'Exists';
    if (t.key !== taint.key) return false;
    return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
  });
}

/** Every NoSchedule/NoExecute taint of the node is tolerated (PreferNoSchedule only scores). */
export function toleratesNode(pod: V1Pod, node: V1Node): boolean {
  const tolerations = pod.spec?.tolerations ?? [];
  return (node.spec?.taints ?? [])
    .filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')
    .every((t) => tolerates(tolerations, t));
}

/** nodeSelector and required node affinity (terms ORed, expressions ANDed), as NodeAffinity filters. */
export function matchesNodeAffinity(pod: V1Pod, node: V1Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms || terms.length === 0) return true;
  return terms.some(
    (term) =>
      (term.matchExpressions ?? []).every((r) => matchesRequirement(labels, r)) &&
      (term.matchFields ?? []).every((r) =>
        matchesRequirement(
          r.key === 'metadata.name' && node.metadata?.name ? { [r.key]: node.metadata.name } : {},
          r,
        ),
      ),
  );
}

/** A node a replacement could be scheduled on, with what is still free on it. */
export interface Room {
  node: V1Node;
  name: string;
  zone: string;
  free: Resources;
}

/** Nodes that can take new pods (Ready, schedulable, zone-labelled, not drained), with free resources. */
export function roomByNode(nodes: V1Node[], pods: V1Pod[]): Map<string, Room> {
  const rooms = new Map<string, Room>();
  for (const node of nodes) {
    const zone = zoneOf(node);
    if (!zone || !isReady(node) || node.spec?.unschedulable || spotguardDraining(node)) continue;
    const alloc = node.status?.allocatable ?? {};
    rooms.set(node.metadata?.name ?? '', {
      node,
      name: node.metadata?.name ?? '',
      zone,
      free: {
        milliCpu: parseMilliCpu(alloc.cpu),
        memory: parseBytes(alloc.memory),
        pods: parseQuantity(alloc.pods ?? '110'),
      },
    });
  }
  for (const pod of pods) {
    const room = rooms.get(pod.spec?.nodeName ?? '');
    const phase = pod.status?.phase;
    if (!room || phase === 'Succeeded' || phase === 'Failed') continue;
    take(room, podRequests(pod));
  }
  return rooms;
}

export function take(room: Room, r: Resources): void {
  room.free.milliCpu -= r.milliCpu;
  room.free.memory -= r.memory;
  room.free.pods -= r.pods;
}

/** The pod's replacement passes the node filters here (spread and anti-affinity are the planner's). */
export function fitsOn(pod: V1Pod, room: Room, requests = podRequests(pod)): boolean {
  return (
    room.free.milliCpu >= requests.milliCpu &&
    room.free.memory >= requests.memory &&
    room.free.pods >= 1 &&
    matchesNodeAffinity(pod, room.node) &&
    toleratesNode(pod, room.node)
  );
}
