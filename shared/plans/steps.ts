// The plan/step vocabulary every action shares. A planner is a pure function
// `plan(event, observed, config) → Plan` that decides; the executor (execute.ts) is the one place
// that acts, step by step. Each feature declares its own step union (a discriminated union on
// `kind` extending StepBase) and a runner per kind; the executor is generic over that union, so
// features add steps without editing a central list.

export interface StepBase {
  /** The runner this step is given to (e.g. 'cordon', 'drain', 'complete-hook'). */
  kind: string;
  /** Unique within its plan; other steps name it in `after` / `requires`. */
  id: string;
  /** Why the planner chose this step: printed by --dry-run and kept in the report. */
  why: string;
  /** Ordering only: start once these steps have ended, whatever their outcome. */
  after?: readonly string[];
  /** Start only if these steps are 'done'; otherwise this step is 'cancelled'. */
  requires?: readonly string[];
  /**
   * What undoes this step (e.g. desired+1 → desired−1). The executor runs it when the plan ends,
   * on every exit path, if this step was 'done' — unless a later step marks it kept.
   */
  undo?: StepBase;
}

/** A planner's answer: the steps in dependency order, or none with the reason. */
export interface Plan<S extends StepBase = StepBase> {
  /** What the plan is about, e.g. 'node/ip-10-0-1-5.ec2.internal' or 'cluster'. */
  target: string;
  /** The event kind (or trigger) that produced it. */
  trigger: string;
  steps: S[];
  /** Set when steps is empty: why nothing is to be done (reported, never an error). */
  nothingBecause?: string;
  /** The moment the work must be finished by, when there is one (ISO 8601). */
  deadline?: string;
}

export type StepStatus = 'planned' | 'done' | 'skipped' | 'failed' | 'cancelled';

/** What a runner says it did. */
export interface StepOutcome {
  status: Extract<StepStatus, 'done' | 'skipped' | 'failed'>;
  /** One line for people, e.g. "cordoned and tainted spotguard.io/spot-interruption". */
  detail: string;
  /** Structured result (e.g. the DrainReport) for the report and for later steps. */
  data?: unknown;
  /** Step ids whose undo must not run after all (e.g. the drained instance was terminated). */
  keep?: string[];
}

export interface StepRecord {
  id: string;
  kind: string;
  why: string;
  status: StepStatus;
  detail: string;
  data?: unknown;
  startedAt?: string;
  endedAt?: string;
}

export interface PlanReport {
  target: string;
  trigger: string;
  dryRun: boolean;
  nothingBecause?: string;
  steps: StepRecord[];
  /** Undo steps run at the end, in reverse order of the steps they undo. */
  undone: StepRecord[];
  /** No step failed or was cancelled. */
  ok: boolean;
}
