// The scheduler's per-node filters and scores, as pure functions over a node's state and what the
// cycle computed for the pod: resources, volumes, topology spread, inter-pod and preferred node
// affinity, and the "0/N nodes are available" message.
import type { KObject } from '../store.ts';
import { matchesNodeSelectorTerms, type NodeSelectorTerm, type Requests } from './predicates.ts';
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
  /** preferred terms: weight per matching pod in the domain (negative for anti-affinity) */
  preferred: { topologyKey: string; counts: Map<string, number>; weight: number }[];
}

/** Why inter-pod (anti-)affinity rules the node out, or the preference penalty (lower is better). */
export function affinityPenaltyOn(node: NodeState, state: AffinityState): number | string {
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
  let penalty = 0;
  for (const { topologyKey, counts, weight } of state.preferred) {
    const domain = node.labels[topologyKey];
    if (domain !== undefined) penalty += weight * Math.min(counts.get(domain) ?? 0, 10);
  }
  return penalty;
}

/** Preferred node affinity: the matched share of the total weight (0..1, higher is better). */
export function nodePreference(
  node: KObject,
  terms: { weight: number; preference: NodeSelectorTerm }[],
): number {
  if (terms.length === 0) return 0;
  let total = 0;
  let matched = 0;
  for (const { weight, preference } of terms) {
    total += weight;
    if (matchesNodeSelectorTerms(node, [preference])) matched += weight;
  }
  return total > 0 ? matched / total : 0;
}

export interface SpreadState {
  constraint: SpreadConstraint;
  counts: Map<string, number>;
  min: number;
  selfMatch: boolean;
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

/** Sum of skews over the pod's spread constraints (lower is better), or why the node is ruled out. */
export function spreadPenaltyOn(node: NodeState, spread: SpreadState[]): number | string {
  let penalty = 0;
  for (const s of spread) {
    const hard = s.constraint.whenUnsatisfiable === 'DoNotSchedule';
    const domain = node.labels[s.constraint.topologyKey];
    if (domain === undefined) {
      if (hard) return "node(s) didn't match pod topology spread constraints (missing required label)";
      continue;
    }
    const skew = (s.counts.get(domain) ?? 0) + (s.selfMatch ? 1 : 0) - s.min;
    if (hard && skew > s.constraint.maxSkew) return "node(s) didn't match pod topology spread constraints";
    penalty += Math.max(0, skew);
  }
  return penalty;
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

/** Lower is better: the average requested share of cpu and memory after placing the pod, plus a pod-count share. */
export function leastAllocatedScore(node: NodeState, usage: Usage, requests: Requests): number {
  const share = (used: number, total: number) => (total > 0 ? used / total : 1);
  return (
    (share(usage.milliCpu + requests.milliCpu, node.allocatable.milliCpu) +
      share(usage.memory + requests.memory, node.allocatable.memory) +
      share(usage.pods + 1, node.allocatable.pods)) /
    3
  );
}

export function pvFitsNode(pv: KObject, node: KObject): boolean {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  return !terms || matchesNodeSelectorTerms(node, terms);
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
