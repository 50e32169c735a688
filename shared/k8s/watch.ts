// One long-running watch with resume: reconnects from the last seen resourceVersion when the stream
// ends (server timeout, idle abort) and asks the caller to re-list when the version expired (410).
import { Watch } from '@kubernetes/client-node';
import type { KubeClients } from './client.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface ResumableWatch {
  stop(): void;
}

export interface WatchOptions {
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  resourceVersion: string;
  // biome-ignore lint/suspicious/noExplicitAny: watch objects are raw wire JSON
  onEvent: (type: WatchEventType, object: any) => void;
  /** After 410 Gone or a broken stream: list again, reconcile, return the list's resourceVersion. */
  relist: () => Promise<string>;
  /** Called once per HTTP request the watch makes (first connect and every reconnect). */
  onRequest?: () => void;
  onError?: (err: unknown) => void;
}

export function startWatch(k8s: KubeClients, opts: WatchOptions): ResumableWatch {
  const watch = new Watch(k8s.config);
  let resourceVersion = opts.resourceVersion;
  let controller: AbortController | undefined;
  let stopped = false;
  let failures = 0;

  // A failure to open the stream (authentication, a refused connection) is reported and retried
  // with backoff like a broken stream, never left as an unhandled rejection.
  const connect = async () => {
    try {
      await open();
    } catch (err) {
      if (stopped) return;
      failures++;
      opts.onError?.(err);
      const delay = Math.min(2_000, 100 * 2 ** Math.min(failures, 5));
      setTimeout(() => void reconnect(true), delay).unref();
    }
  };

  const open = async () => {
    if (stopped) return;
    opts.onRequest?.();
    let expired = false;
    controller = await watch.watch(
      opts.path,
      { ...opts.query, resourceVersion, allowWatchBookmarks: true },
      (type, object) => {
        if (type === 'ERROR') {
          if (object?.code === 410) expired = true;
          return;
        }
        failures = 0;
        const rv = object?.metadata?.resourceVersion;
        if (rv) resourceVersion = rv;
        if (type !== 'BOOKMARK') opts.onEvent(type as WatchEventType, object);
      },
      (err) => {
        if (stopped) return;
        if (err) {
          failures++;
          opts.onError?.(err);
        }
        const statusCode = (err as { statusCode?: number } | null)?.statusCode;
        if (statusCode === 410) expired = true;
        const delay = err ? Math.min(2_000, 100 * 2 ** Math.min(failures, 5)) : 0;
        // after an error, re-list too: whatever the broken stream missed is reconciled from the list
        setTimeout(() => void reconnect(expired || Boolean(err)), delay).unref();
      },
    );
    if (stopped) controller.abort();
  };

  const reconnect = async (expired: boolean) => {
    if (stopped) return;
    try {
      if (expired) resourceVersion = await opts.relist();
    } catch (err) {
      opts.onError?.(err);
    }
    await connect();
  };

  void connect();
  return {
    stop() {
      stopped = true;
      controller?.abort();
    },
  };
}
