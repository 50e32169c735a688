// One domain event → the action for its kind. Everything here sees only domain types.

import { onAlarm } from '../alarms/index.ts';
import type { DomainEvent } from '../events/types.ts';
import { metricNames } from '../observability.ts';
import { onManual } from '../plans/manual.ts';
import { onScheduledChange, onSpotInterruption, onStateChange } from './interruption.ts';
import { onLifecycleLaunch, onLifecycleTerminate } from './lifecycle.ts';
import { onRebalanceRecommendation } from './rebalance.ts';
import { type ActionDeps, type HandleReport, report } from './types.ts';

export async function handleEvent(event: DomainEvent, d: ActionDeps): Promise<HandleReport> {
  switch (event.kind) {
    case 'spot-interruption':
      return onSpotInterruption(event, d);
    case 'rebalance-recommendation':
      return onRebalanceRecommendation(event, d);
    case 'lifecycle-terminate':
      return onLifecycleTerminate(event, d);
    case 'lifecycle-launch':
      return onLifecycleLaunch(event, d);
    case 'state-change':
      return onStateChange(event, d);
    case 'scheduled-change':
      return onScheduledChange(event, d);
    case 'manual':
      return onManual(event, d);
    case 'alarm':
      return onAlarm(event, d);
    case 'asg-activity':
      // AZ rebalancing is not part of this release: recorded, not acted on.
      d.metrics.addMetric(metricNames.eventsIgnored, 'Count', 1);
      return report(
        { kind: event.kind, dedupKey: event.dedupKey },
        'ignored',
        `${event.kind}: no action configured for this kind yet`,
      );
    case 'ignored':
      d.metrics.addMetric(metricNames.eventsIgnored, 'Count', 1);
      return report({ kind: event.kind, dedupKey: event.dedupKey }, 'ignored', event.reason);
  }
}
