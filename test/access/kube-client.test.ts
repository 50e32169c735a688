import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EKSClient } from '@aws-sdk/client-eks';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { resetAwsClients } from '../../shared/aws/clients.ts';
import {
  getKubeClients,
  kubeClientsForEks,
  kubeClientsFromConfig,
  kubeClientsFromKubeconfig,
  resetKubeClients,
} from '../../shared/k8s/client.ts';
import { decodeEksToken } from '../../shared/k8s/eks-token.ts';
import { useTestAwsEnv } from './support/aws-env.ts';
import { eksTokenCheck, startTestAws, type TestAws } from './support/eks-server.ts';
import { startLoopbackServer } from './support/http-server.ts';
import { startTestKubeApi, type TestKubeApi, testNode } from './support/kube-server.ts';
import { selfSignedLoopbackCert } from './support/tls.ts';

const identity = {
  accessKeyId: 'ASIALAMBDAROLE000001',
  secretAccessKey: 'lambda-role-secret',
  arn: 'arn:aws:sts::111122223333:assumed-role/spotguard/drain',
  account: '111122223333',
};
const lambdaCredentials = {
  accessKeyId: identity.accessKeyId,
  secretAccessKey: identity.secretAccessKey,
  sessionToken: 'lambda-session-token',
};
const nodes = [testNode('ip-10-0-0-1.eu-west-1.compute.internal', 'aws:///eu-west-1a/i-0000000000000001')];
const authorizations = (kube: TestKubeApi) => kube.requests.map((r) => r.headers.authorization ?? '');

describe('kubeClientsFromKubeconfig', () => {
  let kube: TestKubeApi;
  let dir: string;
  let path: string;
  beforeAll(async () => {
    kube = await startTestKubeApi(nodes);
    dir = mkdtempSync(join(tmpdir(), 'spotguard-kubeconfig-'));
    path = join(dir, 'config');
    writeFileSync(
      path,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'sim', cluster: { server: kube.url } }],
        users: [
          { name: 'alice', user: { token: 'alice-token' } },
          { name: 'bob', user: { token: 'bob-token' } },
        ],
        contexts: [
          { name: 'as-alice', context: { cluster: 'sim', user: 'alice' } },
          { name: 'as-bob', context: { cluster: 'sim', user: 'bob' } },
        ],
        'current-context': 'as-alice',
      }),
    );
  });
  afterEach(() => {
    kube.requests.length = 0;
    resetKubeClients();
    delete process.env.SPOTGUARD_KUBECONFIG;
    delete process.env.SPOTGUARD_KUBE_CONTEXT;
  });
  afterAll(async () => {
    await kube.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('uses the current context and exposes the server URL', async () => {
    const clients = kubeClientsFromKubeconfig(path);
    expect(clients.server).toBe(kube.url);
    const node = await clients.core.readNode({ name: nodes[0]!.metadata.name });
    expect(node.spec?.providerID).toBe('aws:///eu-west-1a/i-0000000000000001');
    expect(authorizations(kube)).toEqual(['Bearer alice-token']);
  });

  it('switches to a named context, and names a missing one', async () => {
    await kubeClientsFromKubeconfig(path, 'as-bob').core.listNode();
    expect(authorizations(kube)).toEqual(['Bearer bob-token']);
    expect(() => kubeClientsFromKubeconfig(path, 'as-carol')).toThrow(/no context "as-carol"/);
  });

  it('merges a KUBECONFIG-style list of files, the first current-context winning', async () => {
    const second = join(dir, 'second');
    writeFileSync(
      second,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'sim2', cluster: { server: kube.url } }],
        users: [{ name: 'carol', user: { token: 'carol-token' } }],
        contexts: [{ name: 'as-carol', context: { cluster: 'sim2', user: 'carol' } }],
        'current-context': 'as-carol',
      }),
    );
    await kubeClientsFromKubeconfig(`${path}:${second}`).core.listNode();
    await kubeClientsFromKubeconfig(`${path}:${second}`, 'as-carol').core.listNode();
    expect(authorizations(kube)).toEqual(['Bearer alice-token', 'Bearer carol-token']);
  });

  it('names a kubeconfig file that does not exist', () => {
    expect(() => kubeClientsFromKubeconfig(`${path}:${join(dir, 'nope')}`)).toThrow(/not found: .*nope/);
  });

  it('getKubeClients prefers SPOTGUARD_KUBECONFIG and caches per container', async () => {
    process.env.SPOTGUARD_KUBECONFIG = path;
    process.env.SPOTGUARD_KUBE_CONTEXT = 'as-bob';
    const clients = await getKubeClients();
    expect(await getKubeClients()).toBe(clients);
    await clients.core.listNode();
    expect(authorizations(kube)).toEqual(['Bearer bob-token']);
  });

  it('identifies itself as spotguard in the User-Agent', async () => {
    await kubeClientsFromKubeconfig(path).core.listNode();
    expect(kube.requests[0]!.headers['user-agent']).toMatch(/^spotguard/);
  });

  it('abandons an API call the server never answers, after the request timeout', async () => {
    const silent = await startLoopbackServer(() => new Promise(() => {}));
    try {
      const config = new KubeConfig();
      config.loadFromClusterAndUser(
        { name: 'silent', server: silent.url, skipTLSVerify: true },
        { name: 'u' },
      );
      const clients = kubeClientsFromConfig(config, { requestTimeoutMs: 200 });
      await expect(clients.core.readNode({ name: 'n1' })).rejects.toMatchObject({ name: 'TimeoutError' });
      // each attempt times out on its own; a GET is tried 4 times (shared/k8s/retry.ts), then given up
      expect(silent.requests.map((r) => r.url.pathname)).toEqual(Array(4).fill('/api/v1/nodes/n1'));
    } finally {
      await silent.close();
    }
  });

  it('getKubeClients explains what to set when nothing is configured', async () => {
    await expect(getKubeClients({})).rejects.toThrow(/CLUSTER_NAME.*KUBECONFIG/);
  });
});

describe('kubeClientsForEks', () => {
  let aws: TestAws;
  let kube: TestKubeApi;
  let now = new Date();
  const clock = () => now;
  let eks: EKSClient;

  beforeAll(async () => {
    useTestAwsEnv('eu-west-1');
    const tls = selfSignedLoopbackCert();
    aws = await startTestAws(identity);
    kube = await startTestKubeApi(nodes, eksTokenCheck('prod', clock), tls);
    aws.clusters.push({ name: 'prod', endpoint: kube.url, caData: Buffer.from(tls.cert).toString('base64') });
    eks = new EKSClient({ region: 'eu-west-1', endpoint: aws.url, credentials: lambdaCredentials });
  });
  afterEach(() => {
    now = new Date();
    kube.requests.length = 0;
    aws.requests.length = 0;
    resetKubeClients();
    resetAwsClients();
    delete process.env.AWS_ENDPOINT_URL;
    delete process.env.CLUSTER_NAME;
  });
  afterAll(async () => {
    await kube.close();
    await aws.close();
  });

  it('talks TLS to the DescribeCluster endpoint with its CA and an IAM token EKS accepts', async () => {
    const clients = await kubeClientsForEks({
      clusterName: 'prod',
      region: 'eu-west-1',
      eks,
      stsEndpoint: aws.url,
      now: clock,
    });
    expect(clients.server).toBe(kube.url);
    expect(clients.server.startsWith('https://')).toBe(true);
    const list = await clients.core.listNode();
    expect(list.items.map((n) => n.metadata?.name)).toEqual([nodes[0]!.metadata.name]);
    const url = decodeEksToken(authorizations(kube)[0]!.replace('Bearer ', ''));
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('lambda-session-token');
    expect(url.origin).toBe(aws.url);
  });

  it('keeps working past 15 minutes in a warm container: new token, same clients', async () => {
    now = new Date();
    const clients = await kubeClientsForEks({
      clusterName: 'prod',
      region: 'eu-west-1',
      eks,
      stsEndpoint: aws.url,
      now: clock,
    });
    await clients.core.listNode();
    now = new Date(now.getTime() + 10 * 60_000);
    await clients.core.listNode();
    now = new Date(now.getTime() + 10 * 60_000); // 20 min after the first token: it would be refused
    await clients.core.listNode();
    const [first, second, third] = authorizations(kube);
    expect(second).toBe(first);
    expect(third).not.toBe(first);
    // The API server did accept every call (401 would have thrown) and really refuses the old token.
    expect(await eksTokenCheck('prod', clock)(first)).toBe(false);
    expect(await eksTokenCheck('prod', clock)(third)).toBe(true);
  });

  it('authenticates watches too (client-node Watch asks the same KubeConfig)', async () => {
    const clients = await kubeClientsForEks({
      clusterName: 'prod',
      region: 'eu-west-1',
      eks,
      stsEndpoint: aws.url,
    });
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      new Watch(clients.config)
        .watch(
          '/api/v1/nodes',
          {},
          (type, node) => seen.push(`${type} ${node.metadata.name}`),
          (err) => (err ? reject(err) : resolve()),
        )
        .catch(reject);
    });
    expect(seen).toEqual([`ADDED ${nodes[0]!.metadata.name}`]);
    expect(authorizations(kube)[0]).toMatch(/^Bearer k8s-aws-v1\./);
  });

  it('is refused by the cluster when the token is for another cluster', async () => {
    aws.clusters.push({ name: 'other', endpoint: kube.url, caData: aws.clusters[0]!.caData! });
    const prod = await kubeClientsForEks({
      clusterName: 'prod',
      region: 'eu-west-1',
      eks,
      stsEndpoint: aws.url,
    });
    await prod.core.listNode(); // control: the same server, clock and credentials accept prod's token
    const other = await kubeClientsForEks({
      clusterName: 'other',
      region: 'eu-west-1',
      eks,
      stsEndpoint: aws.url,
    });
    await expect(other.core.listNode()).rejects.toMatchObject({ code: 401 });
  });

  it('describes the cluster once per container', async () => {
    await kubeClientsForEks({ clusterName: 'prod', region: 'eu-west-1', eks, stsEndpoint: aws.url });
    await kubeClientsForEks({ clusterName: 'prod', region: 'eu-west-1', eks, stsEndpoint: aws.url });
    expect(aws.describeClusterCalls()).toBe(1);
  });

  it('names the cluster when DescribeCluster fails', async () => {
    await expect(
      kubeClientsForEks({ clusterName: 'nope', region: 'eu-west-1', eks, stsEndpoint: aws.url }),
    ).rejects.toThrow(
      'EKS DescribeCluster "nope" failed: ResourceNotFoundException: No cluster found for name: nope.',
    );
  });

  it('getKubeClients builds EKS access from CLUSTER_NAME, AWS_REGION and AWS_ENDPOINT_URL (EKS and STS)', async () => {
    process.env.AWS_ENDPOINT_URL = aws.url;
    process.env.CLUSTER_NAME = 'prod';
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: identity.accessKeyId,
      AWS_SECRET_ACCESS_KEY: identity.secretAccessKey,
    };
    process.env.AWS_ACCESS_KEY_ID = identity.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = identity.secretAccessKey;
    const clients = await getKubeClients(env);
    await clients.core.listNode();
    expect(aws.describeClusterCalls()).toBe(1);
    expect(decodeEksToken(authorizations(kube)[0]!.replace('Bearer ', '')).origin).toBe(aws.url);
  });
});
