// The pure part of a drain: given what is on the node now, decide which pods to evict, in what
// order, with what grace, and which budgets will hold them back. No I/O: table-tested.
import type {
  V1Node,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
  V1PodDisruptionBudget,
} from '@kubernetes/client-node';
import {
  DEFAULT_POD_GRACE_SECONDS,
  DEFAULT_SAFETY_MARGIN_MS,
  DEFAULT_TIMEOUT_MS,
  SPOTGUARD_APP_LABEL,
  SPOTGUARD_APP_NAME,
  waitUntil,
} from './options.ts';
import { selectorMatches } from './selectors.ts';
import type { BudgetGroup, DrainOptions, DrainPlan, PlannedEviction, SkippedPod } from './types.ts';

export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
/** Node-affinity keys that pin an EBS volume (and so its pod) to one zone. */
export const ZONE_TOPOLOGY_KEYS = ['topology.kubernetes.io/zone', 'topology.ebs.csi.aws.com/zone'];

export type PlannerOptions = Pick<
  DrainOptions,
  'deadline' | 'timeoutMs' | 'safetyMarginMs' | 'gracePeriodSeconds' | 'force' | 'deleteEmptyDirData'
>;

export interface PlanInput {
  node: V1Node;
  pods: V1Pod[];
  pdbs: V1PodDisruptionBudget[];
  pvs: V1PersistentVolume[];
  pvcs: V1PersistentVolumeClaim[];
  now: Date;
  options: PlannerOptions;
}

export const podKey = (pod: { namespace?: string; name?: string }) =>
  `${pod.namespace ?? ''}/${pod.name ?? ''}`;

export function planDrain(input: PlanInput): DrainPlan {
  const { node, pods, now, options } = input;
  const until = waitUntil(
    {
      deadline: options.deadline,
      safetyMarginMs: options.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    },
    now,
  );
  const zonalPvsOf = zonalVolumeLookup(input.pvs, input.pvcs);
  const skipped: SkippedPod[] = [];
  const evictions: PlannedEviction[] = [];
  for (const pod of pods) {
    const skip = skipReason(pod, options);
    const meta = pod.metadata ?? {};
    if (skip) {
      skipped.push({ namespace: meta.namespace ?? '', name: meta.name ?? '', uid: meta.uid ?? '', ...skip });
      continue;
    }
    const budgets = input.pdbs.filter(
      (pdb) => pdb.metadata?.namespace === meta.namespace && selectorMatches(pdb.spec?.selector, meta.labels),
    );
    const persistentVolumes = zonalPvsOf(pod);
    evictions.push({
      namespace: meta.namespace ?? '',
      name: meta.name ?? '',
      uid: meta.uid ?? '',
      gracePeriodSeconds: graceFor(pod, options, until, now),
      priority: pod.spec?.priority ?? 0,
      stateful: persistentVolumes.length > 0,
      persistentVolumes,
      ...(budgets[0] ? { budget: podKey(budgets[0].metadata ?? {}) } : {}),
      ...(budgets.length > 1 ? { multipleBudgets: true } : {}),
      expectedBlocked: false,
    });
  }
  evictions.sort(compareEvictionOrder);
  const budgets = groupByBudget(evictions, input.pdbs);
  return {
    node: node.metadata?.name ?? '',
    createdAt: now.toISOString(),
    ...(options.deadline ? { deadline: options.deadline.toISOString() } : {}),
    waitUntil: until.toISOString(),
    evictions,
    skipped,
    budgets,
  };
}

/** Stateful first, then higher priority, then longer grace (it needs the head start), then name. */
export function compareEvictionOrder(a: PlannedEviction, b: PlannedEviction): number {
  if (a.stateful !== b.stateful) return a.stateful ? -1 : 1;
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.gracePeriodSeconds !== b.gracePeriodSeconds) return b.gracePeriodSeconds - a.gracePeriodSeconds;
  return podKey(a).localeCompare(podKey(b));
}

/** Like kubectl drain's filters (k8s.io/kubectl/pkg/drain/filters.go), plus spotguard's own pods. */
export function skipReason(
  pod: V1Pod,
  options: Pick<PlannerOptions, 'force' | 'deleteEmptyDirData'>,
): Pick<SkippedPod, 'reason' | 'detail'> | undefined {
  const meta = pod.metadata ?? {};
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') {
    return { reason: 'finished', detail: `pod phase is ${phase}: nothing left running` };
  }
  if (meta.deletionTimestamp) return { reason: 'terminating', detail: 'pod is already being deleted' };
  if (meta.annotations && Object.hasOwn(meta.annotations, MIRROR_POD_ANNOTATION)) {
    return { reason: 'mirror-pod', detail: 'static (mirror) pod: cannot be deleted through the API server' };
  }
  const controller = meta.ownerReferences?.find((ref) => ref.controller);
  if (controller?.kind === 'DaemonSet') {
    return {
      reason: 'daemonset',
      detail: `managed by DaemonSet ${controller.name}: it would be recreated here`,
    };
  }
  if (meta.labels?.[SPOTGUARD_APP_LABEL] === SPOTGUARD_APP_NAME) {
    return { reason: 'spotguard', detail: 'spotguard never evicts itself' };
  }
  const usesEmptyDir = pod.spec?.volumes?.some((v) => v.emptyDir) ?? false;
  if (usesEmptyDir && options.deleteEmptyDirData === false) {
    return { reason: 'local-storage', detail: 'uses emptyDir and deleteEmptyDirData is false' };
  }
  if (!controller && !options.force) {
    return { reason: 'unmanaged', detail: 'no controller would recreate this pod (use force to evict it)' };
  }
  return undefined;
}

/**
 * min(own grace or override, seconds left before the deadline). Never below 1 s unless forced: 0 is
 * an immediate force-delete (kubectl only does that with --force), which for StatefulSets breaks
 * at-most-one.
 */
export function graceFor(pod: V1Pod, options: PlannerOptions, until: Date, now: Date): number {
  const wanted =
    options.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_POD_GRACE_SECONDS;
  return cappedGrace(wanted, options, until, now);
}

export function cappedGrace(
  wanted: number,
  options: Pick<PlannerOptions, 'deadline' | 'force'>,
  until: Date,
  now: Date,
): number {
  const floor = options.force ? 0 : 1;
  if (!options.deadline) return Math.max(floor, wanted);
  const left = Math.floor((until.getTime() - now.getTime()) / 1000);
  return Math.max(floor, Math.min(wanted, left));
}

/** Returns a function giving the zonal PVs (EBS, node affinity on a zone key) a pod's PVCs are bound to. */
function zonalVolumeLookup(pvs: V1PersistentVolume[], pvcs: V1PersistentVolumeClaim[]) {
  const zonalPvNames = new Set(pvs.filter(isZonal).map((pv) => pv.metadata?.name ?? ''));
  const boundVolume = new Map(pvcs.map((pvc) => [podKey(pvc.metadata ?? {}), pvc.spec?.volumeName]));
  return (pod: V1Pod): string[] => {
    const out: string[] = [];
    for (const volume of pod.spec?.volumes ?? []) {
      const claim = volume.persistentVolumeClaim?.claimName;
      if (!claim) continue;
      const pvName = boundVolume.get(`${pod.metadata?.namespace ?? ''}/${claim}`);
      if (pvName && zonalPvNames.has(pvName)) out.push(pvName);
    }
    return out;
  };
}

function isZonal(pv: V1PersistentVolume): boolean {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? [];
  return terms.some((term) =>
    (term.matchExpressions ?? []).some((expr) => ZONE_TOPOLOGY_KEYS.includes(expr.key)),
  );
}

/**
 * Groups evictions by budget and marks the ones the budget will hold back: with
 * disruptionsAllowed = d, the first d pods (in eviction order) go at once, the rest wait.
 */
function groupByBudget(evictions: PlannedEviction[], pdbs: V1PodDisruptionBudget[]): BudgetGroup[] {
  const groups = new Map<string, BudgetGroup>();
  for (const eviction of evictions) {
    if (!eviction.budget) continue;
    let group = groups.get(eviction.budget);
    if (!group) {
      const pdb = pdbs.find((p) => podKey(p.metadata ?? {}) === eviction.budget);
      group = {
        budget: eviction.budget,
        disruptionsAllowed: pdb?.status?.disruptionsAllowed ?? 0,
        pods: [],
        expectedBlocked: 0,
      };
      groups.set(eviction.budget, group);
    }
    if (group.pods.length >= group.disruptionsAllowed || eviction.multipleBudgets) {
      eviction.expectedBlocked = true;
      group.expectedBlocked++;
    }
    group.pods.push(podKey(eviction));
  }
  return [...groups.values()];
}
