// core/v1 Events as the real components write them, through a small copy of client-go's event
// correlator: repeats of the same (object, reason, message) bump `count` on the existing Event, and
// a per-(component, object) token bucket (burst 25, one more every 5 minutes) drops the rest — so a
// ReplicaSet creating 100 pods records 25 SuccessfulCreate events, as on a real cluster. The
// recorder keeps at most `maxEvents` of its own Events (oldest deleted first).
import type { KObject, Store } from '../store.ts';
import { nowIso } from './util.ts';

export type EventType = 'Normal' | 'Warning';

const SPAM_BURST = 25;
const SPAM_REFILL_MS = 5 * 60 * 1000;

export interface EventSource {
  component: string;
  host?: string;
}

export class EventRecorder {
  private readonly store: Store;
  private readonly maxEvents: number;
  /** correlation key → [namespace, event name], in creation order */
  private readonly recorded = new Map<string, [string, string]>();
  private sequence = 0;
  /** `${component}|${uid}` → spam filter bucket */
  private readonly buckets = new Map<string, { tokens: number; updated: number }>();

  constructor(store: Store, maxEvents = 2000) {
    this.store = store;
    this.maxEvents = maxEvents;
  }

  record(involved: KObject, type: EventType, reason: string, message: string, source: EventSource): void {
    const namespace = involved.metadata.namespace ?? 'default';
    const correlation = `${involved.metadata.uid}|${reason}|${message}`;
    const existing = this.recorded.get(correlation);
    if (!this.allow(`${source.component}|${involved.metadata.uid}`)) return;
    const now = nowIso();
    if (existing && this.store.get('events', existing[0], existing[1])) {
      this.store.mutate('events', existing[0], existing[1], (event) => {
        event.count = (event.count ?? 1) + 1;
        event.lastTimestamp = now;
      });
      return;
    }
    const name = `${involved.metadata.name}.${(Date.now() * 1000 + (this.sequence++ % 1000)).toString(16)}`;
    this.store.create('events', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: involved.apiVersion,
        kind: involved.kind,
        name: involved.metadata.name,
        namespace: involved.metadata.namespace,
        uid: involved.metadata.uid,
        resourceVersion: involved.metadata.resourceVersion,
      },
      reason,
      message,
      type,
      source,
      reportingComponent: source.component,
      reportingInstance: source.host ?? '',
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
    this.recorded.set(correlation, [namespace, name]);
    this.trim();
  }

  /** client-go's EventSourceObjectSpamFilter: burst 25, refilled at one token per 5 minutes. */
  private allow(key: string): boolean {
    const now = Date.now();
    const bucket = this.buckets.get(key) ?? { tokens: SPAM_BURST, updated: now };
    bucket.tokens = Math.min(SPAM_BURST, bucket.tokens + (now - bucket.updated) / SPAM_REFILL_MS);
    bucket.updated = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    if (this.buckets.size > 50_000) this.buckets.delete(this.buckets.keys().next().value!);
    return true;
  }

  private trim(): void {
    while (this.recorded.size > this.maxEvents) {
      const [correlation, [namespace, name]] = this.recorded.entries().next().value!;
      this.recorded.delete(correlation);
      if (this.store.get('events', namespace, name)) this.store.delete('events', namespace, name);
    }
  }
}
