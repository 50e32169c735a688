// Transport retries (shared/k8s/retry.ts) against the simulated API server's fault hooks: one 429
// before the cordon no longer aborts the event; what may have been applied is not repeated.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type KubeClients, kubeClientsFromConfig } from '../../shared/k8s/client.ts';
import { isRetryable, retryAfterMs } from '../../shared/k8s/retry.ts';
import { node, pod, startTestCluster, type TestCluster } from '../sim/api-support.ts';

let c: TestCluster;
let k8s: KubeClients;
const NODE = 'ip-10-0-7-70.ec2.internal';

beforeAll(async () => {
  c = await startTestCluster();
  c.store.create('nodes', node(NODE));
  k8s = kubeClientsFromConfig(c.kc, { requestTimeoutMs: 400 });
});
afterAll(() => c.stop());
beforeEach(() => c.faults.clear());

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const count = (key: string) => c.api.requests.byKey()[key] ?? 0;

describe('retried: the server did not act', () => {
  it('a 429 with Retry-After 1 before the cordon: the cordon lands, Retry-After honoured', async () => {
    c.faults.add({
      service: 'k8s',
      verb: 'patch',
      resource: 'nodes',
      status: 429,
      retryAfterSeconds: 1,
      count: 1,
    });
    const before = count('patch nodes');
    const started = Date.now();
    await k8s.core.patchNode({ name: NODE, body: { spec: { unschedulable: true } } }, MERGE);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(count('patch nodes') - before).toBe(2);
    expect(c.store.get('nodes', undefined, NODE)?.spec?.unschedulable).toBe(true);
  });

  it('503 twice on a list, then the answer', async () => {
    c.faults.add({ service: 'k8s', verb: 'list', resource: 'pods', status: 503, count: 2 });
    const before = count('list pods');
    const list = await k8s.core.listPodForAllNamespaces();
    expect(list.items).toBeDefined();
    expect(count('list pods') - before).toBe(3);
  });

  it('a GET that never answers times out and is tried again', async () => {
    c.faults.add({ service: 'k8s', verb: 'get', resource: 'nodes', timeout: true, count: 1 });
    const got = await k8s.core.readNode({ name: NODE });
    expect(got.metadata?.name).toBe(NODE);
  });

  it('a 409 on a PATCH without a resourceVersion is retried', async () => {
    c.faults.add({ service: 'k8s', verb: 'patch', resource: 'nodes', status: 409, count: 1 });
    const before = count('patch nodes');
    await k8s.core.patchNode({ name: NODE, body: { metadata: { labels: { a: 'b' } } } }, MERGE);
    expect(count('patch nodes') - before).toBe(2);
  });
});

describe('not retried: it may have been applied, or the caller must decide', () => {
  it('a 500 on a POST (create) fails at once', async () => {
    c.faults.add({ service: 'k8s', verb: 'create', resource: 'pods', status: 500, count: 1 });
    const before = count('create pods');
    await expect(
      k8s.core.createNamespacedPod({ namespace: 'default', body: pod('p-500') as never }),
    ).rejects.toMatchObject({ code: 500 });
    expect(count('create pods') - before).toBe(1);
  });

  it('an eviction 429 (a PDB says no) goes back to the drain', async () => {
    c.store.create('pods', pod('p-evict', { node: NODE }));
    c.faults.add({
      service: 'k8s',
      verb: 'create',
      resource: 'pods',
      subresource: 'eviction',
      status: 429,
      count: 1,
    });
    const before = count('create pods/eviction');
    await expect(
      k8s.core.createNamespacedPodEviction({
        name: 'p-evict',
        namespace: 'default',
        body: { metadata: { name: 'p-evict', namespace: 'default' } },
      }),
    ).rejects.toMatchObject({ code: 429 });
    expect(count('create pods/eviction') - before).toBe(1);
  });

  it('a persistent 503 gives up after 4 attempts with the 503', async () => {
    c.faults.add({ service: 'k8s', verb: 'get', resource: 'nodes', status: 503 });
    const before = count('get nodes');
    await expect(k8s.core.readNode({ name: NODE })).rejects.toMatchObject({ code: 503 });
    expect(count('get nodes') - before).toBe(4);
  });
});

describe('policy (pure)', () => {
  it('says what may be repeated', () => {
    const u = 'https://k/api/v1/nodes/n';
    expect(isRetryable('PUT', u, '{"metadata":{"resourceVersion":"1"}}', { status: 409 })).toBe(false);
    expect(isRetryable('PATCH', u, '{"metadata":{"resourceVersion":"1"}}', { status: 409 })).toBe(false);
    expect(isRetryable('POST', u, '{}', { status: 503 })).toBe(true);
    expect(isRetryable('POST', u, '{}', { error: new Error('timeout') })).toBe(false);
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    expect(isRetryable('POST', u, '{}', { error: refused })).toBe(true);
    expect(isRetryable('GET', u, undefined, { status: 404 })).toBe(false);
  });

  it('reads Retry-After as seconds or an HTTP date, capped', () => {
    expect(retryAfterMs('2', 5000)).toBe(2000);
    expect(retryAfterMs('600', 5000)).toBe(5000);
    expect(retryAfterMs(new Date(10_000 + 3000).toUTCString(), 5000, 10_000)).toBe(3000);
    expect(retryAfterMs('soon', 5000)).toBeUndefined();
  });
});
