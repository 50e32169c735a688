// Inter-pod (anti-)affinity and topology-domain counting for the scheduler.
//
// DomainCounts answers "how many pods matching this selector, in these namespaces, run in each
// value of this topology key" — once per scheduling cycle per distinct question, then kept current
// as the cycle binds pods. ExistingAntiAffinity indexes the required anti-affinity of pods already
// running (grouped by term, so 15,000 pods of a few deployments are a few groups), for the
// symmetric check: an incoming pod may not land in a domain whose pods repel it.
import type { KObject, Store } from '../store.ts';
import { isTerminal, type LabelSelector, matchesSelector, stableStringify } from './util.ts';

export interface AffinityTerm {
  labelSelector?: LabelSelector;
  namespaces?: string[];
  namespaceSelector?: LabelSelector;
  topologyKey: string;
  matchLabelKeys?: string[];
}

export interface WeightedTerm {
  weight: number;
  podAffinityTerm: AffinityTerm;
}

/** Namespaces a term looks at: its list, all of them for an empty namespaceSelector, else the pod's own. */
export type Scope = string[] | 'all';

export function termScope(pod: KObject, term: AffinityTerm): Scope {
  const selector = term.namespaceSelector;
  if (selector && !selector.matchLabels && !selector.matchExpressions?.length) return 'all';
  if (term.namespaces?.length) return term.namespaces;
  return [pod.metadata.namespace ?? ''];
}

/** The term's selector with matchLabelKeys resolved against the pod's own labels. */
export function termSelector(
  pod: KObject,
  term: { labelSelector?: LabelSelector; matchLabelKeys?: string[] },
) {
  const selector = term.labelSelector ?? {};
  const extra: Record<string, string> = {};
  for (const key of term.matchLabelKeys ?? []) {
    const value = pod.metadata.labels?.[key];
    if (value !== undefined) extra[key] = value;
  }
  if (Object.keys(extra).length === 0) return selector;
  return { ...selector, matchLabels: { ...(selector.matchLabels ?? {}), ...extra } };
}

const inScope = (scope: Scope, namespace: string) => scope === 'all' || scope.includes(namespace);

interface CountEntry {
  scope: Scope;
  selector: LabelSelector;
  topologyKey: string;
  counts: Map<string, number>;
}

export class DomainCounts {
  private readonly store: Store;
  private readonly nodeLabels: (nodeName: string) => Record<string, string> | undefined;
  /** selector questions, by their canonical form */
  private bySelector = new Map<string, CountEntry>();
  /** controller questions: owner uid → topology key → counts */
  private byOwner = new Map<string, Map<string, Map<string, number>>>();

  constructor(store: Store, nodeLabels: (nodeName: string) => Record<string, string> | undefined) {
    this.store = store;
    this.nodeLabels = nodeLabels;
  }

  /** Forget everything: pods changed since the last cycle. */
  reset(): void {
    this.bySelector = new Map();
    this.byOwner = new Map();
  }

  /**
   * Matching pods per topology value. Topology spread ignores terminating pods; (anti-)affinity
   * counts them (a terminating pod still repels its replacement, as on a real cluster).
   */
  counts(
    scope: Scope,
    selector: LabelSelector,
    topologyKey: string,
    includeTerminating: boolean,
  ): Map<string, number> {
    const key = stableStringify([scope, selector, topologyKey, includeTerminating]);
    let entry = this.bySelector.get(key);
    if (!entry) {
      entry = { scope, selector, topologyKey, counts: new Map() };
      const pods =
        scope === 'all'
          ? this.store.list('pods')
          : scope.flatMap((namespace) => this.store.list('pods', { namespace }));
      for (const pod of pods) {
        if (!pod.spec?.nodeName || isTerminal(pod)) continue;
        if (!includeTerminating && pod.metadata.deletionTimestamp) continue;
        if (matchesSelector(pod.metadata.labels, selector))
          this.add(entry.counts, pod.spec.nodeName, topologyKey);
      }
      this.bySelector.set(key, entry);
    }
    return entry.counts;
  }

  /** Bound, non-terminating pods of one controller per topology value (from the owner index, no scan). */
  ownerCounts(ownerUid: string, topologyKey: string, ownedPods: () => KObject[]): Map<string, number> {
    let byKey = this.byOwner.get(ownerUid);
    if (!byKey) {
      byKey = new Map();
      this.byOwner.set(ownerUid, byKey);
    }
    let counts = byKey.get(topologyKey);
    if (!counts) {
      counts = new Map();
      for (const pod of ownedPods()) {
        if (!pod.spec?.nodeName || isTerminal(pod) || pod.metadata.deletionTimestamp) continue;
        this.add(counts, pod.spec.nodeName, topologyKey);
      }
      byKey.set(topologyKey, counts);
    }
    return counts;
  }

  /** A pod was bound in this cycle: later pods must see it. */
  recordBinding(pod: KObject, nodeLabels: Record<string, string>): void {
    const controllerUid = pod.metadata.ownerReferences?.find((ref) => ref.controller)?.uid;
    for (const [topologyKey, counts] of (controllerUid && this.byOwner.get(controllerUid)) || []) {
      increment(counts, nodeLabels[topologyKey]);
    }
    const namespace = pod.metadata.namespace ?? '';
    for (const entry of this.bySelector.values()) {
      if (!inScope(entry.scope, namespace) || !matchesSelector(pod.metadata.labels, entry.selector)) continue;
      increment(entry.counts, nodeLabels[entry.topologyKey]);
    }
  }

  private add(counts: Map<string, number>, nodeName: string, topologyKey: string): void {
    increment(counts, this.nodeLabels(nodeName)?.[topologyKey]);
  }
}

function increment(counts: Map<string, number>, domain: string | undefined): void {
  if (domain !== undefined) counts.set(domain, (counts.get(domain) ?? 0) + 1);
}

interface AntiGroup {
  scope: Scope;
  selector: LabelSelector;
  topologyKey: string;
  /** topology value → how many bound pods of this group are there */
  domains: Map<string, number>;
}

export class ExistingAntiAffinity {
  private readonly groups = new Map<string, AntiGroup>();
  /** pod key → [group key, domain] entries it contributed */
  private readonly byPod = new Map<string, [string, string][]>();

  /** Registers a bound pod's required anti-affinity terms (no-op for pods without any). */
  add(podKey: string, pod: KObject, nodeLabels: Record<string, string> | undefined): void {
    const terms = requiredTerms(pod, 'podAntiAffinity');
    if (terms.length === 0 || !nodeLabels) return;
    const entries: [string, string][] = [];
    for (const term of terms) {
      const domain = nodeLabels[term.topologyKey];
      if (domain === undefined) continue;
      const scope = termScope(pod, term);
      const selector = termSelector(pod, term);
      const groupKey = stableStringify([scope, selector, term.topologyKey]);
      let group = this.groups.get(groupKey);
      if (!group) {
        group = { scope, selector, topologyKey: term.topologyKey, domains: new Map() };
        this.groups.set(groupKey, group);
      }
      group.domains.set(domain, (group.domains.get(domain) ?? 0) + 1);
      entries.push([groupKey, domain]);
    }
    if (entries.length) this.byPod.set(podKey, entries);
  }

  remove(podKey: string): void {
    for (const [groupKey, domain] of this.byPod.get(podKey) ?? []) {
      const group = this.groups.get(groupKey);
      if (!group) continue;
      const left = (group.domains.get(domain) ?? 0) - 1;
      if (left > 0) group.domains.set(domain, left);
      else group.domains.delete(domain);
      if (group.domains.size === 0) this.groups.delete(groupKey);
    }
    this.byPod.delete(podKey);
  }

  /** Topology domains the incoming pod is repelled from by running pods' anti-affinity. */
  repelling(pod: KObject): { topologyKey: string; domains: Map<string, number> }[] {
    const out: { topologyKey: string; domains: Map<string, number> }[] = [];
    const namespace = pod.metadata.namespace ?? '';
    for (const group of this.groups.values()) {
      if (inScope(group.scope, namespace) && matchesSelector(pod.metadata.labels, group.selector))
        out.push(group);
    }
    return out;
  }
}

export function requiredTerms(pod: KObject, kind: 'podAffinity' | 'podAntiAffinity'): AffinityTerm[] {
  return pod.spec?.affinity?.[kind]?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
}

export function preferredTerms(pod: KObject, kind: 'podAffinity' | 'podAntiAffinity'): WeightedTerm[] {
  return pod.spec?.affinity?.[kind]?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
}
