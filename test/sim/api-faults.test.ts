// Fault injection, authentication and request counting of the simulated API server.
import { Sha256 } from '@aws-crypto/sha256-js';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { kubeconfigYaml } from '../../sim/k8s/api/server.ts';
import { jsonOf, node, startTestCluster, statusOf, type TestCluster } from './api-support.ts';

let c: TestCluster;

beforeAll(async () => {
  c = await startTestCluster();
  c.store.create('nodes', node('ip-10-0-9-90.ec2.internal'));
});
afterAll(() => c.stop());
beforeEach(() => c.faults.clear());

/** An EKS token as aws-iam-authenticator / `aws eks get-token` builds it, signed at `date`. */
async function eksToken(
  opts: { signClusterHeader?: boolean; date?: Date; temporaryWithoutSession?: boolean } = {},
): Promise<string> {
  const credentials = opts.temporaryWithoutSession
    ? { accessKeyId: 'ASIASIMULATED000002', secretAccessKey: 'simulated-secret' }
    : { accessKeyId: 'ASIASIMULATED000001', secretAccessKey: 'simulated-secret', sessionToken: 'session' };
  const signer = new SignatureV4({
    credentials,
    region: 'us-east-1',
    service: 'sts',
    sha256: Sha256,
  });
  const headers: Record<string, string> = { host: 'sts.us-east-1.amazonaws.com' };
  if (opts.signClusterHeader !== false) headers['x-k8s-aws-id'] = 'spot-cluster';
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname: 'sts.us-east-1.amazonaws.com',
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers,
    },
    { expiresIn: 60, signingDate: opts.date ?? new Date() },
  );
  const query = new URLSearchParams(presigned.query as Record<string, string>).toString();
  const url = `https://${presigned.hostname}${presigned.path}?${query}`;
  return `k8s-aws-v1.${Buffer.from(url).toString('base64url')}`;
}

function coreWithToken(token: string): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(c.api.url, { token }));
  return kc.makeApiClient(CoreV1Api);
}

describe('fault injection', () => {
  it('answers an injected 429 like API Priority and Fairness (plain text, Retry-After), `count` times', async () => {
    c.faults.add({
      service: 'k8s',
      verb: 'list',
      resource: 'pods',
      status: 429,
      retryAfterSeconds: 2,
      count: 1,
    });
    const throttled = await fetch(`${c.api.url}/api/v1/pods`);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('2');
    expect(throttled.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(throttled.headers.get('x-kubernetes-pf-flowschema-uid')).toBeTruthy();
    expect(await throttled.text()).toBe('Too many requests, please try again later.\n');
    expect((await fetch(`${c.api.url}/api/v1/pods`)).status).toBe(200);
    // client-node surfaces it as an ApiException carrying the text and the header
    c.faults.add({ service: 'k8s', verb: 'list', resource: 'pods', status: 429, count: 1 });
    const viaClient = await c.kc
      .makeApiClient(CoreV1Api)
      .listPodForAllNamespaces()
      .then(
        () => undefined,
        (e: { code: number; headers: Record<string, string> }) => e,
      );
    expect(viaClient?.code).toBe(429);
    expect(viaClient?.headers['retry-after']).toBe('1');
  });

  it('matches on verb, resource and subresource', async () => {
    c.faults.add({ service: 'k8s', verb: 'patch', resource: 'nodes', status: 503 });
    c.faults.add({ service: 'k8s', verb: 'create', resource: 'pods', subresource: 'eviction', status: 500 });
    const core = c.kc.makeApiClient(CoreV1Api);
    expect((await core.readNode({ name: 'ip-10-0-9-90.ec2.internal' })).metadata?.name).toBe(
      'ip-10-0-9-90.ec2.internal',
    );
    const patched = await statusOf(
      core.patchNode({
        name: 'ip-10-0-9-90.ec2.internal',
        body: [{ op: 'add', path: '/spec/unschedulable', value: true }],
      }),
    );
    expect(patched.code).toBe(503);
    expect(patched.body.reason).toBe('ServiceUnavailable');
    const evicted = await statusOf(
      core.createNamespacedPodEviction({
        name: 'x',
        namespace: 'default',
        body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'x', namespace: 'default' } },
      }),
    );
    expect(evicted.code).toBe(500);
    expect(evicted.body.reason).toBe('InternalError');
  });

  it('a latency rule delays but still answers; a timeout rule never answers', async () => {
    c.faults.add({ service: 'k8s', verb: 'get', resource: 'nodes', latencyMs: 30 });
    expect((await fetch(`${c.api.url}/api/v1/nodes/ip-10-0-9-90.ec2.internal`)).status).toBe(200);
    c.faults.clear();
    c.faults.add({ service: 'k8s', verb: 'get', resource: 'nodes', timeout: true, count: 1 });
    const outcome = await fetch(`${c.api.url}/api/v1/nodes/ip-10-0-9-90.ec2.internal`, {
      signal: AbortSignal.timeout(300),
    }).then(
      (r) => `answered ${r.status}`,
      (e: Error) => e.name,
    );
    expect(outcome).toBe('TimeoutError');
  });

  it('ignores rules for other services', async () => {
    c.faults.add({ service: 'autoscaling', status: 500 });
    expect((await fetch(`${c.api.url}/api/v1/nodes`)).status).toBe(200);
  });
});

describe('authentication', () => {
  it('accepts no token and any plain bearer token', async () => {
    expect((await fetch(`${c.api.url}/api/v1/nodes`)).status).toBe(200);
    const list = await coreWithToken('whatever').listNode();
    expect(list.items).toHaveLength(1);
  });

  it('accepts a well-formed, fresh EKS token', async () => {
    const list = await coreWithToken(await eksToken()).listNode();
    expect(list.items).toHaveLength(1);
  });

  it('rejects EKS tokens without the signed x-k8s-aws-id header, expired, temporary credentials without session token, or not a presigned URL with 401', async () => {
    const unsignedToken = await eksToken({ signClusterHeader: false });
    expect((await statusOf(coreWithToken(unsignedToken).listNode())).code).toBe(401);
    const raw = await fetch(`${c.api.url}/api/v1/nodes`, {
      headers: { authorization: `Bearer ${unsignedToken}` },
    });
    expect(raw.status).toBe(401);
    expect(await jsonOf(raw)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
    const expired = await statusOf(
      coreWithToken(await eksToken({ date: new Date(Date.now() - 16 * 60_000) })).listNode(),
    );
    expect(expired.code).toBe(401);
    const noSession = await statusOf(
      coreWithToken(await eksToken({ temporaryWithoutSession: true })).listNode(),
    );
    expect(noSession.code).toBe(401);
    const garbage = await statusOf(
      coreWithToken(`k8s-aws-v1.${Buffer.from('hello').toString('base64url')}`).listNode(),
    );
    expect(garbage.code).toBe(401);
  });
});

describe('request log', () => {
  it('counts requests by verb and resource[/subresource]', async () => {
    c.api.requests.reset();
    const core = c.kc.makeApiClient(CoreV1Api);
    await core.readNode({ name: 'ip-10-0-9-90.ec2.internal' });
    await core.readNode({ name: 'ip-10-0-9-90.ec2.internal' });
    await core.listPodForAllNamespaces();
    await statusOf(
      core.createNamespacedPodEviction({
        name: 'gone',
        namespace: 'default',
        body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'gone', namespace: 'default' } },
      }),
    );
    expect(c.api.requests.byKey()).toEqual({ 'create pods/eviction': 1, 'get nodes': 2, 'list pods': 1 });
    expect(c.api.requests.total()).toBe(4);
  });
});
