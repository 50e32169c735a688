// Pods → workloads (grouped by owner), which of their pods may move, and each workload's zone
// spread constraints resolved the way kube-scheduler's PodTopologySpread resolves them.
import type { V1Node, V1Pod, V1TopologySpreadConstraint } from '@kubernetes/client-node';
import { SPOTGUARD_APP_LABEL, SPOTGUARD_APP_NAME } from '../drain/options.ts';
import { MIRROR_POD_ANNOTATION } from '../drain/planner.ts';
import { selectorMatches } from '../drain/selectors.ts';
import { matchesNodeAffinity, spotguardDraining, toleratesNode, zoneOf } from './fit.ts';
import { ANNOTATION_REBALANCE, type Observed, type RebalancerConfig, ZONE_KEY } from './types.ts';

export interface Workload {
  key: string;
  namespace: string;
  pods: V1Pod[];
}

export const podName = (pod: V1Pod) => `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;

/** Running (or starting) on a node and not terminating: what the scheduler counts. */
export const isPlaced = (pod: V1Pod) =>
  Boolean(pod.spec?.nodeName) &&
  !pod.metadata?.deletionTimestamp &&
  pod.status?.phase !== 'Succeeded' &&
  pod.status?.phase !== 'Failed';

/** "namespace/Deployment/web" for the pod's controller (ReplicaSets resolved to their Deployment). */
export function workloadKeyOf(pod: V1Pod, replicaSetOwners: Map<string, string>): string | undefined {
  const ns = pod.metadata?.namespace ?? '';
  const ref = pod.metadata?.ownerReferences?.find((r) => r.controller);
  if (!ref) return undefined;
  if (ref.kind === 'ReplicaSet')
    return `${ns}/${replicaSetOwners.get(`${ns}/${ref.name}`) ?? `ReplicaSet/${ref.name}`}`;
  return `${ns}/${ref.kind}/${ref.name}`;
}

export function groupWorkloads(observed: Observed, config: RebalancerConfig): Workload[] {
  const byKey = new Map<string, Workload>();
  for (const pod of observed.pods) {
    const ns = pod.metadata?.namespace ?? '';
    if (!isPlaced(pod) || (config.namespaces.length > 0 && !config.namespaces.includes(ns))) continue;
    const key = workloadKeyOf(pod, observed.replicaSetOwners);
    if (!key) continue;
    let w = byKey.get(key);
    if (!w) {
      w = { key, namespace: ns, pods: [] };
      byKey.set(key, w);
    }
    w.pods.push(pod);
  }
  return [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key));
}

const SYSTEM_CRITICAL = ['system-cluster-critical', 'system-node-critical'];

/** Why this pod is never moved, or undefined when it may be. */
export function neverMoved(
  pod: V1Pod,
  observed: Observed,
  nodes: Map<string, V1Node>,
  config: RebalancerConfig,
): string | undefined {
  const meta = pod.metadata ?? {};
  const controller = meta.ownerReferences?.find((r) => r.controller);
  if (meta.annotations && Object.hasOwn(meta.annotations, MIRROR_POD_ANNOTATION)) return 'mirror pod';
  if (controller?.kind === 'DaemonSet') return 'DaemonSet pod';
  if (!controller) return 'no controller would recreate it';
  if (controller.kind === 'Job') return 'Job pod (its work would restart)';
  if (meta.annotations?.[ANNOTATION_REBALANCE] === 'false')
    return `annotated ${ANNOTATION_REBALANCE}: "false"`;
  if (meta.labels?.[SPOTGUARD_APP_LABEL] === SPOTGUARD_APP_NAME) return 'spotguard itself';
  if (
    SYSTEM_CRITICAL.includes(pod.spec?.priorityClassName ?? '') ||
    (pod.spec?.priority ?? 0) >= 2_000_000_000
  )
    return 'system-critical';
  const claims = (pod.spec?.volumes ?? []).flatMap((v) => v.persistentVolumeClaim?.claimName ?? []);
  if (claims.some((c) => observed.zonalClaims.has(`${meta.namespace}/${c}`))) return 'zonal volume';
  if (!config.allowLocalStorage && (pod.spec?.volumes ?? []).some((v) => v.emptyDir || v.hostPath))
    return 'local storage';
  const node = nodes.get(pod.spec?.nodeName ?? '');
  if (node && spotguardDraining(node)) return 'its node is being drained by spotguard';
  if (pod.status?.phase !== 'Running') return `not running (${pod.status?.phase ?? 'unknown'})`;
  return undefined;
}

/** A zone constraint resolved for counting: who counts, over which nodes, how strictly. */
export interface ZoneConstraint {
  label: string;
  maxSkew: number;
  minDomains: number;
  hard: boolean;
  /** Whether a pod counts for this constraint. */
  counts: (pod: V1Pod) => boolean;
  /** Whether a node's pods and zone count (nodeAffinityPolicy / nodeTaintsPolicy). */
  nodeCounts: (node: V1Node) => boolean;
}

const describeSelector = (c: V1TopologySpreadConstraint, extra: Record<string, string>) => {
  const labels = { ...(c.labelSelector?.matchLabels ?? {}), ...extra };
  const parts = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  if (c.labelSelector?.matchExpressions?.length) parts.push('…');
  return parts.join(',') || '(all)';
};

/** The workload's zone constraints (from its newest pod), or the default one, or none. */
export function zoneConstraintsOf(w: Workload, config: RebalancerConfig): ZoneConstraint[] {
  const newest = [...w.pods].sort((a, b) =>
    String(b.metadata?.creationTimestamp ?? '').localeCompare(String(a.metadata?.creationTimestamp ?? '')),
  )[0]!;
  const spec = (newest.spec?.topologySpreadConstraints ?? []).filter((c) => c.topologyKey === ZONE_KEY);
  const nodeFilter = (c: Partial<V1TopologySpreadConstraint>) => (node: V1Node) =>
    (c.nodeAffinityPolicy === 'Ignore' || matchesNodeAffinity(newest, node)) &&
    (c.nodeTaintsPolicy !== 'Honor' || toleratesNode(newest, node));
  if (spec.length === 0) {
    if (config.defaultMaxSkew === null) return [];
    const own = new Set(w.pods.map((p) => p.metadata?.uid));
    return [
      {
        label: `zone maxSkew ${config.defaultMaxSkew} (default, no constraint)`,
        maxSkew: config.defaultMaxSkew,
        minDomains: 1,
        hard: false,
        counts: (p) => own.has(p.metadata?.uid),
        nodeCounts: nodeFilter({}),
      },
    ];
  }
  return spec
    .filter((c) => c.whenUnsatisfiable === 'DoNotSchedule' || config.includeScheduleAnyway)
    .map((c) => {
      const extra = Object.fromEntries(
        (c.matchLabelKeys ?? []).flatMap((k) =>
          newest.metadata?.labels?.[k] !== undefined ? [[k, newest.metadata.labels[k]!]] : [],
        ),
      );
      const selector = {
        ...(c.labelSelector ?? {}),
        matchLabels: { ...(c.labelSelector?.matchLabels ?? {}), ...extra },
      };
      return {
        label: `zone maxSkew ${c.maxSkew} (${c.whenUnsatisfiable}) ${describeSelector(c, extra)}`,
        maxSkew: c.maxSkew,
        minDomains: c.minDomains ?? 1,
        hard: c.whenUnsatisfiable === 'DoNotSchedule',
        counts: (p: V1Pod) =>
          p.metadata?.namespace === w.namespace &&
          isPlaced(p) &&
          selectorMatches(selector, p.metadata?.labels),
        nodeCounts: nodeFilter(c),
      };
    });
}

/** Pods per zone for a constraint, over the zones of its eligible nodes (an empty zone counts 0). */
export function zoneCounts(c: ZoneConstraint, nodes: V1Node[], pods: V1Pod[]): Map<string, number> {
  const counts = new Map<string, number>();
  const eligible = new Map<string, string>();
  for (const node of nodes) {
    const zone = zoneOf(node);
    if (!zone || !c.nodeCounts(node)) continue;
    eligible.set(node.metadata?.name ?? '', zone);
    counts.set(zone, 0);
  }
  for (const pod of pods) {
    const zone = eligible.get(pod.spec?.nodeName ?? '');
    if (zone !== undefined && c.counts(pod)) counts.set(zone, counts.get(zone)! + 1);
  }
  return counts;
}

/** The scheduler's global minimum: 0 when fewer domains than minDomains exist. */
export function globalMin(counts: Map<string, number>, minDomains: number): number {
  if (counts.size === 0) return 0;
  if (counts.size < minDomains) return 0;
  return Math.min(...counts.values());
}

export function skewOf(counts: Map<string, number>, minDomains = 1): number {
  if (counts.size === 0) return 0;
  return Math.max(...counts.values()) - globalMin(counts, minDomains);
}
