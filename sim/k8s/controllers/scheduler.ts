// The simulated kube-scheduler. Binds Pending pods to nodes with the default plugins that matter on
// EKS: NodeUnschedulable, TaintToleration, NodeAffinity, NodeResourcesFit (pods/cpu/memory),
// VolumeBinding (PV zone affinity, WaitForFirstConsumer provisioning), PodTopologySpread and
// InterPodAffinity (required and preferred, incl. running pods' anti-affinity against the new pod).
// Scoring is LeastAllocated plus ScheduleAnyway spread, preferred node affinity and preferred
// pod (anti-)affinity.
//
// Built for 500 nodes / 15,000 pods: per-node usage is kept incrementally from pod watch events,
// the static node filter (taints/affinity/cordon) is cached per pod "shape" until a node changes,
// and spread/affinity counts are computed once per cycle per selector (pod-affinity.ts).

import { parseBytes, parseMilliCpu } from '../../../shared/k8s/quantity.ts';
import type { KObject, Store, StoreEvent } from '../store.ts';
import type { EventRecorder } from './events.ts';
import type { OwnerIndex } from './owner-index.ts';
import {
  type AffinityTerm,
  DomainCounts,
  ExistingAntiAffinity,
  preferredTerms,
  requiredTerms,
  termScope,
  termSelector,
} from './pod-affinity.ts';
import {
  blockedByCordon,
  matchesNodeAffinity,
  type NodeSelectorTerm,
  nonZeroRequests,
  podRequests,
  untoleratedTaint,
} from './predicates.ts';
import {
  type AffinityState,
  affinityFilter,
  domainsOf,
  feasibleNodesToFind,
  interPodRawScore,
  type NodeState,
  nodeAffinityRawScore,
  pickBest,
  type RawScores,
  resourceFailures,
  resourceScores,
  type SpreadConstraint,
  type SpreadState,
  type StaticFit,
  spreadFilter,
  spreadRawScore,
  taintRawScore,
  type Usage,
  unschedulableMessage,
  volumeFilter,
} from './scheduler-plugins.ts';
import {
  controllerOf,
  isTerminal,
  keyOf,
  matchesSelector,
  nowIso,
  stableStringify,
  type Timers,
  writeStatus,
} from './util.ts';
import { claimNamesOf, provisionVolume, type StorageClassInfo, storageClassOf } from './volumes.ts';

const SOURCE = { component: 'default-scheduler' };

/** A pod's unbound claims that the scheduler provisions once it has picked a node. */
interface VolumePlan {
  /** zone-restricting PV node affinities of bound claims */
  boundPvs: KObject[];
  toProvision: { pvc: KObject; sc: StorageClassInfo }[];
  /** set when the pod cannot be scheduled anywhere (missing claim, immediate claim not bound yet…) */
  blocker?: string;
}

export class Scheduler {
  private readonly store: Store;
  private readonly recorder: EventRecorder;
  private readonly owners: OwnerIndex;
  private readonly nodes = new Map<string, NodeState>();
  private readonly usageByNode = new Map<string, Usage>();
  private readonly podUsage = new Map<string, { node: string; requests: Usage }>();
  private readonly staticFits = new Map<string, StaticFit>();
  private readonly domainCounts: DomainCounts;
  private readonly existingAnti = new ExistingAntiAffinity();
  /** bumped by every change that could make an unschedulable pod fit */
  private generation = 0;
  /** pod key → generation at which it last failed to schedule */
  private readonly failedAt = new Map<string, number>();
  /** where the next pod's node search starts (kube-scheduler's nextStartNodeIndex) */
  private nextStartIndex = 0;
  private cycleHandle: NodeJS.Immediate | undefined;
  private stopped = false;
  private readonly unwatch: (() => void)[] = [];

  constructor(store: Store, owners: OwnerIndex, recorder: EventRecorder, timers: Timers, intervalMs: number) {
    this.store = store;
    this.owners = owners;
    this.recorder = recorder;
    this.domainCounts = new DomainCounts(store, (nodeName) => this.nodes.get(nodeName)?.labels);
    for (const node of store.list('nodes'))
      this.onNode({ type: 'ADDED', resource: 'nodes', object: node, rv: 0 });
    for (const pod of store.list('pods')) this.trackUsage(pod, false);
    this.watch('nodes', (event) => this.onNode(event));
    this.watch('pods', (event) => this.onPod(event));
    for (const resource of ['persistentvolumeclaims', 'persistentvolumes', 'storageclasses']) {
      this.watch(resource, () => this.clusterChanged());
    }
    timers.every(intervalMs, () => {
      if (this.failedAt.size > 0) this.clusterChanged();
    });
    this.scheduleSoon();
  }

  stop(): void {
    this.stopped = true;
    if (this.cycleHandle) clearImmediate(this.cycleHandle);
    for (const stop of this.unwatch) stop();
  }

  /** Runs a scheduling cycle now, retrying every pending pod. */
  scheduleNow(): void {
    this.generation++;
    this.runCycle();
  }

  private watch(resource: string, handler: (event: StoreEvent) => void): void {
    const stop = this.store.watch(resource, handler);
    if (stop) this.unwatch.push(stop);
  }

  private scheduleSoon(): void {
    if (this.stopped) return;
    this.cycleHandle ??= setImmediate(() => {
      this.cycleHandle = undefined;
      this.runCycle();
    });
  }

  private clusterChanged(): void {
    this.generation++;
    this.scheduleSoon();
  }

  private onNode(event: StoreEvent): void {
    const node = event.object;
    const name = node.metadata.name;
    if (event.type === 'DELETED') {
      this.nodes.delete(name);
      this.staticFits.clear();
      this.clusterChanged();
      return;
    }
    const allocatable = node.status?.allocatable ?? {};
    const state: NodeState = {
      node,
      name,
      labels: node.metadata.labels ?? {},
      allocatable: {
        milliCpu: parseMilliCpu(allocatable.cpu ?? '0'),
        memory: parseBytes(allocatable.memory ?? '0'),
        pods: Number(allocatable.pods ?? 110),
      },
      signature: stableStringify([
        node.metadata.labels,
        node.spec?.taints,
        node.spec?.unschedulable,
        node.status?.allocatable,
        node.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status,
      ]),
    };
    const before = this.nodes.get(name);
    this.nodes.set(name, state);
    if (before?.signature === state.signature) return;
    this.staticFits.clear();
    this.clusterChanged();
  }

  private onPod(event: StoreEvent): void {
    const pod = event.object;
    const key = keyOf(pod);
    const freed = this.trackUsage(pod, event.type === 'DELETED');
    if (event.type === 'DELETED') this.failedAt.delete(key);
    if (freed) this.clusterChanged();
    else if (event.type !== 'DELETED' && !pod.spec?.nodeName && !pod.metadata.deletionTimestamp)
      this.scheduleSoon();
  }

  /** Keeps per-node requested resources current. Returns true when the pod released capacity. */
  private trackUsage(pod: KObject, deleted: boolean): boolean {
    const key = keyOf(pod);
    const before = this.podUsage.get(key);
    const counts = !deleted && pod.spec?.nodeName && !isTerminal(pod);
    if (before && counts && before.node === pod.spec.nodeName) return false;
    if (before) {
      this.addUsage(before.node, before.requests, -1);
      this.podUsage.delete(key);
      this.existingAnti.remove(key);
    }
    if (counts) {
      const entry = { node: pod.spec.nodeName as string, requests: usageOf(pod) };
      this.podUsage.set(key, entry);
      this.addUsage(entry.node, entry.requests, 1);
      this.existingAnti.add(key, pod, this.nodes.get(entry.node)?.labels);
    }
    return Boolean(before) && !counts;
  }

  private addUsage(node: string, pod: Usage, sign: 1 | -1): void {
    let usage = this.usageByNode.get(node);
    if (!usage) {
      usage = { ...NO_USAGE };
      this.usageByNode.set(node, usage);
    }
    usage.milliCpu += sign * pod.milliCpu;
    usage.memory += sign * pod.memory;
    usage.nzMilliCpu += sign * pod.nzMilliCpu;
    usage.nzMemory += sign * pod.nzMemory;
    usage.pods += sign;
    if (usage.pods === 0) this.usageByNode.delete(node);
  }

  private runCycle(): void {
    if (this.stopped) return;
    const pending = this.store
      .list('pods', { nodeName: '' })
      .filter(
        (pod) =>
          !pod.metadata.deletionTimestamp &&
          !isTerminal(pod) &&
          (pod.spec?.schedulerName ?? 'default-scheduler') === 'default-scheduler' &&
          this.failedAt.get(keyOf(pod)) !== this.generation,
      );
    if (pending.length === 0) return;
    pending.sort(
      (a, b) =>
        (b.spec?.priority ?? 0) - (a.spec?.priority ?? 0) ||
        (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''),
    );
    this.domainCounts.reset();
    for (const listed of pending) {
      if (this.stopped) return;
      // an earlier bind or provisioning in this cycle may have changed or removed it
      const pod = this.store.get('pods', listed.metadata.namespace, listed.metadata.name);
      if (pod && !pod.spec?.nodeName) this.scheduleOne(pod);
    }
  }

  private scheduleOne(pod: KObject): void {
    const key = keyOf(pod);
    const volumes = this.planVolumes(pod);
    if (volumes.blocker) {
      this.markUnschedulable(pod, `0/${this.nodes.size} nodes are available: ${volumes.blocker}.`);
      return;
    }
    const fit = this.staticFit(pod);
    const failures = new Map(fit.failures);
    const fail = (reason: string) => failures.set(reason, (failures.get(reason) ?? 0) + 1);
    const requests = podRequests(pod);
    const constraints = this.spreadConstraints(pod);
    const spread = constraints.map((c) => this.spreadState(pod, c, fit));
    const affinity = this.affinityState(pod);
    const preferredNodeTerms: { weight: number; preference: NodeSelectorTerm }[] =
      pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    const scoringRequests = nonZeroRequests(pod);
    const feasibleNodes: RawScores[] = [];
    // like kube-scheduler, stop after enough feasible nodes, starting where the last pod stopped
    const candidates = fit.candidates;
    const enough = feasibleNodesToFind(this.nodes.size);
    const start = candidates.length ? this.nextStartIndex % candidates.length : 0;
    let examined = 0;
    for (; examined < candidates.length && feasibleNodes.length < enough; examined++) {
      const node = candidates[(start + examined) % candidates.length]!;
      const usage = this.usageByNode.get(node.name) ?? NO_USAGE;
      const reasons = resourceFailures(node, usage, requests);
      if (reasons.length) {
        for (const reason of reasons) fail(reason);
        continue;
      }
      const failure =
        volumeFilter(node, volumes.boundPvs) ?? spreadFilter(node, spread) ?? affinityFilter(node, affinity);
      if (failure) {
        fail(failure);
        continue;
      }
      feasibleNodes.push({
        node,
        ...resourceScores(node, usage, scoringRequests),
        nodeAffinity: nodeAffinityRawScore(node.node, preferredNodeTerms),
        interPod: interPodRawScore(node, affinity),
        spread: spreadRawScore(node, spread),
        taint: taintRawScore(pod, node.node),
      });
    }
    const best = pickBest(feasibleNodes);
    this.nextStartIndex = start + examined;
    if (!best) {
      this.markUnschedulable(pod, unschedulableMessage(this.nodes.size, failures));
      return;
    }
    this.failedAt.delete(key);
    this.bind(pod, best, volumes);
  }

  private bind(pod: KObject, node: NodeState, volumes: VolumePlan): void {
    const zone = node.labels['topology.kubernetes.io/zone'] ?? node.labels['topology.ebs.csi.aws.com/zone'];
    for (const { pvc, sc } of volumes.toProvision) {
      provisionVolume(this.store, pvc, sc, zone ?? 'unknown', node.name);
    }
    const now = nowIso();
    const conditions = (pod.status?.conditions ?? []).filter(
      (c: { type: string }) => c.type !== 'PodScheduled',
    );
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now });
    const bound = writeStatus(
      this.store,
      'pods',
      pod,
      { ...pod.status, conditions },
      { nodeName: node.name },
    );
    // later pods of this cycle must see this one in their spread and affinity counts
    this.domainCounts.recordBinding(pod, node.labels);
    this.recorder.record(
      bound,
      'Normal',
      'Scheduled',
      `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${node.name}`,
      SOURCE,
    );
  }

  private markUnschedulable(pod: KObject, message: string): void {
    const n = this.nodes.size;
    const fullMessage =
      n === 0
        ? message
        : `${message} preemption: 0/${n} nodes are available: ${n} Preemption is not helpful for scheduling.`;
    this.failedAt.set(keyOf(pod), this.generation);
    const current = pod.status?.conditions?.find((c: { type: string }) => c.type === 'PodScheduled');
    if (current?.status === 'False' && current.message === fullMessage) return;
    const updated = this.store.mutate('pods', pod.metadata.namespace, pod.metadata.name, (draft) => {
      draft.status ??= { phase: 'Pending' };
      const conditions = (draft.status.conditions ?? []).filter(
        (c: { type: string }) => c.type !== 'PodScheduled',
      );
      conditions.push({
        type: 'PodScheduled',
        status: 'False',
        lastProbeTime: null,
        lastTransitionTime: current?.status === 'False' ? current.lastTransitionTime : nowIso(),
        reason: 'Unschedulable',
        message: fullMessage,
      });
      draft.status.conditions = conditions;
    });
    this.recorder.record(updated, 'Warning', 'FailedScheduling', fullMessage, SOURCE);
  }

  /** Cordon, taints and node affinity depend only on the pod's shape: computed once per shape. */
  private staticFit(pod: KObject): StaticFit {
    const shape = stableStringify([
      pod.spec?.nodeSelector,
      pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
      pod.spec?.tolerations,
    ]);
    const cached = this.staticFits.get(shape);
    if (cached) return cached;
    const fit: StaticFit = { candidates: [], affinityNodes: [], domains: new Map(), failures: new Map() };
    const fail = (reason: string) => fit.failures.set(reason, (fit.failures.get(reason) ?? 0) + 1);
    for (const node of this.nodes.values()) {
      const affinityOk = matchesNodeAffinity(pod, node.node);
      if (affinityOk) fit.affinityNodes.push(node);
      if (blockedByCordon(pod, node.node)) {
        fail('node(s) were unschedulable');
        continue;
      }
      const taint = untoleratedTaint(pod, node.node);
      if (taint) {
        fail(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
        continue;
      }
      if (!affinityOk) {
        fail("node(s) didn't match Pod's node affinity/selector");
        continue;
      }
      fit.candidates.push(node);
    }
    this.staticFits.set(shape, fit);
    return fit;
  }

  private planVolumes(pod: KObject): VolumePlan {
    const plan: VolumePlan = { boundPvs: [], toProvision: [] };
    const namespace = pod.metadata.namespace;
    for (const claimName of claimNamesOf(pod)) {
      const pvc = this.store.get('persistentvolumeclaims', namespace, claimName);
      if (!pvc) return { ...plan, blocker: `persistentvolumeclaim "${claimName}" not found` };
      if (pvc.metadata.deletionTimestamp) {
        return { ...plan, blocker: `persistentvolumeclaim "${claimName}" is being deleted` };
      }
      const volumeName = pvc.spec?.volumeName;
      if (volumeName) {
        const pv = this.store.get('persistentvolumes', undefined, volumeName);
        if (!pv) return { ...plan, blocker: `pod has unbound immediate PersistentVolumeClaims` };
        plan.boundPvs.push(pv);
        continue;
      }
      const sc = storageClassOf(this.store, pvc);
      if (!sc) {
        return { ...plan, blocker: `storageclass.storage.k8s.io "${pvc.spec?.storageClassName}" not found` };
      }
      if (sc.volumeBindingMode !== 'WaitForFirstConsumer') {
        return { ...plan, blocker: 'pod has unbound immediate PersistentVolumeClaims' };
      }
      plan.toProvision.push({ pvc, sc });
    }
    return plan;
  }

  private spreadConstraints(pod: KObject): SpreadConstraint[] {
    const explicit: SpreadConstraint[] = pod.spec?.topologySpreadConstraints ?? [];
    if (explicit.length === 0) return this.defaultSpreadConstraints(pod);
    return explicit.map((c) => {
      const extra = Object.fromEntries(
        (c.matchLabelKeys ?? [])
          .filter((k) => pod.metadata.labels?.[k] !== undefined)
          .map((k) => [k, pod.metadata.labels![k]!]),
      );
      const selector = c.labelSelector ?? {};
      return {
        ...c,
        labelSelector: Object.keys(extra).length
          ? { ...selector, matchLabels: { ...(selector.matchLabels ?? {}), ...extra } }
          : selector,
      };
    });
  }

  /**
   * kube-scheduler's system default spreading for pods of a ReplicaSet or StatefulSet without
   * constraints of their own: ScheduleAnyway over hostname (maxSkew 3) and zone (maxSkew 5), which
   * is why replicas spread over nodes and zones on a real cluster.
   */
  private defaultSpreadConstraints(pod: KObject): SpreadConstraint[] {
    const owner = controllerOf(pod);
    if (owner?.kind !== 'ReplicaSet' && owner?.kind !== 'StatefulSet') return [];
    return [
      {
        maxSkew: 3,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'ScheduleAnyway',
        ownerUid: owner.uid,
      },
      {
        maxSkew: 5,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'ScheduleAnyway',
        ownerUid: owner.uid,
      },
    ];
  }

  /** Matching pods per domain (cached for the cycle) and the minimum over the pod's eligible domains. */
  private spreadState(pod: KObject, constraint: SpreadConstraint, fit: StaticFit): SpreadState {
    const selector = constraint.labelSelector ?? {};
    const ownerUid = constraint.ownerUid;
    const counts = ownerUid
      ? this.domainCounts.ownerCounts(ownerUid, constraint.topologyKey, () =>
          this.owners.dependents('pods', ownerUid),
        )
      : this.domainCounts.counts([pod.metadata.namespace ?? ''], selector, constraint.topologyKey, false);
    const domains = domainsOf(fit, constraint.topologyKey);
    // fewer counted domains than eligible ones: some eligible domain has none, so the minimum is 0
    let min = counts.size < domains.length ? 0 : Number.POSITIVE_INFINITY;
    if (min !== 0) for (const domain of domains) min = Math.min(min, counts.get(domain) ?? 0);
    return {
      constraint,
      counts,
      weight: Math.log(domains.length + 2),
      min: Number.isFinite(min) ? min : 0,
      selfMatch: ownerUid !== undefined || matchesSelector(pod.metadata.labels, selector),
    };
  }

  private affinityState(pod: KObject): AffinityState {
    const count = (term: AffinityTerm) =>
      this.domainCounts.counts(termScope(pod, term), termSelector(pod, term), term.topologyKey, true);
    const state: AffinityState = { repel: [], attract: [], preferred: [] };
    for (const term of requiredTerms(pod, 'podAntiAffinity')) {
      state.repel.push({ topologyKey: term.topologyKey, counts: count(term) });
    }
    for (const group of this.existingAnti.repelling(pod)) {
      state.repel.push({ topologyKey: group.topologyKey, counts: group.domains });
    }
    for (const term of requiredTerms(pod, 'podAffinity')) {
      const counts = count(term);
      const nobodyYet = [...counts.values()].every((n) => n === 0);
      const selfMatch =
        termScope(pod, term) === 'all' ||
        (termScope(pod, term) as string[]).includes(pod.metadata.namespace ?? '');
      state.attract.push({
        topologyKey: term.topologyKey,
        counts,
        anywhere: nobodyYet && selfMatch && matchesSelector(pod.metadata.labels, termSelector(pod, term)),
      });
    }
    for (const [kind, sign] of [
      ['podAffinity', -1],
      ['podAntiAffinity', 1],
    ] as const) {
      for (const { weight, podAffinityTerm } of preferredTerms(pod, kind)) {
        state.preferred.push({
          topologyKey: podAffinityTerm.topologyKey,
          counts: count(podAffinityTerm),
          weight: sign * weight,
        });
      }
    }
    return state;
  }
}

const NO_USAGE: Usage = { milliCpu: 0, memory: 0, pods: 0, nzMilliCpu: 0, nzMemory: 0 };

/** What one pod adds to its node: requests for fitting, non-zero requests for scoring. */
function usageOf(pod: KObject): Usage {
  const fit = podRequests(pod);
  const scoring = nonZeroRequests(pod);
  return { ...fit, pods: 1, nzMilliCpu: scoring.milliCpu, nzMemory: scoring.memory };
}
