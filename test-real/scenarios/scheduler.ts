// Scenarios: the scheduler (cordon, taints, topology spread, zone pinning by affinity and volumes).
import type { V1Pod } from '@kubernetes/client-node';
import type { Cluster } from '../clusters.ts';
import {
  APP_LABEL,
  createDeployment,
  createNamespace,
  listPods,
  nodeIndex,
  readyPods,
  type WorkloadOptions,
  waitFor,
  withNodes,
  zoneCounts,
} from './support.ts';

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
