// Generic REST behaviour through @kubernetes/client-node (and raw fetch where the wire matters):
// conflicts, selectors, pagination, the three patch types, deletion, discovery.
import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, jsonOf, node, pod, startTestCluster, statusOf, type TestCluster } from './api-support.ts';

let c: TestCluster;
let core: CoreV1Api;
let apps: AppsV1Api;

const NODE_A = 'ip-10-0-1-10.ec2.internal';
const NODE_B = 'ip-10-0-2-20.ec2.internal';

beforeAll(async () => {
  c = await startTestCluster();
  core = c.kc.makeApiClient(CoreV1Api);
  apps = c.kc.makeApiClient(AppsV1Api);
  c.store.create('nodes', node(NODE_A));
  c.store.create('nodes', node(NODE_B));
  c.store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
  for (let i = 0; i < 5; i++) {
    c.store.create(
      'pods',
      pod(`a-${i}`, { namespace: 'shop', node: NODE_A, labels: { app: 'cart', tier: i < 2 ? 'web' : 'db' } }),
    );
  }
  c.store.create(
    'pods',
    pod('b-0', { namespace: 'shop', node: NODE_B, labels: { app: 'cart', tier: 'web' } }),
  );
  c.store.create(
    'pods',
    pod('b-done', { namespace: 'shop', node: NODE_B, phase: 'Succeeded', ready: false }),
  );
  c.store.create(
    'pods',
    pod('kube-proxy-b', { namespace: 'kube-system', node: NODE_B, labels: { k8s: 'proxy' } }),
  );
});
afterAll(() => c.stop());

const names = (list: { items: { metadata?: { name?: string } }[] }) =>
  list.items.map((i) => i.metadata?.name);

describe('create / get / update', () => {
  it('creates with generateName, defaults status, and answers 409 AlreadyExists on a duplicate', async () => {
    const created = await core.createNamespacedConfigMap({
      namespace: 'shop',
      body: { metadata: { generateName: 'settings-' }, data: { a: '1' } },
    });
    expect(created.metadata?.name).toMatch(/^settings-[a-z0-9]{5}$/);
    expect(created.metadata?.uid).toBeTruthy();
    const dup = await statusOf(
      core.createNamespacedConfigMap({
        namespace: 'shop',
        body: { metadata: { name: created.metadata!.name! } },
      }),
    );
    expect(dup.code).toBe(409);
    expect(dup.body).toMatchObject({
      reason: 'AlreadyExists',
      message: `configmaps "${created.metadata!.name}" already exists`,
      details: { name: created.metadata!.name, kind: 'configmaps' },
    });
    const p = await core.createNamespacedPod({
      namespace: 'shop',
      body: {
        metadata: { name: 'fresh' },
        spec: { containers: [{ name: 'c', image: 'x' }] },
        status: { phase: 'Running' },
      },
    });
    expect(p.status?.phase).toBe('Pending'); // status is the server's, not the client's
  });

  it('answers 404 for a missing object and for a missing namespace', async () => {
    const missing = await statusOf(core.readNamespacedPod({ name: 'nope', namespace: 'shop' }));
    expect(missing.code).toBe(404);
    expect(missing.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', kind: 'pods' },
      code: 404,
    });
    const noNs = await statusOf(
      core.createNamespacedConfigMap({ namespace: 'atlantis', body: { metadata: { name: 'x' } } }),
    );
    expect(noNs.body).toMatchObject({ code: 404, message: 'namespaces "atlantis" not found' });
    const group = await statusOf(apps.readNamespacedDeployment({ name: 'nope', namespace: 'shop' }));
    expect(group.body).toMatchObject({
      message: 'deployments.apps "nope" not found',
      details: { group: 'apps', kind: 'deployments' },
    });
  });

  it('answers 409 Conflict with the real message on a stale resourceVersion', async () => {
    const cm = await core.createNamespacedConfigMap({
      namespace: 'shop',
      body: { metadata: { name: 'cfg' }, data: { v: '1' } },
    });
    const stale = structuredClone(cm);
    await core.replaceNamespacedConfigMap({
      name: 'cfg',
      namespace: 'shop',
      body: { ...cm, data: { v: '2' } },
    });
    const result = await statusOf(
      core.replaceNamespacedConfigMap({
        name: 'cfg',
        namespace: 'shop',
        body: { ...stale, data: { v: '3' } },
      }),
    );
    expect(result.code).toBe(409);
    expect(result.body).toMatchObject({
      reason: 'Conflict',
      message:
        'Operation cannot be fulfilled on configmaps "cfg": the object has been modified; please apply your changes to the latest version and try again',
      details: { name: 'cfg', kind: 'configmaps' },
    });
  });

  it('keeps status on a main-resource update and changes only status through /status', async () => {
    const current = await core.readNode({ name: NODE_A });
    const replaced = await core.replaceNode({
      name: NODE_A,
      body: {
        ...current,
        metadata: { ...current.metadata, labels: { ...current.metadata?.labels, extra: 'yes' } },
        status: {},
      },
    });
    expect(replaced.metadata?.labels?.extra).toBe('yes');
    expect(replaced.status?.conditions?.[0]?.type).toBe('Ready');
    const statusPatched = await core.patchNodeStatus(
      {
        name: NODE_A,
        body: {
          status: { conditions: [{ type: 'MemoryPressure', status: 'False' }] },
          metadata: { labels: { ignored: 'x' } },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(statusPatched.status?.conditions?.map((cond) => cond.type)).toEqual(['Ready', 'MemoryPressure']);
    expect(statusPatched.metadata?.labels?.ignored).toBeUndefined();
  });
});

describe('list selectors and pagination', () => {
  it('filters pods by spec.nodeName and status.phase like kubectl describe node does', async () => {
    const all = await core.listPodForAllNamespaces({
      fieldSelector: `spec.nodeName=${NODE_B},status.phase!=Succeeded,status.phase!=Failed`,
    });
    expect(names(all).sort()).toEqual(['b-0', 'kube-proxy-b']);
    const inShop = await core.listNamespacedPod({
      namespace: 'shop',
      fieldSelector: `spec.nodeName==${NODE_B}`,
    });
    expect(names(inShop).sort()).toEqual(['b-0', 'b-done']);
  });

  it('supports label selector operators =, !=, in, notin, exists, !exists', async () => {
    const q = async (labelSelector: string) =>
      names(await core.listNamespacedPod({ namespace: 'shop', labelSelector })).sort();
    expect(await q('tier=web')).toEqual(['a-0', 'a-1', 'b-0']);
    expect(await q('app==cart,tier!=web')).toEqual(['a-2', 'a-3', 'a-4']);
    expect(await q('tier in (db, nothing)')).toEqual(['a-2', 'a-3', 'a-4']);
    expect(await q('tier notin (db),app')).toEqual(['a-0', 'a-1', 'b-0']);
    expect(await q('!tier')).toEqual(['b-done', 'fresh']);
  });

  it('refuses an invalid label selector with 400 and labels.Parse wording', async () => {
    const message = async (labelSelector: string) => {
      const bad = await statusOf(core.listNamespacedPod({ namespace: 'shop', labelSelector }));
      expect(bad.code).toBe(400);
      expect(bad.body.reason).toBe('BadRequest');
      return bad.body.message;
    };
    expect(await message('tier in web')).toBe("unable to parse requirement: found 'web' expected: '('");
    expect(await message('tier in (web')).toBe("unable to parse requirement: found '', expected: ',' or ')'");
    expect(await message('tier=web,')).toBe("found '', expected: identifier after ','");
    expect(await message('tier=web=x')).toBe("found '=', expected: ',' or 'end of string'");
    expect(await message('=web')).toBe("found '=', expected: !, identifier, or 'end of string'");
    expect(await message('tier gt 1')).toBe(
      "unable to parse requirement: found 'gt', expected: '=', '!=', '==', 'in', notin'",
    );
    expect(await message('tier in ()x')).toBe("found 'x', expected: ',' or 'end of string'");
    expect(await message('tier=web_')).toMatch(
      /^unable to parse requirement: invalid label value: "web_": at key: "tier": /,
    );
    expect(await message('-tier')).toMatch(
      /^unable to parse requirement: invalid label key "-tier": name part must consist/,
    );
    expect(await message('tier>x')).toBe(
      "unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer",
    );
  });

  it('parses label selectors as labels.Parse does: in/notin as values, empty values, Gt/Lt', async () => {
    const q = async (labelSelector: string) =>
      names(await core.listNamespacedPod({ namespace: 'shop', labelSelector })).sort();
    expect(await q('tier in (web,,in)')).toEqual(['a-0', 'a-1', 'b-0']);
    expect(await q('tier in ()')).toEqual([]);
    expect(await q('tier>1')).toEqual([]);
    expect(await q('  app = cart ,  tier==db ')).toEqual(['a-2', 'a-3', 'a-4']);
  });

  it('rejects an unsupported field label with 400 like the real server', async () => {
    const bad = await statusOf(
      core.listNamespacedPod({ namespace: 'shop', fieldSelector: 'spec.color=blue' }),
    );
    expect(bad.code).toBe(400);
    expect(bad.body.message).toBe('field label not supported: spec.color');
  });

  it('pages with limit/continue in name order, with remainingItemCount', async () => {
    const first = await core.listNamespacedPod({ namespace: 'shop', limit: 3, labelSelector: 'app=cart' });
    expect(names(first)).toEqual(['a-0', 'a-1', 'a-2']);
    expect(first.metadata?.remainingItemCount).toBe(3);
    const second = await core.listNamespacedPod({
      namespace: 'shop',
      limit: 3,
      labelSelector: 'app=cart',
      _continue: first.metadata!._continue!,
    });
    expect(names(second)).toEqual(['a-3', 'a-4', 'b-0']);
    expect(second.metadata?._continue).toBeUndefined();
  });

  it('lists with kind/apiVersion on the list and none on items, as the real server does', async () => {
    const raw = await getJson(`${c.api.url}/api/v1/namespaces/shop/pods?limit=1`);
    expect(raw.kind).toBe('PodList');
    expect(raw.apiVersion).toBe('v1');
    expect(raw.items[0].kind).toBeUndefined();
    expect(Number(raw.metadata.resourceVersion)).toBeGreaterThan(0);
  });
});

describe('patch', () => {
  it("refuses an unknown patch content type in the router: 415 '415: Unsupported Media Type', details {}", async () => {
    const patchWith = (contentType: string, body = '{"spec":{"unschedulable":true}}') =>
      fetch(`${c.api.url}/api/v1/nodes/${NODE_A}`, {
        method: 'PATCH',
        headers: { 'content-type': contentType },
        body,
      });
    for (const contentType of ['application/json', 'application/bogus-patch+json']) {
      const response = await patchWith(contentType);
      expect(response.status).toBe(415);
      expect(await jsonOf(response)).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: '415: Unsupported Media Type',
        reason: 'UnsupportedMediaType',
        details: {},
        code: 415,
      });
    }
    // without a body go-restful answers 406 instead
    const empty = await patchWith('application/json', '');
    expect(empty.status).toBe(406);
    expect(await jsonOf(empty)).toMatchObject({ reason: 'NotAcceptable', message: '406: Not Acceptable' });
    // a list that names a patch type passes the router; the patch handler then refuses the whole header
    const listed = await patchWith('application/bogus, application/merge-patch+json');
    expect(listed.status).toBe(415);
    expect((await jsonOf(listed)).message).toMatch(/^the body of the request was in an unknown format/);
    expect((await core.readNode({ name: NODE_A })).spec?.unschedulable).toBeFalsy();
  });

  it('rejects a merge patch that is not an object (400 for a scalar, 422 for an array)', async () => {
    const patch = (body: string) =>
      fetch(`${c.api.url}/api/v1/nodes/${NODE_A}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/merge-patch+json' },
        body,
      });
    const scalar = await patch('"cordon"');
    expect(scalar.status).toBe(400);
    expect((await jsonOf(scalar)).message).toBe('Invalid JSON Patch');
    const array = await patch('[{"spec":{}}]');
    expect(array.status).toBe(422);
    expect((await jsonOf(array)).reason).toBe('Invalid');
  });

  it('applies a JSON patch (client-node default), with test ops failing as 422', async () => {
    const patched = await core.patchNode({
      name: NODE_B,
      body: [{ op: 'add', path: '/metadata/labels/spotguard.io~1state', value: 'draining' }],
    });
    expect(patched.metadata?.labels?.['spotguard.io/state']).toBe('draining');
    const failed = await statusOf(
      core.patchNode({ name: NODE_B, body: [{ op: 'test', path: '/spec/unschedulable', value: true }] }),
    );
    expect(failed.code).toBe(422);
  });

  it('a JSON patch that cannot be applied is the generic 422 (no json-patch error text), details {}', async () => {
    const generic = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'the server rejected our request due to an error in our request',
      reason: 'Invalid',
      details: {},
      code: 422,
    };
    for (const ops of [
      [{ op: 'test', path: '/metadata/name', value: 'other' }],
      [{ op: 'remove', path: '/metadata/labels/absent' }],
      [{ op: 'replace', path: '/spec/nothing/here', value: 1 }],
    ]) {
      const response = await fetch(`${c.api.url}/api/v1/nodes/${NODE_B}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json-patch+json' },
        body: JSON.stringify(ops),
      });
      expect(response.status).toBe(422);
      expect(await jsonOf(response)).toEqual(generic);
    }
  });

  it('merge patch sets taints and unschedulable in one request; strategic merge replaces taints like the real server', async () => {
    const merged = await core.patchNode(
      {
        name: NODE_B,
        body: {
          spec: {
            unschedulable: true,
            taints: [{ key: 'spotguard.io/draining', value: 'spot-itn', effect: 'NoSchedule' }],
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(merged.spec?.unschedulable).toBe(true);
    expect(merged.spec?.taints).toHaveLength(1);
    // node.spec.taints has no patchMergeKey in k8s.io/api: a strategic merge patch replaces the whole list
    const strategic = await core.patchNode(
      { name: NODE_B, body: { spec: { taints: [{ key: 'other', effect: 'NoExecute' }] } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(strategic.spec?.taints?.map((t) => t.key)).toEqual(['other']);
  });

  it('strategic merge merges finalizers as a set and conditions by type', async () => {
    await core.createNamespacedConfigMap({
      namespace: 'shop',
      body: { metadata: { name: 'fin', finalizers: ['a.io/x'] } },
    });
    const patched = await core.patchNamespacedConfigMap(
      { name: 'fin', namespace: 'shop', body: { metadata: { finalizers: ['b.io/y', 'a.io/x'] } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(patched.metadata?.finalizers).toEqual(['a.io/x', 'b.io/y']);
  });

  it('a patch carrying a stale resourceVersion is a 409 conflict', async () => {
    const result = await statusOf(
      core.patchNode(
        { name: NODE_A, body: { metadata: { resourceVersion: '1' }, spec: { unschedulable: true } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(result.code).toBe(409);
  });

  it('server-side apply needs a fieldManager, then creates or patches from YAML', async () => {
    const apply = (query: string, body: string) =>
      fetch(`${c.api.url}/api/v1/namespaces/shop/configmaps/applied${query}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/apply-patch+yaml' },
        body,
      });
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  mode: spot\n';
    const missing = await apply('', yaml);
    expect(missing.status).toBe(422);
    expect((await jsonOf(missing)).message).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    );
    expect((await apply('?fieldManager=spotguard', yaml)).status).toBe(201);
    const again = await apply('?fieldManager=spotguard', yaml.replace('spot', 'on-demand'));
    expect(again.status).toBe(200);
    expect((await jsonOf(again)).data).toEqual({ mode: 'on-demand' });
  });

  it('dryRun=All answers with the patched object and stores nothing', async () => {
    const before = await core.readNode({ name: NODE_A });
    const dry = await core.patchNode(
      { name: NODE_A, dryRun: 'All', body: { metadata: { labels: { dry: 'run' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(dry.metadata?.labels?.dry).toBe('run');
    const after = await core.readNode({ name: NODE_A });
    expect(after.metadata?.labels?.dry).toBeUndefined();
    expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });
});

describe('delete', () => {
  it('gives a scheduled pod a deletionTimestamp and grace period; it stays until the kubelet removes it', async () => {
    const deleted = await core.deleteNamespacedPod({
      name: 'a-4',
      namespace: 'shop',
      gracePeriodSeconds: 10,
    });
    expect(deleted.metadata?.deletionGracePeriodSeconds).toBe(10);
    expect(deleted.metadata?.deletionTimestamp).toBeDefined();
    expect(c.store.get('pods', 'shop', 'a-4')).toBeDefined();
  });

  it('deletes unscheduled pods and grace-0 deletions at once', async () => {
    await core.deleteNamespacedPod({ name: 'fresh', namespace: 'shop' });
    expect(c.store.get('pods', 'shop', 'fresh')).toBeUndefined();
    await core.deleteNamespacedPod({ name: 'a-3', namespace: 'shop', gracePeriodSeconds: 0 });
    expect(c.store.get('pods', 'shop', 'a-3')).toBeUndefined();
  });

  it('dryRun=All deletes nothing', async () => {
    const dry = await core.deleteNamespacedPod({
      name: 'a-2',
      namespace: 'shop',
      dryRun: 'All',
      gracePeriodSeconds: 0,
    });
    expect(dry.metadata?.name).toBe('a-2');
    expect(c.store.get('pods', 'shop', 'a-2')?.metadata.deletionTimestamp).toBeUndefined();
  });

  it('checks preconditions.uid', async () => {
    const result = await statusOf(
      core.deleteNamespacedPod({
        name: 'a-2',
        namespace: 'shop',
        body: { preconditions: { uid: 'not-the-uid' } },
      }),
    );
    expect(result.code).toBe(409);
    expect(String(result.body.message)).toMatch(
      /^Operation cannot be fulfilled on pods "a-2": Precondition failed: UID in precondition: not-the-uid, UID in object meta: [0-9a-f-]{36}$/,
    );
  });

  it('leaves Foreground / Orphan deletions terminating with the finalizer the garbage collector finishes', async () => {
    await apps.createNamespacedReplicaSet({
      namespace: 'shop',
      body: {
        metadata: { name: 'fg' },
        spec: { selector: { matchLabels: { app: 'fg' } }, template: { metadata: { labels: { app: 'fg' } } } },
      },
    });
    await apps.deleteNamespacedReplicaSet({ name: 'fg', namespace: 'shop', propagationPolicy: 'Foreground' });
    const foreground = c.store.get('replicasets', 'shop', 'fg')!;
    expect(foreground.metadata.deletionTimestamp).toBeDefined();
    expect(foreground.metadata.finalizers).toEqual(['foregroundDeletion']);
    await core.createNamespacedConfigMap({ namespace: 'shop', body: { metadata: { name: 'orph' } } });
    await core.deleteNamespacedConfigMap({
      name: 'orph',
      namespace: 'shop',
      body: { orphanDependents: true },
    });
    expect(c.store.get('configmaps', 'shop', 'orph')?.metadata.finalizers).toEqual(['orphan']);
    await core.createNamespacedConfigMap({ namespace: 'shop', body: { metadata: { name: 'bg' } } });
    await core.deleteNamespacedConfigMap({ name: 'bg', namespace: 'shop', propagationPolicy: 'Background' });
    expect(c.store.get('configmaps', 'shop', 'bg')).toBeUndefined();
  });

  it('keeps an object with finalizers until the last finalizer is removed', async () => {
    await core.createNamespacedConfigMap({
      namespace: 'shop',
      body: { metadata: { name: 'held', finalizers: ['x.io/hold'] } },
    });
    await core.deleteNamespacedConfigMap({ name: 'held', namespace: 'shop' });
    expect(c.store.get('configmaps', 'shop', 'held')?.metadata.deletionTimestamp).toBeDefined();
    await core.patchNamespacedConfigMap({
      name: 'held',
      namespace: 'shop',
      body: [{ op: 'remove', path: '/metadata/finalizers' }],
    });
    expect(c.store.get('configmaps', 'shop', 'held')).toBeUndefined();
  });
});

describe('validation a client can trip over', () => {
  it('rejects a label value that is not a valid label (e.g. a timestamp) with 422 Invalid', async () => {
    const result = await statusOf(
      core.patchNode(
        {
          name: NODE_A,
          body: { metadata: { labels: { 'spotguard.io/drained-at': '2026-11-21T05:00:00Z' } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(result.code).toBe(422);
    expect(result.body).toMatchObject({
      reason: 'Invalid',
      message: `Node "${NODE_A}" is invalid: metadata.labels: Invalid value: "2026-11-21T05:00:00Z": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
      details: {
        name: NODE_A,
        kind: 'Node',
        causes: [{ reason: 'FieldValueInvalid', field: 'metadata.labels' }],
      },
    });
  });

  it('rejects duplicate taints (same key and effect) and unknown effects', async () => {
    const taint = { key: 'spotguard.io/draining', value: 'true', effect: 'NoSchedule' };
    const duplicate = await statusOf(
      core.patchNode(
        { name: NODE_A, body: { spec: { taints: [taint, { ...taint, value: 'again' }] } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(duplicate.code).toBe(422);
    expect(duplicate.body.message).toBe(
      `Node "${NODE_A}" is invalid: spec.taints[1]: Duplicate value: core.Taint{Key:"spotguard.io/draining", Value:"again", Effect:"NoSchedule", TimeAdded:<nil>}: taints must be unique by key and effect pair`,
    );
    const effect = await statusOf(
      core.patchNode(
        { name: NODE_A, body: { spec: { taints: [{ key: 'x', effect: 'NoWay' }] } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(effect.body.message).toBe(
      `Node "${NODE_A}" is invalid: spec.taints[0].effect: Unsupported value: "NoWay": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"`,
    );
  });

  it('rejects a name that is not a DNS subdomain', async () => {
    const result = await statusOf(
      core.createNamespacedConfigMap({ namespace: 'shop', body: { metadata: { name: 'Bad_Name' } } }),
    );
    expect(result.code).toBe(422);
    expect(String(result.body.message)).toMatch(
      /^ConfigMap "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
    );
  });

  it('forbids changing a pod spec beyond images, tolerations added and deadlines', async () => {
    const moved = await statusOf(
      core.patchNamespacedPod(
        { name: 'a-0', namespace: 'shop', body: { spec: { nodeName: NODE_B } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(moved.code).toBe(422);
    expect(String(moved.body.message)).toMatch(
      /^Pod "a-0" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\]\.image`/,
    );
    const image = await core.patchNamespacedPod({
      name: 'a-0',
      namespace: 'shop',
      body: [{ op: 'replace', path: '/spec/containers/0/image', value: 'nginx:1.28' }],
    });
    expect(image.spec?.containers[0]?.image).toBe('nginx:1.28');
  });
});

describe('namespaces', () => {
  it('deleting a namespace makes it Terminating, refuses new content, deletes its objects and then itself', async () => {
    await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'cfg' } } });
    c.store.create('pods', pod('runner', { namespace: 'doomed', node: NODE_A }));
    await core.deleteNamespace({ name: 'doomed' });
    const ns = await core.readNamespace({ name: 'doomed' });
    expect(ns.status?.phase).toBe('Terminating');
    expect(c.store.get('configmaps', 'doomed', 'cfg')).toBeUndefined();
    expect(c.store.get('pods', 'doomed', 'runner')?.metadata.deletionTimestamp).toBeDefined();
    const refused = await statusOf(
      core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'late' } } }),
    );
    expect(refused.code).toBe(403);
    expect(refused.body.message).toBe(
      'unable to create new content in namespace doomed because it is being terminated',
    );
    c.store.delete('pods', 'doomed', 'runner'); // the kubelet finishes the pod
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await statusOf(core.readNamespace({ name: 'doomed' }))).code).toBe(404);
  });
});

describe('discovery and non-resource endpoints', () => {
  it('serves version, health and resource lists with kinds, verbs, shortNames and subresources', async () => {
    const version = await getJson(`${c.api.url}/version`);
    expect(version.gitVersion).toMatch(/^v1\.30\.\d+-eks-/);
    expect(await (await fetch(`${c.api.url}/healthz`)).text()).toBe('ok');
    const coreList = await getJson(`${c.api.url}/api/v1`);
    const byName = Object.fromEntries(coreList.resources.map((r: { name: string }) => [r.name, r]));
    expect(byName.pods).toMatchObject({ kind: 'Pod', namespaced: true, shortNames: ['po'] });
    expect(byName.nodes).toMatchObject({ kind: 'Node', namespaced: false, shortNames: ['no'] });
    expect(byName['pods/eviction']).toMatchObject({
      group: 'policy',
      version: 'v1',
      kind: 'Eviction',
      verbs: ['create'],
    });
    expect(byName['nodes/status']).toMatchObject({ kind: 'Node', verbs: ['get', 'patch', 'update'] });
    const policyList = await getJson(`${c.api.url}/apis/policy/v1`);
    expect(policyList.resources[0]).toMatchObject({ name: 'poddisruptionbudgets', shortNames: ['pdb'] });
    const groups = await getJson(`${c.api.url}/apis`);
    expect(groups.groups.map((g: { name: string }) => g.name)).toEqual(
      expect.arrayContaining([
        'apps',
        'policy',
        'coordination.k8s.io',
        'storage.k8s.io',
        'events.k8s.io',
        'scheduling.k8s.io',
      ]),
    );
    // kubectl's client-side validation reads these (test/demo/kubectl-apply-explain.test.ts)
    expect((await fetch(`${c.api.url}/openapi/v2`)).status).toBe(200);
  });

  it('serves core events through events.k8s.io/v1 with that shape', async () => {
    await core.createNamespacedEvent({
      namespace: 'shop',
      body: {
        metadata: { name: 'ev1' },
        involvedObject: { kind: 'Pod', name: 'a-0', namespace: 'shop' },
        reason: 'Evicted',
        message: 'evicted by spotguard',
        type: 'Normal',
        source: { component: 'spotguard' },
      },
    });
    const v1 = await getJson(`${c.api.url}/apis/events.k8s.io/v1/namespaces/shop/events/ev1`);
    expect(v1).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      regarding: { name: 'a-0' },
      note: 'evicted by spotguard',
    });
    const byField = await core.listNamespacedEvent({
      namespace: 'shop',
      fieldSelector: 'involvedObject.name=a-0,reason=Evicted',
    });
    expect(names(byField)).toEqual(['ev1']);
  });
});
