// The AZ rebalancer's vocabulary: what it reads (Observed), how it is tuned (RebalancerConfig),
// the steps its planner emits and what a run reports. The planner (planner.ts) is pure.
import type { V1Node, V1Pod, V1PodDisruptionBudget } from '@kubernetes/client-node';
import type { Plan, StepBase } from '../plans/steps.ts';

export const ZONE_KEY = 'topology.kubernetes.io/zone';
/** Pods annotated with this set to "false" are never moved by the rebalancer. */
export const ANNOTATION_REBALANCE = 'spotguard.io/rebalance';

export interface Observed {
  nodes: V1Node[];
  pods: V1Pod[];
  pdbs: V1PodDisruptionBudget[];
  /** "namespace/claim" → the zone its bound PV is pinned to (node affinity on a zone key). */
  zonalClaims: Map<string, string>;
  /** ReplicaSet "namespace/name" → its controller ("Deployment/web"); pods group by that. */
  replicaSetOwners: Map<string, string>;
  /** Workload key → when the rebalancer last evicted from it (cooldown remembered in the cluster). */
  lastMoved: Record<string, string>;
  /** Nodes whose spotguard drain Lease is live: no run while a drain is in progress. */
  drainsInProgress: string[];
  now: Date;
}

export interface RebalancerConfig {
  /** maxSkew for workloads without a zone spread constraint; null = leave them alone. */
  defaultMaxSkew: number | null;
  /** Evictions per workload per run (N) and per run overall (M). */
  maxEvictionsPerWorkload: number;
  maxEvictionsPerRun: number;
  /** A workload moved less than this ago is not moved again (no ping-pong between runs). */
  cooldownMs: number;
  /** Balance ScheduleAnyway constraints too (the descheduler only does DoNotSchedule by default). */
  includeScheduleAnyway: boolean;
  /** Move pods with emptyDir volumes (their data is lost). */
  allowLocalStorage: boolean;
  /** Only these namespaces (empty = all). */
  namespaces: string[];
}

export const defaultRebalancerConfig: RebalancerConfig = {
  defaultMaxSkew: null,
  maxEvictionsPerWorkload: 10,
  maxEvictionsPerRun: 50,
  cooldownMs: 15 * 60_000,
  includeScheduleAnyway: true,
  allowLocalStorage: false,
  namespaces: [],
};

/** One evicted pod: where it is and the zone (and a node there) the planner expects it to land in. */
export interface PlannedMove {
  namespace: string;
  name: string;
  uid: string;
  node: string;
  fromZone: string;
  toZone: string;
  toNode: string;
  gracePeriodSeconds: number;
}

export interface ConstraintSummary {
  /** e.g. "zone maxSkew 1 (DoNotSchedule) app=web" */
  label: string;
  maxSkew: number;
  before: Record<string, number>;
  planned: Record<string, number>;
  /** Skew left after the planned moves; > maxSkew means the planner could not fix it. */
  plannedSkew: number;
}

export interface WorkloadPlan {
  /** "namespace/Kind/name" */
  workload: string;
  constraints: ConstraintSummary[];
  moves: PlannedMove[];
  /** Why pods that would have helped are not moved (one line per reason, with a count). */
  blocked: string[];
  /** Max zone skew now (over the workload's own pods per zone when it has no constraint). */
  skewBefore: number;
  /** PDB names covering the workload's pods (for the runner's waves). */
  budgets: string[];
}

export interface RebalanceStep extends StepBase {
  kind: 'rebalance-workload';
  workload: WorkloadPlan;
}

export interface RememberStep extends StepBase {
  kind: 'remember-moves';
  workloads: string[];
}

export type RebalancerStep = RebalanceStep | RememberStep;

export interface RebalancePlan extends Plan<RebalancerStep> {
  /** Every workload considered, moved or not (for the report and the skew metric). */
  workloads: WorkloadPlan[];
}

/** What a workload's runner did. */
export interface WorkloadOutcome {
  workload: string;
  evicted: PlannedMove[];
  /** "ns/pod: PDB web refused (needs 2 healthy, has 2)" — each once, never retried this run. */
  blocked: string[];
  /** Zones the replacements landed in (one per evicted pod that was replaced in time). */
  landed: string[];
  after: Record<string, number>;
}
