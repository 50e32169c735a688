// The simulated Kubernetes API server: HTTP on 127.0.0.1 over the simulator's Store.
// Real clients (kubectl, @kubernetes/client-node) talk to it unchanged.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FaultInjector } from '../../faults.ts';
import { type Store, StoreError } from '../store.ts';
import { authenticate, kubeconfigYaml } from './auth.ts';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.ts';
import { ApiError, failure, internalError, pageNotFound, type Status, unauthorized } from './errors.ts';
import { type HandlerContext, handleResource } from './handlers.ts';
import { writeJson, writeStatus, writeText } from './http.ts';
import { InflightLimiter, type InflightLimits, type InflightStats } from './inflight.ts';
import { startNamespaceFinalizer } from './namespaces.ts';
import { handleOpenApi } from './openapi.ts';
import { startPdbStatusUpdater } from './pdb.ts';
import { parseResourcePath, verbOf } from './routes.ts';

export { kubeconfigYaml };

export interface KubeApiOptions {
  store: Store;
  /** 0 (default) = a random free port */
  port?: number;
  faults?: FaultInjector;
  clusterName?: string;
  /** false: behave like a 1.20 server that has PDBs/evictions only in policy/v1beta1 (default true) */
  servePolicyV1?: boolean;
  /** keep PDB .status current like the disruption controller (default true) */
  pdbStatusUpdater?: boolean;
  /** how often watches with allowWatchBookmarks get a BOOKMARK (default 20 s) */
  bookmarkIntervalMs?: number;
  /** kube-apiserver's max-in-flight limits (default 400 read-only / 200 mutating, as its flags) */
  inflight?: InflightLimits;
}

/** Requests counted by `verb resource[/subresource]` (e.g. `create pods/eviction`, `list pods`). */
export class RequestLog {
  private counts = new Map<string, number>();
  record(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }
  byKey(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => (a < b ? -1 : 1)));
  }
  reset(): void {
    this.counts.clear();
  }
}

export interface KubeApi {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  requests: RequestLog;
  /** requests in flight: peak and 429s of the max-in-flight filter */
  inflight: InflightStats;
  stop(): Promise<void>;
}

interface Context extends HandlerContext {
  faults: FaultInjector;
  requests: RequestLog;
  serverAddress: string;
  inflight: InflightLimiter;
}

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
const TIMEOUT_FAULT_CLOSE_MS = 30_000;
// UIDs of the flow schema / priority level a rejected request is classified into (fixed, like a cluster's)
const APF_FLOWSCHEMA_UID = '4f1c5e6d-8a3b-4c2e-9d7f-0b1a2c3d4e5f';
const APF_PRIORITYLEVEL_UID = '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b';

export async function startKubeApi(opts: KubeApiOptions): Promise<KubeApi> {
  const { store } = opts;
  for (const name of SYSTEM_NAMESPACES) {
    if (!store.get('namespaces', undefined, name)) {
      store.create('namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
        spec: { finalizers: ['kubernetes'] },
        status: { phase: 'Active' },
      });
    }
  }
  const ctx: Context = {
    store,
    faults: opts.faults ?? new FaultInjector(),
    served: { servePolicyV1: opts.servePolicyV1 ?? true },
    requests: new RequestLog(),
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 20_000,
    serverAddress: '',
    inflight: new InflightLimiter(opts.inflight),
  };
  const stopPdbUpdater = opts.pdbStatusUpdater === false ? undefined : startPdbStatusUpdater(store);
  const stopNamespaceFinalizer = startNamespaceFinalizer(store);
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    handle(ctx, req, res).catch((error) => {
      if (!res.headersSent) writeStatus(res, internalError(String(error)).status);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  ctx.serverAddress = `127.0.0.1:${port}`;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: ctx.requests,
    inflight: ctx.inflight,
    async stop() {
      stopPdbUpdater?.();
      stopNamespaceFinalizer();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------- the request pipeline ----------

async function handle(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const route = parseResourcePath(url.pathname);
  const method = req.method ?? 'GET';
  const verb = route
    ? verbOf(method, route, url.searchParams)
    : method === 'GET'
      ? 'get'
      : method.toLowerCase();
  const resourceKey = route
    ? route.resource + (route.subresource ? `/${route.subresource}` : '')
    : url.pathname;
  ctx.requests.record(`${verb} ${resourceKey}`);

  const authProblem = authenticate(req.headers.authorization);
  if (authProblem) return writeStatus(res, unauthorized().status);
  // after authentication, before everything else: where kube-apiserver's handler chain has it
  if (!ctx.inflight.admit(verb, route?.subresource, res)) return;

  const decision = ctx.faults.decide({
    service: 'k8s',
    verb,
    ...(route ? { resource: route.resource } : {}),
    ...(route?.subresource ? { subresource: route.subresource } : {}),
  });
  if (decision.latencyMs > 0) await sleep(decision.latencyMs);
  if (decision.timeout) {
    setTimeout(() => res.destroy(), TIMEOUT_FAULT_CLOSE_MS).unref();
    return;
  }
  if (decision.status === 429) return writeApfRejection(res, decision.retryAfterSeconds ?? 1);
  if (decision.status !== undefined)
    return writeStatus(res, injectedFailure(decision.status, decision.retryAfterSeconds));

  try {
    if (route) await handleResource(ctx, route, verb, url.searchParams, req, res);
    else if (!handleOpenApi(url.pathname, req, res, ctx.served)) handleNonResource(ctx, url.pathname, res);
  } catch (error) {
    if (error instanceof ApiError) return writeStatus(res, error.status);
    // a Store refusal that no handler translated (e.g. an object deleted mid-request)
    if (error instanceof StoreError)
      return writeStatus(res, failure(error.code, error.reason, error.message));
    throw error;
  }
}

/**
 * What API Priority and Fairness (and max-in-flight) answer when they reject a request: not a Status
 * but http.Error's plain text, with Retry-After and the APF classification headers.
 */
function writeApfRejection(res: ServerResponse, retryAfterSeconds: number): void {
  const text = 'Too many requests, please try again later.\n';
  res.writeHead(429, {
    'Audit-Id': randomUUID(),
    'Cache-Control': 'no-cache, private',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Retry-After': String(retryAfterSeconds),
    'X-Content-Type-Options': 'nosniff',
    'X-Kubernetes-Pf-Flowschema-Uid': APF_FLOWSCHEMA_UID,
    'X-Kubernetes-Pf-Prioritylevel-Uid': APF_PRIORITYLEVEL_UID,
  });
  res.end(text);
}

function injectedFailure(code: number, retryAfterSeconds?: number): Status {
  if (code === 503)
    return failure(
      503,
      'ServiceUnavailable',
      'the server is currently unable to handle the request',
      retryAfterSeconds ? { retryAfterSeconds } : undefined,
    );
  if (code === 504)
    return failure(
      504,
      'Timeout',
      'the server was unable to return a response in the time allotted, but may still be processing the request',
      retryAfterSeconds ? { retryAfterSeconds } : undefined,
    );
  if (code >= 500) return internalError('injected fault').status;
  return failure(code, undefined, `injected fault (HTTP ${code})`);
}

function handleNonResource(ctx: Context, path: string, res: ServerResponse) {
  const trimmed = path.replace(/\/+$/, '') || '/';
  if (['/healthz', '/readyz', '/livez'].includes(trimmed)) return writeText(res, 200, 'ok');
  if (trimmed === '/version') return writeJson(res, 200, versionInfo(ctx.served));
  if (trimmed === '/api') return writeJson(res, 200, apiVersions(ctx.serverAddress));
  if (trimmed === '/apis') return writeJson(res, 200, apiGroupList(ctx.served));
  const core = /^\/api\/([^/]+)$/.exec(trimmed);
  const named = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(trimmed);
  let doc: unknown;
  if (core) doc = apiResourceList('', core[1]!, ctx.served);
  else if (named?.[2]) doc = apiResourceList(named[1]!, named[2], ctx.served);
  else if (named) doc = apiGroup(named[1]!, ctx.served);
  if (doc) return writeJson(res, 200, doc);
  writeStatus(res, pageNotFound().status);
}
