// Scenario functions of the differential suite. Each one runs against any Cluster, in a namespace of
// its own, and returns an observation with what legitimately differs between clusters normalised
// away (uids, timestamps, resourceVersions, random name suffixes → placeholders, node names → node
// indexes). The test compares the simulator's observation with the real control plane's.
import {
  ApiException,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
  type V1Pod,
  type V1PodSpec,
} from '@kubernetes/client-node';
import type { Cluster } from './clusters.ts';
import { type WireResponse, wire } from './wire.ts';

const POLL_MS = 100;
const APP_LABEL = 'app';

// ---------- waiting ----------

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!done(last)) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
    last = await probe();
  }
  return last;
}

// ---------- objects ----------

export async function createNamespace(c: Cluster, name: string): Promise<void> {
  await c.core.createNamespace({ body: { metadata: { name } } });
}

/**
 * Deletes the namespaces whose names start with `prefix` and waits until their pods are gone, so no
 * workload of one test file is rescheduled onto the nodes of the next.
 */
export async function deleteNamespaces(c: Cluster, prefix: string): Promise<void> {
  const names = (await c.core.listNamespace()).items
    .map((n) => n.metadata!.name!)
    .filter((n) => n.startsWith(prefix));
  for (const name of names) await c.core.deleteNamespace({ name }).catch(() => {});
  await waitFor(
    `pods of namespaces ${prefix}* to be gone in ${c.name}`,
    async () =>
      (await c.core.listPodForAllNamespaces()).items.filter((p) => p.metadata!.namespace!.startsWith(prefix))
        .length,
    (left) => left === 0,
    60_000,
  );
}

const pauseContainer = { name: 'app', image: 'registry.k8s.io/pause:3.9' };

export interface WorkloadOptions {
  affinity?: V1PodSpec['affinity'];
  volumes?: V1PodSpec['volumes'];
  tolerations?: V1PodSpec['tolerations'];
  nodeSelector?: Record<string, string>;
  topologySpreadConstraints?: V1PodSpec['topologySpreadConstraints'];
}

export async function createDeployment(
  c: Cluster,
  namespace: string,
  name: string,
  replicas: number,
  opts: WorkloadOptions = {},
): Promise<void> {
  const labels = { [APP_LABEL]: name };
  const body: V1Deployment = {
    metadata: { name, namespace, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [pauseContainer], ...opts } },
    },
  };
  await c.apps.createNamespacedDeployment({ namespace, body });
}

export async function createDaemonSet(c: Cluster, namespace: string, name: string): Promise<void> {
  const labels = { [APP_LABEL]: name };
  await c.apps.createNamespacedDaemonSet({
    namespace,
    body: {
      metadata: { name, namespace, labels },
      spec: {
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [pauseContainer] } },
      },
    },
  });
}

export async function createPod(c: Cluster, namespace: string, name: string, spec: Partial<V1PodSpec> = {}) {
  await c.core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name, namespace, labels: { [APP_LABEL]: name } },
      spec: { containers: [pauseContainer], ...spec },
    },
  });
}

export const isReady = (pod: V1Pod) =>
  !pod.metadata?.deletionTimestamp &&
  (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

export async function listPods(c: Cluster, namespace: string, app?: string): Promise<V1Pod[]> {
  const list = await c.core.listNamespacedPod({
    namespace,
    ...(app ? { labelSelector: `${APP_LABEL}=${app}` } : {}),
  });
  return list.items;
}

export async function readyPods(c: Cluster, namespace: string, app: string, count: number): Promise<V1Pod[]> {
  const pods = await waitFor(
    `${count} ready pods of ${app} in ${c.name}`,
    () => listPods(c, namespace, app),
    (pods) => pods.filter(isReady).length === count && pods.length === count,
  );
  return pods.sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
}

export type PdbBudget = { minAvailable: number | string } | { maxUnavailable: number | string };

export async function createPdb(c: Cluster, namespace: string, name: string, app: string, budget: PdbBudget) {
  await c.objects.create({
    apiVersion: 'policy/v1beta1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace },
    spec: { selector: { matchLabels: { [APP_LABEL]: app } }, ...budget },
  });
}

export interface PdbStatus {
  observedGeneration?: number;
  currentHealthy?: number;
  desiredHealthy?: number;
  disruptionsAllowed?: number;
  expectedPods?: number;
  disruptedPods?: Record<string, string>;
}

export async function readPdbStatus(c: Cluster, namespace: string, name: string): Promise<PdbStatus> {
  const pdb = await c.objects.read({
    apiVersion: 'policy/v1beta1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace },
  });
  return (pdb as { status?: PdbStatus }).status ?? {};
}

/** Waits until the disruption controller has processed the PDB and counts `healthy` healthy pods. */
export async function settledPdbStatus(
  c: Cluster,
  namespace: string,
  name: string,
  healthy: number,
): Promise<PdbStatus> {
  return waitFor(
    `PDB ${name} in ${c.name} to count ${healthy} healthy pods`,
    () => readPdbStatus(c, namespace, name),
    (s) => (s.observedGeneration ?? 0) >= 1 && s.currentHealthy === healthy && s.expectedPods !== undefined,
  );
}

/** POST pods/NAME/eviction with a policy/v1beta1 Eviction (what a 1.20 server understands). */
export function evict(c: Cluster, namespace: string, pod: string): Promise<WireResponse> {
  return wire(c.kc, 'POST', `/api/v1/namespaces/${namespace}/pods/${pod}/eviction`, {
    apiVersion: 'policy/v1beta1',
    kind: 'Eviction',
    metadata: { name: pod, namespace },
  });
}

// ---------- normalising ----------

/** Replaces every given name in a JSON value by its placeholder (e.g. pod names with random suffixes). */
export function withPlaceholders<T>(value: T, names: Record<string, string>): T {
  let text = JSON.stringify(value);
  for (const [name, placeholder] of Object.entries(names)) text = text.replaceAll(name, placeholder);
  return JSON.parse(text);
}

/** A Status body without the parts that differ by nature: empty metadata and uids. */
export type StatusShape = { httpStatus: number } & Record<string, unknown>;

export function statusShape(response: WireResponse): StatusShape {
  const { metadata: _metadata, ...body } = (response.body ?? {}) as Record<string, unknown>;
  const details = body.details as Record<string, unknown> | undefined;
  if (details?.uid) details.uid = '<uid>';
  return { httpStatus: response.status, ...body };
}

/** Status of an ApiException from client-node, or of success. */
export async function outcome(call: () => Promise<unknown>) {
  try {
    await call();
    return { code: 200 };
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const { metadata: _metadata, ...body } = JSON.parse(err.body as string);
    return { code: err.code, body };
  }
}

const nodeIndex = (c: Cluster, nodeName: string | undefined) =>
  nodeName ? c.nodeNames.indexOf(nodeName) : 'unscheduled';

// ---------- scenarios: PodDisruptionBudgets and eviction ----------

export interface EvictionRun {
  pdbStatus: PdbStatus;
  evictions: StatusShape[];
}

/**
 * `replicas` ready pods under one PDB; then evicts them one after another as fast as possible and
 * records each answer, stopping at the first refusal.
 */
export async function evictUnderPdb(
  c: Cluster,
  ns: string,
  replicas: number,
  budget: PdbBudget,
): Promise<EvictionRun> {
  await createNamespace(c, ns);
  await createDeployment(c, ns, 'web', replicas);
  const pods = await readyPods(c, ns, 'web', replicas);
  await createPdb(c, ns, 'web-pdb', 'web', budget);
  // compared: the four counts. Not compared: conditions (added in 1.21, absent on 1.20) and
  // observedGeneration/disruptedPods (bookkeeping that the settle wait already relies on)
  const settled = await settledPdbStatus(c, ns, 'web-pdb', replicas);
  const { currentHealthy, desiredHealthy, disruptionsAllowed, expectedPods } = settled;
  const pdbStatus = { currentHealthy, desiredHealthy, disruptionsAllowed, expectedPods };
  const placeholders: Record<string, string> = {};
  const evictions: StatusShape[] = [];
  for (const [i, pod] of pods.entries()) {
    const name = pod.metadata!.name!;
    placeholders[name] = `<pod-${i}>`;
    evictions.push(withPlaceholders(statusShape(await evict(c, ns, name)), placeholders));
    if (evictions.at(-1)!.httpStatus !== 201) break;
  }
  return { pdbStatus, evictions };
}

/** One pod selected by two PDBs: the eviction API refuses to choose. */
export async function evictUnderTwoPdbs(c: Cluster, ns: string) {
  await createNamespace(c, ns);
  await createDeployment(c, ns, 'web', 2);
  const [pod] = await readyPods(c, ns, 'web', 2);
  await createPdb(c, ns, 'first', 'web', { maxUnavailable: 1 });
  await createPdb(c, ns, 'second', 'web', { minAvailable: 1 });
  await settledPdbStatus(c, ns, 'first', 2);
  await settledPdbStatus(c, ns, 'second', 2);
  return statusShape(await evict(c, ns, pod!.metadata!.name!));
}

/** Pods the PDB cannot protect: no PDB at all, or a Pending pod under a PDB that allows nothing. */
export async function evictWithoutPdbProtection(c: Cluster, ns: string) {
  await createNamespace(c, ns);
  await createPod(c, ns, 'lonely', { nodeName: c.nodeNames[0] });
  await readyPods(c, ns, 'lonely', 1);
  await createPod(c, ns, 'stuck', { nodeSelector: { 'spotguard.example/nowhere': 'true' } });
  await createPdb(c, ns, 'stuck-pdb', 'stuck', { minAvailable: 1 });
  await settledPdbStatus(c, ns, 'stuck-pdb', 0);
  const noPdb = statusShape(await evict(c, ns, 'lonely'));
  const pending = statusShape(await evict(c, ns, 'stuck'));
  const stuckGone = (await outcome(() => c.core.readNamespacedPod({ namespace: ns, name: 'stuck' }))).code;
  return { noPdb, pending, stuckAfterEviction: stuckGone };
}

export async function evictMissingPod(c: Cluster, ns: string) {
  await createNamespace(c, ns);
  return statusShape(await evict(c, ns, 'no-such-pod'));
}

/** Evicts one pod of a Deployment and waits until the ReplicaSet has replaced it. */
export async function evictionIsReplaced(c: Cluster, ns: string) {
  await createNamespace(c, ns);
  await createDeployment(c, ns, 'web', 3);
  const before = await readyPods(c, ns, 'web', 3);
  const victim = before[0]!.metadata!.name!;
  const eviction = await evict(c, ns, victim);
  const after = await waitFor(
    `replacement of ${victim} in ${c.name}`,
    () => listPods(c, ns, 'web'),
    (pods) => pods.length === 3 && pods.every(isReady) && !pods.some((p) => p.metadata!.name === victim),
  );
  const ownersOf = (pods: V1Pod[]) => new Set(pods.map((p) => p.metadata!.ownerReferences?.[0]?.name));
  return {
    evictionStatus: eviction.status,
    readyAfter: after.filter(isReady).length,
    victimGone: !after.some((p) => p.metadata!.name === victim),
    replacementOwners: ownersOf(after).size,
    sameReplicaSet: [...ownersOf(after)][0] === [...ownersOf(before)][0],
    ownerKind: after[0]!.metadata!.ownerReferences?.[0]?.kind,
  };
}

// ---------- scenarios: API semantics ----------

/** The same label change sent with each patch content type, plus two types a server must refuse. */
export async function patchContentTypes(c: Cluster, ns: string) {
  await createNamespace(c, ns);
  await createPod(c, ns, 'target', { nodeName: c.nodeNames[0] });
  const path = `/api/v1/namespaces/${ns}/pods/target`;
  const labelPatch = (value: string) => ({ metadata: { labels: { patched: value } } });
  const answers = {
    jsonPatch: await wire(
      c.kc,
      'PATCH',
      path,
      [{ op: 'add', path: '/metadata/labels/patched', value: 'json' }],
      PatchStrategy.JsonPatch,
    ),
    mergePatch: await wire(c.kc, 'PATCH', path, labelPatch('merge'), PatchStrategy.MergePatch),
    strategicMergePatch: await wire(
      c.kc,
      'PATCH',
      path,
      labelPatch('smp'),
      PatchStrategy.StrategicMergePatch,
    ),
    bogus: await wire(c.kc, 'PATCH', path, labelPatch('bogus'), 'application/bogus-patch+json'),
    plainJson: await wire(c.kc, 'PATCH', path, labelPatch('plain'), 'application/json'),
  };
  const label = (await c.core.readNamespacedPod({ namespace: ns, name: 'target' })).metadata?.labels?.patched;
  return {
    codes: Object.fromEntries(Object.entries(answers).map(([k, v]) => [k, v.status])),
    bogus: statusShape(answers.bogus),
    plainJson: statusShape(answers.plainJson),
    finalLabel: label,
  };
}

/**
 * A failing json-patch `test` operation, and a `remove` of a map key that does not exist. (Not
 * compared: `replace` of a missing key, which 1.20's json-patch v4.9 accepts and servers since 1.23
 * refuse; the simulator follows the newer servers.)
 */
export async function jsonPatchFailures(c: Cluster, ns: string) {
  await createNamespace(c, ns);
  await createPod(c, ns, 'target', { nodeName: c.nodeNames[0] });
  const path = `/api/v1/namespaces/${ns}/pods/target`;
  const jsonPatch = (ops: object[]) => wire(c.kc, 'PATCH', path, ops, PatchStrategy.JsonPatch);
  return {
    failedTest: statusShape(await jsonPatch([{ op: 'test', path: '/metadata/name', value: 'other' }])),
    removeMissingKey: statusShape(await jsonPatch([{ op: 'remove', path: '/metadata/labels/absent' }])),
  };
}

/**
 * Taint+cordon of a node that already has a taint, once as a strategic merge patch and once as a JSON
 * merge patch. spec.taints has no patch merge key in the API types, so on a real server both replace
 * the whole list (the existing taint is lost): a drain must read-modify-write taints. Node state is
 * restored afterwards.
 */
export async function taintListPatchSemantics(c: Cluster) {
  const name = c.nodeNames.at(-1)!;
  const existing = { key: 'dedicated', value: 'batch', effect: 'NoSchedule' };
  const draining = { key: 'spotguard.io/draining', value: 'true', effect: 'NoSchedule' };
  const taintsAfter = async (contentType: string) => {
    await c.core.patchNode(
      { name, body: { spec: { unschedulable: false, taints: [existing] } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await c.core.patchNode(
      { name, body: { spec: { unschedulable: true, taints: [draining] } } },
      setHeaderOptions('Content-Type', contentType),
    );
    const node = await c.core.readNode({ name });
    return {
      unschedulable: node.spec?.unschedulable,
      taints: (node.spec?.taints ?? []).map((t) => `${t.key}=${t.value}:${t.effect}`).sort(),
    };
  };
  try {
    return {
      strategicMerge: await taintsAfter(PatchStrategy.StrategicMergePatch),
      merge: await taintsAfter(PatchStrategy.MergePatch),
    };
  } finally {
    await resetNode(c, name);
  }
}

/** Pods on two nodes and one unschedulable pod, listed with field selectors. */
export async function fieldSelectors(c: Cluster, ns: string) {
  await createNamespace(c, ns);
  await createPod(c, ns, 'on-zero', { nodeName: c.nodeNames[0] });
  await createPod(c, ns, 'on-one', { nodeName: c.nodeNames[1] });
  await createPod(c, ns, 'nowhere', { nodeSelector: { 'spotguard.example/nowhere': 'true' } });
  await readyPods(c, ns, 'on-zero', 1);
  await readyPods(c, ns, 'on-one', 1);
  const names = async (fieldSelector: string) =>
    (await c.core.listNamespacedPod({ namespace: ns, fieldSelector })).items
      .map((p) => p.metadata!.name!)
      .sort();
  const allNamespaces = await c.core.listPodForAllNamespaces({
    fieldSelector: `spec.nodeName=${c.nodeNames[1]},metadata.namespace=${ns}`,
  });
  return {
    onNodeZero: await names(`spec.nodeName=${c.nodeNames[0]}`),
    unscheduled: await names('spec.nodeName='),
    notRunning: await names('status.phase!=Running'),
    runningOnNodeOne: await names(`spec.nodeName=${c.nodeNames[1]},status.phase=Running`),
    acrossNamespaces: allNamespaces.items.map((p) => p.metadata!.name!),
    unsupportedField: statusShape(
      await wire(c.kc, 'GET', `/api/v1/namespaces/${ns}/pods?fieldSelector=spec.bogus%3Dx`),
    ),
  };
}

/** Graceful deletion of a running pod (terminating first, then gone) and of an unscheduled one. */
export async function gracefulDeletion(c: Cluster, ns: string) {
  await createNamespace(c, ns);
  await createPod(c, ns, 'running', { nodeName: c.nodeNames[0], terminationGracePeriodSeconds: 30 });
  await readyPods(c, ns, 'running', 1);
  await createPod(c, ns, 'unscheduled', { nodeSelector: { 'spotguard.example/nowhere': 'true' } });
  const deleted = await c.core.deleteNamespacedPod({
    namespace: ns,
    name: 'running',
    gracePeriodSeconds: 30,
  });
  const terminating = await c.core.readNamespacedPod({ namespace: ns, name: 'running' });
  const gone = await waitFor(
    `terminating pod to disappear in ${c.name}`,
    () => outcome(() => c.core.readNamespacedPod({ namespace: ns, name: 'running' })),
    (o) => o.code === 404,
  );
  await c.core.deleteNamespacedPod({ namespace: ns, name: 'unscheduled', gracePeriodSeconds: 30 });
  const unscheduledAfter = await outcome(() =>
    c.core.readNamespacedPod({ namespace: ns, name: 'unscheduled' }),
  );
  return {
    deleteAnswer: {
      kind: deleted.kind,
      deletionTimestampSet: deleted.metadata?.deletionTimestamp !== undefined,
      deletionGracePeriodSeconds: deleted.metadata?.deletionGracePeriodSeconds,
    },
    whileTerminating: {
      deletionTimestampSet: terminating.metadata?.deletionTimestamp !== undefined,
      deletionGracePeriodSeconds: terminating.metadata?.deletionGracePeriodSeconds,
      phase: terminating.status?.phase,
    },
    eventually: gone.code,
    unscheduledDeletedAtOnce: unscheduledAfter.code,
  };
}

/** Writes with a stale resourceVersion: PUT and a merge patch carrying metadata.resourceVersion. */
export async function resourceVersionConflicts(c: Cluster, ns: string) {
  await createNamespace(c, ns);
  await createPod(c, ns, 'target', { nodeName: c.nodeNames[0] });
  const stale = await c.core.readNamespacedPod({ namespace: ns, name: 'target' });
  await c.core.patchNamespacedPod(
    { namespace: ns, name: 'target', body: { metadata: { labels: { touched: 'yes' } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  const path = `/api/v1/namespaces/${ns}/pods/target`;
  const put = await wire(c.kc, 'PUT', path, {
    ...stale,
    metadata: { ...stale.metadata, labels: { put: 'yes' } },
  });
  const patch = await wire(
    c.kc,
    'PATCH',
    path,
    { metadata: { resourceVersion: stale.metadata!.resourceVersion, labels: { patched: 'yes' } } },
    PatchStrategy.MergePatch,
  );
  return { put: statusShape(put), patch: statusShape(patch) };
}

/** NotFound answers for a pod, a policy/v1beta1 PDB, a node, and a create in a missing namespace. */
export async function notFoundShapes(c: Cluster, ns: string) {
  await createNamespace(c, ns);
  return {
    pod: statusShape(await wire(c.kc, 'GET', `/api/v1/namespaces/${ns}/pods/ghost`)),
    pdb: statusShape(
      await wire(c.kc, 'GET', `/apis/policy/v1beta1/namespaces/${ns}/poddisruptionbudgets/ghost`),
    ),
    node: statusShape(await wire(c.kc, 'GET', '/api/v1/nodes/ip-10-9-9-9.ec2.internal')),
    createInMissingNamespace: statusShape(
      await wire(c.kc, 'POST', `/api/v1/namespaces/${ns}-missing/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p' },
        spec: { containers: [pauseContainer] },
      }),
    ),
  };
}

// ---------- scenarios: scheduler ----------

/** Returns the node back to schedulable, untainted. */
export async function resetNode(c: Cluster, name: string) {
  await c.core.patchNode(
    { name, body: { spec: { unschedulable: null, taints: null } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/** Applies `change` (a node spec merge patch, or undefined) to each node, runs, then resets the nodes. */
export async function withNodes<T>(
  c: Cluster,
  change: (name: string, index: number) => object | undefined,
  run: () => Promise<T>,
) {
  const changed: string[] = [];
  try {
    for (const [i, name] of c.nodeNames.entries()) {
      const spec = change(name, i);
      if (!spec) continue;
      changed.push(name);
      await c.core.patchNode(
        { name, body: { spec } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    }
    return await run();
  } finally {
    for (const name of changed) await resetNode(c, name);
  }
}

/** Node indexes the pods of `app` run on, as a sorted multiset ("how many on which node"). */
async function placement(c: Cluster, ns: string, app: string, count: number) {
  const pods = await readyPods(c, ns, app, count);
  return pods.map((p) => nodeIndex(c, p.spec?.nodeName)).sort();
}

/** All nodes but the first cordoned: every new pod lands on the first. */
export async function schedulerHonoursCordon(c: Cluster, ns: string) {
  await createNamespace(c, ns);
  return withNodes(
    c,
    (_name, i) => (i === 0 ? undefined : { unschedulable: true }),
    async () => {
      await createDeployment(c, ns, 'web', 4);
      return placement(c, ns, 'web', 4);
    },
  );
}

/** All nodes but the last tainted NoSchedule: untolerating pods go to the last; tolerating ones anywhere. */
export async function schedulerHonoursNoScheduleTaint(c: Cluster, ns: string) {
  await createNamespace(c, ns);
  const last = c.nodeNames.length - 1;
  return withNodes(
    c,
    (_name, i) =>
      i === last
        ? undefined
        : { taints: [{ key: 'spotguard.io/draining', value: 'true', effect: 'NoSchedule' }] },
    async () => {
      await createDeployment(c, ns, 'plain', 3);
      await createDeployment(c, ns, 'tolerant', 6, {
        tolerations: [{ key: 'spotguard.io/draining', operator: 'Exists', effect: 'NoSchedule' }],
      });
      const plain = await placement(c, ns, 'plain', 3);
      const tolerant = await placement(c, ns, 'tolerant', 6);
      return { plain, tolerantUsesTaintedNodes: tolerant.some((i) => i !== last) };
    },
  );
}

const zoneSpread = (maxSkew: number): WorkloadOptions['topologySpreadConstraints'] => [
  {
    maxSkew,
    topologyKey: 'topology.kubernetes.io/zone',
    whenUnsatisfiable: 'DoNotSchedule',
    labelSelector: { matchLabels: { [APP_LABEL]: 'spread' } },
  },
];

async function zoneCounts(c: Cluster, ns: string, app: string) {
  const nodes = await c.core.listNode();
  const zoneOf = new Map(
    nodes.items.map((n) => [n.metadata!.name!, n.metadata!.labels!['topology.kubernetes.io/zone']!]),
  );
  const counts: Record<string, number> = {};
  for (const pod of await listPods(c, ns, app)) {
    const zone = pod.spec?.nodeName ? zoneOf.get(pod.spec.nodeName)! : 'pending';
    counts[zone] = (counts[zone] ?? 0) + 1;
  }
  return counts;
}

/** Six pods with maxSkew 1 across three zones: two per zone. */
export async function zoneSpreadEven(c: Cluster, ns: string) {
  await createNamespace(c, ns);
  await createDeployment(c, ns, 'spread', 6, { topologySpreadConstraints: zoneSpread(1) });
  await readyPods(c, ns, 'spread', 6);
  return zoneCounts(c, ns, 'spread');
}

/**
 * Six pods with maxSkew 1 while the nodes of one zone are tainted: that zone still counts as a
 * domain with zero pods, so the other two can only take one pod each and the rest stay Pending.
 */
export async function zoneSpreadWithTaintedZone(c: Cluster, ns: string) {
  await createNamespace(c, ns);
  return withNodes(
    c,
    (_name, i) =>
      i % 3 === 2
        ? { taints: [{ key: 'spotguard.io/draining', value: 'true', effect: 'NoSchedule' }] }
        : undefined,
    async () => {
      await createDeployment(c, ns, 'spread', 6, { topologySpreadConstraints: zoneSpread(1) });
      // done when every pod is either bound or marked unschedulable by the scheduler
      const pods = await waitFor(
        `6 pods of spread placed or marked unschedulable in ${c.name}`,
        () => listPods(c, ns, 'spread'),
        (pods) => pods.length === 6 && pods.every((p) => p.spec?.nodeName || unschedulableReason(p)),
      );
      const reasons = [...new Set(pods.filter((p) => !p.spec?.nodeName).map(unschedulableReason))];
      return { zones: await zoneCounts(c, ns, 'spread'), pendingReasons: reasons };
    },
  );
}

const unschedulableReason = (pod: V1Pod) =>
  pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False')?.reason;

// ---------- scenarios: eviction options and other API answers spotguard relies on ----------

/** POST pods/NAME/eviction with DeleteOptions (grace period, dry run) and/or another apiVersion. */
function evictWith(
  c: Cluster,
  namespace: string,
  pod: string,
  extra: object,
  apiVersion = 'policy/v1beta1',
  query = '',
) {
  return wire(c.kc, 'POST', `/api/v1/namespaces/${namespace}/pods/${pod}/eviction${query}`, {
    apiVersion,
    kind: 'Eviction',
    metadata: { name: pod, namespace },
    ...extra,
  });
}

async function terminationOf(c: Cluster, namespace: string, name: string) {
  const pod = await outcome(() => c.core.readNamespacedPod({ namespace, name }));
  if (pod.code !== 200) return { code: pod.code };
  const read = await c.core.readNamespacedPod({ namespace, name });
  return {
    code: 200,
    terminating: read.metadata?.deletionTimestamp !== undefined,
    deletionGracePeriodSeconds: read.metadata?.deletionGracePeriodSeconds,
  };
}

/**
 * What the drain engine sends with an eviction: a grace period capped by the deadline (the pod must
 * terminate with it), dryRun (nothing happens), an eviction of a pod that is already terminating,
 * and a policy/v1 Eviction body, which a 1.20 server does not know.
 */
export async function evictionOptions(c: Cluster, ns: string) {
  await createNamespace(c, ns);
  for (const name of ['graceful', 'dry', 'terminating', 'v1body']) {
    await createPod(c, ns, name, { nodeName: c.nodeNames[0], terminationGracePeriodSeconds: 30 });
  }
  for (const name of ['graceful', 'dry', 'terminating', 'v1body']) await readyPods(c, ns, name, 1);
  // the player removes terminating pods after min(grace, 1 s): a 30 s grace keeps this one around
  // long enough to evict it again, as long as its eviction does not shorten the grace period
  const graceful = statusShape(
    await evictWith(c, ns, 'graceful', { deleteOptions: { gracePeriodSeconds: 5 } }),
  );
  const gracefulAfter = await terminationOf(c, ns, 'graceful');
  const dryRun = statusShape(await evictWith(c, ns, 'dry', {}, 'policy/v1beta1', '?dryRun=All'));
  const dryRunAfter = await terminationOf(c, ns, 'dry');
  await c.core.deleteNamespacedPod({ namespace: ns, name: 'terminating', gracePeriodSeconds: 30 });
  const alreadyTerminating = statusShape(await evictWith(c, ns, 'terminating', {}));
  const v1Body = statusShape(await evictWith(c, ns, 'v1body', {}, 'policy/v1'));
  return { graceful, gracefulAfter, dryRun, dryRunAfter, alreadyTerminating, v1Body };
}

/** Creating what exists: a pod and a coordination.k8s.io Lease (the drain engine's per-node lock). */
export async function alreadyExistsShapes(c: Cluster, ns: string) {
  await createNamespace(c, ns);
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'twice' },
    spec: { containers: [pauseContainer] },
  };
  const lease = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'lock' },
    spec: { holderIdentity: 'a' },
  };
  const podPath = `/api/v1/namespaces/${ns}/pods`;
  const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`;
  await wire(c.kc, 'POST', podPath, pod);
  await wire(c.kc, 'POST', leasePath, lease);
  return {
    pod: statusShape(await wire(c.kc, 'POST', podPath, pod)),
    lease: statusShape(await wire(c.kc, 'POST', leasePath, lease)),
  };
}

/** Five pods listed two at a time: continue tokens and remainingItemCount. */
export async function listPagination(c: Cluster, ns: string) {
  await createNamespace(c, ns);
  for (const name of ['p1', 'p2', 'p3', 'p4', 'p5']) await createPod(c, ns, name);
  const pages: { names: string[]; remainingItemCount?: number; more: boolean }[] = [];
  let token: string | undefined;
  do {
    const page = await c.core.listNamespacedPod({
      namespace: ns,
      limit: 2,
      ...(token ? { _continue: token } : {}),
    });
    token = page.metadata?._continue || undefined;
    pages.push({
      names: page.items.map((p) => p.metadata!.name!),
      ...(page.metadata?.remainingItemCount !== undefined
        ? { remainingItemCount: page.metadata.remainingItemCount }
        : {}),
      more: token !== undefined,
    });
  } while (token && pages.length < 10);
  return pages;
}

/** Set-based and equality label selectors over pods with different labels. */
export async function labelSelectors(c: Cluster, ns: string) {
  await createNamespace(c, ns);
  const labelled = async (name: string, labels: Record<string, string>) =>
    c.core.createNamespacedPod({
      namespace: ns,
      body: { metadata: { name, labels }, spec: { containers: [pauseContainer] } },
    });
  await labelled('web-a', { tier: 'web', zone: 'a' });
  await labelled('web-b', { tier: 'web', zone: 'b', canary: 'true' });
  await labelled('db-a', { tier: 'db', zone: 'a' });
  await labelled('plain', {});
  const names = async (labelSelector: string) =>
    (await c.core.listNamespacedPod({ namespace: ns, labelSelector })).items
      .map((p) => p.metadata!.name!)
      .sort();
  return {
    equality: await names('tier=web'),
    inequality: await names('tier!=web'),
    setIn: await names('zone in (a,c)'),
    setNotIn: await names('zone notin (a)'),
    exists: await names('canary'),
    notExists: await names('!canary'),
    combined: await names('tier=web,!canary'),
    invalid: statusShape(
      await wire(
        c.kc,
        'GET',
        `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent('tier in web')}`,
      ),
    ),
  };
}

// ---------- scenarios: zones (where replacement capacity must go) ----------

/** Zones of the nodes the pods of `app` run on, counted. */
async function zonesOf(c: Cluster, ns: string, app: string, count: number) {
  await readyPods(c, ns, app, count);
  return zoneCounts(c, ns, app);
}

/** A Deployment with a required node affinity to one zone: every pod lands in that zone. */
export async function requiredZoneAffinity(c: Cluster, ns: string) {
  await createNamespace(c, ns);
  await createDeployment(c, ns, 'pinned', 3, {
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['us-east-1c'] },
              ],
            },
          ],
        },
      },
    },
  });
  return zonesOf(c, ns, 'pinned', 3);
}

/**
 * A pod whose PersistentVolumeClaim is pre-bound to an EBS-like PV with node affinity to one zone:
 * the claim binds and the pod is scheduled only in the volume's zone (why spotguard replaces such
 * capacity in the same AZ).
 */
export async function zonalVolumePinsPod(c: Cluster, ns: string) {
  await createNamespace(c, ns);
  const pvName = `${ns}-ebs`;
  await c.core.createPersistentVolume({
    body: {
      metadata: { name: pvName },
      spec: {
        capacity: { storage: '4Gi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: '',
        csi: { driver: 'ebs.csi.aws.com', volumeHandle: 'vol-0123456789abcdef0', fsType: 'ext4' },
        claimRef: { namespace: ns, name: 'data' },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['us-east-1b'] },
                ],
              },
            ],
          },
        },
      },
    },
  });
  await c.core.createNamespacedPersistentVolumeClaim({
    namespace: ns,
    body: {
      metadata: { name: 'data' },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: '',
        resources: { requests: { storage: '4Gi' } },
      },
    },
  });
  const claim = await waitFor(
    `claim data bound in ${c.name}`,
    () => c.core.readNamespacedPersistentVolumeClaim({ namespace: ns, name: 'data' }),
    (pvc) => pvc.status?.phase === 'Bound',
  );
  await createDeployment(c, ns, 'db', 1, {
    volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
  });
  const zones = await zonesOf(c, ns, 'db', 1);
  await c.core.deletePersistentVolume({ name: pvName }).catch(() => {});
  return { claimPhase: claim.status?.phase, claimVolume: claim.spec?.volumeName === pvName, zones };
}
