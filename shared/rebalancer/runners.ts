// The rebalancer's I/O: evict a workload's planned pods through the eviction API in waves the
// PDBs allow, wait for the replacements and see where they landed, and remember the moves.
import type { V1Pod } from '@kubernetes/client-node';
import type { KubeClients } from '../k8s/client.ts';
import { classifyEvictionError, evictionVersion, evictPod } from '../k8s/eviction.ts';
import { listPdbs } from '../k8s/pdb.ts';
import type { ExecContext, RunnerMap } from '../plans/execute.ts';
import { zoneOf } from './fit.ts';
import { writeState } from './state.ts';
import type { RebalancerStep, WorkloadOutcome, WorkloadPlan } from './types.ts';
import { isPlaced, workloadKeyOf } from './workloads.ts';

export interface RunnerDeps {
  k8s: KubeClients;
  namespace: string;
  replicaSetOwners: Map<string, string>;
  cooldownMs: number;
  /** How long to wait for one wave's replacements to be Ready. */
  waitMs: number;
  pollMs?: number;
  onEvent?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isReadyPod = (p: V1Pod) =>
  (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

async function workloadPods(deps: RunnerDeps, w: WorkloadPlan): Promise<V1Pod[]> {
  const ns = w.workload.split('/')[0]!;
  const pods = (await deps.k8s.core.listNamespacedPod({ namespace: ns })).items;
  return pods.filter((p) => isPlaced(p) && workloadKeyOf(p, deps.replicaSetOwners) === w.workload);
}

async function zonesOfNodes(deps: RunnerDeps): Promise<Map<string, string>> {
  const nodes = (await deps.k8s.core.listNode({})).items;
  return new Map(nodes.map((n) => [n.metadata?.name ?? '', zoneOf(n) ?? '?']));
}

/** Disruptions the workload's budgets allow right now (Infinity without a budget). */
async function allowedNow(deps: RunnerDeps, w: WorkloadPlan): Promise<{ allowed: number; budget?: string }> {
  if (w.budgets.length === 0) return { allowed: Number.POSITIVE_INFINITY };
  const ns = w.workload.split('/')[0]!;
  const { pdbs } = await listPdbs(deps.k8s, await evictionVersion(deps.k8s));
  let out: { allowed: number; budget?: string } = { allowed: Number.POSITIVE_INFINITY };
  for (const b of pdbs) {
    if (b.metadata?.namespace !== ns || !w.budgets.includes(b.metadata?.name ?? '')) continue;
    const n = b.status?.disruptionsAllowed ?? 0;
    if (n < out.allowed) out = { allowed: n, budget: b.metadata?.name ?? '' };
  }
  return out;
}

/** Waits until `gone` have left and the workload again has `want` Ready pods; the new pods' uids. */
async function waitForReplacements(
  deps: RunnerDeps,
  w: WorkloadPlan,
  known: Set<string>,
  want: number,
  until: number,
) {
  for (;;) {
    const pods = await workloadPods(deps, w);
    const ready = pods.filter(isReadyPod);
    const fresh = pods.filter((p) => !known.has(p.metadata?.uid ?? ''));
    if (ready.length >= want && fresh.every(isReadyPod)) return { pods, fresh, complete: true };
    if (Date.now() >= until) return { pods, fresh, complete: false };
    await sleep(deps.pollMs ?? 500);
  }
}

export async function rebalanceWorkload(deps: RunnerDeps, w: WorkloadPlan): Promise<WorkloadOutcome> {
  const version = await evictionVersion(deps.k8s);
  const before = await workloadPods(deps, w);
  const want = before.filter(isReadyPod).length;
  const known = new Set(before.map((p) => p.metadata?.uid ?? ''));
  const remaining = [...w.moves];
  const out: WorkloadOutcome = { workload: w.workload, evicted: [], blocked: [], landed: [], after: {} };
  let stopped = false;
  while (remaining.length > 0 && !stopped) {
    const { allowed, budget } = await allowedNow(deps, w);
    if (allowed <= 0) {
      out.blocked.push(
        `PodDisruptionBudget ${budget} allows no disruption: ${remaining.length} move(s) not made`,
      );
      break;
    }
    const wave = remaining.splice(0, Math.min(allowed, remaining.length));
    for (const move of wave) {
      try {
        await evictPod(deps.k8s, { ...move }, version);
        out.evicted.push(move);
        deps.onEvent?.(
          `evicted ${move.namespace}/${move.name} from ${move.node} (${move.fromZone} → ${move.toZone})`,
        );
      } catch (err) {
        const failure = classifyEvictionError(err);
        if (failure.kind === 'gone') continue;
        // reported once, never retried this run: the next run (after the cooldown) looks again
        out.blocked.push(
          `${move.namespace}/${move.name}: ${failure.kind === 'budget' ? `refused by PodDisruptionBudget ${failure.budget ?? ''}`.trim() : failure.message}`,
        );
        stopped = true;
        break;
      }
    }
    const waited = await waitForReplacements(deps, w, known, want, Date.now() + deps.waitMs);
    for (const p of waited.fresh) known.add(p.metadata?.uid ?? '');
    if (!waited.complete) {
      out.blocked.push(`replacements not Ready within ${Math.round(deps.waitMs / 1000)} s: stopped`);
      stopped = true;
    }
  }
  const zones = await zonesOfNodes(deps);
  const now = await workloadPods(deps, w);
  const originals = new Set(before.map((p) => p.metadata?.uid ?? ''));
  out.landed = now
    .filter((p) => !originals.has(p.metadata?.uid ?? ''))
    .map((p) => zones.get(p.spec?.nodeName ?? '') ?? 'pending');
  for (const p of now) {
    const z = zones.get(p.spec?.nodeName ?? '') ?? '?';
    out.after[z] = (out.after[z] ?? 0) + 1;
  }
  return out;
}

export function rebalancerRunners(deps: RunnerDeps): RunnerMap<RebalancerStep, ExecContext> {
  return {
    'rebalance-workload': async (step) => {
      const outcome = await rebalanceWorkload(deps, step.workload);
      const made = outcome.evicted.length;
      const detail = `${made}/${step.workload.moves.length} evicted, landed in ${outcome.landed.join(',') || '-'}${outcome.blocked.length ? `; ${outcome.blocked.join('; ')}` : ''}`;
      return { status: made > 0 ? 'done' : 'skipped', detail, data: outcome };
    },
    'remember-moves': async (step, ctx, done) => {
      const moved = step.workloads.filter(
        (w) => (done.get(`rebalance:${w}`)?.data as WorkloadOutcome | undefined)?.evicted.length,
      );
      const at = ctx.now();
      await writeState(deps.k8s, deps.namespace, {
        moved,
        at,
        forgetBefore: new Date(at.getTime() - deps.cooldownMs),
      });
      return { status: 'done', detail: `cooldown started for ${moved.length} workload(s)` };
    },
  };
}
