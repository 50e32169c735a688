// Fast start-up: puts the pods of simple Deployments directly into the store as already Running on
// the initial nodes — a cluster that has been up for a while — instead of letting 15,000 pods go
// through scheduling and kubelet start one by one. The objects are exactly what the controllers
// would have made (same ReplicaSet name and pod-template-hash, same pod defaults), so the
// controllers adopt them when they start. Deployments this placement cannot honour (affinity,
// topology spread, volumes, tolerations) are left to the controllers and the scheduler.

import { parseBytes, parseMilliCpu } from '../shared/k8s/quantity.ts';
import { podFromTemplate } from './k8s/controllers/pod-template.ts';
import { createGenerated, ownerReferenceTo, templateHash } from './k8s/controllers/util.ts';
import type { KObject, Store } from './k8s/store.ts';

interface NodeRoom {
  name: string;
  zone: string;
  labels: Record<string, string>;
  hostIP: string;
  milliCpu: number;
  memory: number;
  pods: number;
}

/** Returns the names (ns/name) of the Deployments whose pods were placed. */
export function prewarmDeployments(store: Store): string[] {
  const rooms = nodeRooms(store);
  const placed: string[] = [];
  let cursor = 0;
  let podIp = 0;
  for (const deployment of store.list('deployments')) {
    const template = deployment.spec?.template;
    if (!isSimple(template?.spec)) continue;
    const replicas: number = deployment.spec?.replicas ?? 1;
    const need = requestsOf(template.spec);
    const fits = rooms.filter((r) => matchesNodeSelector(r, template.spec.nodeSelector));
    if (fits.length === 0) continue;
    const rs = createReplicaSet(store, deployment, replicas);
    // one template pod per Deployment; the store clones each replica on create
    const base = podFromTemplate(rs.spec.template, {
      name: '',
      generateName: `${rs.metadata.name}-`,
      namespace: rs.metadata.namespace,
      ownerReferences: [ownerReferenceTo(rs)],
    });
    for (let i = 0; i < replicas; i++) {
      const room = nextRoom(fits, need, cursor++);
      if (!room) break; // the rest stay Pending for the scheduler, as on a full cluster
      take(room, need);
      const n = podIp++;
      createGenerated(store, 'pods', {
        ...base,
        spec: { ...base.spec, nodeName: room.name },
        status: runningStatus(base, room.hostIP, podIpOf(room.hostIP, n), n),
      });
    }
    placed.push(`${deployment.metadata.namespace}/${deployment.metadata.name}`);
  }
  return placed;
}

// biome-ignore lint/suspicious/noExplicitAny: pod spec wire JSON
function isSimple(spec: any): boolean {
  if (!spec) return false;
  if (spec.affinity || spec.topologySpreadConstraints?.length || spec.tolerations?.length) return false;
  if (spec.nodeName || spec.hostNetwork) return false;
  return !(spec.volumes ?? []).some((v: Record<string, unknown>) => v.persistentVolumeClaim || v.ephemeral);
}

/** The ReplicaSet the deployment controller would create for this template, already scaled. */
function createReplicaSet(store: Store, deployment: KObject, replicas: number): KObject {
  const hash = templateHash(deployment.spec.template, 0);
  const template = structuredClone(deployment.spec.template);
  template.metadata = {
    ...template.metadata,
    labels: { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash },
  };
  const selector = structuredClone(deployment.spec.selector ?? {});
  selector.matchLabels = { ...(selector.matchLabels ?? {}), 'pod-template-hash': hash };
  return store.create('replicasets', {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${deployment.metadata.name}-${hash}`,
      namespace: deployment.metadata.namespace,
      labels: { ...template.metadata.labels },
      annotations: {
        'deployment.kubernetes.io/desired-replicas': String(replicas),
        'deployment.kubernetes.io/max-replicas': String(replicas),
        'deployment.kubernetes.io/revision': '1',
      },
      ownerReferences: [ownerReferenceTo(deployment)],
    },
    spec: { replicas, minReadySeconds: deployment.spec.minReadySeconds ?? 0, selector, template },
    status: { replicas: 0 },
  });
}

function nodeRooms(store: Store): NodeRoom[] {
  const rooms = store
    .list('nodes')
    .filter((n) => !(n.spec?.taints ?? []).some((t: { effect: string }) => t.effect !== 'PreferNoSchedule'))
    .filter((n) => !n.spec?.unschedulable)
    .map((n) => ({
      name: n.metadata.name,
      zone: n.metadata.labels?.['topology.kubernetes.io/zone'] ?? '',
      labels: n.metadata.labels ?? {},
      hostIP:
        n.status?.addresses?.find((a: { type: string }) => a.type === 'InternalIP')?.address ?? '10.0.0.1',
      milliCpu: parseMilliCpu(n.status?.allocatable?.cpu ?? '0'),
      memory: parseBytes(n.status?.allocatable?.memory ?? '0'),
      pods: Number(n.status?.allocatable?.pods ?? 110),
    }));
  // interleave zones so consecutive pods land in different zones (what topology spreading would do)
  const byZone = new Map<string, NodeRoom[]>();
  for (const room of rooms) byZone.set(room.zone, [...(byZone.get(room.zone) ?? []), room]);
  const interleaved: NodeRoom[] = [];
  const lists = [...byZone.values()];
  for (let i = 0; interleaved.length < rooms.length; i++) {
    for (const list of lists) if (list[i]) interleaved.push(list[i]!);
  }
  return interleaved;
}

function matchesNodeSelector(room: NodeRoom, selector: Record<string, string> | undefined): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => room.labels[k] === v);
}

// biome-ignore lint/suspicious/noExplicitAny: pod spec wire JSON
function requestsOf(spec: any): { milliCpu: number; memory: number } {
  let milliCpu = 0;
  let memory = 0;
  for (const c of spec.containers ?? []) {
    const requests = { ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) };
    milliCpu += parseMilliCpu(requests.cpu ?? '0');
    memory += parseBytes(requests.memory ?? '0');
  }
  return { milliCpu, memory };
}

function nextRoom(
  rooms: NodeRoom[],
  need: { milliCpu: number; memory: number },
  start: number,
): NodeRoom | undefined {
  for (let i = 0; i < rooms.length; i++) {
    const room = rooms[(start + i) % rooms.length]!;
    if (room.pods >= 1 && room.milliCpu >= need.milliCpu && room.memory >= need.memory) return room;
  }
  return undefined;
}

function take(room: NodeRoom, need: { milliCpu: number; memory: number }) {
  room.pods -= 1;
  room.milliCpu -= need.milliCpu;
  room.memory -= need.memory;
}

/** Pod IPs from the node's /16, upper half (as the kubelet here hands them out), unique per pod. */
function podIpOf(hostIP: string, n: number): string {
  const [a, b] = hostIP.split('.');
  const k = n % (128 * 256 - 2);
  return `${a}.${b}.${128 + Math.floor((k + 1) / 256)}.${(k + 1) % 256}`;
}

function runningStatus(pod: KObject, hostIP: string, podIP: string, serial: number) {
  const started = new Date(Date.now() - 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const condition = (type: string) => ({
    type,
    status: 'True',
    lastProbeTime: null,
    lastTransitionTime: started,
  });
  return {
    ...pod.status,
    phase: 'Running',
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP,
    podIPs: [{ ip: podIP }],
    startTime: started,
    conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(
      condition,
    ),
    containerStatuses: (pod.spec.containers ?? []).map(
      (c: { name: string; image: string }, index: number) => ({
        name: c.name,
        image: c.image,
        imageID: `${String(c.image ?? '').replace(/:[^/:]+$/, '')}@sha256:${'0'.repeat(64)}`,
        containerID: `containerd://${serial.toString(16).padStart(56, '0')}${index.toString(16).padStart(8, '0')}`,
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: started } },
        lastState: {},
      }),
    ),
  };
}
