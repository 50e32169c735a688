// Reads everything the planner needs once, side by side: nodes, pods, PDBs, volumes (which claims
// pin pods to a zone), ReplicaSet owners, live drain Leases and the rebalancer's own state.
import type { V1PersistentVolume } from '@kubernetes/client-node';
import { leaseIsLive } from '../drain/lease.ts';
import { leaseNameFor } from '../drain/options.ts';
import { ZONE_TOPOLOGY_KEYS } from '../drain/planner.ts';
import type { KubeClients } from '../k8s/client.ts';
import { evictionVersion } from '../k8s/eviction.ts';
import { listNodes } from '../k8s/nodes.ts';
import { listPdbs } from '../k8s/pdb.ts';
import { listPersistentVolumeClaims, listPersistentVolumes } from '../k8s/volumes.ts';
import { readState } from './state.ts';
import type { Observed } from './types.ts';

/** The zone a PV is pinned to by its node affinity (EBS: topology.kubernetes.io/zone or the older CSI key). */
export function pinnedZone(pv: V1PersistentVolume): string | undefined {
  for (const term of pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? []) {
    for (const expr of term.matchExpressions ?? []) {
      if (ZONE_TOPOLOGY_KEYS.includes(expr.key) && expr.operator === 'In' && expr.values?.[0])
        return expr.values[0];
    }
  }
  return undefined;
}

export async function observeCluster(
  k8s: KubeClients,
  namespace: string,
  now: Date,
): Promise<Observed & { lastRunStarted?: string }> {
  const version = await evictionVersion(k8s);
  const drainLease = leaseNameFor('');
  const [nodes, pods, pdbs, pvs, pvcs, replicaSets, leases, state] = await Promise.all([
    listNodes(k8s),
    k8s.core.listPodForAllNamespaces({}).then((l) => l.items),
    listPdbs(k8s, version).then((l) => l.pdbs),
    listPersistentVolumes(k8s),
    listPersistentVolumeClaims(k8s),
    k8s.apps.listReplicaSetForAllNamespaces({}).then((l) => l.items),
    k8s.coordination.listNamespacedLease({ namespace }).then((l) => l.items),
    readState(k8s, namespace),
  ]);
  const pvZone = new Map(
    pvs.flatMap((pv) => {
      const z = pinnedZone(pv);
      return z ? [[pv.metadata?.name ?? '', z] as const] : [];
    }),
  );
  const zonalClaims = new Map<string, string>();
  for (const pvc of pvcs) {
    const zone = pvZone.get(pvc.spec?.volumeName ?? '');
    if (zone) zonalClaims.set(`${pvc.metadata?.namespace}/${pvc.metadata?.name}`, zone);
  }
  const replicaSetOwners = new Map<string, string>();
  for (const rs of replicaSets) {
    const owner = rs.metadata?.ownerReferences?.find((r) => r.controller);
    if (owner)
      replicaSetOwners.set(`${rs.metadata?.namespace}/${rs.metadata?.name}`, `${owner.kind}/${owner.name}`);
  }
  const drainsInProgress = leases
    .filter((l) => (l.metadata?.name ?? '').startsWith(drainLease) && leaseIsLive(l, now))
    .map((l) => (l.metadata?.name ?? '').slice(drainLease.length));
  return {
    nodes,
    pods,
    pdbs,
    zonalClaims,
    replicaSetOwners,
    lastMoved: state.lastMoved,
    drainsInProgress,
    now,
    ...(state.lastRunStarted ? { lastRunStarted: state.lastRunStarted } : {}),
  };
}
