// Watches through client-node's Watch and makeInformer: event streams, selectors (an object that
// leaves the selector is DELETED), resume by resourceVersion, 410 Expired, bookmarks.
import { CoreV1Api, makeInformer, type V1Pod, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf, pod, startTestCluster, type TestCluster } from './api-support.ts';

let c: TestCluster;

beforeAll(async () => {
  c = await startTestCluster({ bookmarkIntervalMs: 50, historyLimit: 100 });
});
afterAll(() => c.stop());

interface Seen {
  type: string;
  name: string;
  rv?: string;
}

/** Starts a watch and collects events until `until` returns true (or 5 s pass). */
async function collect(
  path: string,
  query: Record<string, string | number | boolean>,
  action: () => void,
  until: (events: Seen[]) => boolean,
): Promise<Seen[]> {
  const events: Seen[] = [];
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  const watch = new Watch(c.kc);
  const controller = await watch.watch(
    path,
    query,
    (type, obj) => {
      events.push({
        type,
        name: obj?.metadata?.name ?? obj?.message ?? '',
        rv: obj?.metadata?.resourceVersion,
      });
      if (until(events)) resolveDone();
    },
    () => resolveDone(),
  );
  action();
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 5000))]);
  controller.abort();
  return events;
}

describe('watch', () => {
  it('streams ADDED for existing objects, then changes; an object leaving the field selector is DELETED', async () => {
    c.store.create('pods', pod('w-0', { node: 'node-a' }));
    const events = await collect(
      '/api/v1/namespaces/default/pods',
      { fieldSelector: 'spec.nodeName=node-a' },
      () => {
        c.store.create('pods', pod('w-1', { node: 'node-a' }));
        c.store.create('pods', pod('elsewhere', { node: 'node-b' }));
        c.store.mutate('pods', 'default', 'w-0', (p) => {
          p.metadata.labels = { touched: 'yes' };
        });
        c.store.mutate('pods', 'default', 'w-1', (p) => {
          p.spec.nodeName = 'node-b'; // leaves the selector
        });
        c.store.mutate('pods', 'default', 'elsewhere', (p) => {
          p.spec.nodeName = 'node-a'; // enters it
        });
        c.store.delete('pods', 'default', 'w-0');
      },
      (e) => e.length >= 6,
    );
    expect(events.map((e) => `${e.type} ${e.name}`)).toEqual([
      'ADDED w-0',
      'ADDED w-1',
      'MODIFIED w-0',
      'DELETED w-1',
      'ADDED elsewhere',
      'DELETED w-0',
    ]);
  });

  it('serves the old /watch/ path for a single object', async () => {
    c.store.create('pods', pod('single'));
    c.store.create('pods', pod('other'));
    const events = await collect(
      '/api/v1/watch/namespaces/default/pods/single',
      {},
      () => {
        c.store.mutate('pods', 'default', 'other', (p) => {
          p.metadata.labels = { x: '1' };
        });
        c.store.delete('pods', 'default', 'single');
      },
      (e) => e.length >= 2,
    );
    expect(events.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED single', 'DELETED single']);
  });

  it('resumes after a resourceVersion without replaying the initial state', async () => {
    const core = c.kc.makeApiClient(CoreV1Api);
    const list = await core.listNamespacedPod({ namespace: 'default' });
    const rv = list.metadata!.resourceVersion!;
    c.store.create('pods', pod('after-list'));
    const events = await collect(
      '/api/v1/namespaces/default/pods',
      { resourceVersion: rv },
      () => {},
      (e) => e.length >= 1,
    );
    expect(events.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED after-list']);
  });

  it('sends an ERROR event with a 410 Expired Status when the resourceVersion is too old', async () => {
    // push the history window past the start (this store keeps the last 100 changes)
    for (let i = 0; i < 200; i++) {
      c.store.mutate('pods', 'default', 'after-list', (p) => {
        p.metadata.annotations = { i: String(i) };
      });
    }
    const raw: unknown[] = [];
    const watch = new Watch(c.kc);
    await new Promise<void>((resolve) => {
      watch.watch(
        '/api/v1/pods',
        { resourceVersion: '2' },
        (type, obj) => raw.push({ type, obj }),
        () => resolve(),
      );
    });
    expect(raw).toEqual([
      {
        type: 'ERROR',
        obj: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: expect.stringMatching(/^too old resource version: 2 \(\d+\)$/),
          reason: 'Expired',
          code: 410,
        },
      },
    ]);
  });

  it('answers 504 "Too large resource version" for a version the server has not reached', async () => {
    const future = c.store.currentResourceVersion() + 1000;
    const watch = new Watch(c.kc);
    const error = await new Promise<{ statusCode?: number }>((resolve) => {
      watch.watch(
        '/api/v1/pods',
        { resourceVersion: String(future) },
        () => {},
        (err) => resolve(err),
      );
    });
    expect(error.statusCode).toBe(504);
    const list = await fetch(`${c.api.url}/api/v1/pods?resourceVersion=${future}`);
    expect(list.status).toBe(504);
    expect(await jsonOf(list)).toMatchObject({
      reason: 'Timeout',
      message: `Timeout: Too large resource version: ${future}, current: ${c.store.currentResourceVersion()}`,
      details: {
        causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
        retryAfterSeconds: 1,
      },
    });
  });

  it('sends BOOKMARK events when asked to', async () => {
    const events = await collect(
      '/api/v1/nodes',
      { allowWatchBookmarks: true },
      () => {},
      (e) => e.some((x) => x.type === 'BOOKMARK'),
    );
    const bookmark = events.find((e) => e.type === 'BOOKMARK');
    expect(Number(bookmark?.rv)).toBe(c.store.currentResourceVersion());
  });

  it('ends the stream after timeoutSeconds', async () => {
    const watch = new Watch(c.kc);
    const ended = await new Promise<string>((resolve) => {
      watch.watch(
        '/api/v1/nodes',
        { timeoutSeconds: 1 },
        () => {},
        (err) => resolve(err ? String(err) : 'closed'),
      );
    });
    expect(ended).toBe('closed');
  });

  it('feeds a client-node informer (list + watch) with label selectors', async () => {
    const core = c.kc.makeApiClient(CoreV1Api);
    const informer = makeInformer(
      c.kc,
      '/api/v1/namespaces/default/pods',
      () => core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=inf' }),
      'app=inf',
    );
    const added: string[] = [];
    const deleted: string[] = [];
    informer.on('add', (p: V1Pod) => added.push(p.metadata!.name!));
    informer.on('delete', (p: V1Pod) => deleted.push(p.metadata!.name!));
    c.store.create('pods', pod('inf-0', { labels: { app: 'inf' } }));
    await informer.start();
    c.store.create('pods', pod('inf-1', { labels: { app: 'inf' } }));
    c.store.create('pods', pod('not-inf', { labels: { app: 'other' } }));
    c.store.mutate('pods', 'default', 'inf-0', (p) => {
      p.metadata.labels = { app: 'gone' };
    });
    const deadline = Date.now() + 5000;
    while ((added.length < 2 || deleted.length < 1) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await informer.stop();
    expect(added.sort()).toEqual(['inf-0', 'inf-1']);
    expect(deleted).toEqual(['inf-0']);
    expect(informer.list().map((p) => p.metadata?.name)).toEqual(['inf-1']);
  });
});
