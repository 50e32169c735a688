// EKS bearer tokens, the aws-iam-authenticator way: `k8s-aws-v1.` + unpadded base64url of a
// presigned STS GetCallerIdentity URL whose signed headers include `x-k8s-aws-id: <cluster>`.
// The API server replays the URL against STS to learn who we are; EKS accepts the token for
// 15 minutes from X-Amz-Date regardless of X-Amz-Expires.
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** How long EKS honours a token, counted from its X-Amz-Date. */
export const EKS_TOKEN_LIFETIME_MS = 15 * 60_000;
/** Refresh a cached token once it is this old: a minute of margin for clock skew and slow calls. */
export const EKS_TOKEN_REFRESH_AFTER_MS = 14 * 60_000;
const PRESIGN_EXPIRES_SECONDS = 60;

export type CredentialsInput = AwsCredentialIdentity | AwsCredentialIdentityProvider;

export interface EksTokenOptions {
  clusterName: string;
  region: string;
  credentials: CredentialsInput;
  /** STS base URL, e.g. the simulator's `http://127.0.0.1:4566`; default the regional endpoint. */
  stsEndpoint?: string;
  /** Clock, for tests. */
  now?: () => Date;
}

export interface EksToken {
  token: string;
  /** X-Amz-Date + 15 min: after this EKS rejects the token. */
  expiresAt: Date;
  /** X-Amz-Date of the presigned URL. */
  signedAt: Date;
}

/** The regional STS endpoint, in the region's partition (China regions use amazonaws.com.cn). */
export function regionalStsEndpoint(region: string): string {
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sts.${region}.${domain}`;
}

export async function createEksToken(opts: EksTokenOptions): Promise<EksToken> {
  const signedAt = new Date(Math.floor((opts.now ?? (() => new Date()))().getTime() / 1000) * 1000);
  const credentials = typeof opts.credentials === 'function' ? await opts.credentials() : opts.credentials;
  const url = await presignGetCallerIdentity({ ...opts, credentials }, signedAt);
  const token = EKS_TOKEN_PREFIX + Buffer.from(url).toString('base64url');
  // STS refuses the URL once the signing credentials have expired, even inside the 15 minutes.
  const lifetimeEnd = signedAt.getTime() + EKS_TOKEN_LIFETIME_MS;
  const credentialsEnd = credentials.expiration?.getTime() ?? Number.POSITIVE_INFINITY;
  return { token, signedAt, expiresAt: new Date(Math.min(lifetimeEnd, credentialsEnd)) };
}

/** The presigned GetCallerIdentity URL that the token wraps. */
export async function presignGetCallerIdentity(opts: EksTokenOptions, signingDate: Date): Promise<string> {
  const endpoint = new URL(opts.stsEndpoint ?? regionalStsEndpoint(opts.region));
  const signer = new SignatureV4({
    credentials: opts.credentials,
    region: opts.region,
    service: 'sts',
    sha256: Sha256,
  });
  const basePath = endpoint.pathname.endsWith('/') ? endpoint.pathname : `${endpoint.pathname}/`;
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      port: endpoint.port ? Number(endpoint.port) : undefined,
      path: basePath,
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: endpoint.host, [CLUSTER_ID_HEADER]: opts.clusterName },
    },
    { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate },
  );
  const url = new URL(`${endpoint.protocol}//${endpoint.host}${basePath}`);
  for (const [name, value] of Object.entries(presigned.query ?? {})) {
    if (typeof value === 'string') url.searchParams.set(name, value);
  }
  return url.toString();
}

/** Decodes a token back to its presigned URL (for tests, the simulator and diagnostics). */
export function decodeEksToken(token: string): URL {
  if (!token.startsWith(EKS_TOKEN_PREFIX)) {
    throw new Error(`EKS token must start with "${EKS_TOKEN_PREFIX}", got "${token.slice(0, 12)}…"`);
  }
  return new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString('utf8'));
}

export interface EksTokenSourceOptions extends EksTokenOptions {
  /** Age after which a cached token is replaced; default 14 minutes. */
  refreshAfterMs?: number;
}

/**
 * Hands out a cached token and mints a new one once the cached one is older than ~14 minutes, or
 * within a minute of its expiry when the signing credentials expire sooner.
 */
export class EksTokenSource {
  private readonly opts: EksTokenSourceOptions;
  private current: EksToken | undefined;
  private pending: Promise<EksToken> | undefined;

  constructor(opts: EksTokenSourceOptions) {
    this.opts = opts;
  }

  async token(): Promise<string> {
    if (this.current && !this.isStale(this.current)) return this.current.token;
    // One refresh at a time: concurrent API calls share the same STS presign.
    this.pending ??= createEksToken(this.opts).finally(() => {
      this.pending = undefined;
    });
    this.current = await this.pending;
    return this.current.token;
  }

  private isStale(token: EksToken): boolean {
    const now = (this.opts.now ?? (() => new Date()))().getTime();
    const refreshAfterMs = this.opts.refreshAfterMs ?? EKS_TOKEN_REFRESH_AFTER_MS;
    const margin = EKS_TOKEN_LIFETIME_MS - refreshAfterMs;
    return now - token.signedAt.getTime() >= refreshAfterMs || now >= token.expiresAt.getTime() - margin;
  }
}
