// Building blocks of the differential scenarios: waiting without busy loops, creating the objects
// the scenarios use, and normalising what legitimately differs between two clusters.
import {
  ApiException,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
  type V1Pod,
  type V1PodSpec,
} from '@kubernetes/client-node';
import type { Cluster } from '../clusters.ts';
import { type WireResponse, wire } from '../wire.ts';

const POLL_MS = 100;

export const APP_LABEL = 'app';

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

export const pauseContainer = { name: 'app', image: 'registry.k8s.io/pause:3.9' };

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

export const nodeIndex = (c: Cluster, nodeName: string | undefined) =>
  nodeName ? c.nodeNames.indexOf(nodeName) : 'unscheduled';

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

export async function zoneCounts(c: Cluster, ns: string, app: string) {
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
