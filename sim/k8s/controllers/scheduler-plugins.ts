// The scheduler's per-node filters and scores, as pure functions over a node's state and what the
// cycle computed for the pod: resources, volumes, topology spread, inter-pod and preferred node
// affinity, PreferNoSchedule taints, and the "0/N nodes are available" message. Scores follow
// kube-scheduler's default profile: each plugin's score normalised to 0–100 over the feasible
// nodes, then weighted (resources 1 + 1, node affinity 2, inter-pod affinity 2, spread 2, taints 3).
import type { KObject } from '../store.ts';
import {
  matchesNodeSelectorTerms,
  type NodeSelectorTerm,
  type Requests,
  type Taint,
  type Toleration,
  tolerates,
} from './predicates.ts';
import type { LabelSelector } from './util.ts';

export interface NodeState {
  node: KObject;
  name: string;
  labels: Record<string, string>;
  allocatable: Requests & { pods: number };
  /** what scheduling-relevant fields looked like; a change invalidates the static filter cache */
  signature: string;
}

export interface Usage extends Requests {
  pods: number;
  /** requests as scoring sees them (100m / 200Mi for containers without requests) */
  nzMilliCpu: number;
  nzMemory: number;
}

export interface StaticFit {
  /** nodes passing cordon, taints and node affinity */
  candidates: NodeState[];
  /** nodes passing node affinity only: the domains topology spread considers */
  affinityNodes: NodeState[];
  /** topology key → its values among affinityNodes (filled lazily) */
  domains: Map<string, string[]>;
  /** reason → number of nodes rejected for it */
  failures: Map<string, number>;
}

export interface SpreadConstraint {
  /** system default constraint: counts the pods of this controller instead of a label selector */
  ownerUid?: string;
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
  labelSelector?: LabelSelector;
  matchLabelKeys?: string[];
}

/** A pod's inter-pod affinity, resolved to per-domain counts for this cycle. */
export interface AffinityState {
  /** required anti-affinity (own terms and running pods' terms against this pod): no matching pod in the domain */
  repel: { topologyKey: string; counts: Map<string, number> }[];
  /** required affinity: some matching pod in the domain (unless none exists and the pod matches itself) */
  attract: { topologyKey: string; counts: Map<string, number>; anywhere: boolean }[];
  /** preferred terms: weight (negative for anti-affinity) per matching pod in the domain */
  preferred: { topologyKey: string; counts: Map<string, number>; weight: number }[];
}

/** Why inter-pod (anti-)affinity rules the node out (InterPodAffinity filter), if it does. */
export function affinityFilter(node: NodeState, state: AffinityState): string | undefined {
  for (const { topologyKey, counts } of state.repel) {
    const domain = node.labels[topologyKey];
    if (domain !== undefined && (counts.get(domain) ?? 0) > 0)
      return "node(s) didn't match pod anti-affinity rules";
  }
  for (const { topologyKey, counts, anywhere } of state.attract) {
    const domain = node.labels[topologyKey];
    if (domain === undefined) return "node(s) didn't match pod affinity rules";
    if (!anywhere && (counts.get(domain) ?? 0) === 0) return "node(s) didn't match pod affinity rules";
  }
  return undefined;
}

/** InterPodAffinity score: ± weight for every matching pod in the node's domain of each preferred term. */
export function interPodRawScore(node: NodeState, state: AffinityState): number {
  let score = 0;
  for (const { topologyKey, counts, weight } of state.preferred) {
    const domain = node.labels[topologyKey];
    if (domain !== undefined) score += weight * (counts.get(domain) ?? 0);
  }
  return score;
}

/** NodeAffinity score: the summed weight of the preferred terms the node matches. */
export function nodeAffinityRawScore(
  node: KObject,
  terms: { weight: number; preference: NodeSelectorTerm }[],
) {
  let score = 0;
  for (const { weight, preference } of terms)
    if (matchesNodeSelectorTerms(node, [preference])) score += weight;
  return score;
}

/** TaintToleration score: PreferNoSchedule taints the pod does not tolerate (fewer is better). */
export function taintRawScore(pod: KObject, node: KObject): number {
  const tolerations: Toleration[] = pod.spec?.tolerations ?? [];
  return (node.spec?.taints ?? []).filter(
    (t: Taint) => t.effect === 'PreferNoSchedule' && !tolerates(tolerations, t),
  ).length;
}

export interface SpreadState {
  constraint: SpreadConstraint;
  counts: Map<string, number>;
  min: number;
  selfMatch: boolean;
  /** the constraint's weight in the score: log(eligible domains + 2) */
  weight: number;
}

/** The values of a topology key over the nodes the pod may go to (its eligible spread domains). */
export function domainsOf(fit: StaticFit, topologyKey: string): string[] {
  let domains = fit.domains.get(topologyKey);
  if (!domains) {
    const values = new Set<string>();
    for (const node of fit.affinityNodes) {
      const value = node.labels[topologyKey];
      if (value !== undefined) values.add(value);
    }
    domains = [...values];
    fit.domains.set(topologyKey, domains);
  }
  return domains;
}

/** PodTopologySpread filter: why a DoNotSchedule constraint rules the node out, if it does. */
export function spreadFilter(node: NodeState, spread: SpreadState[]): string | undefined {
  for (const s of spread) {
    if (s.constraint.whenUnsatisfiable !== 'DoNotSchedule') continue;
    const domain = node.labels[s.constraint.topologyKey];
    if (domain === undefined)
      return "node(s) didn't match pod topology spread constraints (missing required label)";
    const skew = (s.counts.get(domain) ?? 0) + (s.selfMatch ? 1 : 0) - s.min;
    if (skew > s.constraint.maxSkew) return "node(s) didn't match pod topology spread constraints";
  }
  return undefined;
}

/**
 * PodTopologySpread score over the ScheduleAnyway constraints (lower raw is better): per constraint
 * matching pods in the node's domain × log(domains + 2) + maxSkew − 1. undefined = the node lacks
 * a topology key and is ignored (scores 0).
 */
export function spreadRawScore(node: NodeState, spread: SpreadState[]): number | undefined {
  let score = 0;
  for (const s of spread) {
    if (s.constraint.whenUnsatisfiable !== 'ScheduleAnyway') continue;
    const domain = node.labels[s.constraint.topologyKey];
    if (domain === undefined) return undefined;
    score += (s.counts.get(domain) ?? 0) * s.weight + (s.constraint.maxSkew - 1);
  }
  return score;
}

export function resourceFailures(node: NodeState, usage: Usage, requests: Requests): string[] {
  const reasons: string[] = [];
  if (usage.pods + 1 > node.allocatable.pods) reasons.push('Too many pods');
  if (requests.milliCpu > 0 && usage.milliCpu + requests.milliCpu > node.allocatable.milliCpu) {
    reasons.push('Insufficient cpu');
  }
  if (requests.memory > 0 && usage.memory + requests.memory > node.allocatable.memory) {
    reasons.push('Insufficient memory');
  }
  return reasons;
}

/**
 * NodeResourcesFit (LeastAllocated) and NodeResourcesBalancedAllocation, 0–100 each, from the
 * scoring requests (containers without requests count as 100m / 200Mi, like the real scheduler).
 */
export function resourceScores(
  node: NodeState,
  usage: Usage,
  requests: Requests,
): { fit: number; balanced: number } {
  const fraction = (used: number, total: number) => (total > 0 ? Math.min(1, used / total) : 1);
  const cpu = fraction(usage.nzMilliCpu + requests.milliCpu, node.allocatable.milliCpu);
  const memory = fraction(usage.nzMemory + requests.memory, node.allocatable.memory);
  return { fit: ((1 - cpu + (1 - memory)) / 2) * 100, balanced: (1 - Math.abs(cpu - memory) / 2) * 100 };
}

/** One feasible node's raw plugin scores, before normalisation. */
export interface RawScores {
  node: NodeState;
  fit: number;
  balanced: number;
  nodeAffinity: number;
  interPod: number;
  spread: number | undefined;
  taint: number;
}

/** kube-scheduler's default plugin weights. */
const WEIGHTS = { fit: 1, balanced: 1, nodeAffinity: 2, interPod: 2, spread: 2, taint: 3 };
const MAX = 100;

/**
 * Normalises each plugin's scores over the feasible nodes the way the real plugins do and returns
 * the node with the highest weighted sum (the first one on a tie: the caller rotates the order).
 */
export function pickBest(nodes: RawScores[]): NodeState | undefined {
  if (nodes.length === 0) return undefined;
  const maxOf = (values: number[]) => values.reduce((a, b) => Math.max(a, b), 0);
  const nodeAffinityMax = maxOf(nodes.map((n) => n.nodeAffinity));
  const taintMax = maxOf(nodes.map((n) => n.taint));
  const interPod = nodes.map((n) => n.interPod);
  const interPodMin = Math.min(...interPod);
  const interPodMax = Math.max(...interPod);
  const spread = nodes.map((n) => n.spread).filter((v): v is number => v !== undefined);
  const spreadMin = spread.length ? Math.min(...spread) : 0;
  const spreadMax = spread.length ? Math.max(...spread) : 0;
  let best: NodeState | undefined;
  let bestTotal = Number.NEGATIVE_INFINITY;
  for (const n of nodes) {
    const total =
      WEIGHTS.fit * n.fit +
      WEIGHTS.balanced * n.balanced +
      WEIGHTS.nodeAffinity * (nodeAffinityMax > 0 ? (MAX * n.nodeAffinity) / nodeAffinityMax : 0) +
      WEIGHTS.interPod *
        (interPodMax > interPodMin ? (MAX * (n.interPod - interPodMin)) / (interPodMax - interPodMin) : 0) +
      WEIGHTS.spread * spreadScore(n.spread, spreadMin, spreadMax) +
      WEIGHTS.taint * (taintMax > 0 ? MAX - (MAX * n.taint) / taintMax : MAX);
    if (total > bestTotal) {
      best = n.node;
      bestTotal = total;
    }
  }
  return best;
}

/** PodTopologySpread's NormalizeScore: fewer matching pods → closer to 100; ignored nodes 0. */
function spreadScore(raw: number | undefined, min: number, max: number): number {
  if (raw === undefined) return 0;
  if (max === 0) return MAX;
  return (MAX * (max + min - raw)) / max;
}

/** VolumeBinding filter: a bound PV's node affinity (its EBS zone) must match the node. */
export function volumeFilter(node: NodeState, boundPvs: KObject[]): string | undefined {
  for (const pv of boundPvs) {
    const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
    if (terms && !matchesNodeSelectorTerms(node.node, terms))
      return 'node(s) had volume node affinity conflict';
  }
  return undefined;
}

/** "0/6 nodes are available: 1 Insufficient cpu, 5 node(s) were unschedulable." — sorted like the real one. */
export function unschedulableMessage(nodeCount: number, failures: Map<string, number>): string {
  if (nodeCount === 0) return 'no nodes available to schedule pods.';
  const parts = [...failures].map(([reason, count]) => `${count} ${reason}`).sort();
  return `0/${nodeCount} nodes are available: ${parts.join(', ')}.`;
}

/**
 * percentageOfNodesToScore's adaptive default: every node up to 100, then 50% minus 1% per 125
 * nodes (at least 5%), never fewer than 100 — 230 of 500 nodes.
 */
export function feasibleNodesToFind(nodeCount: number): number {
  if (nodeCount < 100) return nodeCount;
  const percentage = Math.max(5, 50 - nodeCount / 125);
  return Math.max(100, Math.floor((nodeCount * percentage) / 100));
}
