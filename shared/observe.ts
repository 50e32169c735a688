// What the planners decide from, read once per event: the instance and its node, its group, whether
// it is this cluster's, and — for capacity — which of the node's pods are pinned to its zone and
// whether the zone has room for them. Read BEFORE any step runs, so no eviction changes the answer.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { GroupInfo } from './aws/autoscaling.ts';
import type { InstanceInfo } from './aws/instances.ts';
import type { CapacityReads } from './capacity/api.ts';
import { podsThatFit } from './capacity/room.ts';
import { zoneOfNode, zonesOfVolume } from './capacity/zonal.ts';
import type { KubeClients } from './k8s/client.ts';
import { listPodsOnNode } from './k8s/pods.ts';
import { listPersistentVolumeClaims, listPersistentVolumes } from './k8s/volumes.ts';
import { CLUSTER_TAG_PREFIX, type Ownership, ownershipOf } from './ownership.ts';
import type { NodeResolver } from './resolve/node-resolver.ts';

export interface ZonalPicture {
  zone: string;
  /** "namespace/name" of the node's pods whose volumes pin them to `zone` (terminating ones too). */
  pods: string[];
  /** How many of them fit, by requests, on the zone's other Ready, schedulable nodes. */
  fitting: number;
  /** This cluster's groups (ownership checked on the group's own tags). */
  groups: GroupInfo[];
}

export interface Observed {
  now: Date;
  instanceId: string;
  nodeName?: string;
  node?: V1Node;
  /** Why no node was found, when none was. */
  noNodeBecause?: string;
  instance?: InstanceInfo;
  /** EC2 could not be asked: the node was found by providerID alone. */
  ec2Error?: string;
  /**
   * The node could not be looked up at all (Kubernetes API unreachable, or EC2 failing with no
   * providerID match): whether there is a node is unknown. Planners fail the event (retry, then the
   * DLQ with this reason) but still complete a hook of ours, which would otherwise hang.
   */
  resolveError?: string;
  group?: GroupInfo;
  groupError?: string;
  ownership: Ownership;
  zonal?: ZonalPicture;
  /** Lifecycle events: the hook's heartbeat timeout (undefined when it could not be described). */
  hookTimeoutSeconds?: number;
}

export interface ObserveDeps {
  k8s: KubeClients;
  resolver: NodeResolver;
  capacity: CapacityReads;
  clusterName?: string;
  managedTag: { key: string; value: string };
  now: () => Date;
}

export async function observe(
  d: ObserveDeps,
  instanceId: string,
  opts: { groupName?: string; capacity?: boolean } = {},
): Promise<Observed> {
  const now = d.now();
  let resolution: Awaited<ReturnType<NodeResolver['resolve']>> | undefined;
  let resolveError: string | undefined;
  try {
    resolution = await d.resolver.resolve(instanceId);
  } catch (err) {
    resolveError = err instanceof Error ? err.message : String(err);
  }
  const found = resolution?.status === 'found' ? resolution : undefined;
  const instance = resolution ? resolution.instance : d.resolver.knownInstance(instanceId);
  const ec2Error = found?.ec2Error;
  const groupName = opts.groupName ?? instance?.autoScalingGroupName;
  let group: GroupInfo | undefined;
  let groupError: string | undefined;
  if (groupName) {
    try {
      group = await d.capacity.group(groupName);
    } catch (err) {
      groupError = String(err);
    }
  }
  const ownership = ownershipOf({
    clusterName: d.clusterName,
    managedTag: d.managedTag,
    instanceTags: ec2Error ? undefined : instance?.tags,
    groupTags: group?.tags,
    // EC2 answered and the instance has no group tag: standalone, nothing more to read.
    noGroup: Boolean(instance && !groupName) || Boolean(groupName && !group && !groupError),
  });
  const base: Observed = {
    now,
    instanceId,
    ownership,
    ...(instance ? { instance } : {}),
    ...(ec2Error ? { ec2Error } : {}),
    ...(group ? { group } : {}),
    ...(groupError ? { groupError } : {}),
    ...(resolveError ? { resolveError } : {}),
    ...(found
      ? { nodeName: found.nodeName, node: found.node }
      : {
          noNodeBecause:
            resolution?.status === 'not-found'
              ? resolution.reason
              : `the node could not be looked up (${resolveError})`,
        }),
  };
  if (!opts.capacity || !found || ownership.verdict !== 'ours') return base;
  const zone = zoneOfNode(found.node) ?? instance?.availabilityZone;
  return zone ? { ...base, zonal: await zonalPicture(d, found.nodeName, zone) } : base;
}

async function zonalPicture(d: ObserveDeps, nodeName: string, zone: string): Promise<ZonalPicture> {
  const { pods } = await listPodsOnNode(d.k8s, nodeName);
  const pinned = await pinnedToZone(d.k8s, pods);
  if (pinned.length === 0) return { zone, pods: [], fitting: 0, groups: [] };
  const [nodes, groups] = await Promise.all([
    d.k8s.core.listNode({ labelSelector: `topology.kubernetes.io/zone=${zone}` }),
    clusterGroups(d),
  ]);
  const others = nodes.items.filter((n) => n.metadata?.name !== nodeName);
  const withPods = await Promise.all(
    others.map(async (node) => ({
      node,
      pods: (await listPodsOnNode(d.k8s, node.metadata?.name ?? '')).pods,
    })),
  );
  return {
    zone,
    pods: pinned.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`),
    fitting: podsThatFit(pinned, withPods),
    groups,
  };
}

async function pinnedToZone(k8s: KubeClients, pods: V1Pod[]): Promise<V1Pod[]> {
  const live = pods.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  if (!live.some((p) => p.spec?.volumes?.some((v) => v.persistentVolumeClaim))) return [];
  const [pvs, pvcs] = await Promise.all([listPersistentVolumes(k8s), listPersistentVolumeClaims(k8s)]);
  const pvByName = new Map(pvs.map((pv) => [pv.metadata?.name ?? '', pv]));
  const volumeOf = new Map(
    pvcs.map((c) => [`${c.metadata?.namespace}/${c.metadata?.name}`, c.spec?.volumeName ?? '']),
  );
  return live.filter((pod) =>
    (pod.spec?.volumes ?? []).some((v) => {
      const claim = v.persistentVolumeClaim?.claimName;
      const pv = claim ? pvByName.get(volumeOf.get(`${pod.metadata?.namespace}/${claim}`) ?? '') : undefined;
      return pv !== undefined && zonesOfVolume(pv).length === 1;
    }),
  );
}

/** Groups of this cluster: the managed tag or this cluster's tag on the group, no other cluster's. */
async function clusterGroups(d: ObserveDeps): Promise<GroupInfo[]> {
  const lists = await Promise.all([
    d.capacity.managedGroups(d.managedTag),
    d.clusterName
      ? d.capacity.managedGroups({ key: `${CLUSTER_TAG_PREFIX}${d.clusterName}`, value: 'owned' })
      : Promise.resolve([]),
  ]);
  const byName = new Map(lists.flat().map((g) => [g.name, g]));
  return [...byName.values()].filter(
    (g) =>
      ownershipOf({ clusterName: d.clusterName, managedTag: d.managedTag, groupTags: g.tags, noGroup: false })
        .verdict === 'ours',
  );
}
