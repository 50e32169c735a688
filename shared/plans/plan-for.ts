// Event kind → its planner. Pure: `planFor(event, observed, config)` is what --dry-run prints.
import type { DomainEvent } from '../events/types.ts';
import type { Observed } from '../observe.ts';
import type { NodePlan, PlanConfig } from './common.ts';
import { planScheduledChange, planStateChange } from './instance-state.ts';
import { planLifecycleLaunch, planLifecycleTerminate } from './lifecycle.ts';
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
