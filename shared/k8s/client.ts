// Kubernetes API clients: from a kubeconfig (CLI, simulator, tests) or for an EKS cluster from
// inside Lambda (DescribeCluster + an IAM bearer token).
//
// Token refresh in a warm container: client-node 2.x asks the KubeConfig for auth on every
// request (applySecurityAuthentication → applyAuthorizationHeader → the first Authenticator whose
// isAuthProvider(user) is true). We register an Authenticator for our own token-less user that
// asks EksTokenSource for the current token, so a KubeConfig built once keeps working past the
// 15-minute token lifetime without being rebuilt.
import { existsSync } from 'node:fs';
import { delimiter } from 'node:path';
import { DescribeClusterCommand, type EKSClient } from '@aws-sdk/client-eks';
import {
  AppsV1Api,
  type Configuration,
  CoordinationV1Api,
  CoreV1Api,
  createConfiguration,
  EventsV1Api,
  KubeConfig,
  type Middleware,
  PolicyV1Api,
  ServerConfiguration,
  StorageV1Api,
  type User,
} from '@kubernetes/client-node';
import { awsClients, awsRegionFromEnv } from '../aws/clients.ts';
import { type CredentialsInput, EksTokenSource } from './eks-token.ts';
import { retryingHttpLibrary } from './retry.ts';

export interface KubeClients {
  config: KubeConfig;
  core: CoreV1Api;
  policy: PolicyV1Api;
  coordination: CoordinationV1Api;
  storage: StorageV1Api;
  apps: AppsV1Api;
  events: EventsV1Api;
  /** API server URL. */
  server: string;
}

export interface KubeClientOptions {
  /**
   * Per-request timeout (ms) for API calls (not watches); default KUBE_REQUEST_TIMEOUT_MS.
   * client-node's fetch has none: a hung API server would otherwise hold the drain until the
   * Lambda itself times out, past the point where the lifecycle action can still be completed.
   */
  requestTimeoutMs?: number;
}

export const KUBE_REQUEST_TIMEOUT_MS = 10_000;
const USER_AGENT = 'spotguard (@kubernetes/client-node)';

/** Sets the User-Agent and an abort timeout on every API call that is not a watch. */
function spotguardRequestMiddleware(timeoutMs: number): Middleware {
  return {
    pre: async (context) => {
      context.setHeaderParam('User-Agent', USER_AGENT);
      if (new URL(context.getUrl()).searchParams.get('watch') !== 'true') {
        context.setSignal(AbortSignal.timeout(timeoutMs));
      }
      return context;
    },
    post: async (response) => response,
  };
}

/** Builds the typed API clients for a loaded KubeConfig (what makeApiClient does, plus our middleware). */
export function kubeClientsFromConfig(config: KubeConfig, opts: KubeClientOptions = {}): KubeClients {
  const server = config.getCurrentCluster()?.server;
  if (!server) {
    throw new Error(`kubeconfig context "${config.getCurrentContext()}" has no cluster server URL`);
  }
  const timeoutMs = opts.requestTimeoutMs ?? KUBE_REQUEST_TIMEOUT_MS;
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(server, {}),
    httpApi: retryingHttpLibrary({ timeoutMs }), // 429/5xx/timeouts retried: shared/k8s/retry.ts
    authMethods: { default: config },
    promiseMiddleware: [spotguardRequestMiddleware(timeoutMs)],
  });
  const make = <T>(Api: new (c: Configuration) => T): T => new Api(configuration);
  return {
    config,
    core: make(CoreV1Api),
    policy: make(PolicyV1Api),
    coordination: make(CoordinationV1Api),
    storage: make(StorageV1Api),
    apps: make(AppsV1Api),
    events: make(EventsV1Api),
    server,
  };
}

/**
 * From a kubeconfig: `path` (one file or a `:`-separated list, merged like kubectl: the first file
 * that sets current-context wins), else $KUBECONFIG / ~/.kube/config; optional context name.
 */
export function kubeClientsFromKubeconfig(
  path?: string,
  context?: string,
  opts: KubeClientOptions = {},
): KubeClients {
  const config = new KubeConfig();
  if (path) loadKubeconfigFiles(config, path);
  else config.loadFromDefault();
  if (context) {
    if (!config.getContextObject(context)) {
      throw new Error(`kubeconfig ${path ?? '(default)'} has no context "${context}"`);
    }
    config.setCurrentContext(context);
  }
  allowPlainHttpServers(config);
  return kubeClientsFromConfig(config, opts);
}

function loadKubeconfigFiles(config: KubeConfig, pathList: string): void {
  const files = pathList.split(delimiter).filter(Boolean);
  const missing = files.filter((file) => !existsSync(file));
  if (missing.length > 0) throw new Error(`kubeconfig file not found: ${missing.join(', ')}`);
  config.loadFromFile(files[0]!);
  for (const file of files.slice(1)) {
    const next = new KubeConfig();
    next.loadFromFile(file);
    config.mergeConfig(next, Boolean(config.getCurrentContext()));
  }
}

/**
 * client-node 2.x refuses an `http://` server unless the cluster says insecure-skip-tls-verify
 * (kubectl does not). There is no TLS to verify on plain HTTP, so set the flag for such clusters:
 * the simulator and local test servers speak HTTP.
 */
function allowPlainHttpServers(config: KubeConfig): void {
  const clusters = config.getClusters();
  if (!clusters.some((c) => c.server.startsWith('http:') && !c.skipTLSVerify)) return;
  config.loadFromOptions({
    clusters: clusters.map((c) => (c.server.startsWith('http:') ? { ...c, skipTLSVerify: true } : c)),
    users: config.getUsers(),
    contexts: config.getContexts(),
    currentContext: config.getCurrentContext(),
  });
}

export interface EksClusterAccess {
  endpoint: string;
  /** Base64 PEM, as DescribeCluster returns it. */
  certificateAuthorityData: string;
}

// Endpoint and CA do not change for the life of a cluster: one DescribeCluster per container.
const clusterAccessCache = new Map<string, Promise<EksClusterAccess>>();

export function describeClusterAccess(
  eks: EKSClient,
  clusterName: string,
  region = '',
): Promise<EksClusterAccess> {
  const key = `${region}/${clusterName}`;
  let access = clusterAccessCache.get(key);
  if (!access) {
    access = fetchClusterAccess(eks, clusterName);
    access.catch(() => clusterAccessCache.delete(key));
    clusterAccessCache.set(key, access);
  }
  return access;
}

async function fetchClusterAccess(eks: EKSClient, clusterName: string): Promise<EksClusterAccess> {
  const { cluster } = await eks
    .send(new DescribeClusterCommand({ name: clusterName }))
    .catch((err: Error) => {
      throw new Error(`EKS DescribeCluster "${clusterName}" failed: ${err.name}: ${err.message}`, {
        cause: err,
      });
    });
  const endpoint = cluster?.endpoint;
  const certificateAuthorityData = cluster?.certificateAuthority?.data;
  if (!endpoint)
    throw new Error(`EKS cluster "${clusterName}" has no endpoint (status ${cluster?.status ?? '?'})`);
  if (!certificateAuthorityData && endpoint.startsWith('https:')) {
    throw new Error(`EKS cluster "${clusterName}" has no certificateAuthority.data`);
  }
  return { endpoint, certificateAuthorityData: certificateAuthorityData ?? '' };
}

export interface EksClientOptions extends KubeClientOptions {
  clusterName: string;
  region: string;
  /** Default: the shared EKS client from awsClients(). */
  eks?: EKSClient;
  /** Default: the EKS client's credential provider (Lambda's role). */
  credentials?: CredentialsInput;
  /** Default: AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else the regional STS endpoint. */
  stsEndpoint?: string;
  /** Clock for the token cache (tests). */
  now?: () => Date;
  /** Endpoint and CA known in advance (deploy parameters): no DescribeCluster on a cold start. */
  access?: EksClusterAccess;
}

const EKS_USER = 'spotguard-eks-iam';

/** Answers for our EKS user only: puts the current (possibly refreshed) bearer token on the request. */
function eksTokenAuthenticator(tokens: EksTokenSource) {
  return {
    isAuthProvider: (user: User) => user.name === EKS_USER,
    applyAuthentication: async (_user: User, opts: { headers?: Record<string, unknown> }) => {
      opts.headers ??= {};
      opts.headers.Authorization = `Bearer ${await tokens.token()}`;
    },
  };
}

export async function kubeClientsForEks(opts: EksClientOptions): Promise<KubeClients> {
  const eks = opts.eks ?? awsClients({ region: opts.region }).eks;
  const access = opts.access ?? (await describeClusterAccess(eks, opts.clusterName, opts.region));
  const stsEndpoint = opts.stsEndpoint ?? process.env.AWS_ENDPOINT_URL_STS ?? process.env.AWS_ENDPOINT_URL;
  const tokens = new EksTokenSource({
    clusterName: opts.clusterName,
    region: opts.region,
    credentials: opts.credentials ?? eks.config.credentials,
    ...(stsEndpoint ? { stsEndpoint } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  const plainHttp = access.endpoint.startsWith('http:');
  const config = new KubeConfig();
  config.addAuthenticator(eksTokenAuthenticator(tokens));
  config.loadFromOptions({
    clusters: [
      {
        name: opts.clusterName,
        server: access.endpoint,
        ...(plainHttp ? {} : { caData: access.certificateAuthorityData }),
        // Only a plain-HTTP endpoint (the simulator) skips verification: there is no TLS there.
        skipTLSVerify: plainHttp,
      },
    ],
    users: [{ name: EKS_USER }],
    contexts: [{ name: opts.clusterName, cluster: opts.clusterName, user: EKS_USER }],
    currentContext: opts.clusterName,
  });
  // Fail here, not on the first API call, if a token cannot be made (no credentials, bad region).
  await tokens.token();
  return kubeClientsFromConfig(config, opts);
}

let containerClients: Promise<KubeClients> | undefined;

/**
 * The clients for this container, built once: from a kubeconfig when SPOTGUARD_KUBECONFIG or
 * KUBECONFIG is set (CLI, simulator), else for EKS cluster $CLUSTER_NAME in $AWS_REGION.
 */
export function getKubeClients(env: NodeJS.ProcessEnv = process.env): Promise<KubeClients> {
  if (!containerClients) {
    containerClients = buildKubeClientsFromEnv(env);
    containerClients.catch(() => {
      containerClients = undefined;
    });
  }
  return containerClients;
}

async function buildKubeClientsFromEnv(env: NodeJS.ProcessEnv): Promise<KubeClients> {
  const context = env.SPOTGUARD_KUBE_CONTEXT || undefined;
  if (env.SPOTGUARD_KUBECONFIG) return kubeClientsFromKubeconfig(env.SPOTGUARD_KUBECONFIG, context);
  if (env.KUBECONFIG) return kubeClientsFromKubeconfig(env.KUBECONFIG, context);
  const clusterName = env.CLUSTER_NAME;
  if (!clusterName) {
    throw new Error(
      'No Kubernetes access configured: set CLUSTER_NAME (EKS) or SPOTGUARD_KUBECONFIG/KUBECONFIG',
    );
  }
  return kubeClientsForEks({ clusterName, region: awsRegionFromEnv(env), ...accessFromEnv(env) });
}

/**
 * SPOTGUARD_CLUSTER_ENDPOINT (+ SPOTGUARD_CLUSTER_CA, base64 PEM as DescribeCluster returns it; may
 * be empty only for a plain-HTTP endpoint): the deploy parameters that spare a cold start its
 * DescribeCluster round trip. Unset: DescribeCluster, once per container.
 */
function accessFromEnv(env: NodeJS.ProcessEnv): { access?: EksClusterAccess } {
  const endpoint = env.SPOTGUARD_CLUSTER_ENDPOINT;
  if (!endpoint) return {};
  const certificateAuthorityData = env.SPOTGUARD_CLUSTER_CA ?? '';
  if (!certificateAuthorityData && !endpoint.startsWith('http:'))
    throw new Error('SPOTGUARD_CLUSTER_ENDPOINT is set without SPOTGUARD_CLUSTER_CA (base64 PEM)');
  return { access: { endpoint, certificateAuthorityData } };
}

/** Forgets the container's cached clients and cluster endpoints (tests). */
export function resetKubeClients(): void {
  containerClients = undefined;
  clusterAccessCache.clear();
}
