// Would a pod fit on a node? The scheduler's filters the rebalancer needs to predict where an
// evicted pod's replacement can land: Ready and schedulable, not being drained by spotguard,
// requests vs allocatable minus what runs there, nodeSelector / required node affinity, taints.
import type {
  V1Node,
  V1NodeSelectorRequirement,
  V1Pod,
  V1Taint,
  V1Toleration,
} from '@kubernetes/client-node';
import { ANNOTATION_CORDONED_BY, LABEL_PREFIX } from '../drain/options.ts';
import { ZONE_KEY } from './types.ts';

const UNITS: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** A Kubernetes quantity ("500m", "2Gi", "1e3") in base units; malformed → 0 (the API server refuses those). */
export function quantity(q: string | number | undefined): number {
  if (q === undefined) return 0;
  if (typeof q === 'number') return q;
  const m = /^([+-]?[0-9.]+)(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/.exec(q.trim());
  if (!m) return 0;
  return m[2] ? Number(m[1] + m[2]) : Number(m[1]) * UNITS[m[3] ?? '']!;
}

export interface Resources {
  milliCpu: number;
  memory: number;
  pods: number;
}

/** Effective requests: the larger of the containers' sum and any one init container (as the scheduler). */
export function podRequests(pod: V1Pod): Resources {
  const sum = { milliCpu: 0, memory: 0, pods: 1 };
  for (const c of pod.spec?.containers ?? []) {
    sum.milliCpu += Math.ceil(quantity(c.resources?.requests?.cpu) * 1000);
    sum.memory += quantity(c.resources?.requests?.memory);
  }
  for (const c of pod.spec?.initContainers ?? []) {
    sum.milliCpu = Math.max(sum.milliCpu, Math.ceil(quantity(c.resources?.requests?.cpu) * 1000));
    sum.memory = Math.max(sum.memory, quantity(c.resources?.requests?.memory));
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

function requirementHolds(req: V1NodeSelectorRequirement, value: string | undefined): boolean {
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
      return value !== undefined && Number(value) > Number(values[0]);
    case 'Lt':
      return value !== undefined && Number(value) < Number(values[0]);
    default:
      return false;
  }
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
      (term.matchExpressions ?? []).every((r) => requirementHolds(r, labels[r.key])) &&
      (term.matchFields ?? []).every((r) =>
        requirementHolds(r, r.key === 'metadata.name' ? node.metadata?.name : undefined),
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
        milliCpu: Math.floor(quantity(alloc.cpu) * 1000),
        memory: quantity(alloc.memory),
        pods: quantity(alloc.pods ?? '110'),
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
