// EC2 state changes and AWS Health scheduled changes: the instance stops, terminates or goes into
// maintenance outside the spot path (console, API, AWS). Close the node and move its pods; undo
// spotguard's cordon when the instance is back (running again, or the Health event is closed).
import { ANNOTATION_COMING_BACK } from '../drain/options.ts';
import type { ScheduledChangeEvent, StateChangeEvent } from '../events/types.ts';
import type { Observed } from '../observe.ts';
import {
  annotationsOf,
  cordonStep,
  drainStep,
  gate,
  type NodePlan,
  nothing,
  ourCordon,
  type PlanConfig,
} from './common.ts';

export function planStateChange(ev: StateChangeEvent, o: Observed, c: PlanConfig): NodePlan {
  const trigger = 'state-change';
  const target = o.nodeName ? `node/${o.nodeName}` : `instance/${ev.instanceId}`;
  if (ev.state === 'pending' || ev.state === 'stopped')
    return nothing(target, trigger, 'ignored', `state ${ev.state}: nothing to do`);
  const stop = gate(o, trigger, { needNode: true, mutatesAws: false });
  if (stop?.outcome === 'not-found') {
    // An instance runs before its node joins and terminates after its node is gone.
    return nothing(
      target,
      trigger,
      'ignored',
      `state ${ev.state}: ${ev.instanceId} has no node (not joined yet, or gone)`,
    );
  }
  if (stop) return stop;
  const node = o.nodeName!;
  if (ev.state === 'running') {
    const cordon = ourCordon(o);
    if (!cordon || annotationsOf(o)[ANNOTATION_COMING_BACK] !== 'true') {
      return nothing(
        target,
        trigger,
        'ignored',
        `${node} is running; it was not cordoned by spotguard for a stop`,
      );
    }
    // Events arrive out of order: a `running` from before the cordon is not the instance coming back.
    if (cordon.at && Date.parse(ev.time) < Date.parse(cordon.at)) {
      return nothing(
        target,
        trigger,
        'ignored',
        `stale running event (${ev.time}) from before spotguard's cordon (${cordon.at}): cordon kept`,
      );
    }
    return {
      target,
      trigger,
      steps: [
        { kind: 'uncordon', id: 'uncordon', node, why: 'the instance is running again after its stop' },
      ],
    };
  }
  // A node spotguard already cordoned keeps that reason: the drain joins the earlier one.
  const reason = ourCordon(o)?.reason ?? `instance-${ev.state}`;
  // A console/API stop comes back: mark it so the `running` event undoes the cordon.
  const comingBack = ev.state === 'stopping';
  return {
    target,
    trigger,
    steps: [
      cordonStep(o, reason, comingBack, `instance ${ev.state} outside the spot path`),
      drainStep(o, c, reason, { comingBack, why: `move pods off an instance that is ${ev.state}` }),
    ],
  };
}

/** Health event codes after which the same instance is back in service (reboots, stops). */
const COMES_BACK = /REBOOT|STOP/i;

export function planScheduledChange(ev: ScheduledChangeEvent, o: Observed, c: PlanConfig): NodePlan {
  const trigger = 'scheduled-change';
  const stop = gate(o, trigger, { needNode: true, mutatesAws: false });
  if (stop) return stop;
  const node = o.nodeName!;
  const target = `node/${node}`;
  if (ev.statusCode === 'closed') {
    const cordon = ourCordon(o);
    if (cordon?.reason !== trigger)
      return nothing(
        target,
        trigger,
        'ignored',
        `${ev.eventTypeCode} closed; ${node} is not cordoned by spotguard for it`,
      );
    return {
      target,
      trigger,
      steps: [
        {
          kind: 'uncordon',
          id: 'uncordon',
          node,
          reason: trigger,
          why: `${ev.eventTypeCode} is closed: the maintenance is over`,
        },
      ],
    };
  }
  const comingBack = COMES_BACK.test(ev.eventTypeCode);
  const deadline = ev.startTime && Date.parse(ev.startTime) > o.now.getTime() ? ev.startTime : undefined;
  return {
    target,
    trigger,
    ...(deadline ? { deadline } : {}),
    steps: [
      cordonStep(
        o,
        trigger,
        comingBack,
        `${ev.eventTypeCode} scheduled${ev.startTime ? ` for ${ev.startTime}` : ''}`,
      ),
      drainStep(o, c, trigger, {
        ...(deadline ? { deadline } : {}),
        comingBack,
        why: `move pods ahead of ${ev.eventTypeCode}${comingBack ? '; uncordoned when the event is closed' : ''}`,
      }),
    ],
  };
}
