// Version conversion between what the Store keeps (one storage form per resource) and what a
// request's group/version shows. Only events differ in shape (core/v1 vs events.k8s.io/v1); every
// other served version is the same JSON with another apiVersion.
import type { KObject } from '../store.ts';
import { apiVersionOf, type ResourceType } from './resources.ts';

// biome-ignore lint/suspicious/noExplicitAny: wire JSON
type Any = any;

/** The apiVersion the Store keeps for a resource (events: core v1; others: the preferred version). */
export function storageApiVersion(type: ResourceType): string {
  if (type.storeKey === 'events') return 'v1';
  return apiVersionOf(type.group, type.versions[0]!);
}

function coreEventToEventsV1(e: KObject): KObject {
  const out: Any = {
    metadata: e.metadata,
    eventTime: e.eventTime ?? null,
    reportingController: e.reportingComponent || e.source?.component || '',
    reportingInstance: e.reportingInstance || e.source?.host || '',
    action: e.action,
    reason: e.reason,
    regarding: e.involvedObject,
    related: e.related,
    note: e.message,
    type: e.type,
    series: e.series,
    deprecatedSource: e.source,
    deprecatedFirstTimestamp: e.firstTimestamp,
    deprecatedLastTimestamp: e.lastTimestamp,
    deprecatedCount: e.count,
  };
  for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key];
  return out;
}

function eventsV1ToCoreEvent(e: Any): KObject {
  const out: Any = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: e.metadata,
    involvedObject: e.regarding ?? {},
    reason: e.reason,
    message: e.note,
    source: e.deprecatedSource ?? { component: e.reportingController },
    firstTimestamp: e.deprecatedFirstTimestamp,
    lastTimestamp: e.deprecatedLastTimestamp,
    count: e.deprecatedCount,
    type: e.type,
    eventTime: e.eventTime,
    series: e.series,
    action: e.action,
    related: e.related,
    reportingComponent: e.reportingController ?? '',
    reportingInstance: e.reportingInstance ?? '',
  };
  for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key];
  return out;
}

/** Stored object → the request's version. Returns a new top-level object (never mutates the store's). */
export function toWire(type: ResourceType, version: string, obj: KObject): KObject {
  const body = type.group === 'events.k8s.io' ? coreEventToEventsV1(obj) : obj;
  const { apiVersion: _a, kind: _k, ...rest } = body;
  return { kind: type.kind, apiVersion: apiVersionOf(type.group, version), ...rest } as KObject;
}

/** A request body in the request's version → the storage form. */
export function fromWire(type: ResourceType, obj: Any): KObject {
  const body = type.group === 'events.k8s.io' ? eventsV1ToCoreEvent(obj) : obj;
  const { apiVersion: _a, kind: _k, ...rest } = body;
  const kind = type.storeKey === 'events' ? 'Event' : type.kind;
  return { apiVersion: storageApiVersion(type), kind, ...rest } as KObject;
}

/** List items: the real server omits kind/apiVersion on items of a list. */
export function toListItem(
  type: ResourceType,
  version: string,
  obj: KObject,
): Omit<KObject, 'kind' | 'apiVersion'> {
  const { apiVersion: _a, kind: _k, ...rest } = toWire(type, version, obj);
  return rest;
}
