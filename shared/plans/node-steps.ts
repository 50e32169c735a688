// The steps of the node-safety plans (spot interruption, rebalance, lifecycle hooks, state changes,
// AWS Health). Each is data: what to do and why; shared/plans/runners/ carries them out. To add a
// step (e.g. traffic deregistration before evictions): add its interface to NodeStep, a runner to
// nodeRunners, and have the planners emit it with the drain step `after` it.
import type { LifecycleActionRef } from '../aws/autoscaling.ts';
import type { DomainEvent } from '../events/types.ts';
import type { StepBase } from './steps.ts';

export interface CordonStep extends StepBase {
  kind: 'cordon';
  node: string;
  reason: string;
  comingBack: boolean;
}

export interface DrainStep extends StepBase {
  kind: 'drain';
  node: string;
  reason: string;
  /** When the instance is gone (ISO 8601); pods' grace is capped to deadline − margin. */
  deadline?: string;
  comingBack: boolean;
  mode: 'evict' | 'delete';
}

/**
 * The replacement asked for by detaching the instance (desired unchanged: the group launches one
 * now). Its own kind, apart from increment: a function whose planners never detach is not granted
 * DetachInstances (IAM follows the step kinds, infra/iam/derive.cjs).
 */
export interface DetachStep extends StepBase {
  kind: 'detach';
  group: string;
  instanceId: string;
  node: string;
}

/** The replacement asked for by desired+1 (recorded on the node; a give-back undoes it). */
export interface IncrementStep extends StepBase {
  kind: 'increment';
  group: string;
  instanceId: string;
  node: string;
  /** The desired capacity to set. */
  newDesired: number;
}

/** Gives back one unit of desired capacity: the undo of every desired+1. */
export interface GiveBackStep extends StepBase {
  kind: 'give-back';
  group: string;
  /** The instance the capacity was added for: terminated with decrement when still in the group. */
  instanceId?: string;
  /** Terminate the old instance only when this step (a drain) completed; otherwise lower desired. */
  terminateIfDrained?: string;
  node?: string;
}

export interface ScaleOutStep extends StepBase {
  kind: 'scale-out';
  group: string;
  zone: string;
  newDesired: number;
  node: string;
}

/** Make-before-break: raise desired by one and wait for a new Ready node of the group. */
export interface AwaitReplacementStep extends StepBase {
  kind: 'await-replacement';
  group: string;
  node: string;
  /** The group's instances before the replacement was asked for. */
  known: string[];
}

export interface CompleteHookStep extends StepBase {
  kind: 'complete-hook';
  ref: LifecycleActionRef;
  /** Fixed result, or decided from the outcome of the named await-node-ready step. */
  result: 'CONTINUE' | 'ABANDON' | { fromReady: string };
  /** Skipped when this requeue step re-queued the work (the next invocation completes the hook). */
  unlessRequeued?: string;
}

/** Keeps a hook alive while the step it names runs (every half heartbeat timeout). */
export interface HeartbeatStep extends StepBase {
  kind: 'heartbeat';
  ref: LifecycleActionRef;
  whileRunning: string;
}

/** Re-queues the event when the named step did not finish in this invocation. */
export interface RequeueStep extends StepBase {
  kind: 'requeue';
  event: DomainEvent;
  ifUnfinished: string;
  delaySeconds: number;
  /** Work started at (ISO 8601): after drainTimeout the work is not re-queued again. */
  startedAt: string;
  /** The hook to heartbeat once more when re-queued. */
  ref?: LifecycleActionRef;
}

export interface AwaitNodeReadyStep extends StepBase {
  kind: 'await-node-ready';
  instanceId: string;
  /** Give up at this time (ISO 8601): a few seconds before the hook's own timeout. */
  until: string;
}

export interface UncordonStep extends StepBase {
  kind: 'uncordon';
  node: string;
  /** Only spotguard's cordon is undone; with `reason`, only a cordon for that reason. */
  reason?: string;
}

export interface AnnotateStep extends StepBase {
  kind: 'annotate';
  node: string;
  annotations: Record<string, string | null>;
}

export type NodeStep =
  | CordonStep
  | DrainStep
  | DetachStep
  | IncrementStep
  | GiveBackStep
  | ScaleOutStep
  | AwaitReplacementStep
  | CompleteHookStep
  | HeartbeatStep
  | RequeueStep
  | AwaitNodeReadyStep
  | UncordonStep
  | AnnotateStep;
