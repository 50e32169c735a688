import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLUSTER_ID_HEADER,
  createEksToken,
  decodeEksToken,
  EKS_TOKEN_PREFIX,
  EksTokenSource,
  regionalStsEndpoint,
} from '../../shared/k8s/eks-token.ts';
import type { LoopbackServer } from './support/http-server.ts';
import { verifyPresignedUrl } from './support/sigv4-verify.ts';
import { startTestSts } from './support/sts-server.ts';

const credentials = {
  accessKeyId: 'ASIATESTKEY00000001',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYTESTKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJGMEQ+session/token=',
};
const fixedNow = () => new Date('2026-11-21T10:20:30.456Z');

describe('createEksToken', () => {
  it('wraps a presigned STS GetCallerIdentity URL in unpadded base64url', async () => {
    const { token, expiresAt } = await createEksToken({
      clusterName: 'prod-a',
      region: 'eu-west-1',
      credentials,
      now: fixedNow,
    });
    expect(token.startsWith(EKS_TOKEN_PREFIX)).toBe(true);
    const body = token.slice(EKS_TOKEN_PREFIX.length);
    expect(body).toMatch(/^[A-Za-z0-9_-]+$/); // base64url alphabet, no '=' padding
    const url = decodeEksToken(token);
    expect(url.origin).toBe('https://sts.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    const q = url.searchParams;
    expect(q.get('Action')).toBe('GetCallerIdentity');
    expect(q.get('Version')).toBe('2011-06-15');
    expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(q.get('X-Amz-Credential')).toBe(`${credentials.accessKeyId}/20261121/eu-west-1/sts/aws4_request`);
    expect(q.get('X-Amz-Date')).toBe('20261121T102030Z');
    expect(q.get('X-Amz-Expires')).toBe('60');
    expect(q.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(q.get('X-Amz-Security-Token')).toBe(credentials.sessionToken);
    expect(expiresAt.toISOString()).toBe('2026-11-21T10:35:30.000Z');
  });

  it('produces a signature that an independent SigV4 implementation accepts', async () => {
    const { token } = await createEksToken({
      clusterName: 'prod-a',
      region: 'eu-west-1',
      credentials,
      now: fixedNow,
    });
    const url = decodeEksToken(token);
    const headers = { host: url.host, [CLUSTER_ID_HEADER]: 'prod-a' };
    const check = verifyPresignedUrl(url, headers, credentials.secretAccessKey);
    expect(check.actual).toBe(check.expected);
    // The cluster name is signed: replaying the URL for another cluster must fail.
    expect(
      verifyPresignedUrl(url, { ...headers, [CLUSTER_ID_HEADER]: 'other' }, credentials.secretAccessKey).ok,
    ).toBe(false);
  });

  it('omits X-Amz-Security-Token for long-term keys and honours an STS endpoint override', async () => {
    const { token } = await createEksToken({
      clusterName: 'c1',
      region: 'us-east-2',
      credentials: async () => ({ accessKeyId: 'AKIALONGTERM', secretAccessKey: 'secret' }),
      stsEndpoint: 'http://127.0.0.1:4599',
      now: fixedNow,
    });
    const url = decodeEksToken(token);
    expect(url.origin).toBe('http://127.0.0.1:4599');
    expect(url.searchParams.has('X-Amz-Security-Token')).toBe(false);
    expect(url.searchParams.get('X-Amz-Credential')).toContain('/us-east-2/sts/aws4_request');
    expect(verifyPresignedUrl(url, { host: url.host, [CLUSTER_ID_HEADER]: 'c1' }, 'secret').ok).toBe(true);
  });

  it('uses the partition of the region for the default STS endpoint', () => {
    expect(regionalStsEndpoint('us-gov-west-1')).toBe('https://sts.us-gov-west-1.amazonaws.com');
    expect(regionalStsEndpoint('cn-north-1')).toBe('https://sts.cn-north-1.amazonaws.com.cn');
  });

  it('rejects something that is not an EKS token, naming the expected prefix', () => {
    expect(() => decodeEksToken('Bearer abc')).toThrow(/k8s-aws-v1\./);
  });
});

describe('EksTokenSource', () => {
  it('reuses the token for 14 minutes and refreshes after', async () => {
    let now = new Date('2026-11-21T10:00:00Z');
    const source = new EksTokenSource({ clusterName: 'c', region: 'eu-west-1', credentials, now: () => now });
    const first = await source.token();
    now = new Date('2026-11-21T10:13:59Z');
    expect(await source.token()).toBe(first);
    now = new Date('2026-11-21T10:14:00Z');
    const second = await source.token();
    expect(second).not.toBe(first);
    expect(decodeEksToken(second).searchParams.get('X-Amz-Date')).toBe('20261121T101400Z');
  });

  it('ends the token with its credentials when they expire before the 15 minutes, and refreshes ahead', async () => {
    let now = new Date('2026-11-21T10:00:00Z');
    let fetched = 0;
    const expiringSoon = async () => {
      fetched++;
      return { ...credentials, expiration: new Date(now.getTime() + 5 * 60_000) };
    };
    const made = await createEksToken({
      clusterName: 'c',
      region: 'eu-west-1',
      credentials: expiringSoon,
      now: () => now,
    });
    expect(made.expiresAt.toISOString()).toBe('2026-11-21T10:05:00.000Z');
    const source = new EksTokenSource({
      clusterName: 'c',
      region: 'eu-west-1',
      credentials: expiringSoon,
      now: () => now,
    });
    const first = await source.token();
    now = new Date('2026-11-21T10:03:59Z');
    expect(await source.token()).toBe(first);
    now = new Date('2026-11-21T10:04:00Z'); // one minute before the credentials expire
    expect(await source.token()).not.toBe(first);
    expect(fetched).toBe(3);
  });

  it('shares one refresh between concurrent callers', async () => {
    let calls = 0;
    const source = new EksTokenSource({
      clusterName: 'c',
      region: 'eu-west-1',
      credentials: async () => {
        calls++;
        return credentials;
      },
    });
    const tokens = await Promise.all([source.token(), source.token(), source.token()]);
    expect(new Set(tokens).size).toBe(1);
    expect(calls).toBe(1);
  });
});

describe('token against a loopback STS', () => {
  const identity = {
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    arn: 'arn:aws:sts::111122223333:assumed-role/spotguard/fn',
    account: '111122223333',
  };
  let sts: LoopbackServer;
  beforeAll(async () => {
    sts = await startTestSts(identity);
  });
  afterAll(() => sts.close());

  it('is accepted by STS when replayed with the cluster header, as the EKS authenticator does', async () => {
    const { token } = await createEksToken({
      clusterName: 'prod-a',
      region: 'eu-west-1',
      credentials,
      stsEndpoint: sts.url,
    });
    const res = await fetch(decodeEksToken(token), { headers: { [CLUSTER_ID_HEADER]: 'prod-a' } });
    const body = await res.text();
    expect(res.status, body).toBe(200);
    expect(body).toContain(`<Arn>${identity.arn}</Arn>`);
  });

  it('is refused when replayed for a different cluster', async () => {
    const { token } = await createEksToken({
      clusterName: 'prod-a',
      region: 'eu-west-1',
      credentials,
      stsEndpoint: sts.url,
    });
    const res = await fetch(decodeEksToken(token), { headers: { [CLUSTER_ID_HEADER]: 'prod-b' } });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('SignatureDoesNotMatch');
  });
});
