// PodDisruptionBudget status arithmetic, as the disruption controller computes it
// (kubernetes pkg/controller/disruption/disruption.go). Pure functions over the Store, plus a small
// updater that keeps every PDB's .status current as pods, workloads and PDBs change.
import type { KObject, OwnerReference, Store } from '../store.ts';
import { RESOURCES } from './resources.ts';
import { selectorFromObject, selects } from './selectors.ts';

export interface PdbCondition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  observedGeneration: number;
  lastTransitionTime: string;
}

export interface PdbStatus {
  currentHealthy: number;
  desiredHealthy: number;
  disruptionsAllowed: number;
  expectedPods: number;
  observedGeneration: number;
  disruptedPods?: Record<string, string>;
  conditions?: PdbCondition[];
}

/** disruption.DeletionTimeout: an approved eviction not followed by deletion stops counting after 2 min. */
export const DELETION_TIMEOUT_MS = 2 * 60 * 1000;

const nowIso = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export function isPodReady(pod: KObject): boolean {
  return (pod.status?.conditions ?? []).some(
    (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True',
  );
}

/** The pods a PDB selects (from `podsInNamespace` when the caller already listed them). */
export function podsOfPdb(store: Store, pdb: KObject, podsInNamespace?: KObject[]): KObject[] {
  const selector = selectorFromObject(pdb.spec?.selector);
  const candidates = podsInNamespace ?? store.list('pods', { namespace: pdb.metadata.namespace ?? '' });
  return candidates.filter((pod) => selects(selector, pod));
}

/** intstr.GetScaledValueFromIntOrPercent(value, total, roundUp=true). */
export function scaledValue(value: number | string, total: number): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+)%$/.exec(value);
  if (!match) throw new Error(`invalid value for IntOrString: invalid value "${value}"`);
  return Math.ceil((Number(match[1]) * total) / 100);
}

function controllerOf(obj: KObject) {
  return obj.metadata.ownerReferences?.find((ref) => ref.controller);
}

const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');

/** The scale of the controller that owns `pod` (Deployment over ReplicaSet, StatefulSet, RC), by finder order. */
function controllerScale(store: Store, pod: KObject): { uid: string; replicas: number } {
  const ref = controllerOf(pod)!;
  const ns = pod.metadata.namespace;
  const group = groupOf(ref.apiVersion);
  const named = (resource: string, name: string, uid: string) => {
    const obj = store.get(resource, ns, name);
    return obj && obj.metadata.uid === uid ? obj : undefined;
  };
  if (ref.kind === 'ReplicationController' && group === '') {
    const rc = named('replicationcontrollers', ref.name, ref.uid);
    if (rc) return { uid: ref.uid, replicas: rc.spec?.replicas ?? 1 };
  }
  if (ref.kind === 'ReplicaSet' && (group === 'apps' || group === 'extensions')) {
    const rs = named('replicasets', ref.name, ref.uid);
    if (rs) {
      const owner = controllerOf(rs);
      if (owner?.kind === 'Deployment') {
        const deployment = named('deployments', owner.name, owner.uid);
        if (deployment) return { uid: owner.uid, replicas: deployment.spec?.replicas ?? 1 };
      } else {
        return { uid: ref.uid, replicas: rs.spec?.replicas ?? 1 };
      }
    }
  }
  if (ref.kind === 'StatefulSet' && group === 'apps') {
    const sts = named('statefulsets', ref.name, ref.uid);
    if (sts) return { uid: ref.uid, replicas: sts.spec?.replicas ?? 1 };
  }
  return scaleFallback(store, pod, ref);
}

/** getScaleController: any other owner counts through its scale subresource, if it has one. */
function scaleFallback(store: Store, pod: KObject, ref: OwnerReference): { uid: string; replicas: number } {
  const group = groupOf(ref.apiVersion);
  const type = RESOURCES.find((t) => t.kind === ref.kind && t.group === group);
  if (!type) throw new Error(`no matches for kind "${ref.kind}" in version "${ref.apiVersion}"`);
  if (!type.subresources.some((sub) => sub.name === 'scale')) {
    const resource = type.group ? `${type.resource}.${type.group}` : type.resource;
    throw new Error(`${resource} does not implement the scale subresource`);
  }
  const owner = store.get(type.storeKey, pod.metadata.namespace, ref.name);
  if (owner && owner.metadata.uid === ref.uid) return { uid: ref.uid, replicas: owner.spec?.replicas ?? 1 };
  throw new Error(`found no controllers for pod "${pod.metadata.name}"`);
}

/** getExpectedScale: sum of the replicas of the controllers of the selected pods. */
function expectedScale(store: Store, pods: KObject[]): number {
  const scales = new Map<string, number>();
  for (const pod of pods) {
    const ref = controllerOf(pod);
    if (!ref || scales.has(ref.uid)) continue; // unmanaged pods are skipped (with a warning in the real one)
    const scale = controllerScale(store, pod);
    scales.set(scale.uid, scale.replicas);
  }
  let total = 0;
  for (const replicas of scales.values()) total += replicas;
  return total;
}

function expectedAndDesired(
  store: Store,
  pdb: KObject,
  pods: KObject[],
): { expected: number; desired: number } {
  const { minAvailable, maxUnavailable } = pdb.spec ?? {};
  if (maxUnavailable !== undefined && maxUnavailable !== null) {
    const expected = expectedScale(store, pods);
    return { expected, desired: Math.max(0, expected - scaledValue(maxUnavailable, expected)) };
  }
  if (minAvailable !== undefined && minAvailable !== null) {
    if (typeof minAvailable === 'number') return { expected: pods.length, desired: minAvailable };
    const expected = expectedScale(store, pods);
    return { expected, desired: scaledValue(minAvailable, expected) };
  }
  return { expected: 0, desired: 0 };
}

/** Entries of status.disruptedPods that still count: pod exists, is not being deleted, within the timeout. */
function liveDisruptedPods(pdb: KObject, pods: KObject[], now: number): Record<string, string> {
  const previous: Record<string, string> = pdb.status?.disruptedPods ?? {};
  const out: Record<string, string> = {};
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const since = previous[pod.metadata.name];
    if (since && Date.parse(since) + DELETION_TIMEOUT_MS > now) out[pod.metadata.name] = since;
  }
  return out;
}

function countHealthy(pods: KObject[], disrupted: Record<string, string>): number {
  let healthy = 0;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp || disrupted[pod.metadata.name]) continue;
    if (isPodReady(pod)) healthy++;
  }
  return healthy;
}

/** pdbhelper.UpdateDisruptionAllowedCondition (lastTransitionTime kept while the status is unchanged). */
export function disruptionAllowedCondition(
  previous: PdbCondition[] | undefined,
  disruptionsAllowed: number,
  observedGeneration: number,
  failure?: string,
): PdbCondition[] {
  const allowed = disruptionsAllowed > 0 && !failure;
  const status = allowed ? 'True' : 'False';
  const reason = failure ? 'SyncFailed' : allowed ? 'SufficientPods' : 'InsufficientPods';
  const old = previous?.find((c) => c.type === 'DisruptionAllowed');
  const condition: PdbCondition = {
    type: 'DisruptionAllowed',
    status,
    reason,
    message: failure ?? '',
    observedGeneration,
    lastTransitionTime: old && old.status === status ? old.lastTransitionTime : nowIso(),
  };
  return [...(previous ?? []).filter((c) => c.type !== 'DisruptionAllowed'), condition];
}

/** What the disruption controller would write as .status of `pdb` now. */
export function computePdbStatus(
  store: Store,
  pdb: KObject,
  now = Date.now(),
  podsInNamespace?: KObject[],
): PdbStatus {
  const pods = podsOfPdb(store, pdb, podsInNamespace);
  const generation = pdb.metadata.generation ?? 1;
  let expectedDesired: { expected: number; desired: number };
  try {
    expectedDesired = expectedAndDesired(store, pdb, pods);
  } catch (error) {
    // failSafe: keep the old numbers, allow no disruption, say why
    const old: Partial<PdbStatus> = pdb.status ?? {};
    return {
      currentHealthy: old.currentHealthy ?? 0,
      desiredHealthy: old.desiredHealthy ?? 0,
      disruptionsAllowed: 0,
      expectedPods: old.expectedPods ?? 0,
      observedGeneration: old.observedGeneration ?? 0,
      ...(old.disruptedPods ? { disruptedPods: old.disruptedPods } : {}),
      conditions: disruptionAllowedCondition(
        old.conditions,
        0,
        old.observedGeneration ?? 0,
        error instanceof Error ? error.message : String(error),
      ),
    };
  }
  const { expected, desired } = expectedDesired;
  const disruptedPods = liveDisruptedPods(pdb, pods, now);
  const currentHealthy = countHealthy(pods, disruptedPods);
  const difference = currentHealthy - desired;
  const disruptionsAllowed = expected <= 0 || difference <= 0 ? 0 : difference;
  const status: PdbStatus = {
    currentHealthy,
    desiredHealthy: desired,
    disruptionsAllowed,
    expectedPods: expected,
    observedGeneration: generation,
  };
  if (Object.keys(disruptedPods).length > 0) status.disruptedPods = disruptedPods;
  status.conditions = disruptionAllowedCondition(pdb.status?.conditions, disruptionsAllowed, generation);
  return status;
}

function sameStatus(a: PdbStatus | undefined, b: PdbStatus): boolean {
  if (!a) return false;
  const strip = (s: PdbStatus) => ({
    ...s,
    disruptedPods: s.disruptedPods ?? {},
    conditions: (s.conditions ?? []).map(({ lastTransitionTime: _t, ...rest }) => rest),
  });
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

/** Recomputes every PDB (of one namespace, or all) and writes .status where it changed. */
export function refreshPdbStatuses(store: Store, namespace?: string): void {
  const pdbs = store.list('poddisruptionbudgets', namespace === undefined ? {} : { namespace });
  const now = Date.now();
  // list each namespace's pods once, however many budgets it has
  const podsByNamespace = new Map<string, KObject[]>();
  const podsIn = (ns: string) => {
    let pods = podsByNamespace.get(ns);
    if (!pods) {
      pods = store.list('pods', { namespace: ns });
      podsByNamespace.set(ns, pods);
    }
    return pods;
  };
  for (const pdb of pdbs) {
    const status = computePdbStatus(store, pdb, now, podsIn(pdb.metadata.namespace ?? ''));
    if (sameStatus(pdb.status, status)) continue;
    const current = store.get('poddisruptionbudgets', pdb.metadata.namespace, pdb.metadata.name);
    if (!current) continue;
    store.update('poddisruptionbudgets', { ...current, status });
  }
}

/** Earliest time an entry of some status.disruptedPods expires (a recompute is due then). */
function nextExpiry(store: Store): number | undefined {
  let earliest: number | undefined;
  for (const pdb of store.list('poddisruptionbudgets')) {
    for (const since of Object.values<string>(pdb.status?.disruptedPods ?? {})) {
      const at = Date.parse(since) + DELETION_TIMEOUT_MS;
      if (earliest === undefined || at < earliest) earliest = at;
    }
  }
  return earliest;
}

const WATCHED = [
  'pods',
  'poddisruptionbudgets',
  'deployments',
  'replicasets',
  'statefulsets',
  'replicationcontrollers',
];

/**
 * Keeps PDB statuses current, like the disruption controller: a change to a pod, PDB or workload
 * marks its namespace; marked namespaces are recomputed once per event-loop turn (so creating
 * 15,000 pods costs one recompute, not 15,000). Returns a stop function.
 */
export function startPdbStatusUpdater(store: Store): () => void {
  const dirty = new Set<string>();
  let scheduled: NodeJS.Immediate | undefined;
  let expiryTimer: NodeJS.Timeout | undefined;
  const flush = () => {
    scheduled = undefined;
    const namespaces = [...dirty];
    dirty.clear();
    for (const ns of namespaces) refreshPdbStatuses(store, ns);
    armExpiryTimer();
  };
  const armExpiryTimer = () => {
    if (expiryTimer) clearTimeout(expiryTimer);
    const at = nextExpiry(store);
    if (at === undefined) return;
    expiryTimer = setTimeout(() => refreshPdbStatuses(store), Math.max(0, at - Date.now()) + 10);
    expiryTimer.unref();
  };
  const unsubscribes = WATCHED.map((resource) =>
    store.watch(resource, (event) => {
      dirty.add(event.object.metadata.namespace ?? '');
      scheduled ??= setImmediate(flush);
    }),
  );
  dirty.add('');
  for (const pdb of store.list('poddisruptionbudgets')) dirty.add(pdb.metadata.namespace ?? '');
  scheduled = setImmediate(flush);
  return () => {
    for (const stop of unsubscribes) if (stop) stop();
    if (scheduled) clearImmediate(scheduled);
    if (expiryTimer) clearTimeout(expiryTimer);
  };
}
