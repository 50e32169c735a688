// The simulated EventBridge default bus: every event AWS would emit for the simulated fleet, in
// the real envelope (see the EC2 user guide "EventBridge for Amazon EC2", the Auto Scaling user
// guide "Event reference", and the AWS Health user guide). Subscribers are called in order; an
// async subscriber is not awaited by the emitter (AWS does not wait for targets either), but its
// rejection is reported through `onError` instead of becoming an unhandled rejection.
import { randomUUID } from 'node:crypto';
import { ACCOUNT_ID } from './wire.ts';

export interface EventBridgeEvent<D = Record<string, unknown>> {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: D;
}

/** What an emitter supplies; the bus adds version, id, account, region and (default now) time. */
export type EventInput = Omit<EventBridgeEvent, 'version' | 'id' | 'account' | 'region' | 'time'> & {
  time?: Date;
};

export type EventSubscriber = (event: EventBridgeEvent) => void | Promise<void>;

/** How many emitted events `emitted()` keeps (a long `spotguard sim` run must not grow without bound). */
const HISTORY_LIMIT = 10_000;

export class EventBus {
  private readonly subscribers = new Set<EventSubscriber>();
  private readonly history: EventBridgeEvent[] = [];
  readonly region: string;
  onError: (error: unknown, event: EventBridgeEvent) => void = (error, event) =>
    console.error(`event subscriber failed on ${event['detail-type']} ${event.id}:`, error);

  constructor(region: string) {
    this.region = region;
  }

  subscribe(fn: EventSubscriber): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  /** The events emitted so far, oldest first (the last 10,000). */
  emitted(): readonly EventBridgeEvent[] {
    return this.history;
  }

  emit(event: EventInput): EventBridgeEvent {
    const full: EventBridgeEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': event['detail-type'],
      source: event.source,
      account: ACCOUNT_ID,
      time: isoSeconds(event.time ?? new Date()),
      region: this.region,
      resources: event.resources,
      detail: event.detail,
    };
    this.history.push(full);
    if (this.history.length > HISTORY_LIMIT) this.history.splice(0, this.history.length - HISTORY_LIMIT);
    for (const subscriber of [...this.subscribers]) {
      try {
        const result = subscriber(full);
        if (result instanceof Promise) result.catch((error: unknown) => this.onError(error, full));
      } catch (error) {
        this.onError(error, full);
      }
    }
    return full;
  }
}

/** EventBridge times have second precision: 2026-11-21T04:46:44Z. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** AWS Health start/end times use RFC 1123 ("Sat, 21 Nov 2026 05:00:00 GMT"), as in the Health docs. */
export function rfc1123(date: Date): string {
  return date.toUTCString();
}
