// One eviction at a time: which pod to evict from which zone so that its replacement lands in an
// under-full zone the scheduler accepts, on a node that fits it. Used by planner.ts.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { fitsOn, podRequests, type Resources, type Room } from './fit.ts';
import { type AntiAffinity, antiAffinityAllows } from './spread.ts';
import type { Observed, RebalancerConfig } from './types.ts';
import { globalMin, type ZoneConstraint } from './workloads.ts';

export type Counts = Map<string, number>;

/** How far the counts are from every constraint holding: the pods above min + maxSkew, summed. */
export function excess(cs: ZoneConstraint[], counts: Counts[]): number {
  let total = 0;
  cs.forEach((c, i) => {
    const min = globalMin(counts[i]!, c.minDomains);
    for (const n of counts[i]!.values()) total += Math.max(0, n - (min + c.maxSkew));
  });
  return total;
}

export interface Ctx {
  observed: Observed;
  config: RebalancerConfig;
  nodes: Map<string, V1Node>;
  rooms: Map<string, Room>;
  anti: AntiAffinity;
  runBudget: number;
}

export interface Move {
  pod: V1Pod;
  from: string;
  room: Room;
  requests: Resources;
  after: Counts[];
  gain: number;
  certain: boolean;
}

/** The eviction that lowers the excess most, whose replacement the scheduler places in `to`. */
export function bestMove(
  cs: ZoneConstraint[],
  counts: Counts[],
  movable: Map<string, V1Pod[]>,
  ctx: Ctx,
  now: number,
): Move | undefined {
  const zones = [...new Set(counts.flatMap((m) => [...m.keys()]))].sort();
  let best: Move | undefined;
  for (const from of zones) {
    const pods = movable.get(from) ?? [];
    if (pods.length === 0) continue;
    for (const to of zones) {
      if (to === from) continue;
      const found = placeOne(pods, to, ctx);
      if (!found) continue;
      const { pod, room, requests } = found;
      const srcNode = ctx.nodes.get(pod.spec?.nodeName ?? '')!;
      // counts once the pod is evicted, then once its replacement runs in `to`
      const evicted = cs.map((c, i) => {
        const m = new Map(counts[i]!);
        if (c.counts(pod) && c.nodeCounts(srcNode)) m.set(from, m.get(from)! - 1);
        return m;
      });
      const allowed = (zone: string, node: V1Node) =>
        cs.every(
          (c, i) =>
            !c.hard ||
            !c.nodeCounts(node) ||
            !evicted[i]!.has(zone) ||
            evicted[i]!.get(zone)! + 1 - globalMin(evicted[i]!, c.minDomains) <= c.maxSkew,
        );
      if (!allowed(to, room.node)) continue;
      const after = cs.map((c, i) => {
        const m = new Map(evicted[i]!);
        if (c.counts(pod) && c.nodeCounts(room.node) && m.has(to)) m.set(to, m.get(to)! + 1);
        return m;
      });
      const gain = now - excess(cs, after);
      if (gain <= 0) continue;
      // certain: the scheduler may not put the replacement back in `from`
      const certain = !allowed(from, srcNode);
      const better =
        !best ||
        gain > best.gain ||
        (gain === best.gain && certain && !best.certain) ||
        (gain === best.gain &&
          certain === best.certain &&
          (counts[0]!.get(from) ?? 0) - (counts[0]!.get(to) ?? 0) >
            (counts[0]!.get(best.from) ?? 0) - (counts[0]!.get(best.room.zone) ?? 0));
      if (better) best = { pod, from, room, requests, after, gain, certain };
    }
  }
  return best;
}

/** The first movable pod with a node in `zone` that fits it (the roomiest such node). */
function placeOne(
  pods: V1Pod[],
  zone: string,
  ctx: Ctx,
): { pod: V1Pod; room: Room; requests: Resources } | undefined {
  const tried = new Set<string>();
  for (const pod of pods) {
    const shape = JSON.stringify([
      podRequests(pod),
      pod.spec?.nodeSelector,
      pod.spec?.affinity,
      pod.spec?.tolerations,
    ]);
    if (tried.has(shape)) continue;
    tried.add(shape);
    const requests = podRequests(pod);
    let best: Room | undefined;
    for (const room of ctx.rooms.values()) {
      if (room.zone !== zone || !fitsOn(pod, room, requests) || !antiAffinityAllows(pod, room, ctx.anti))
        continue;
      if (!best || room.free.milliCpu > best.free.milliCpu) best = room;
    }
    if (best) return { pod, room: best, requests };
  }
  return undefined;
}
