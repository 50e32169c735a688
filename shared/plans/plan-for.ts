// Event kind → its planner. Pure: `planFor(event, observed, config)` is what --dry-run prints.
import type { DomainEvent } from '../events/types.ts';
import type { Observed } from '../observe.ts';
import type { NodePlan, PlanConfig } from './common.ts';
import { planScheduledChange, planStateChange } from './instance-state.ts';
import { planLifecycleLaunch, planLifecycleTerminate } from './lifecycle.ts';
import type { NodeStep } from './node-steps.ts';
import { planRebalance } from './rebalance-recommendation.ts';
import { planSpotInterruption } from './spot-interruption.ts';

export type NodeEvent = Extract<
  DomainEvent,
  {
    kind:
      | 'spot-interruption'
      | 'rebalance-recommendation'
      | 'lifecycle-terminate'
      | 'lifecycle-launch'
      | 'state-change'
      | 'scheduled-change';
  }
>;

/**
 * The step kinds (undos included) each planner can emit: what the function of its route may run,
 * so what its IAM role grants (infra/iam/derive.cjs keeps only these runners).
 * test/plans/planners.test.ts fails when a planner emits a kind not declared here, or never
 * emits one that is.
 */
export const stepKindsOf: Record<NodeEvent['kind'], readonly NodeStep['kind'][]> = {
  'spot-interruption': ['cordon', 'drain', 'detach', 'increment', 'give-back', 'scale-out'],
  'rebalance-recommendation': ['cordon', 'annotate', 'increment', 'give-back', 'await-replacement', 'drain'],
  'lifecycle-terminate': ['cordon', 'drain', 'heartbeat', 'requeue', 'complete-hook'],
  'lifecycle-launch': ['await-node-ready', 'requeue', 'complete-hook'],
  'state-change': ['cordon', 'drain', 'uncordon'],
  'scheduled-change': ['cordon', 'drain', 'uncordon'],
};

export function planFor(ev: NodeEvent, o: Observed, c: PlanConfig): NodePlan {
  switch (ev.kind) {
    case 'spot-interruption':
      return planSpotInterruption(ev, o, c);
    case 'rebalance-recommendation':
      return planRebalance(ev, o, c);
    case 'lifecycle-terminate':
      return planLifecycleTerminate(ev, o, c);
    case 'lifecycle-launch':
      return planLifecycleLaunch(ev, o, c);
    case 'state-change':
      return planStateChange(ev, o, c);
    case 'scheduled-change':
      return planScheduledChange(ev, o, c);
  }
}
