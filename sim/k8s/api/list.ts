// LIST and WATCH filtering: namespace, label and field selectors, limit/continue, and the pod
// index on spec.nodeName (a node's pods are never found by scanning every pod).
import type { KObject, ListOptions } from '../store.ts';
import type { Scope } from './crud.ts';
import { ApiError, badRequest, failure } from './errors.ts';
import {
  equalityValue,
  type FieldSelector,
  type LabelSelector,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
} from './selectors.ts';

export interface Filter {
  namespace?: string;
  labels: LabelSelector;
  fields: FieldSelector;
}

export function parseFilter(scope: Scope, query: URLSearchParams): Filter {
  const filter: Filter = {
    labels: parseLabelSelector(query.get('labelSelector')),
    fields: parseFieldSelector(query.get('fieldSelector'), scope.type.fields),
  };
  if (scope.type.namespaced && scope.namespace) filter.namespace = scope.namespace;
  return filter;
}

export function matchesFilter(filter: Filter, obj: KObject): boolean {
  if (filter.namespace !== undefined && (obj.metadata.namespace ?? '') !== filter.namespace) return false;
  return matchesLabels(filter.labels, obj.metadata.labels) && matchesFields(filter.fields, obj);
}

const sortKey = (obj: KObject) => `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;

/** All objects the filter selects, sorted by namespace/name as etcd returns them. */
export function selectObjects(scope: Scope, filter: Filter): KObject[] {
  const options: ListOptions = {};
  if (filter.namespace !== undefined) options.namespace = filter.namespace;
  const nodeName = scope.type.resource === 'pods' ? equalityValue(filter.fields, 'spec.nodeName') : undefined;
  if (nodeName !== undefined) options.nodeName = nodeName;
  const name = equalityValue(filter.fields, 'metadata.name');
  let objects: KObject[];
  if (name !== undefined && (filter.namespace !== undefined || !scope.type.namespaced)) {
    const one = scope.store.get(scope.type.storeKey, filter.namespace, name);
    objects = one ? [one] : [];
  } else {
    objects = scope.store.list(scope.type.storeKey, options);
  }
  const selected = objects.filter((obj) => matchesFilter(filter, obj));
  return selected.sort((a, b) => {
    const ka = sortKey(a);
    const kb = sortKey(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

export interface Page {
  items: KObject[];
  continueToken?: string;
  remainingItemCount?: number;
}

interface ContinueToken {
  v: 'meta.k8s.io/v1';
  rv: number;
  start: string;
}

function decodeContinue(token: string): ContinueToken {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as ContinueToken;
    if (parsed.v !== 'meta.k8s.io/v1' || typeof parsed.start !== 'string') throw new Error('bad');
    return parsed;
  } catch {
    throw badRequest(
      'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
    );
  }
}

/** The slice of `sorted` a `limit` / `continue` request asks for. */
export function paginate(
  sorted: KObject[],
  query: URLSearchParams,
  currentRv: number,
  oldestRv: number,
): Page {
  const limit = Number(query.get('limit') ?? 0);
  const token = query.get('continue');
  let start = 0;
  if (token) {
    const decoded = decodeContinue(token);
    if (decoded.rv < oldestRv) {
      throw new ApiError(
        failure(
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        ),
      );
    }
    start = sorted.findIndex((obj) => sortKey(obj) > decoded.start);
    if (start < 0) start = sorted.length;
  }
  if (!Number.isInteger(limit) || limit <= 0 || start + limit >= sorted.length) {
    return { items: sorted.slice(start) };
  }
  const items = sorted.slice(start, start + limit);
  const last = items.at(-1)!;
  const next: ContinueToken = { v: 'meta.k8s.io/v1', rv: currentRv, start: sortKey(last) };
  return {
    items,
    continueToken: Buffer.from(JSON.stringify(next)).toString('base64'),
    remainingItemCount: sorted.length - start - limit,
  };
}

/**
 * The `resourceVersion` query parameter as a number (undefined for unset or "0"). A version this
 * server has not reached yet is a 504 "Too large resource version", as from the watch cache.
 */
export function requestedResourceVersion(query: URLSearchParams, currentRv: number): number | undefined {
  const raw = query.get('resourceVersion');
  if (!raw || raw === '0') return undefined;
  const rv = Number(raw);
  if (!Number.isInteger(rv) || rv < 0) {
    throw badRequest(`invalid resource version: strconv.ParseUint: parsing "${raw}": invalid syntax`);
  }
  if (rv > currentRv) {
    throw new ApiError(
      failure(504, 'Timeout', `Timeout: Too large resource version: ${rv}, current: ${currentRv}`, {
        causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
        retryAfterSeconds: 1,
      }),
    );
  }
  return rv;
}
