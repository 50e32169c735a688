// WATCH: newline-delimited JSON events over a chunked response, as kube-apiserver streams them.
// resourceVersion resume (410 Expired as an ERROR event when too old), bookmarks, timeoutSeconds,
// and selector semantics: an object that stops matching shows up as DELETED, one that starts
// matching as ADDED.
import type { ServerResponse } from 'node:http';
import type { KObject, StoreEvent } from '../store.ts';
import type { Scope } from './crud.ts';
import { failure } from './errors.ts';
import { type Filter, matchesFilter, requestedResourceVersion, selectObjects } from './list.ts';

export interface WatchOptions {
  scope: Scope;
  filter: Filter;
  query: URLSearchParams;
  res: ServerResponse;
  /** stored object → the event's object (version conversion or a one-row Table) */
  render: (obj: KObject) => unknown;
  /** kind + apiVersion for BOOKMARK objects */
  bookmarkType: { kind: string; apiVersion: string };
  bookmarkIntervalMs: number;
  /** called when the watch ends (for bookkeeping of open watches) */
  onEnd?: () => void;
}

const DEFAULT_TIMEOUT_SECONDS = 1800;

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** How a store change looks through this watch's filter (undefined: invisible). */
function translate(filter: Filter, event: StoreEvent): EventType | undefined {
  const now = matchesFilter(filter, event.object);
  if (event.type === 'ADDED') return now ? 'ADDED' : undefined;
  if (event.type === 'DELETED') return now ? 'DELETED' : undefined;
  const before = event.oldObject ? matchesFilter(filter, event.oldObject) : now;
  if (before && now) return 'MODIFIED';
  if (!before && now) return 'ADDED';
  if (before && !now) return 'DELETED';
  return undefined;
}

export function serveWatch(opts: WatchOptions): void {
  const { scope, filter, query, res } = opts;
  const { store } = scope;
  const resumeFrom = requestedResourceVersion(query, store.currentResourceVersion());
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();

  let closed = false;
  const write = (type: string, object: unknown) => {
    if (!closed) res.write(`${JSON.stringify({ type, object })}\n`);
  };

  if (resumeFrom === undefined) {
    // "start at most recent": the current state as ADDED events first
    for (const obj of selectObjects(scope, filter)) write('ADDED', opts.render(obj));
  }
  const unsubscribe = store.watch(
    scope.type.storeKey,
    (event) => {
      const type = translate(filter, event);
      if (type) write(type, opts.render(event.object));
    },
    resumeFrom,
  );
  if (unsubscribe === false) {
    const oldest = store.oldestResumableVersion();
    write('ERROR', failure(410, 'Expired', `too old resource version: ${resumeFrom} (${oldest})`));
    res.end();
    opts.onEnd?.();
    return;
  }

  const timers: NodeJS.Timeout[] = [];
  const finish = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    for (const t of timers) clearTimeout(t);
    if (!res.writableEnded) res.end();
    opts.onEnd?.();
  };
  // unset or 0: the server's own limit (kube-apiserver picks 30–60 min)
  const requested = Number(query.get('timeoutSeconds') ?? 0);
  const timeoutSeconds = Number.isFinite(requested) && requested > 0 ? requested : DEFAULT_TIMEOUT_SECONDS;
  timers.push(setTimeout(finish, timeoutSeconds * 1000));
  if (query.get('allowWatchBookmarks') === 'true' || query.get('allowWatchBookmarks') === '1') {
    const bookmark = () => {
      write('BOOKMARK', {
        ...opts.bookmarkType,
        metadata: { resourceVersion: String(store.currentResourceVersion()) },
      });
    };
    const interval = setInterval(bookmark, opts.bookmarkIntervalMs);
    timers.push(interval);
  }
  // the response closes when the client goes away (the request's own 'close' fires once its body is read)
  res.on('close', finish);
}
