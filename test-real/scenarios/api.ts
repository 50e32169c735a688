// Scenarios: API semantics spotguard relies on (patch types, selectors, deletion, error bodies).
import { PatchStrategy, setHeaderOptions, type V1Pod, Watch } from '@kubernetes/client-node';
import type { Cluster } from '../clusters.ts';
import { wire } from '../wire.ts';
import {
  createNamespace,
  createPod,
  evict,
  outcome,
  pauseContainer,
  readyPods,
  resetNode,
  statusShape,
  waitFor,
} from './support.ts';

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

/**
 * A pod watch (field selector on the node, as spotguard's drain uses) while one pod is evicted: the
 * events the API server itself produces for that pod — the graceful delete (MODIFIED with a
 * deletionTimestamp) first and DELETED last. Left out: kubelet status writes in between (the
 * simulator's kubelet and the test's kubelet player differ there by design), and the MODIFIED that
 * only adds the DisruptionTarget condition before the delete (servers ≥ 1.26 do that, 1.20 does not).
 */
export async function watchDuringEviction(c: Cluster, ns: string) {
  await createNamespace(c, ns);
  await createPod(c, ns, 'victim', { nodeName: c.nodeNames[2], terminationGracePeriodSeconds: 30 });
  await readyPods(c, ns, 'victim', 1);
  const list = await c.core.listNamespacedPod({ namespace: ns });
  const events: { type: string; terminating: boolean; disruptionTargetOnly: boolean }[] = [];
  let deleted!: () => void;
  const gone = new Promise<void>((resolve) => {
    deleted = resolve;
  });
  const watch = await new Watch(c.kc).watch(
    `/api/v1/namespaces/${ns}/pods`,
    { fieldSelector: `spec.nodeName=${c.nodeNames[2]}`, resourceVersion: list.metadata!.resourceVersion! },
    (type, pod: V1Pod) => {
      const terminating = pod.metadata?.deletionTimestamp !== undefined;
      const marked = (pod.status?.conditions ?? []).some((cond) => cond.type === 'DisruptionTarget');
      events.push({ type, terminating, disruptionTargetOnly: !terminating && marked });
      if (type === 'DELETED') deleted();
    },
    () => deleted(),
  );
  const eviction = await evict(c, ns, 'victim');
  await Promise.race([gone, new Promise((r) => setTimeout(r, 15_000))]);
  watch.abort();
  const compared = events
    .filter((e) => !e.disruptionTargetOnly)
    .map(({ type, terminating }) => ({ type, terminating }));
  return { evictionStatus: eviction.status, first: compared[0], last: compared.at(-1) };
}

/**
 * A second DELETE of a terminating pod with a shorter grace moves deletionTimestamp earlier by the
 * difference (kube-apiserver rest.BeforeDelete); a longer one changes nothing. Read from the DELETE
 * answers, before any kubelet removes the pod.
 */
export async function shorterGraceOnSecondDelete(c: Cluster, ns: string) {
  await createNamespace(c, ns);
  await createPod(c, ns, 'slow', { nodeName: c.nodeNames[0], terminationGracePeriodSeconds: 300 });
  await readyPods(c, ns, 'slow', 1);
  const del = (gracePeriodSeconds: number) =>
    c.core.deleteNamespacedPod({ namespace: ns, name: 'slow', gracePeriodSeconds });
  const first = (await del(300)).metadata;
  const second = (await del(60)).metadata;
  const third = (await del(120)).metadata;
  const seconds = (t: unknown) => Math.round(new Date(String(t)).getTime() / 1000);
  return {
    firstGrace: first?.deletionGracePeriodSeconds,
    secondGrace: second?.deletionGracePeriodSeconds,
    movedEarlierBySeconds: seconds(first?.deletionTimestamp) - seconds(second?.deletionTimestamp),
    longerGraceKeeps: {
      grace: third?.deletionGracePeriodSeconds,
      sameTimestamp: seconds(third?.deletionTimestamp) === seconds(second?.deletionTimestamp),
    },
  };
}
