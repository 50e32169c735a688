// Misrouting: a function acts only on the event kinds its route subscribes to (shared/routes.ts).
// Anything else — a manual drain sent to the spot-interruption function, a forged lifecycle
// continuation on the scheduled-change queue — is rejected as misrouted before any action.
import { type Route, routes } from '../routes.ts';
import { EventParseError, ROOT_PATH } from './errors.ts';
import { parse } from './parse.ts';
import type { DomainEvent, EventKind } from './types.ts';

/** The domain event kind(s) each EventBridge detail type parses to. */
export const DETAIL_TYPE_KINDS: Record<string, EventKind[]> = {
  'EC2 Spot Instance Interruption Warning': ['spot-interruption'],
  'EC2 Instance Rebalance Recommendation': ['rebalance-recommendation'],
  'EC2 Instance State-change Notification': ['state-change'],
  'EC2 Instance-terminate Lifecycle Action': ['lifecycle-terminate'],
  'EC2 Instance-launch Lifecycle Action': ['lifecycle-launch'],
  'EC2 Instance Launch Successful': ['asg-activity'],
  'EC2 Instance Launch Unsuccessful': ['asg-activity'],
  'EC2 Instance Terminate Successful': ['asg-activity'],
  'EC2 Instance Terminate Unsuccessful': ['asg-activity'],
  'AWS Health Event': ['scheduled-change'],
  'CloudWatch Alarm State Change': ['alarm'],
};

/** Thrown for an event the function is not subscribed to: nothing is done with it. */
export class MisroutedEventError extends EventParseError {
  readonly functionName: string;
  readonly eventKind: EventKind;

  constructor(functionName: string, kind: EventKind, accepted: EventKind[]) {
    super([
      {
        path: ROOT_PATH,
        message: `misrouted: function ${functionName} handles ${accepted.join('|')}, got a ${kind} event (nothing done)`,
      },
    ]);
    this.name = 'MisroutedEventError';
    this.functionName = functionName;
    this.eventKind = kind;
  }
}

/**
 * Kinds a route accepts: those of its detail types, its `alsoAccepts` (input that comes without an
 * EventBridge rule, e.g. manual payloads), and `ignored` (acknowledged, never acted on). A detail
 * type missing from DETAIL_TYPE_KINDS throws: a new route must say what its events become.
 */
export function acceptedKinds(route: Route): EventKind[] {
  const kinds = new Set<EventKind>(['ignored', ...(route.alsoAccepts ?? [])]);
  for (const detailType of route.detailTypes) {
    const mapped = DETAIL_TYPE_KINDS[detailType];
    if (!mapped) throw new Error(`route ${route.functionName}: no event kind known for "${detailType}"`);
    for (const kind of mapped) kinds.add(kind);
  }
  return [...kinds];
}

/** Throws MisroutedEventError for the first event `route` is not subscribed to. Pure. */
export function checkRouted(route: Route, events: DomainEvent[]): DomainEvent[] {
  const accepted = acceptedKinds(route);
  const stray = events.find((e) => !accepted.includes(e.kind));
  if (stray) throw new MisroutedEventError(route.functionName, stray.kind, accepted);
  return events;
}

/** The parser for one deployed function: parse, then reject what its route does not deliver. */
export function routedParser(functionName: string): (raw: unknown) => DomainEvent[] {
  const route = routes.find((r) => r.functionName === functionName);
  if (!route) throw new Error(`no route for function ${functionName} in shared/routes.ts`);
  return (raw) => checkRouted(route, parse(raw));
}
