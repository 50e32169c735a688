// Cluster states for the rebalancer's planner tests (and its benchmark): nodes per zone, pods of
// Deployments spread with a zone constraint, zonal-PV StatefulSet pods, PDBs.
import type {
  V1Node,
  V1Pod,
  V1PodDisruptionBudget,
  V1TopologySpreadConstraint,
} from '@kubernetes/client-node';
import {
  defaultRebalancerConfig,
  type Observed,
  type RebalancerConfig,
} from '../../shared/rebalancer/types.ts';

export const config = (over: Partial<RebalancerConfig> = {}): RebalancerConfig => ({
  ...defaultRebalancerConfig,
  ...over,
});

export function node(
  name: string,
  zone: string,
  extra: {
    cpu?: string;
    pods?: number;
    ready?: boolean;
    taints?: V1Node['spec'] extends infer S ? (S extends { taints?: infer T } ? T : never) : never;
    unschedulable?: boolean;
    annotations?: Record<string, string>;
  } = {},
): V1Node {
  return {
    metadata: {
      name,
      labels: { 'topology.kubernetes.io/zone': zone, 'kubernetes.io/hostname': name },
      annotations: extra.annotations ?? {},
    },
    spec: { unschedulable: extra.unschedulable ?? false, taints: extra.taints ?? [] },
    status: {
      allocatable: { cpu: extra.cpu ?? '4', memory: '16Gi', pods: String(extra.pods ?? 110) },
      conditions: [{ type: 'Ready', status: extra.ready === false ? 'False' : 'True' }],
    },
  };
}

let seq = 0;
export interface PodOpts {
  namespace?: string;
  cpu?: string;
  spread?: V1TopologySpreadConstraint[];
  labels?: Record<string, string>;
  claim?: string;
  annotations?: Record<string, string>;
  kind?: string;
  nodeSelector?: Record<string, string>;
}

export function pod(app: string, nodeName: string, o: PodOpts = {}): V1Pod {
  const n = ++seq;
  const kind = o.kind ?? 'ReplicaSet';
  return {
    metadata: {
      name: `${app}-${n}`,
      namespace: o.namespace ?? 'default',
      uid: `uid-${app}-${n}`,
      labels: { app, ...(o.labels ?? {}) },
      annotations: o.annotations ?? {},
      creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, n)) as never,
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind,
          name: kind === 'ReplicaSet' ? `${app}-rs` : app,
          uid: `owner-${app}`,
          controller: true,
        },
      ],
    },
    spec: {
      nodeName,
      terminationGracePeriodSeconds: 5,
      containers: [
        { name: 'c', image: 'x', resources: { requests: { cpu: o.cpu ?? '100m', memory: '64Mi' } } },
      ],
      ...(o.spread ? { topologySpreadConstraints: o.spread } : {}),
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
      ...(o.claim ? { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: o.claim } }] } : {}),
    },
    status: { phase: 'Running' },
  };
}

export const zoneSpread = (
  app: string,
  maxSkew = 1,
  extra: Partial<V1TopologySpreadConstraint> = {},
): V1TopologySpreadConstraint => ({
  maxSkew,
  topologyKey: 'topology.kubernetes.io/zone',
  whenUnsatisfiable: 'DoNotSchedule',
  labelSelector: { matchLabels: { app } },
  ...extra,
});

export function pdb(
  name: string,
  app: string,
  disruptionsAllowed: number,
  namespace = 'default',
): V1PodDisruptionBudget {
  return {
    metadata: { name, namespace },
    spec: { maxUnavailable: 1, selector: { matchLabels: { app } } },
    status: { disruptionsAllowed, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 },
  } as V1PodDisruptionBudget;
}

/** Pods of `app` spread over nodes: counts[z] pods on the nodes named `${zone}-${i}`, round robin. */
export function spreadPods(
  app: string,
  layout: Record<string, number>,
  nodesPerZone: number,
  o: PodOpts = {},
): V1Pod[] {
  const out: V1Pod[] = [];
  for (const [zone, count] of Object.entries(layout)) {
    for (let i = 0; i < count; i++) out.push(pod(app, `${zone}-${i % nodesPerZone}`, o));
  }
  return out;
}

export function zoneNodes(
  zones: string[],
  perZone: number,
  extra: Parameters<typeof node>[2] = {},
): V1Node[] {
  return zones.flatMap((z) => Array.from({ length: perZone }, (_, i) => node(`${z}-${i}`, z, extra)));
}

export const replicaSetOwners = (apps: string[], namespace = 'default') =>
  new Map(apps.map((a) => [`${namespace}/${a}-rs`, `Deployment/${a}`]));

export function observed(o: Partial<Observed> & Pick<Observed, 'nodes' | 'pods'>): Observed {
  const apps = [...new Set(o.pods.map((p) => p.metadata?.labels?.app ?? ''))];
  return {
    pdbs: [],
    zonalClaims: new Map(),
    replicaSetOwners: replicaSetOwners(apps),
    lastMoved: {},
    drainsInProgress: [],
    now: new Date('2026-01-01T12:00:00Z'),
    ...o,
  };
}
