// core/v1 Events as the real components write them. Repeats of the same (object, reason, message)
// bump `count` on the existing Event like client-go's event correlator; the recorder keeps at most
// `maxEvents` of its own Events (oldest deleted first) so a 15,000-pod run does not fill the store.
import type { KObject, Store } from '../store.ts';
import { nowIso } from './util.ts';

export type EventType = 'Normal' | 'Warning';

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

  constructor(store: Store, maxEvents = 2000) {
    this.store = store;
    this.maxEvents = maxEvents;
  }

  record(involved: KObject, type: EventType, reason: string, message: string, source: EventSource): void {
    const namespace = involved.metadata.namespace ?? 'default';
    const correlation = `${involved.metadata.uid}|${reason}|${message}`;
    const existing = this.recorded.get(correlation);
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

  private trim(): void {
    while (this.recorded.size > this.maxEvents) {
      const [correlation, [namespace, name]] = this.recorded.entries().next().value!;
      this.recorded.delete(correlation);
      if (this.store.get('events', namespace, name)) this.store.delete('events', namespace, name);
    }
  }
}
