// The one place that builds AWS SDK v3 clients. Settings suit a Lambda that has about two
// minutes to act: few retries, short socket timeouts, so a stuck call fails fast enough to retry
// or report instead of eating the deadline.
//
// Endpoint override: the SDK itself reads AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> (e.g.
// AWS_ENDPOINT_URL_EC2) from the environment and the shared config file; test/access/aws-clients
// proves it. `overrides.endpoint` is for callers that hold an explicit URL (the simulator, tests).
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export interface AwsClients {
  autoScaling: AutoScalingClient;
  ec2: EC2Client;
  eks: EKSClient;
  sts: STSClient;
  sqs: SQSClient;
  region: string;
}

export interface AwsClientOverrides {
  endpoint?: string;
  region?: string;
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Total attempts per call (first try included); default SPOTGUARD_AWS_MAX_ATTEMPTS or 3. */
  maxAttempts?: number;
  /** Per-attempt request timeout (ms); default AWS_REQUEST_TIMEOUT_MS. */
  requestTimeoutMs?: number;
}

/** Socket timeouts per attempt (ms): connect, and whole request. */
export const AWS_CONNECTION_TIMEOUT_MS = 1_000;
export const AWS_REQUEST_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_ATTEMPTS = 3;

export function awsRegionFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new Error('AWS region is not set: define AWS_REGION (Lambda sets it for you)');
  return region;
}

function maxAttemptsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SPOTGUARD_AWS_MAX_ATTEMPTS;
  if (raw === undefined || raw === '') return DEFAULT_MAX_ATTEMPTS;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 10) {
    throw new Error(`SPOTGUARD_AWS_MAX_ATTEMPTS must be an integer 1..10, got "${raw}"`);
  }
  return value;
}

/** The configuration every client shares. */
export function awsClientConfig(overrides: AwsClientOverrides = {}) {
  return {
    region: overrides.region ?? awsRegionFromEnv(),
    ...(overrides.endpoint ? { endpoint: overrides.endpoint } : {}),
    ...(overrides.credentials ? { credentials: overrides.credentials } : {}),
    maxAttempts: overrides.maxAttempts ?? maxAttemptsFromEnv(),
    retryMode: 'standard',
    requestHandler: {
      connectionTimeout: AWS_CONNECTION_TIMEOUT_MS,
      requestTimeout: overrides.requestTimeoutMs ?? AWS_REQUEST_TIMEOUT_MS,
      // Without this, @smithy/node-http-handler 4.x only logs a warning when requestTimeout passes
      // and keeps waiting; test/access/aws-clients.test.ts proves the call really fails.
      throwOnRequestTimeout: true,
    },
  };
}

/** Builds a fresh set of clients (no caching): for tests and for the CLI's explicit endpoints. */
export function createAwsClients(overrides: AwsClientOverrides = {}): AwsClients {
  const config = awsClientConfig(overrides);
  return {
    autoScaling: new AutoScalingClient(config),
    ec2: new EC2Client(config),
    eks: new EKSClient(config),
    sts: new STSClient(config),
    sqs: new SQSClient(config),
    region: config.region,
  };
}

// Per-container cache: Lambda reuses the module between invocations, and so do the SDK clients'
// keep-alive sockets. Keyed by the overrides so a test or the CLI can hold several at once.
const cache = new Map<string, AwsClients>();

export function awsClients(overrides: AwsClientOverrides = {}): AwsClients {
  const key = cacheKey(overrides);
  let clients = key === undefined ? undefined : cache.get(key);
  if (!clients) {
    clients = createAwsClients(overrides);
    if (key !== undefined) cache.set(key, clients);
  }
  return clients;
}

/** Cache key from the overrides; explicit credential objects are not cached (undefined key). */
function cacheKey(overrides: AwsClientOverrides): string | undefined {
  if (overrides.credentials) return undefined;
  return JSON.stringify([
    overrides.endpoint ?? null,
    overrides.region ?? awsRegionFromEnv(),
    overrides.maxAttempts ?? null,
    overrides.requestTimeoutMs ?? null,
  ]);
}

/** Drops cached clients and closes their sockets (tests; a container never needs this). */
export function resetAwsClients(): void {
  for (const clients of cache.values()) {
    for (const client of [clients.autoScaling, clients.ec2, clients.eks, clients.sts, clients.sqs])
      client.destroy();
  }
  cache.clear();
}
