// The one executor: runs a plan's steps (independent steps side by side, `after`/`requires` in
// order), reports each, runs undos on every exit path, and in a dry run runs nothing at all.
import type { Plan, PlanReport, StepBase, StepOutcome, StepRecord } from './steps.ts';

export interface ExecContext {
  dryRun: boolean;
  now: () => Date;
  /** Told about every step as it starts and ends: progress views, and recording progress on the node. */
  onStep?: (record: StepRecord) => void | Promise<void>;
}

export type StepRunner<S extends StepBase, C extends ExecContext = ExecContext> = (
  step: S,
  ctx: C,
  done: ReadonlyMap<string, StepRecord>,
  /** Resolves when the named step of the same plan has ended (e.g. heartbeats while a drain runs). */
  until: (id: string) => Promise<StepRecord | undefined>,
) => Promise<StepOutcome>;

/** One runner per step kind of the union S. */
export type RunnerMap<S extends StepBase, C extends ExecContext = ExecContext> = {
  [K in S['kind']]: StepRunner<Extract<S, { kind: K }>, C>;
};

function record(step: StepBase, patch: Partial<StepRecord>): StepRecord {
  return { id: step.id, kind: step.kind, why: step.why, status: 'planned', detail: step.why, ...patch };
}

const noWait = async () => undefined;

async function runOne<S extends StepBase, C extends ExecContext>(
  step: S,
  runners: RunnerMap<S, C>,
  ctx: C,
  done: ReadonlyMap<string, StepRecord>,
  until: (id: string) => Promise<StepRecord | undefined> = noWait,
): Promise<StepRecord & { keep?: string[] }> {
  const startedAt = ctx.now().toISOString();
  await ctx.onStep?.(record(step, { status: 'planned', startedAt }));
  const runner = (runners as unknown as Record<string, StepRunner<StepBase, C>>)[step.kind];
  let outcome: StepOutcome;
  try {
    if (!runner) throw new Error(`no runner for step kind '${step.kind}'`);
    outcome = await runner(step, ctx, done, until);
  } catch (err) {
    outcome = {
      status: 'failed',
      detail: `${step.kind} failed: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  const rec = record(step, { ...outcome, startedAt, endedAt: ctx.now().toISOString() });
  await ctx.onStep?.(rec);
  return { ...rec, ...(outcome.keep ? { keep: outcome.keep } : {}) };
}

export async function executePlan<S extends StepBase, C extends ExecContext>(
  plan: Plan<S>,
  runners: RunnerMap<S, C>,
  ctx: C,
): Promise<PlanReport> {
  const base = { target: plan.target, trigger: plan.trigger, dryRun: ctx.dryRun };
  const nothing = plan.nothingBecause ? { nothingBecause: plan.nothingBecause } : {};
  if (ctx.dryRun) {
    return { ...base, ...nothing, steps: plan.steps.map((s) => record(s, {})), undone: [], ok: true };
  }
  const ids = new Set(plan.steps.map((s) => s.id));
  for (const s of plan.steps) {
    for (const dep of [...(s.after ?? []), ...(s.requires ?? [])]) {
      if (!ids.has(dep))
        throw new Error(`plan for ${plan.target}: step ${s.id} waits for unknown step ${dep}`);
    }
  }
  const ended = new Map<string, StepRecord>();
  const running = new Map<string, Promise<void>>();
  const kept = new Set<string>();
  const start = (s: S): Promise<void> => {
    const existing = running.get(s.id);
    if (existing) return existing;
    const deps = [...(s.after ?? []), ...(s.requires ?? [])].map(
      (id) => plan.steps.find((x) => x.id === id)!,
    );
    const p = Promise.all(deps.map(start)).then(async () => {
      const unmet = (s.requires ?? []).filter((id) => ended.get(id)?.status !== 'done');
      if (unmet.length > 0) {
        const rec = record(s, {
          status: 'cancelled',
          detail: `not run: ${unmet.join(', ')} did not succeed`,
        });
        ended.set(s.id, rec);
        await ctx.onStep?.(rec);
        return;
      }
      const rec = await runOne(s, runners, ctx, ended, until);
      for (const k of rec.keep ?? []) kept.add(k);
      const { keep: _k, ...clean } = rec;
      ended.set(s.id, clean);
    });
    running.set(s.id, p);
    return p;
  };
  const until = async (id: string) => {
    const step = plan.steps.find((x) => x.id === id);
    if (step) await start(step);
    return ended.get(id);
  };
  const undone: StepRecord[] = [];
  try {
    await Promise.all(plan.steps.map(start));
  } finally {
    // Undo whatever ran and was not kept, last first: capacity added for a drain is given back.
    for (const s of [...plan.steps].reverse()) {
      if (!s.undo || kept.has(s.id) || ended.get(s.id)?.status !== 'done') continue;
      undone.push(await runOne(s.undo as S, runners, ctx, ended));
    }
  }
  const steps = plan.steps.map((s) => ended.get(s.id) ?? record(s, { status: 'cancelled' }));
  const ok = steps.every((r) => r.status === 'done' || r.status === 'skipped');
  return { ...base, ...nothing, steps, undone, ok };
}

/** The plan as lines for people (--dry-run and logs). */
export function formatPlan(plan: Plan): string {
  if (plan.steps.length === 0) return `${plan.target}: nothing to do (${plan.nothingBecause ?? 'no steps'})`;
  const lines = [`${plan.target} (${plan.trigger}${plan.deadline ? `, deadline ${plan.deadline}` : ''}):`];
  for (const s of plan.steps) {
    const deps = [
      ...(s.requires ?? []).map((d) => `needs ${d}`),
      ...(s.after ?? []).map((d) => `after ${d}`),
    ];
    lines.push(`  ${s.id}: ${s.kind} — ${s.why}${deps.length ? ` [${deps.join(', ')}]` : ''}`);
    if (s.undo) lines.push(`    undo on exit: ${s.undo.kind} — ${s.undo.why}`);
  }
  return lines.join('\n');
}
