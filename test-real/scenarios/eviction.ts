// Scenarios: PodDisruptionBudgets and the eviction API (answers, PDB arithmetic, DeleteOptions).
import type { V1Pod } from '@kubernetes/client-node';
import type { Cluster } from '../clusters.ts';
import { wire } from '../wire.ts';
import {
  createDeployment,
  createNamespace,
  createPdb,
  createPod,
  evict,
  isReady,
  listPods,
  outcome,
  type PdbBudget,
  type PdbStatus,
  readyPods,
  type StatusShape,
  settledPdbStatus,
  statusShape,
  waitFor,
  withPlaceholders,
} from './support.ts';

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

/** Evicts a StatefulSet pod: it comes back under the same name (a new pod), and Ready. */
export async function statefulPodReplaced(c: Cluster, ns: string) {
  await createNamespace(c, ns);
  const labels = { app: 'db' };
  await c.apps.createNamespacedStatefulSet({
    namespace: ns,
    body: {
      metadata: { name: 'db', namespace: ns },
      spec: {
        replicas: 2,
        serviceName: 'db',
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.9' }],
            terminationGracePeriodSeconds: 5,
          },
        },
      },
    },
  });
  const before = await readyPods(c, ns, 'db', 2);
  const victim = before.find((p) => p.metadata!.name === 'db-1')!;
  const eviction = await evict(c, ns, 'db-1');
  const after = await waitFor(
    `db-1 to come back in ${c.name}`,
    () => listPods(c, ns, 'db'),
    (pods) =>
      pods.length === 2 &&
      pods.every(isReady) &&
      pods.some((p) => p.metadata!.uid !== victim.metadata!.uid && p.metadata!.name === 'db-1'),
  );
  return {
    evictionStatus: eviction.status,
    namesAfter: after.map((p) => p.metadata!.name!).sort(),
    ownerKind: after[0]!.metadata!.ownerReferences?.[0]?.kind,
  };
}
