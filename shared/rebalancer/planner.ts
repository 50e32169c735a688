// The AZ rebalancer's pure planner: per workload, the fewest evictions that bring every zone
// spread constraint within maxSkew at once, evicting only pods whose replacement the scheduler
// will place in an under-full zone (a Ready node there fits it) — never one that cannot move.
import type { V1Pod } from '@kubernetes/client-node';
import { selectorMatches } from '../drain/selectors.ts';
import { roomByNode, take } from './fit.ts';
import { bestMove, type Counts, type Ctx, excess } from './moves.ts';
import type { AntiAffinity } from './spread.ts';
import type {
  Observed,
  PlannedMove,
  RebalancePlan,
  RebalancerConfig,
  RebalancerStep,
  WorkloadPlan,
} from './types.ts';
import {
  globalMin,
  groupWorkloads,
  isPlaced,
  neverMoved,
  podName,
  type Workload,
  type ZoneConstraint,
  zoneConstraintsOf,
  zoneCounts,
} from './workloads.ts';

const record = (m: Counts) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));

export function planRebalance(trigger: string, observed: Observed, config: RebalancerConfig): RebalancePlan {
  const base = { target: 'cluster', trigger, steps: [] as RebalancerStep[], workloads: [] as WorkloadPlan[] };
  const inScope = (p: V1Pod) =>
    config.namespaces.length === 0 || config.namespaces.includes(p.metadata?.namespace ?? '');
  const pending = observed.pods.filter(
    (p) => inScope(p) && p.status?.phase === 'Pending' && !p.spec?.nodeName && !p.metadata?.deletionTimestamp,
  );
  if (pending.length > 0)
    return {
      ...base,
      nothingBecause: `${pending.length} pod(s) Pending (first ${podName(pending[0]!)}): not while the scheduler is still placing pods`,
    };
  if (observed.drainsInProgress.length > 0)
    return { ...base, nothingBecause: `a drain is in progress (${observed.drainsInProgress.join(', ')})` };

  const nodes = new Map(observed.nodes.map((n) => [n.metadata?.name ?? '', n]));
  const rooms = roomByNode(observed.nodes, observed.pods);
  const anti: AntiAffinity = { pods: observed.pods.filter(isPlaced), nodes, arrivals: [] };
  let runBudget = config.maxEvictionsPerRun;
  const plans: WorkloadPlan[] = [];
  const prepared = groupWorkloads(observed, config)
    .map((w) => ({ w, cs: zoneConstraintsOf(w, config) }))
    .filter(({ cs }) => cs.length > 0)
    .map(({ w, cs }) => ({ w, cs, counts: cs.map((c) => zoneCounts(c, observed.nodes, observed.pods)) }))
    // the most skewed first: they get the run's eviction budget
    .sort((a, b) => excess(b.cs, b.counts) - excess(a.cs, a.counts) || a.w.key.localeCompare(b.w.key));
  for (const { w, cs, counts } of prepared) {
    const plan = planWorkload(w, cs, counts, { observed, config, nodes, rooms, anti, runBudget });
    runBudget -= plan.moves.length;
    plans.push(plan);
  }
  plans.sort((a, b) => a.workload.localeCompare(b.workload));
  const steps: RebalancerStep[] = plans
    .filter((p) => p.moves.length > 0)
    .map((p) => ({
      kind: 'rebalance-workload' as const,
      id: `rebalance:${p.workload}`,
      why: `${p.moves.length} move(s): ${p.constraints.map((c) => `${c.label} ${JSON.stringify(c.before)} → ${JSON.stringify(c.planned)}`).join('; ')}`,
      workload: p,
    }));
  if (steps.length > 0) {
    steps.push({
      kind: 'remember-moves',
      id: 'remember',
      why: 'start the cooldown of the workloads moved (kept in the cluster for the next runs)',
      after: steps.map((s) => s.id),
      workloads: steps.map((s) => (s as { workload: WorkloadPlan }).workload.workload),
    });
  }
  const nothingBecause =
    steps.length > 0
      ? undefined
      : plans.length === 0
        ? 'no workload has a zone spread to keep'
        : 'every workload is within maxSkew or cannot be improved';
  return { ...base, steps, workloads: plans, ...(nothingBecause ? { nothingBecause } : {}) };
}

function planWorkload(w: Workload, cs: ZoneConstraint[], counts: Counts[], ctx: Ctx): WorkloadPlan {
  const { observed, config, nodes, rooms } = ctx;
  const before = counts.map((m) => record(m));
  const skewBefore = Math.max(
    ...cs.map((c, i) => Math.max(...counts[i]!.values(), 0) - globalMin(counts[i]!, c.minDomains)),
  );
  const budgets = observed.pdbs.filter(
    (b) =>
      b.metadata?.namespace === w.namespace &&
      w.pods.some((p) => selectorMatches(b.spec?.selector, p.metadata?.labels)),
  );
  const result = (moves: PlannedMove[], blocked: string[]): WorkloadPlan => ({
    workload: w.key,
    constraints: cs.map((c, i) => ({
      label: c.label,
      maxSkew: c.maxSkew,
      before: before[i]!,
      planned: record(counts[i]!),
      plannedSkew: Math.max(...counts[i]!.values(), 0) - globalMin(counts[i]!, c.minDomains),
    })),
    moves,
    blocked,
    skewBefore,
    budgets: budgets.map((b) => b.metadata?.name ?? ''),
  });
  if (excess(cs, counts) === 0) return result([], []);
  const last = observed.lastMoved[w.key];
  if (last && new Date(last).getTime() + config.cooldownMs > observed.now.getTime())
    return result(
      [],
      [
        `moved at ${last}: cooling down until ${new Date(new Date(last).getTime() + config.cooldownMs).toISOString()}`,
      ],
    );
  const shut = budgets.find((b) => (b.status?.disruptionsAllowed ?? 0) <= 0);
  if (shut) return result([], [`PodDisruptionBudget ${shut.metadata?.name} allows no disruption now`]);
  const cap = Math.min(config.maxEvictionsPerWorkload, ctx.runBudget);

  // Movable pods per zone; the reasons the others stay.
  const movable = new Map<string, V1Pod[]>();
  const stays = new Map<string, number>();
  for (const pod of w.pods) {
    const zone =
      rooms.get(pod.spec?.nodeName ?? '')?.zone ??
      nodes.get(pod.spec?.nodeName ?? '')?.metadata?.labels?.['topology.kubernetes.io/zone'];
    if (!zone) continue;
    const why = neverMoved(pod, observed, nodes, config);
    if (why) stays.set(why, (stays.get(why) ?? 0) + 1);
    else (movable.get(zone) ?? movable.set(zone, []).get(zone)!).push(pod);
  }
  // Pods on the busiest nodes go first (their node-level spread improves too), then the newest.
  for (const list of movable.values())
    list.sort((a, b) =>
      String(b.metadata?.creationTimestamp ?? '').localeCompare(String(a.metadata?.creationTimestamp ?? '')),
    );

  const moves: PlannedMove[] = [];
  let noRoom = false;
  while (moves.length < cap) {
    const now = excess(cs, counts);
    if (now === 0) break;
    const best = bestMove(cs, counts, movable, ctx, now);
    if (!best) {
      noRoom = [...movable.values()].some((l) => l.length > 0);
      break;
    }
    const { pod, from, room, requests, after } = best;
    after.forEach((m, i) => {
      counts[i] = m;
    });
    take(room, requests);
    const src = rooms.get(pod.spec?.nodeName ?? '');
    if (src) take(src, { milliCpu: -requests.milliCpu, memory: -requests.memory, pods: -1 });
    ctx.anti.arrivals.push({ pod, node: room.name, zone: room.zone });
    movable.set(
      from,
      movable.get(from)!.filter((p) => p !== pod),
    );
    moves.push({
      namespace: w.namespace,
      name: pod.metadata?.name ?? '',
      uid: pod.metadata?.uid ?? '',
      node: pod.spec?.nodeName ?? '',
      fromZone: from,
      toZone: room.zone,
      toNode: room.name,
      gracePeriodSeconds: pod.spec?.terminationGracePeriodSeconds ?? 30,
    });
  }
  const blocked: string[] = [];
  if (excess(cs, counts) > 0) {
    for (const [why, n] of stays) blocked.push(`${n} pod(s) never moved: ${why}`);
    if (moves.length >= cap)
      blocked.push(
        cap === config.maxEvictionsPerWorkload
          ? `per-workload limit of ${cap} evictions reached`
          : 'per-run eviction limit reached',
      );
    else if (noRoom) blocked.push('no Ready schedulable node in an under-full zone fits the remaining pods');
    else if (stays.size === 0)
      blocked.push('no single eviction lowers the skew (the scheduler would put the pod back)');
  }
  return result(moves, blocked);
}
