// The baseline: the descheduler's RemovePodsViolatingTopologySpreadConstraint, reimplemented from
// its published description (kubernetes-sigs/descheduler, pkg/framework/plugins/
// removepodsviolatingtopologyspreadconstraint, balanceDomains) with nodeFit on:
//   per constraint on its own (DoNotSchedule only), domains sorted once by size, two pointers
//   i (smallest) / j (largest) around idealAvg = pods / domains; move min(ceil(size_j − avg),
//   ceil(avg − size_i), ceil((skew − maxSkew) / 2)) pods from j's tail; a pod counts as moved even
//   when skipped because it fits no other node (nodeFit = fits *any other node*, no volume-zone
//   check); minDomains is not supported.
import type { V1Pod } from '@kubernetes/client-node';
import { fitsOn, podRequests, type Room } from '../shared/rebalancer/fit.ts';
import type { Observed, RebalancerConfig } from '../shared/rebalancer/types.ts';
import { groupWorkloads, neverMoved, zoneConstraintsOf } from '../shared/rebalancer/workloads.ts';

/** The pods the descheduler would evict (uids). */
export function deschedulerEvictions(
  observed: Observed,
  rooms: Map<string, Room>,
  config: RebalancerConfig,
): Set<string> {
  const evict = new Set<string>();
  const nodes = new Map(observed.nodes.map((n) => [n.metadata?.name ?? '', n]));
  for (const w of groupWorkloads(observed, { ...config, includeScheduleAnyway: false })) {
    for (const c of zoneConstraintsOf(w, { ...config, includeScheduleAnyway: false })) {
      if (!c.hard) continue;
      const domains = new Map<string, V1Pod[]>();
      for (const n of observed.nodes) {
        const z = n.metadata?.labels?.['topology.kubernetes.io/zone'];
        if (z && c.nodeCounts(n)) domains.set(z, domains.get(z) ?? []);
      }
      for (const p of observed.pods) {
        const z = nodes.get(p.spec?.nodeName ?? '')?.metadata?.labels?.['topology.kubernetes.io/zone'];
        if (z && domains.has(z) && c.counts(p)) domains.get(z)!.push(p);
      }
      // evictable pods at the end of each domain (the descheduler's sortDomains)
      const isEvictable = (p: V1Pod) => {
        const why = neverMoved(p, observed, nodes, { ...config, allowLocalStorage: true });
        return !why || why === 'zonal volume'; // it has no volume-zone check
      };
      const sorted = [...domains.values()]
        .map((pods) => [...pods.filter((p) => !isEvictable(p)), ...pods.filter(isEvictable)])
        .sort((a, b) => a.length - b.length);
      const total = sorted.reduce((n, d) => n + d.length, 0);
      const idealAvg = total / sorted.length;
      let i = 0;
      let j = sorted.length - 1;
      while (i < j) {
        const skew = sorted[j]!.length - sorted[i]!.length;
        if (skew <= c.maxSkew) break;
        if (sorted[i]!.length >= idealAvg) {
          i++;
          continue;
        }
        if (sorted[j]!.length <= idealAvg) {
          j--;
          continue;
        }
        const aboveAvg = Math.ceil(sorted[j]!.length - idealAvg);
        const belowAvg = Math.ceil(idealAvg - sorted[i]!.length);
        const move = Math.min(aboveAvg, belowAvg, Math.ceil((skew - c.maxSkew) / 2));
        if (move <= 0) {
          i++;
          continue;
        }
        const taken = sorted[j]!.splice(sorted[j]!.length - move, move);
        for (const p of taken) {
          if (!isEvictable(p)) continue;
          // nodeFit: the pod fits some node other than its own (any zone, no volume check)
          const fits = [...rooms.values()].some(
            (r) => r.name !== p.spec?.nodeName && fitsOn(p, r, podRequests(p)),
          );
          if (fits) evict.add(p.metadata?.uid ?? '');
        }
        sorted[i]!.push(...taken);
      }
    }
  }
  return evict;
}
