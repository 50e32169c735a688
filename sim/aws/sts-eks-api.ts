// STS (awsQuery) GetCallerIdentity, plain and presigned (the EKS bearer-token scheme), and EKS
// (restJson1) DescribeCluster.
import { ACCOUNT_ID, AwsError, jsonResponse, leaf, type QueryParams, type WireResponse } from './wire.ts';

export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';
/** EKS accepts a presigned GetCallerIdentity URL for 15 minutes from X-Amz-Date. */
export const PRESIGNED_TOKEN_LIFETIME_MS = 15 * 60_000;
const CLOCK_SKEW_MS = 5 * 60_000;

export interface CallerIdentity {
  account: string;
  arn: string;
  userId: string;
}

export function callerIdentityXml(identity: CallerIdentity): string {
  return leaf('Arn', identity.arn) + leaf('UserId', identity.userId) + leaf('Account', identity.account);
}

/** Identity for an access key: temporary credentials (with a session token) look like an assumed role. */
export function identityFor(accessKeyId: string, hasSessionToken: boolean): CallerIdentity {
  return hasSessionToken
    ? {
        account: ACCOUNT_ID,
        arn: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/spotguard-sim/${accessKeyId}`,
        userId: `AROASIMULATOR0000000:${accessKeyId}`,
      }
    : {
        account: ACCOUNT_ID,
        arn: `arn:aws:iam::${ACCOUNT_ID}:user/spotguard-sim`,
        userId: 'AIDASIMULATOR0000000',
      };
}

/**
 * Checks a presigned GetCallerIdentity request as STS would for the EKS token scheme: the SigV4
 * query parameters present, X-Amz-Date within the 15-minute window, host and x-k8s-aws-id signed.
 * The simulator accepts any credentials, so the signature value itself is not recomputed.
 * Throws AwsError 403 (SignatureDoesNotMatch / ExpiredToken / AccessDenied).
 */
export function validatePresignedCallerIdentity(params: QueryParams, now = Date.now()): CallerIdentity {
  const missing = [
    'X-Amz-Algorithm',
    'X-Amz-Credential',
    'X-Amz-Date',
    'X-Amz-SignedHeaders',
    'X-Amz-Signature',
  ].filter((name) => !params.get(name));
  if (missing.length > 0) {
    throw new AwsError('SignatureDoesNotMatch', `The presigned URL is missing ${missing.join(', ')}`, 403);
  }
  if (params.get('Action') !== 'GetCallerIdentity') {
    throw new AwsError(
      'AccessDenied',
      `A presigned URL may only call GetCallerIdentity, not ${params.get('Action')}`,
      403,
    );
  }
  const signed = params.get('X-Amz-SignedHeaders')!.split(';');
  for (const header of ['host', 'x-k8s-aws-id']) {
    if (!signed.includes(header)) {
      throw new AwsError(
        'SignatureDoesNotMatch',
        `X-Amz-SignedHeaders must include ${header}, got '${signed.join(';')}'`,
        403,
      );
    }
  }
  const signedAt = parseAmzDate(params.get('X-Amz-Date')!);
  if (Number.isNaN(signedAt)) {
    throw new AwsError(
      'SignatureDoesNotMatch',
      `X-Amz-Date '${params.get('X-Amz-Date')}' is not yyyyMMddTHHmmssZ`,
      403,
    );
  }
  if (now - signedAt > PRESIGNED_TOKEN_LIFETIME_MS) {
    throw new AwsError(
      'ExpiredToken',
      `The security token included in the request is expired (signed at ${new Date(signedAt).toISOString()})`,
      403,
    );
  }
  if (signedAt - now > CLOCK_SKEW_MS) {
    throw new AwsError(
      'SignatureDoesNotMatch',
      'Signature not yet current: X-Amz-Date is in the future',
      403,
    );
  }
  const accessKeyId = params.get('X-Amz-Credential')!.split('/')[0] ?? '';
  return identityFor(accessKeyId, params.has('X-Amz-Security-Token'));
}

function parseAmzDate(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return Number.NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

// ---- EKS ----

export interface EksClusterInfo {
  name: string;
  region: string;
  /** Resolved per request: the k8s API URL may be known only after start-up. */
  endpoint: () => string;
  version: string;
  createdAt: Date;
}

/**
 * A real but unused self-signed CA certificate (its key was thrown away), so certificateAuthority.data
 * parses like EKS's; the simulated API is plain HTTP, so nothing is verified against it.
 */
const PLACEHOLDER_CA_PEM = `-----BEGIN CERTIFICATE-----
MIIBjzCCATWgAwIBAgIUJFMDSAodWuSqAJ/CKcbgM946E5kwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKa3ViZXJuZXRlczAeFw0yNjExMjEwNTE0MDZaFw0zNjExMTgw
NTE0MDZaMBUxEzARBgNVBAMMCmt1YmVybmV0ZXMwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAR0SKaWNn3G0yT0YZ8yWXVijvT91xR1+P2QKURcF8kuxf96LN0urAFu
lWkEfC1jTHn4DgGmtRVENGrkDs2avdELo2MwYTAdBgNVHQ4EFgQUysn7z0+PcvVy
qdH0oqa96+M0TN4wHwYDVR0jBBgwFoAUysn7z0+PcvVyqdH0oqa96+M0TN4wDwYD
VR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAoQwCgYIKoZIzj0EAwIDSAAwRQIh
AKC8tJCc1Ch69RVQ6yHChP7pX42PJdosDQyJXRDPTuEaAiBgUTJ4NyxRfFF10KIl
Ridi6EY0+mboTqDuYdcqWWWf9Q==
-----END CERTIFICATE-----
`;

/** Routes a restJson1 EKS request; returns the action name (for counting) and the response. */
export function eksActionOf(method: string, path: string): string {
  if (method === 'GET' && /^\/clusters\/[^/]+$/.test(path)) return 'DescribeCluster';
  if (method === 'GET' && path === '/clusters') return 'ListClusters';
  return 'Unknown';
}

export function handleEks(
  cluster: EksClusterInfo,
  method: string,
  path: string,
  requestId: string,
): WireResponse {
  const action = eksActionOf(method, path);
  if (action === 'ListClusters') return jsonResponse({ clusters: [cluster.name] }, requestId);
  if (action === 'DescribeCluster') {
    const name = decodeURIComponent(path.split('/')[2]!);
    if (name !== cluster.name) {
      throw new AwsError('ResourceNotFoundException', `No cluster found for name: ${name}.`, 404);
    }
    return jsonResponse({ cluster: describeCluster(cluster) }, requestId);
  }
  throw new AwsError(
    'UnknownOperationException',
    `The simulator's EKS endpoint does not implement ${method} ${path}`,
    404,
  );
}

function describeCluster(cluster: EksClusterInfo) {
  return {
    name: cluster.name,
    arn: `arn:aws:eks:${cluster.region}:${ACCOUNT_ID}:cluster/${cluster.name}`,
    createdAt: cluster.createdAt.getTime() / 1000,
    version: cluster.version,
    endpoint: cluster.endpoint(),
    roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/${cluster.name}-cluster-role`,
    resourcesVpcConfig: {
      subnetIds: [],
      securityGroupIds: [],
      vpcId: 'vpc-0sim0000000000000',
      endpointPublicAccess: true,
      endpointPrivateAccess: true,
      publicAccessCidrs: ['0.0.0.0/0'],
    },
    kubernetesNetworkConfig: { serviceIpv4Cidr: '172.20.0.0/16', ipFamily: 'ipv4' },
    identity: { oidc: { issuer: `https://oidc.eks.${cluster.region}.amazonaws.com/id/SIMULATOR` } },
    status: 'ACTIVE',
    certificateAuthority: { data: Buffer.from(PLACEHOLDER_CA_PEM).toString('base64') },
    platformVersion: 'eks.1',
    tags: { 'spotguard.io/simulated': 'true' },
    accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
  };
}
