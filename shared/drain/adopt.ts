// A drain that joins another one with a TIGHTER deadline (an ITN arriving while a terminate hook,
// rebalance or manual drain holds the node) does not just wait: until the other drain ends it makes
// every pod due before its own deadline − margin. Pods already terminating with a longer grace are
// deleted again with the shorter grace (kube-apiserver then moves deletionTimestamp earlier: the new
// time is the first deletion's start + the new grace); pods not evicted yet are evicted with the
// capped grace (PDBs still apply).
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { KubeClients } from '../k8s/client.ts';
import { classifyEvictionError, type EvictionVersion, evictPod } from '../k8s/eviction.ts';
import { deletePod, listPodsOnNode } from '../k8s/pods.ts';
import { DEFAULT_POD_GRACE_SECONDS, type ResolvedDrainOptions, waitUntil } from './options.ts';
import { cappedGrace, planDrain } from './planner.ts';
import { type RequestMeter, sleep } from './requests.ts';

const ADOPT_INTERVAL_MS = 1000;

export interface AdoptResult {
  /** Terminating pods re-deleted with a shorter grace. */
  shortened: number;
  /** Pods this (joining) drain evicted itself. */
  evicted: number;
}

/** The grace that makes a pod whose deletion started at `startMs` due by `until`. */
export function graceToBeDueBy(startMs: number, until: Date, force: boolean): number {
  return Math.max(force ? 0 : 1, Math.floor((until.getTime() - startMs) / 1000));
}

export async function adoptTighterDeadline(
  k8s: KubeClients,
  node: V1Node,
  opts: ResolvedDrainOptions,
  version: EvictionVersion,
  meter: RequestMeter,
  stop: AbortSignal,
): Promise<AdoptResult> {
  const result: AdoptResult = { shortened: 0, evicted: 0 };
  if (!opts.deadline) return result;
  const until = waitUntil(opts, new Date());
  const evicted = new Set<string>();
  while (!stop.aborted) {
    const { pods } = await meter.call(() => listPodsOnNode(k8s, node.metadata?.name ?? ''), {
      unbounded: true,
    });
    const now = new Date();
    await Promise.all(pods.filter((p) => p.metadata?.deletionTimestamp).map((p) => shorten(p)));
    const plan = planDrain({ node, pods, pdbs: [], pvs: [], pvcs: [], now, options: opts });
    for (const e of plan.evictions) {
      const key = `${e.namespace}/${e.name}/${e.uid}`;
      if (evicted.has(key)) continue;
      const gracePeriodSeconds = cappedGrace(e.gracePeriodSeconds, opts, until, now);
      try {
        await meter.call(() => evictPod(k8s, { ...e, gracePeriodSeconds }, version), { retries: 0 });
        evicted.add(key);
        result.evicted++;
      } catch (err) {
        if (classifyEvictionError(err).kind === 'gone') evicted.add(key); // else: next round
      }
    }
    await sleep(ADOPT_INTERVAL_MS, stop);
  }
  return result;

  async function shorten(pod: V1Pod) {
    const meta = pod.metadata!;
    const due = Date.parse(String(meta.deletionTimestamp));
    const grace =
      meta.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_POD_GRACE_SECONDS;
    if (due <= until.getTime() || grace <= (opts.force ? 0 : 1)) return;
    const start = due - grace * 1000;
    const shorter = graceToBeDueBy(start, until, opts.force);
    if (shorter >= grace) return;
    try {
      const target = { namespace: meta.namespace ?? '', name: meta.name ?? '', uid: meta.uid ?? '' };
      await meter.call(() => deletePod(k8s, target, shorter), { retries: 0 });
      result.shortened++;
    } catch {
      // gone already, or the API refused now: the next round sees it again
    }
  }
}
