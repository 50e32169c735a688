// Whether a target answers a new request right now, from the simulated cluster's state.
//   ip target: the pod holding that IP. It serves while Running on a Ready node; once deleted it
//     keeps serving only for its preStop hook (`sleep N` exec or the preStop `sleep` action) — after
//     that the container has SIGTERM and refuses new connections — and not at all once removed.
//   instance target: the node with that instance id exists and is Ready (kube-proxy forwards).
import type { KObject, Store } from '../k8s/store.ts';

export type Refusal = 'pod-gone' | 'pod-terminating' | 'pod-not-running' | 'node-gone';

export class ServingIndex {
  private readonly store: Store;
  private readonly byIp = new Map<string, string>();
  /** pod key → when we first saw its deletionTimestamp (the deletion request) */
  private readonly deletedAt = new Map<string, number>();
  private readonly stopWatch: (() => void) | false;

  constructor(store: Store) {
    this.store = store;
    for (const pod of store.list('pods')) this.track(pod, false);
    this.stopWatch = store.watch('pods', (event) => this.track(event.object, event.type === 'DELETED'));
  }

  stop() {
    if (this.stopWatch) this.stopWatch();
  }

  /** undefined = served; otherwise why the request failed. */
  refusal(targetType: 'ip' | 'instance', id: string, now = Date.now()): Refusal | undefined {
    if (targetType === 'instance') return this.nodeOfInstance(id) ? undefined : 'node-gone';
    const key = this.byIp.get(id);
    const [namespace, name] = key?.split('/') ?? [];
    const pod = key ? this.store.get('pods', namespace, name!) : undefined;
    if (!pod) return 'pod-gone';
    const node = this.store.get('nodes', undefined, pod.spec?.nodeName ?? '');
    if (!node || !ready(node)) return 'node-gone';
    if (pod.status?.phase !== 'Running') return 'pod-not-running';
    const deleted = this.deletedAt.get(key!);
    if (deleted !== undefined && now >= deleted + preStopMs(pod)) return 'pod-terminating';
    return undefined;
  }

  private nodeOfInstance(id: string): KObject | undefined {
    return this.store
      .list('nodes')
      .find((n) => String(n.spec?.providerID ?? '').endsWith(`/${id}`) && ready(n));
  }

  private track(pod: KObject, deleted: boolean) {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const ip: string | undefined = pod.status?.podIP;
    if (deleted) {
      if (ip && this.byIp.get(ip) === key) this.byIp.delete(ip);
      this.deletedAt.delete(key);
      return;
    }
    if (ip && !pod.spec?.hostNetwork) this.byIp.set(ip, key);
    if (pod.metadata.deletionTimestamp && !this.deletedAt.has(key)) this.deletedAt.set(key, Date.now());
  }
}

/** The longest preStop sleep of the pod's containers, in ms (0 without one). */
export function preStopMs(pod: KObject): number {
  let longest = 0;
  for (const c of pod.spec?.containers ?? []) {
    const hook = c.lifecycle?.preStop;
    const command: string[] = hook?.exec?.command ?? [];
    const sleep = command.join(' ').match(/\bsleep\s+(\d+(?:\.\d+)?)/);
    const seconds = hook?.sleep?.seconds ?? (sleep ? Number(sleep[1]) : 0);
    longest = Math.max(longest, seconds * 1000);
  }
  return longest;
}

const ready = (node: KObject) =>
  (node.status?.conditions ?? []).some(
    (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True',
  );
