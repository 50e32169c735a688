// What a running drain watches: pods leaving the node (one watch), budgets becoming available again
// (one watch over all PDBs, started on the first refusal) and volumes detaching (list while needed).
import type { V1Pod, V1PodDisruptionBudget } from '@kubernetes/client-node';
import type { KubeClients } from '../k8s/client.ts';
import type { EvictionVersion } from '../k8s/eviction.ts';
import { listPdbs, watchPdbs } from '../k8s/pdb.ts';
import { listPodsOnNode, watchPodsOnNode } from '../k8s/pods.ts';
import { listVolumeAttachmentsOnNode } from '../k8s/volumes.ts';
import type { ResumableWatch } from '../k8s/watch.ts';
import { podKey } from './planner.ts';
import { type RequestMeter, sleep } from './requests.ts';

/** A one-shot signal that can be awaited. */
export class Latch {
  done = false;
  readonly promise: Promise<void>;
  private resolveFn: () => void = () => {};
  constructor() {
    this.promise = new Promise((resolve) => {
      this.resolveFn = resolve;
    });
  }
  open() {
    this.done = true;
    this.resolveFn();
  }
}

/** Resolves when `promise` settles or `signal` aborts, whichever is first. */
export function untilAborted(promise: Promise<unknown>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    promise.then(done, done);
  });
}

export interface TrackedPod {
  uid: string;
  gone: Latch;
  goneAt?: number;
}

/** Pods are gone when deleted, or when a pod with the same name but another uid shows up. */
export class GoneTracker {
  private readonly pods = new Map<string, TrackedPod>();
  private watch?: ResumableWatch;
  private readonly k8s: KubeClients;
  private readonly node: string;
  private readonly meter: RequestMeter;

  constructor(k8s: KubeClients, node: string, meter: RequestMeter) {
    this.k8s = k8s;
    this.node = node;
    this.meter = meter;
  }

  track(pod: { namespace: string; name: string; uid: string }): TrackedPod {
    const tracked: TrackedPod = { uid: pod.uid, gone: new Latch() };
    this.pods.set(podKey(pod), tracked);
    return tracked;
  }

  markGone(key: string) {
    const tracked = this.pods.get(key);
    if (!tracked || tracked.gone.done) return;
    tracked.goneAt = Date.now();
    tracked.gone.open();
  }

  start(resourceVersion: string, onError?: (err: unknown) => void) {
    this.watch = watchPodsOnNode(this.k8s, this.node, {
      resourceVersion,
      onRequest: () => this.meter.add(),
      onError,
      onEvent: (type, pod) => this.observe(type, pod),
      relist: () => this.reconcile(),
    });
  }

  stop() {
    this.watch?.stop();
  }

  private observe(type: string, pod: V1Pod) {
    const key = podKey(pod.metadata ?? {});
    const tracked = this.pods.get(key);
    if (!tracked) return;
    const sameUid = pod.metadata?.uid === tracked.uid;
    if ((type === 'DELETED' && sameUid) || (type !== 'DELETED' && !sameUid)) this.markGone(key);
  }

  /** After a broken or expired watch: every tracked pod missing from a fresh list is gone. */
  private async reconcile(): Promise<string> {
    const { pods, resourceVersion } = await this.meter.call(() => listPodsOnNode(this.k8s, this.node), {
      unbounded: true,
    });
    const present = new Set(pods.map((p) => `${podKey(p.metadata ?? {})}#${p.metadata?.uid}`));
    for (const [key, tracked] of this.pods) {
      if (!present.has(`${key}#${tracked.uid}`)) this.markGone(key);
    }
    return resourceVersion;
  }
}

/**
 * Knows each budget's disruptionsAllowed from one watch over all PDBs and wakes waiting evictions
 * the moment a budget allows a disruption again, never sooner than their backoff floor.
 */
export class BudgetWatch {
  private readonly allowed = new Map<string, number>();
  private readonly lastPositiveAt = new Map<string, number>();
  private readonly listeners = new Set<() => void>();
  private watch?: ResumableWatch;
  private readonly k8s: KubeClients;
  private readonly meter: RequestMeter;
  private readonly version: EvictionVersion;
  private resourceVersion: string;
  /** Longest wait without news before retrying anyway (the watch may lag or be unavailable). */
  static readonly ceilingMs = 3_000;

  constructor(
    k8s: KubeClients,
    meter: RequestMeter,
    version: EvictionVersion,
    pdbs: V1PodDisruptionBudget[],
    resourceVersion: string,
  ) {
    this.k8s = k8s;
    this.meter = meter;
    this.version = version;
    this.resourceVersion = resourceVersion;
    for (const pdb of pdbs) this.update(pdb);
  }

  /** Called after every budget change the watch reports (BudgetSlots re-checks its waiters). */
  onChange?: () => void;

  /** The budget's disruptionsAllowed as last seen (Infinity: deleted; 0 when unknown). */
  allowance(budget: string): number {
    return this.allowed.get(budget) ?? 0;
  }

  /** An eviction under `budget` was accepted: the server took one disruption off its allowance. */
  consumed(budget: string) {
    const allowed = this.allowed.get(budget);
    if (allowed !== undefined && allowed > 0) this.allowed.set(budget, allowed - 1);
  }

  /** An eviction sent at `sentAt` was refused: the budget is exhausted unless we heard otherwise since. */
  refused(budget: string, sentAt: number) {
    if ((this.lastPositiveAt.get(budget) ?? 0) <= sentAt) this.allowed.set(budget, 0);
  }

  async waitForAllowance(budget: string, floorMs: number, stop: AbortSignal): Promise<void> {
    this.ensureWatching();
    await sleep(floorMs, stop);
    const giveUpAt = Date.now() + BudgetWatch.ceilingMs;
    while (!stop.aborted && (this.allowed.get(budget) ?? 0) <= 0 && Date.now() < giveUpAt) {
      await this.nextChange(giveUpAt - Date.now(), stop);
    }
  }

  stop() {
    this.watch?.stop();
    for (const wake of this.listeners) wake();
  }

  private ensureWatching() {
    if (this.watch) return;
    this.watch = watchPdbs(this.k8s, {
      version: this.version,
      resourceVersion: this.resourceVersion,
      onRequest: () => this.meter.add(),
      onEvent: (type, pdb) => {
        if (type === 'DELETED') this.allowed.set(podKey(pdb.metadata ?? {}), Number.POSITIVE_INFINITY);
        else this.update(pdb);
        this.wakeAll();
      },
      relist: async () => {
        const { pdbs, resourceVersion } = await this.meter.call(() => listPdbs(this.k8s, this.version), {
          unbounded: true,
        });
        for (const pdb of pdbs) this.update(pdb);
        this.wakeAll();
        return resourceVersion;
      },
    });
  }

  private update(pdb: V1PodDisruptionBudget) {
    const key = podKey(pdb.metadata ?? {});
    const allowed = pdb.status?.disruptionsAllowed ?? 0;
    this.allowed.set(key, allowed);
    if (allowed > 0) this.lastPositiveAt.set(key, Date.now());
  }

  private wakeAll() {
    this.onChange?.();
    const listeners = [...this.listeners];
    this.listeners.clear();
    for (const wake of listeners) wake();
  }

  private nextChange(ms: number, stop: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const timer = new AbortController();
      const wake = () => {
        this.listeners.delete(wake);
        timer.abort();
        resolve();
      };
      this.listeners.add(wake);
      void sleep(ms, AbortSignal.any([stop, timer.signal])).then(wake);
    });
  }
}

/**
 * Evictions in flight per budget: as many as the budget's disruptionsAllowed (at least one, which
 * probes a budget at 0 and then waits on the budget watch), in plan order. The API server is the
 * judge of every eviction; this only keeps us from sending what it would refuse.
 */
export class BudgetSlots {
  private readonly inUse = new Map<string, number>();
  private readonly queues = new Map<string, (() => void)[]>();
  private readonly budgets: BudgetWatch;

  constructor(budgets: BudgetWatch) {
    this.budgets = budgets;
    budgets.onChange = () => {
      for (const budget of this.queues.keys()) this.pump(budget);
    };
  }

  /** Resolves with the release function once a slot of `budget` is free (or at once on stop). */
  acquire(budget: string, stop: AbortSignal): Promise<() => void> {
    return new Promise((resolve) => {
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        this.inUse.set(budget, (this.inUse.get(budget) ?? 1) - 1);
        this.pump(budget);
      };
      const grant = () => {
        this.inUse.set(budget, (this.inUse.get(budget) ?? 0) + 1);
        resolve(release);
      };
      const queue = this.queues.get(budget) ?? [];
      this.queues.set(budget, queue);
      queue.push(grant);
      stop.addEventListener('abort', () => resolve(() => {}), { once: true });
      this.pump(budget);
    });
  }

  private pump(budget: string) {
    const queue = this.queues.get(budget);
    const capacity = Math.max(1, this.budgets.allowance(budget));
    while (queue?.length && (this.inUse.get(budget) ?? 0) < capacity) queue.shift()!();
  }
}

/** Waits for stateful pods' VolumeAttachments to this node to disappear (list-polled while needed). */
export class VolumeDetachTracker {
  private readonly waiting = new Map<Latch, string[]>();
  private polling = false;
  private readonly k8s: KubeClients;
  private readonly node: string;
  private readonly meter: RequestMeter;
  private readonly stopSignal: AbortSignal;

  constructor(k8s: KubeClients, node: string, meter: RequestMeter, stop: AbortSignal) {
    this.k8s = k8s;
    this.node = node;
    this.meter = meter;
    this.stopSignal = stop;
  }

  /** Resolves when none of `pvNames` is attached to the node (or the drain stops). Returns when. */
  async waitDetached(pvNames: string[]): Promise<number | undefined> {
    const latch = new Latch();
    this.waiting.set(latch, pvNames);
    if (!this.polling) void this.poll();
    await untilAborted(latch.promise, this.stopSignal);
    return latch.done ? Date.now() : undefined;
  }

  private async poll() {
    this.polling = true;
    let delayMs = 100;
    try {
      while (this.waiting.size > 0 && !this.stopSignal.aborted) {
        const attachments = await this.meter
          .call(() => listVolumeAttachmentsOnNode(this.k8s, this.node), {
            unbounded: true,
            signal: this.stopSignal,
          })
          // a listing that failed past retries is tried again, not the end of the wait
          .catch(() => undefined);
        if (!attachments) {
          await sleep(1_000, this.stopSignal);
          continue;
        }
        const attached = new Set(attachments.map((va) => va.spec?.source?.persistentVolumeName));
        for (const [latch, pvs] of this.waiting) {
          if (!pvs.some((pv) => attached.has(pv))) {
            this.waiting.delete(latch);
            latch.open();
          }
        }
        if (this.waiting.size === 0) break;
        await sleep(delayMs, this.stopSignal);
        delayMs = Math.min(1_000, delayMs * 2);
      }
    } finally {
      // waiters whose volumes never detach run into the deadline and report them not released
      this.polling = false;
    }
  }
}
