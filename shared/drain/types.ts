// Public types of the drain engine. The functions live beside this file (index.ts re-exports all):
// drainNode (executor.ts), cordonNode / uncordonNode (cordon.ts), planDrain (planner.ts),
// nodeDrainStatus (status.ts).
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { V1Node } from '@kubernetes/client-node';

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

export interface DrainOptions {
  /** e.g. 'spot-interruption' → taint key spotguard.io/spot-interruption */
  reason: string;
  /** When the instance is gone. undefined = manual/lifecycle drain: pods' own grace + timeoutMs. */
  deadline?: Date;
  /** Used when there is no deadline (default 10 min). */
  timeoutMs?: number;
  /** Terminations must finish this long before the deadline (default 10 s). */
  safetyMarginMs?: number;
  /** Overrides every pod's terminationGracePeriodSeconds (like kubectl --grace-period). */
  gracePeriodSeconds?: number;
  /** Evict unmanaged bare pods (kubectl --force). */
  force?: boolean;
  /** Evict pods with emptyDir volumes (default true). */
  deleteEmptyDirData?: boolean;
  /** 'evict' (default) goes through the eviction API and PDBs; 'delete' bypasses them. */
  evictionMode?: 'evict' | 'delete';
  taintEffect?: TaintEffect;
  /** Adds node.kubernetes.io/exclude-from-external-load-balancers to the node. */
  excludeFromLoadBalancers?: boolean;
  /** Max eviction requests in flight (default 32). */
  concurrency?: number;
  /** Per-pod Kubernetes Events: 'problems' (default: EvictionBlocked/EvictionFailed) or 'all'. */
  podEvents?: 'all' | 'problems';
  /** Identity for the per-node Lease (e.g. the Lambda request id). */
  holder: string;
  /** Namespace of the per-node Leases (config SPOTGUARD_NAMESPACE; default 'spotguard'). */
  namespace?: string;
  /** stop/hibernate: the node comes back, so a later uncordon undoes our cordon. */
  comingBack?: boolean;
  /** The node as just read by the caller: saves the cordon's GET (see CordonOptions.knownNode). */
  knownNode?: V1Node;
  dryRun?: boolean;
  /** Wait until stateful pods' VolumeAttachments are gone (default true). */
  waitForVolumeDetach?: boolean;
  /** Stop waiting (e.g. Lambda about to time out) and report what is left. */
  signal?: AbortSignal;
  onProgress?: (p: DrainProgress) => void;
  /** Load-balancer draining (shared/traffic/session.ts): started beside the cordon, awaited per pod. */
  evictionGate?: EvictionGate;
  logger?: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
  metrics?: Pick<Metrics, 'addMetric'>;
}

// ---- traffic-aware drains (issue 14): an optional hook, self-contained ----
/** Holds each pod's eviction until something outside the drain engine lets it go. */
export interface EvictionGate {
  /** Called once when the drain starts, before the cordon is awaited (not awaited itself). */
  start(node: string): void;
  /** Awaited before the pod's first eviction request; resolves (never rejects) when it may go. */
  beforeEviction(pod: PlannedEviction, stop: AbortSignal): Promise<void>;
  /** The eviction (or delete) was accepted. */
  evicted(pod: PlannedEviction, at: Date): void;
  report(): Promise<LoadBalancerDrainReport>;
}

export interface PodTargetsReport {
  pod: string;
  /** how many load-balancer targets the pod had */
  targets: number;
  deregisteredAt?: string;
  /** every target left `draining` */
  drainedAt?: string;
  evictedAt?: string;
  /** evicted while still draining, because the deadline left no more time */
  cutShortByDeadline: boolean;
}

export interface LoadBalancerDrainReport {
  /** where the target groups came from: TargetGroupBindings, tags, or nothing found */
  source: 'bindings' | 'tags' | 'none';
  /** ELBv2 throttled or unreachable: the drain went on without load-balancer draining */
  unavailable: boolean;
  notes: string[];
  pods: PodTargetsReport[];
}

export interface DrainProgress {
  phase: 'cordoned' | 'planned' | 'evicting' | 'waiting' | 'done';
  /** Pods planned for eviction that are not gone yet. */
  podsLeft: number;
  podsTotal: number;
  /** Budgets currently refusing an eviction, with how many pods wait on each. */
  blockers: { budget: string; waiting: number }[];
  elapsedMs: number;
}

export type SkipReason =
  | 'mirror-pod'
  | 'daemonset'
  | 'finished'
  | 'terminating'
  | 'unmanaged'
  | 'local-storage'
  | 'spotguard';

export interface SkippedPod {
  namespace: string;
  name: string;
  uid?: string;
  reason: SkipReason;
  detail: string;
}

export interface PlannedEviction {
  namespace: string;
  name: string;
  uid: string;
  /** Grace period to send, already capped by the deadline. 0 = immediate. */
  gracePeriodSeconds: number;
  priority: number;
  /** Uses a PVC bound to a zonal PV (EBS): evicted first, volume detach awaited. */
  stateful: boolean;
  /** Names of the zonal PVs the pod uses. */
  persistentVolumes: string[];
  /** "namespace/name" of the PodDisruptionBudget covering the pod (first one when several). */
  budget?: string;
  /** More than one PDB selects the pod: the eviction API refuses such pods. */
  multipleBudgets?: boolean;
  /** From current PDB status: this pod's eviction is expected to wait for the budget. */
  expectedBlocked: boolean;
}

export interface BudgetGroup {
  budget: string;
  disruptionsAllowed: number;
  /** Pods of this drain under the budget, in eviction order ("namespace/name"). */
  pods: string[];
  expectedBlocked: number;
}

export interface DrainPlan {
  node: string;
  createdAt: string;
  deadline?: string;
  /** Terminations must be done by this time (deadline − margin, or now + timeout). */
  waitUntil: string;
  evictions: PlannedEviction[];
  skipped: SkippedPod[];
  budgets: BudgetGroup[];
}

export type PodOutcome =
  | {
      namespace: string;
      name: string;
      outcome: 'evicted';
      goneAfterMs: number;
      volumesReleasedAfterMs?: number;
    }
  | { namespace: string; name: string; outcome: 'blocked-by-pdb'; pdb: string }
  | { namespace: string; name: string; outcome: 'skipped'; reason: string }
  | { namespace: string; name: string; outcome: 'failed'; error: string }
  | { namespace: string; name: string; outcome: 'still-terminating' };

export interface CordonResult {
  node: string;
  /** When the API server accepted the cordon (or when we saw it was already ours). */
  acknowledgedAt: string;
  /** API requests made to cordon (GET + PATCH, plus retries on conflict). */
  requests: number;
  /** Set when someone else had already cordoned the node; their cordon is kept. */
  alreadyCordonedBy?: string;
  /** false when the node already carried spotguard's cordon and taint (no PATCH sent). */
  changed: boolean;
}

export interface UncordonResult {
  node: string;
  changed: boolean;
  /** unschedulable stays true when the node was cordoned before spotguard came. */
  leftCordoned: boolean;
  detail: string;
}

export interface DrainReport {
  node: string;
  reason: string;
  dryRun: boolean;
  cordon?: CordonResult;
  plan: DrainPlan;
  pods: PodOutcome[];
  /** PV names whose VolumeAttachment to this node was seen removed. */
  volumesReleased: string[];
  complete: boolean;
  deadlineMissed: boolean;
  joinedExistingDrain: boolean;
  durationMs: number;
  /** Requests spotguard itself sent to the API server for this drain (watches count once). */
  apiRequests: number;
  /** Set when DrainOptions.evictionGate was given (traffic-aware drain). */
  loadBalancers?: LoadBalancerDrainReport;
}

export interface DrainStatus {
  node: string;
  exists: boolean;
  unschedulable: boolean;
  cordonedBy?: string;
  cordonReason?: string;
  cordonedAt?: string;
  preCordoned: boolean;
  comingBack: boolean;
  spotguardTaints: string[];
  lease?: { holder?: string; renewTime?: string; expired: boolean; outcome?: string };
  /** Pods a drain would still evict now. */
  podsToEvict: number;
  podsSkipped: number;
}
