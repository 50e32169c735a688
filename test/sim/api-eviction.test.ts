// The eviction subresource through @kubernetes/client-node: kube-apiserver's answers to the byte.
import { CoreV1Api, PolicyV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  getJson,
  jsonOf,
  node,
  pdb,
  pod,
  settle,
  startTestCluster,
  statusOf,
  type TestCluster,
} from './api-support.ts';

let c: TestCluster;
let core: CoreV1Api;
let policy: PolicyV1Api;

const eviction = (name: string, namespace = 'default', extra: Record<string, unknown> = {}) => ({
  name,
  namespace,
  body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace }, ...extra },
});

let ns = 0;
/** Each test gets its own namespace so budgets do not interfere. */
function freshNamespace(): string {
  const name = `ev-${++ns}`;
  c.store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

beforeAll(async () => {
  c = await startTestCluster();
  core = c.kc.makeApiClient(CoreV1Api);
  policy = c.kc.makeApiClient(PolicyV1Api);
  c.store.create('nodes', node('ip-10-0-1-23.ec2.internal'));
});
afterAll(() => c.stop());

let namespace: string;
beforeEach(() => {
  namespace = freshNamespace();
});

const run = (name: string, labels = { app: 'web' }, extra: Parameters<typeof pod>[1] = {}) =>
  c.store.create('pods', pod(name, { namespace, node: 'ip-10-0-1-23.ec2.internal', labels, ...extra }));

describe('eviction', () => {
  it('answers 429 with the exact disruption-budget Status when no disruption is allowed', async () => {
    run('web-0');
    run('web-1');
    c.store.create(
      'poddisruptionbudgets',
      pdb('web-pdb', { minAvailable: 2, matchLabels: { app: 'web' } }, namespace),
    );
    await settle();
    const { code, body } = await statusOf(core.createNamespacedPodEviction(eviction('web-0', namespace)));
    expect(code).toBe(429);
    expect(body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      reason: 'TooManyRequests',
      details: {
        causes: [
          {
            reason: 'DisruptionBudget',
            message: 'The disruption budget web-pdb needs 2 healthy pods and has 2 currently',
          },
        ],
      },
      code: 429,
    });
    expect(c.store.get('pods', namespace, 'web-0')?.metadata.deletionTimestamp).toBeUndefined();
  });

  it('evicts when allowed: 201 Success, budget decremented, pod recorded in disruptedPods, graceful deletion', async () => {
    run('web-0');
    run('web-1');
    run('web-2');
    c.store.create(
      'poddisruptionbudgets',
      pdb('web-pdb', { minAvailable: 2, matchLabels: { app: 'web' } }, namespace),
    );
    await settle();
    const before = await policy.readNamespacedPodDisruptionBudget({ name: 'web-pdb', namespace });
    expect(before.status?.disruptionsAllowed).toBe(1);

    const response = await fetch(`${c.api.url}/api/v1/namespaces/${namespace}/pods/web-1/eviction`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(eviction('web-1', namespace).body),
    });
    expect(response.status).toBe(201);
    expect(await jsonOf(response)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      code: 201,
    });

    const evicted = c.store.get('pods', namespace, 'web-1')!;
    expect(evicted.metadata.deletionTimestamp).toBeDefined();
    expect(evicted.metadata.deletionGracePeriodSeconds).toBe(30);
    expect(evicted.status.conditions).toContainEqual(
      expect.objectContaining({
        type: 'DisruptionTarget',
        status: 'True',
        reason: 'EvictionByEvictionAPI',
        message: 'Eviction API: evicting',
      }),
    );
    const after = await policy.readNamespacedPodDisruptionBudget({ name: 'web-pdb', namespace });
    expect(after.status?.disruptionsAllowed).toBe(0);
    expect(Object.keys(after.status?.disruptedPods ?? {})).toEqual([]); // pod is terminating: entry dropped by the controller
    expect(after.status?.currentHealthy).toBe(2);

    const second = await statusOf(core.createNamespacedPodEviction(eviction('web-0', namespace)));
    expect(second.code).toBe(429);
  });

  it('honours the eviction grace period from deleteOptions', async () => {
    run('api-0', { app: 'api' });
    await core.createNamespacedPodEviction(
      eviction('api-0', namespace, { deleteOptions: { gracePeriodSeconds: 5 } }),
    );
    expect(c.store.get('pods', namespace, 'api-0')?.metadata.deletionGracePeriodSeconds).toBe(5);
  });

  it("checks deleteOptions.preconditions.uid with the condition update's wording (409)", async () => {
    const target = run('api-1', { app: 'api' });
    const { code, body } = await statusOf(
      core.createNamespacedPodEviction(
        eviction('api-1', namespace, { deleteOptions: { preconditions: { uid: 'stale-uid' } } }),
      ),
    );
    expect(code).toBe(409);
    expect(body).toMatchObject({
      reason: 'Conflict',
      message: `Operation cannot be fulfilled on Pod "api-1": the UID in the precondition (stale-uid) does not match the UID in record (${target.metadata.uid}). The object might have been deleted and then recreated`,
      details: { name: 'api-1', kind: 'Pod' },
    });
    expect(c.store.get('pods', namespace, 'api-1')?.metadata.deletionTimestamp).toBeUndefined();
  });

  it('answers 404 naming the pod when it does not exist', async () => {
    const { code, body } = await statusOf(core.createNamespacedPodEviction(eviction('ghost', namespace)));
    expect(code).toBe(404);
    expect(body).toMatchObject({
      reason: 'NotFound',
      message: 'pods "ghost" not found',
      details: { name: 'ghost', kind: 'pods' },
    });
  });

  it('answers 500 when more than one budget selects the pod', async () => {
    run('web-0');
    run('web-1');
    c.store.create(
      'poddisruptionbudgets',
      pdb('a', { maxUnavailable: 1, matchLabels: { app: 'web' } }, namespace),
    );
    c.store.create(
      'poddisruptionbudgets',
      pdb('b', { minAvailable: 0, matchLabels: { app: 'web' } }, namespace),
    );
    await settle();
    const { code, body } = await statusOf(core.createNamespacedPodEviction(eviction('web-0', namespace)));
    expect(code).toBe(500);
    expect(body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
      code: 500,
    });
  });

  it('deletes terminal, pending and terminating pods without looking at budgets', async () => {
    run('done', { app: 'web' }, { phase: 'Succeeded', ready: false });
    run('waiting', { app: 'web' }, { phase: 'Pending', ready: false });
    run('web-0');
    c.store.create(
      'poddisruptionbudgets',
      pdb('strict', { minAvailable: 5, matchLabels: { app: 'web' } }, namespace),
    );
    await settle();
    await core.createNamespacedPodEviction(eviction('done', namespace));
    await core.createNamespacedPodEviction(eviction('waiting', namespace));
    expect(c.store.get('pods', namespace, 'done')).toBeUndefined(); // terminal: grace 0, gone at once
    expect(c.store.get('pods', namespace, 'waiting')?.metadata.deletionTimestamp).toBeDefined();
    expect((await statusOf(core.createNamespacedPodEviction(eviction('web-0', namespace)))).code).toBe(429);
  });

  it('lets an unready pod go when the budget is otherwise met, without taking a disruption', async () => {
    run('web-0');
    run('web-1');
    run('sick', { app: 'web' }, { ready: false });
    c.store.create(
      'poddisruptionbudgets',
      pdb('web', { minAvailable: 2, matchLabels: { app: 'web' } }, namespace),
    );
    await settle();
    await core.createNamespacedPodEviction(eviction('sick', namespace));
    expect(c.store.get('pods', namespace, 'sick')?.metadata.deletionTimestamp).toBeDefined();
    await settle();
    expect(c.store.get('poddisruptionbudgets', namespace, 'web')?.status.disruptedPods).toBeUndefined();
  });

  it('dryRun=All checks the budget but changes nothing', async () => {
    run('web-0');
    run('web-1');
    c.store.create(
      'poddisruptionbudgets',
      pdb('web', { maxUnavailable: 1, matchLabels: { app: 'web' } }, namespace),
    );
    c.store.create(
      'pods',
      pod('lonely', { namespace, node: 'ip-10-0-1-23.ec2.internal', labels: { app: 'solo' } }),
    );
    await settle();
    // unmanaged pods with maxUnavailable: expected pods = 0, so nothing is allowed
    expect(
      (await statusOf(core.createNamespacedPodEviction({ ...eviction('web-0', namespace), dryRun: 'All' })))
        .code,
    ).toBe(429);
    const rvBefore = c.store.get('pods', namespace, 'lonely')!.metadata.resourceVersion;
    await core.createNamespacedPodEviction({ ...eviction('lonely', namespace), dryRun: 'All' });
    expect(c.store.get('pods', namespace, 'lonely')!.metadata.resourceVersion).toBe(rvBefore);
  });

  it('accepts policy/v1beta1 Eviction bodies and rejects a name mismatch with 400', async () => {
    run('old-0', { app: 'old' });
    const response = await fetch(`${c.api.url}/api/v1/namespaces/${namespace}/pods/old-0/eviction`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'policy/v1beta1',
        kind: 'Eviction',
        metadata: { name: 'old-0', namespace },
      }),
    });
    expect(response.status).toBe(201);
    const mismatch = await statusOf(
      core.createNamespacedPodEviction({
        name: 'web-9',
        namespace,
        body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'other', namespace } },
      }),
    );
    expect(mismatch.code).toBe(400);
    expect(mismatch.body.message).toBe('name in URL does not match name in Eviction object');
  });
});

describe('budgets whose status the controller has not written (status updater off)', () => {
  let raw: TestCluster;
  beforeAll(async () => {
    raw = await startTestCluster({ pdbStatusUpdater: false });
    raw.store.create('pods', pod('web-0', { node: 'n1', labels: { app: 'web' } }));
    raw.store.create('pods', pod('db-0', { node: 'n1', labels: { app: 'db' } }));
  });
  afterAll(() => raw.stop());

  const evict = (name: string) =>
    fetch(`${raw.api.url}/api/v1/namespaces/default/pods/${name}/eviction`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name, namespace: 'default' },
      }),
    });

  it('answers 429 "still being processed" with Retry-After: 10 while observedGeneration lags', async () => {
    const budget = pdb('lagging', { minAvailable: 0, matchLabels: { app: 'web' } });
    budget.metadata.generation = 4;
    budget.status = {
      observedGeneration: 3,
      disruptionsAllowed: 1,
      currentHealthy: 1,
      desiredHealthy: 0,
      expectedPods: 1,
    };
    raw.store.create('poddisruptionbudgets', budget);
    const response = await evict('web-0');
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('10');
    expect(await jsonOf(response)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      reason: 'TooManyRequests',
      details: {
        causes: [
          {
            reason: 'DisruptionBudget',
            message: 'The disruption budget lagging is still being processed by the server.',
          },
        ],
        retryAfterSeconds: 10,
      },
      code: 429,
    });
  });

  it('answers 403 Forbidden when disruptionsAllowed is negative', async () => {
    const budget = pdb('broken', { minAvailable: 0, matchLabels: { app: 'db' } });
    budget.status = {
      observedGeneration: 1,
      disruptionsAllowed: -1,
      currentHealthy: 1,
      desiredHealthy: 0,
      expectedPods: 1,
    };
    raw.store.create('poddisruptionbudgets', budget);
    const response = await evict('db-0');
    expect(response.status).toBe(403);
    expect(await jsonOf(response)).toMatchObject({
      reason: 'Forbidden',
      message: 'poddisruptionbudget.policy "broken" is forbidden: pdb disruptions allowed is negative',
    });
  });
});

describe('a server without policy/v1 (like Kubernetes 1.20)', () => {
  let old: TestCluster;
  beforeAll(async () => {
    old = await startTestCluster({ servePolicyV1: false });
  });
  afterAll(() => old.stop());

  it('advertises evictions and PDBs only in policy/v1beta1', async () => {
    const core = await getJson(`${old.api.url}/api/v1`);
    const evictionEntry = core.resources.find((r: { name: string }) => r.name === 'pods/eviction');
    expect(evictionEntry).toMatchObject({ group: 'policy', version: 'v1beta1', kind: 'Eviction' });
    const groups = await getJson(`${old.api.url}/apis`);
    const policyGroup = groups.groups.find((g: { name: string }) => g.name === 'policy');
    expect(policyGroup.versions).toEqual([{ groupVersion: 'policy/v1beta1', version: 'v1beta1' }]);
    expect((await fetch(`${old.api.url}/apis/policy/v1/poddisruptionbudgets`)).status).toBe(404);
    expect((await fetch(`${old.api.url}/apis/policy/v1beta1/poddisruptionbudgets`)).status).toBe(200);
    expect((await getJson(`${old.api.url}/version`)).minor).toBe('20+');
  });

  it('refuses a policy/v1 Eviction body with 400', async () => {
    old.store.create('pods', pod('p-0', { node: 'n1' }));
    const response = await fetch(`${old.api.url}/api/v1/namespaces/default/pods/p-0/eviction`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name: 'p-0', namespace: 'default' },
      }),
    });
    expect(response.status).toBe(400);
    expect(await jsonOf(response)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'Eviction in version "v1" cannot be handled as a Eviction: no kind "Eviction" is registered for version "policy/v1" in scheme "k8s.io/kubernetes/pkg/api/legacyscheme/scheme.go:30"',
      reason: 'BadRequest',
      code: 400,
    });
    expect(old.store.get('pods', 'default', 'p-0')?.metadata.deletionTimestamp).toBeUndefined();
  });

  it('takes a missing kind and apiVersion from the route (policy/v1beta1 Eviction), as the decoder does', async () => {
    old.store.create('pods', pod('p-1', { node: 'n1' }));
    const response = await fetch(`${old.api.url}/api/v1/namespaces/default/pods/p-1/eviction`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: { name: 'p-1', namespace: 'default' } }),
    });
    expect(response.status).toBe(201);
    expect(old.store.get('pods', 'default', 'p-1')?.metadata.deletionTimestamp).toBeDefined();
  });
});
