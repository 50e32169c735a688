// One controller standing in for every node's kubelet, plus the parts of the control plane that
// act on pods of a node: the attach/detach controller (VolumeAttachments, Multi-Attach errors),
// the node lifecycle controller (pods NotReady while their node is) and pod GC (pods of a deleted
// node go away).
//
// A bound pod goes ContainerCreating → Running/Ready after podStartMs, only while its node exists
// and is Ready. A terminating pod is removed after min(grace period, podTerminationMs) — but not
// while its node is NotReady: like a real kubelet that cannot be reached, it stays Terminating
// until the node is Ready again or deleted.
import type { KObject, Store, StoreEvent } from '../store.ts';
import type { EventRecorder } from './events.ts';
import {
  isNodeReady,
  isTerminal,
  keyOf,
  nowIso,
  randomHex,
  sha256Hex,
  splitKey,
  type Timers,
  WorkQueue,
  writeStatus,
} from './util.ts';
import { attachmentName, buildVolumeAttachment, claimNamesOf } from './volumes.ts';

export interface KubeletTimings {
  podStartMs: number;
  podTerminationMs: number;
  volumeDetachMs: number;
}

const ATTACH_SOURCE = { component: 'attachdetach-controller' };

export class Kubelet {
  private readonly store: Store;
  private readonly recorder: EventRecorder;
  private readonly timers: Timers;
  private readonly timings: KubeletTimings;
  private readonly queue: WorkQueue;
  private readonly nodeQueue: WorkQueue;
  /** pod key → timer that makes it Running */
  private readonly starting = new Map<string, NodeJS.Timeout | undefined>();
  /** pod key → timer that removes it */
  private readonly terminating = new Map<string, NodeJS.Timeout | undefined>();
  /** node name → pods waiting for it to (exist and) be Ready */
  private readonly waitingOnNode = new Map<string, Set<string>>();
  /** PV name → pods blocked by a Multi-Attach error on it */
  private readonly waitingOnVolume = new Map<string, Set<string>>();
  /** pod key → node and PVs it had attached, to detach once the pod is gone */
  private readonly attached = new Map<string, { node: string; pvs: string[] }>();
  private readonly nodeReady = new Map<string, boolean>();
  private readonly unwatch: (() => void)[] = [];
  private podIpCounter = 0;
  /** pod IPs in use (also those of pods put in the store as Running by someone else) */
  private readonly podIps = new Map<string, string>();
  private readonly podIpsByPod = new Map<string, string>();

  constructor(store: Store, recorder: EventRecorder, timers: Timers, timings: KubeletTimings) {
    this.store = store;
    this.recorder = recorder;
    this.timers = timers;
    this.timings = timings;
    this.queue = new WorkQueue('kubelet', (key) => this.sync(key));
    this.nodeQueue = new WorkQueue('kubelet-nodes', (key) => this.syncNode(key));
    for (const node of store.list('nodes')) this.nodeReady.set(node.metadata.name, isNodeReady(node));
    this.watch('nodes', (event) => this.onNode(event));
    this.watch('pods', (event) => this.onPod(event));
    this.watch('volumeattachments', (event) => {
      if (event.type === 'DELETED')
        this.wake(this.waitingOnVolume, event.object.spec?.source?.persistentVolumeName);
    });
    for (const pod of store.list('pods')) {
      this.trackPodIp(keyOf(pod), pod.status?.podIP);
      this.queue.add(keyOf(pod));
    }
  }

  stop(): void {
    this.queue.stop();
    this.nodeQueue.stop();
    for (const stop of this.unwatch) stop();
  }

  private watch(resource: string, handler: (event: StoreEvent) => void): void {
    const stop = this.store.watch(resource, handler);
    if (stop) this.unwatch.push(stop);
  }

  private onPod(event: StoreEvent): void {
    const key = keyOf(event.object);
    this.trackPodIp(key, event.type === 'DELETED' ? undefined : event.object.status?.podIP);
    if (event.type !== 'DELETED') {
      this.queue.add(key);
      return;
    }
    this.timers.cancel(this.starting.get(key));
    this.timers.cancel(this.terminating.get(key));
    this.starting.delete(key);
    this.terminating.delete(key);
    const attached = this.attached.get(key);
    if (attached) {
      this.attached.delete(key);
      this.timers.after(this.timings.volumeDetachMs, () => this.detachUnused(attached.node, attached.pvs));
    }
  }

  /** Watchers only take note; the writes happen on the node queue, outside the store's emit. */
  private onNode(event: StoreEvent): void {
    const name = event.object.metadata.name;
    if (event.type === 'DELETED') {
      this.nodeReady.delete(name);
      this.nodeQueue.add(`gone:${name}`);
      return;
    }
    const ready = isNodeReady(event.object);
    const before = this.nodeReady.get(name);
    this.nodeReady.set(name, ready);
    if (before === ready) return;
    if (ready) this.nodeQueue.add(`ready:${name}`);
    else if (before !== undefined) this.nodeQueue.add(`not-ready:${name}`);
  }

  private syncNode(key: string): void {
    const colon = key.indexOf(':');
    const change = key.slice(0, colon);
    const name = key.slice(colon + 1);
    if (change === 'gone') {
      if (this.store.get('nodes', undefined, name)) return; // came back under the same name
      this.collectPodsOf(name);
      this.timers.after(this.timings.volumeDetachMs, () => this.forceDetachNode(name));
    } else if (change === 'ready' && this.nodeReady.get(name)) {
      this.setPodsReady(name, true);
      this.wake(this.waitingOnNode, name);
    } else if (change === 'not-ready' && this.nodeReady.get(name) === false) {
      this.setPodsReady(name, false);
    }
  }

  private wake(waiting: Map<string, Set<string>>, id: string | undefined): void {
    if (id === undefined) return;
    const keys = waiting.get(id);
    if (!keys) return;
    waiting.delete(id);
    for (const key of keys) this.queue.add(key);
  }

  private wait(waiting: Map<string, Set<string>>, id: string, key: string): void {
    let keys = waiting.get(id);
    if (!keys) {
      keys = new Set();
      waiting.set(id, keys);
    }
    keys.add(key);
  }

  /** Brings one pod a step closer to where it should be. */
  private sync(key: string): void {
    const [namespace, name] = splitKey(key);
    const pod = this.store.get('pods', namespace, name);
    if (!pod) return;
    if (pod.metadata.deletionTimestamp) this.syncTerminating(pod, key);
    else if (pod.spec?.nodeName && !isTerminal(pod) && pod.status?.phase !== 'Running')
      this.syncStarting(pod, key);
  }

  private syncTerminating(pod: KObject, key: string): void {
    if (this.terminating.has(key)) return;
    this.timers.cancel(this.starting.get(key));
    this.starting.delete(key);
    const nodeName: string | undefined = pod.spec?.nodeName;
    if (nodeName && this.store.get('nodes', undefined, nodeName) && !this.nodeReady.get(nodeName)) {
      this.wait(this.waitingOnNode, nodeName, key);
      return;
    }
    const graceMs = (pod.metadata.deletionGracePeriodSeconds ?? 30) * 1000;
    const delay = nodeName ? Math.min(graceMs, this.timings.podTerminationMs) : 0;
    this.terminating.set(
      key,
      this.timers.after(delay, () => {
        this.terminating.delete(key);
        const current = this.store.get('pods', pod.metadata.namespace, pod.metadata.name);
        // finalizers hold the object; the MODIFIED event that removes the last one brings us back
        if (current && !current.metadata.finalizers?.length) {
          this.store.delete('pods', pod.metadata.namespace, pod.metadata.name);
        }
      }),
    );
  }

  private syncStarting(pod: KObject, key: string): void {
    if (this.starting.has(key)) return;
    const nodeName: string = pod.spec.nodeName;
    const node = this.store.get('nodes', undefined, nodeName);
    if (!node || !isNodeReady(node)) {
      this.wait(this.waitingOnNode, nodeName, key);
      return;
    }
    if (!this.attachVolumes(pod, key, nodeName)) return;
    this.markContainerCreating(pod, node);
    this.starting.set(
      key,
      this.timers.after(this.timings.podStartMs, () => {
        this.starting.delete(key);
        this.markRunning(key);
      }),
    );
  }

  /**
   * Ensures a VolumeAttachment on this node for each of the pod's PVs. Returns false when the pod
   * must wait: a claim not bound yet, or the volume still attached to another node (Multi-Attach).
   */
  private attachVolumes(pod: KObject, key: string, nodeName: string): boolean {
    const pvs: KObject[] = [];
    for (const claimName of claimNamesOf(pod)) {
      const pvc = this.store.get('persistentvolumeclaims', pod.metadata.namespace, claimName);
      const pv = pvc?.spec?.volumeName && this.store.get('persistentvolumes', undefined, pvc.spec.volumeName);
      if (!pv) {
        this.timers.after(Math.max(50, this.timings.podStartMs), () => this.queue.add(key));
        return false;
      }
      pvs.push(pv);
    }
    if (pvs.length === 0) return true;
    const attachments = this.store.list('volumeattachments');
    for (const pv of pvs) {
      const elsewhere = attachments.find(
        (va) => va.spec?.source?.persistentVolumeName === pv.metadata.name && va.spec?.nodeName !== nodeName,
      );
      if (elsewhere) {
        this.recorder.record(
          pod,
          'Warning',
          'FailedAttachVolume',
          `Multi-Attach error for volume "${pv.metadata.name}" Volume is already exclusively attached to one node and can't be attached to another`,
          ATTACH_SOURCE,
        );
        this.markContainerCreating(pod, this.store.get('nodes', undefined, nodeName)!);
        this.wait(this.waitingOnVolume, pv.metadata.name, key);
        return false;
      }
    }
    for (const pv of pvs) {
      if (!this.store.get('volumeattachments', undefined, attachmentName(pv, nodeName))) {
        this.store.create('volumeattachments', buildVolumeAttachment(pv, nodeName));
      }
    }
    this.attached.set(key, { node: nodeName, pvs: pvs.map((pv) => pv.metadata.name) });
    return true;
  }

  /** Detaches PVs from the node unless another pod there still uses them. */
  private detachUnused(nodeName: string, pvNames: string[]): void {
    const inUse = new Set<string>();
    for (const other of this.store.list('pods', { nodeName })) {
      if (isTerminal(other)) continue;
      for (const claimName of claimNamesOf(other)) {
        const volumeName = this.store.get('persistentvolumeclaims', other.metadata.namespace, claimName)?.spec
          ?.volumeName;
        if (volumeName) inUse.add(volumeName);
      }
    }
    for (const pvName of pvNames) {
      if (inUse.has(pvName)) continue;
      const pv = this.store.get('persistentvolumes', undefined, pvName);
      const vaName = pv
        ? attachmentName(pv, nodeName)
        : this.store
            .list('volumeattachments')
            .find((va) => va.spec?.source?.persistentVolumeName === pvName && va.spec?.nodeName === nodeName)
            ?.metadata.name;
      if (vaName && this.store.get('volumeattachments', undefined, vaName)) {
        this.store.delete('volumeattachments', undefined, vaName);
      }
    }
  }

  /** The instance is gone: EBS detaches its volumes whatever Kubernetes thinks. */
  private forceDetachNode(nodeName: string): void {
    if (this.store.get('nodes', undefined, nodeName)) return; // a node of that name came back
    for (const va of this.store.list('volumeattachments', {
      filter: (va) => va.spec?.nodeName === nodeName,
    })) {
      this.store.delete('volumeattachments', undefined, va.metadata.name);
    }
  }

  /** Pod GC: pods bound to a node that no longer exists are deleted at once. */
  private collectPodsOf(nodeName: string): void {
    for (const pod of this.store.list('pods', { nodeName })) {
      this.store.delete('pods', pod.metadata.namespace, pod.metadata.name);
    }
    this.waitingOnNode.delete(nodeName);
  }

  /** Node lifecycle controller (NotReady → pods not Ready) and kubelet coming back (→ Ready again). */
  private setPodsReady(nodeName: string, ready: boolean): void {
    const status = ready ? 'True' : 'False';
    for (const pod of this.store.list('pods', { nodeName })) {
      if (pod.status?.phase !== 'Running' || pod.metadata.deletionTimestamp) continue;
      this.store.mutate('pods', pod.metadata.namespace, pod.metadata.name, (draft) => {
        const condition = draft.status.conditions?.find((c: { type: string }) => c.type === 'Ready');
        if (!condition || condition.status === status) return false;
        condition.status = status;
        condition.lastTransitionTime = nowIso();
      });
    }
  }

  private markContainerCreating(pod: KObject, node: KObject): void {
    const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ContainerCreating';
    if (waiting && pod.status?.hostIP) return;
    const now = nowIso();
    const names = (pod.spec?.containers ?? []).map((c: { name: string }) => c.name);
    const hostIP = nodeInternalIp(node);
    writeStatus(this.store, 'pods', pod, {
      ...pod.status,
      phase: 'Pending',
      hostIP,
      hostIPs: [{ ip: hostIP }],
      startTime: pod.status?.startTime ?? now,
      conditions: mergeConditions(
        pod.status?.conditions,
        now,
        {
          PodReadyToStartContainers: 'False',
          Initialized: 'True',
          Ready: 'False',
          ContainersReady: 'False',
          PodScheduled: 'True',
        },
        `containers with unready status: [${names.join(' ')}]`,
      ),
      containerStatuses: (pod.spec.containers ?? []).map((c: { name: string; image: string }) => ({
        name: c.name,
        image: c.image,
        imageID: '',
        ready: false,
        started: false,
        restartCount: 0,
        state: { waiting: { reason: 'ContainerCreating' } },
        lastState: {},
      })),
    });
  }

  private markRunning(key: string): void {
    const [namespace, name] = splitKey(key);
    const pod = this.store.get('pods', namespace, name);
    if (!pod || pod.metadata.deletionTimestamp || isTerminal(pod) || pod.status?.phase === 'Running') return;
    const node = this.store.get('nodes', undefined, pod.spec.nodeName);
    if (!node || !isNodeReady(node)) {
      this.wait(this.waitingOnNode, pod.spec.nodeName, key);
      return;
    }
    const now = nowIso();
    const hostIP = nodeInternalIp(node);
    const podIP = pod.spec.hostNetwork ? hostIP : this.nextPodIp(hostIP);
    writeStatus(this.store, 'pods', pod, {
      ...pod.status,
      phase: 'Running',
      hostIP,
      hostIPs: [{ ip: hostIP }],
      podIP,
      podIPs: [{ ip: podIP }],
      startTime: pod.status?.startTime ?? now,
      conditions: mergeConditions(pod.status?.conditions, now, {
        PodReadyToStartContainers: 'True',
        Initialized: 'True',
        Ready: 'True',
        ContainersReady: 'True',
        PodScheduled: 'True',
      }),
      ...(pod.spec.initContainers?.length
        ? {
            initContainerStatuses: pod.spec.initContainers.map((c: Container) => terminatedStatus(c, now)),
          }
        : {}),
      containerStatuses: (pod.spec.containers ?? []).map((c: Container) => runningStatus(c, now)),
    });
  }

  /** VPC CNI hands pods secondary IPs from the node's subnet; here: the node's /16, upper half. */
  private nextPodIp(hostIP: string): string {
    const [a, b] = hostIP.split('.');
    for (;;) {
      const n = (this.podIpCounter++ % (128 * 256 - 2)) + 1;
      const ip = `${a}.${b}.${128 + Math.floor(n / 256)}.${n % 256}`;
      if (!this.podIps.has(ip) || this.podIps.size >= 128 * 256 - 2) return ip;
    }
  }

  private trackPodIp(key: string, ip: string | undefined): void {
    const before = this.podIpsByPod.get(key);
    if (before === ip) return;
    if (before) this.podIps.delete(before);
    if (ip) {
      this.podIps.set(ip, key);
      this.podIpsByPod.set(key, ip);
    } else this.podIpsByPod.delete(key);
  }
}

interface Container {
  name: string;
  image: string;
}

function nodeInternalIp(node: KObject): string {
  return (
    node.status?.addresses?.find((a: { type: string }) => a.type === 'InternalIP')?.address ?? '10.0.0.1'
  );
}

/** Sets the listed conditions, keeping lastTransitionTime where the status did not change. */
function mergeConditions(
  current: { type: string; status: string; lastTransitionTime?: string }[] | undefined,
  now: string,
  wanted: Record<string, string>,
  notReadyMessage?: string,
) {
  return Object.entries(wanted).map(([type, status]) => {
    const before = current?.find((c) => c.type === type);
    const condition: Record<string, unknown> = {
      type,
      status,
      lastProbeTime: null,
      lastTransitionTime: before?.status === status ? before.lastTransitionTime : now,
    };
    if (status === 'False' && (type === 'Ready' || type === 'ContainersReady') && notReadyMessage) {
      condition.reason = 'ContainersNotReady';
      condition.message = notReadyMessage;
    }
    return condition;
  });
}

function imageId(image: string): string {
  const repository = image.split('@')[0]!.replace(/:[^/:]+$/, '');
  return `${repository}@sha256:${sha256Hex(image)}`;
}

function runningStatus(container: Container, now: string) {
  return {
    name: container.name,
    image: container.image,
    imageID: imageId(container.image ?? ''),
    containerID: `containerd://${randomHex(32)}`,
    ready: true,
    started: true,
    restartCount: 0,
    state: { running: { startedAt: now } },
    lastState: {},
  };
}

function terminatedStatus(container: Container, now: string) {
  return {
    name: container.name,
    image: container.image,
    imageID: imageId(container.image ?? ''),
    containerID: `containerd://${randomHex(32)}`,
    ready: true,
    started: false,
    restartCount: 0,
    state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: now, finishedAt: now } },
    lastState: {},
  };
}
