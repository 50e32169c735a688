// Pod-to-node predicates shared by the scheduler and the DaemonSet controller: taints and
// tolerations, nodeSelector and required node affinity, resource requests.

import { parseBytes, parseMilliCpu } from '../../../shared/k8s/quantity.ts';
import type { KObject } from '../store.ts';
import { isNodeReady, type LabelSelectorRequirement, matchesRequirement } from './util.ts';

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

export interface NodeSelectorTerm {
  matchExpressions?: LabelSelectorRequirement[];
  matchFields?: LabelSelectorRequirement[];
}

export const NOT_READY_TAINT: Taint = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };
export const UNSCHEDULABLE_TAINT: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

export function tolerates(tolerations: Toleration[], taint: Taint): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

/**
 * The node's taints that block scheduling; a node that is not Ready counts as tainted
 * node.kubernetes.io/not-ready even before the node lifecycle controller has written the taint.
 */
export function schedulingTaints(node: KObject): Taint[] {
  const taints: Taint[] = (node.spec?.taints ?? []).filter(
    (t: Taint) => t.effect === 'NoSchedule' || t.effect === 'NoExecute',
  );
  const lifecycleTainted = taints.some(
    (t) => t.key === NOT_READY_TAINT.key || t.key === 'node.kubernetes.io/unreachable',
  );
  if (!isNodeReady(node) && !lifecycleTainted) taints.push(NOT_READY_TAINT);
  return taints;
}

/** First taint of the node the pod does not tolerate, if any. */
export function untoleratedTaint(pod: KObject, node: KObject): Taint | undefined {
  const tolerations: Toleration[] = pod.spec?.tolerations ?? [];
  return schedulingTaints(node).find((taint) => !tolerates(tolerations, taint));
}

/** A cordoned node takes only pods tolerating node.kubernetes.io/unschedulable (DaemonSet pods). */
export function blockedByCordon(pod: KObject, node: KObject): boolean {
  return Boolean(node.spec?.unschedulable) && !tolerates(pod.spec?.tolerations ?? [], UNSCHEDULABLE_TAINT);
}

export function matchesNodeSelectorTerms(node: KObject, terms: NodeSelectorTerm[]): boolean {
  const labels = node.metadata.labels ?? {};
  const fields = { 'metadata.name': node.metadata.name };
  return terms.some((term) => {
    const expressions = term.matchExpressions ?? [];
    const fieldExpressions = term.matchFields ?? [];
    if (expressions.length === 0 && fieldExpressions.length === 0) return false;
    return (
      expressions.every((req) => matchesRequirement(labels, req)) &&
      fieldExpressions.every((req) => matchesRequirement(fields, req))
    );
  });
}

/** nodeSelector plus requiredDuringSchedulingIgnoredDuringExecution node affinity. */
export function matchesNodeAffinity(pod: KObject, node: KObject): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [key, value] of Object.entries((pod.spec?.nodeSelector ?? {}) as Record<string, string>)) {
    if (labels[key] !== value) return false;
  }
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return matchesNodeSelectorTerms(node, required.nodeSelectorTerms ?? []);
}

export interface Requests {
  milliCpu: number;
  memory: number;
}

/** Effective requests: sum over containers (limits stand in for missing requests), max with init containers. */
export function podRequests(pod: KObject): Requests {
  return sumRequests(pod, 0, 0);
}

/** Requests as the scheduler's scoring counts them: a container without cpu/memory requests as 100m / 200Mi. */
export function nonZeroRequests(pod: KObject): Requests {
  return sumRequests(pod, 100, 200 * 2 ** 20);
}

function sumRequests(pod: KObject, defaultMilliCpu: number, defaultMemory: number): Requests {
  const of = (container: {
    resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  }) => {
    const requests = container.resources?.requests ?? {};
    const limits = container.resources?.limits ?? {};
    return {
      milliCpu: parseMilliCpu(requests.cpu ?? limits.cpu) || defaultMilliCpu,
      memory: parseBytes(requests.memory ?? limits.memory) || defaultMemory,
    };
  };
  const total = { milliCpu: 0, memory: 0 };
  for (const container of pod.spec?.containers ?? []) {
    const r = of(container);
    total.milliCpu += r.milliCpu;
    total.memory += r.memory;
  }
  for (const container of pod.spec?.initContainers ?? []) {
    const r = of(container);
    total.milliCpu = Math.max(total.milliCpu, r.milliCpu);
    total.memory = Math.max(total.memory, r.memory);
  }
  const overhead = pod.spec?.overhead ?? {};
  total.milliCpu += parseMilliCpu(overhead.cpu);
  total.memory += parseBytes(overhead.memory);
  return total;
}
