// The simulated Kubernetes API server: HTTP on 127.0.0.1 over the simulator's Store.
// Real clients (kubectl, @kubernetes/client-node) talk to it unchanged.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { FaultInjector } from '../../faults.ts';
import type { KObject, Store } from '../store.ts';
import { authenticate, kubeconfigYaml } from './auth.ts';
import { fromWire, toListItem, toWire } from './convert.ts';
import {
  commitUpdate,
  createObject,
  deleteObject,
  getObject,
  isDryRun,
  parseDeleteOptions,
  prepareUpdate,
  type Scope,
  updateObject,
} from './crud.ts';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.ts';
import {
  ApiError,
  badRequest,
  failure,
  internalError,
  invalid,
  methodNotAllowed,
  notFound,
  pageNotFound,
  type Status,
  unauthorized,
} from './errors.ts';
import { evictPod } from './eviction.ts';
import { paginate, parseFilter, requestedResourceVersion, selectObjects } from './list.ts';
import { deleteNamespace, startNamespaceFinalizer } from './namespaces.ts';
import {
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  PATCH_TYPES,
  type PatchType,
} from './patch.ts';
import { startPdbStatusUpdater } from './pdb.ts';
import { apiVersionOf, findResource, type ResourceType, type ServedOptions } from './resources.ts';
import { parseResourcePath, type ResourceRoute, verbOf } from './routes.ts';
import { getScale, updateScale } from './scale.ts';
import { type IncludeObject, toTable } from './table.ts';
import { serveWatch } from './watch.ts';

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
  stop(): Promise<void>;
}

interface Context {
  store: Store;
  faults: FaultInjector;
  served: ServedOptions;
  requests: RequestLog;
  bookmarkIntervalMs: number;
  serverAddress: string;
}

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
const MAX_BODY_BYTES = 3 * 1024 * 1024;
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
    async stop() {
      stopPdbUpdater?.();
      stopNamespaceFinalizer();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

// ---------- response writing ----------

function writeJson(res: ServerResponse, code: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, {
    'Audit-Id': randomUUID(),
    'Cache-Control': 'no-cache, private',
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function writeStatus(res: ServerResponse, status: Status): void {
  const retryAfter = status.details?.retryAfterSeconds;
  if (retryAfter && retryAfter > 0) res.setHeader('Retry-After', String(retryAfter));
  writeJson(res, status.code, status);
}

function writeText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new ApiError(failure(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'));
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`json: ${(error as Error).message}`);
  }
}

function parseYamlBody(text: string): unknown {
  try {
    return parseYaml(text);
  } catch (error) {
    throw badRequest(`error converting YAML to JSON: ${(error as Error).message}`);
  }
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
    else handleNonResource(ctx, url.pathname, res);
  } catch (error) {
    if (error instanceof ApiError) return writeStatus(res, error.status);
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

interface RequestInfo {
  ctx: Context;
  route: ResourceRoute;
  type: ResourceType;
  scope: Scope;
  query: URLSearchParams;
  req: IncomingMessage;
  res: ServerResponse;
}

/** Client asked for `as=Table` (kubectl get). */
function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(req.headers.accept ?? '');
}

async function handleResource(
  ctx: Context,
  route: ResourceRoute,
  verb: string,
  query: URLSearchParams,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const type = findResource(route.group, route.version, route.resource, ctx.served);
  if (!type) throw pageNotFound();
  if (route.namespace !== undefined && !type.namespaced) throw pageNotFound();
  const scope: Scope = { store: ctx.store, type };
  if (route.namespace !== undefined) scope.namespace = route.namespace;
  const info: RequestInfo = { ctx, route, type, scope, query, req, res };
  const sub = route.subresource;
  if (sub !== undefined && !type.subresources.some((s) => s.name === sub)) throw pageNotFound();
  if (sub === 'eviction') {
    if (verb !== 'create') throw methodNotAllowed();
    return handleEviction(info);
  }
  if (sub === 'binding') {
    if (verb !== 'create') throw methodNotAllowed();
    return handleBinding(info);
  }
  if (sub === 'scale') return handleScale(info, verb);
  if (sub === 'status' && !['get', 'update', 'patch'].includes(verb)) throw methodNotAllowed();
  switch (verb) {
    case 'get':
      return respondObject(info, 200, getObject(scope, route.name!));
    case 'list':
      return handleList(info);
    case 'watch':
      return handleWatch(info);
    case 'create':
      if (route.name !== undefined) throw methodNotAllowed();
      return handleCreate(info);
    case 'update':
      return handleUpdate(info);
    case 'patch':
      return handlePatch(info);
    case 'delete':
      return handleDelete(info);
    case 'deletecollection':
      return handleDeleteCollection(info);
    default:
      throw methodNotAllowed();
  }
}

const wire = (info: RequestInfo) => (obj: KObject) => toWire(info.type, info.route.version, obj);

function respondObject(info: RequestInfo, code: number, obj: KObject) {
  if (wantsTable(info.req)) {
    const table = toTable(info.type, [obj], {
      resourceVersion: obj.metadata.resourceVersion ?? '',
      include: includeObject(info.query),
      wire: wire(info),
    });
    return writeJson(info.res, code, table);
  }
  writeJson(info.res, code, toWire(info.type, info.route.version, obj));
}

function includeObject(query: URLSearchParams): IncludeObject {
  const value = query.get('includeObject');
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}

function handleList(info: RequestInfo) {
  const { scope, query, type, route, ctx } = info;
  const filter = parseFilter(scope, query);
  const rv = ctx.store.currentResourceVersion();
  requestedResourceVersion(query, rv);
  const sorted = selectObjects(scope, filter);
  const page = paginate(sorted, query, rv, ctx.store.oldestResumableVersion());
  if (wantsTable(info.req)) {
    const table = toTable(type, page.items, {
      resourceVersion: String(rv),
      ...(page.continueToken ? { continueToken: page.continueToken } : {}),
      include: includeObject(query),
      wire: wire(info),
    });
    return writeJson(info.res, 200, table);
  }
  const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
  if (page.continueToken) {
    metadata.continue = page.continueToken;
    metadata.remainingItemCount = page.remainingItemCount;
  }
  // serialise item by item: only what is returned, once
  const head = JSON.stringify({
    kind: `${type.kind}List`,
    apiVersion: apiVersionOf(type.group, route.version),
    metadata,
  });
  const items = page.items.map((obj) => JSON.stringify(toListItem(type, route.version, obj)));
  writeJson(info.res, 200, `${head.slice(0, -1)},"items":[${items.join(',')}]}`);
}

function handleWatch(info: RequestInfo): void {
  const { scope, query, type, route } = info;
  if (route.name !== undefined) {
    // /watch/…/{name}: a watch on one object
    const existing = query.get('fieldSelector');
    query.set('fieldSelector', [existing, `metadata.name=${route.name}`].filter(Boolean).join(','));
  }
  const filter = parseFilter(scope, query);
  const table = wantsTable(info.req);
  serveWatch({
    scope,
    filter,
    query,
    res: info.res,
    render: table
      ? (obj) =>
          toTable(type, [obj], {
            resourceVersion: obj.metadata.resourceVersion ?? '',
            include: includeObject(query),
            wire: wire(info),
          })
      : wire(info),
    bookmarkType: { kind: type.kind, apiVersion: apiVersionOf(type.group, route.version) },
    bookmarkIntervalMs: info.ctx.bookmarkIntervalMs,
  });
}

async function readObjectBody(info: RequestInfo): Promise<KObject> {
  const text = await readBody(info.req);
  const isYaml = /^application\/(x-)?yaml$/.test(contentTypeOf(info.req));
  const body = isYaml ? parseYamlBody(text) : parseJsonBody(text);
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(body ?? null)}'`);
  }
  return body as KObject;
}

function dryRunOf(query: URLSearchParams): boolean {
  return isDryRun(query.getAll('dryRun'));
}

async function handleCreate(info: RequestInfo): Promise<void> {
  const body = await readObjectBody(info);
  const created = createObject(info.scope, fromWire(info.type, body), dryRunOf(info.query));
  respondObject(info, 201, created);
}

async function handleUpdate(info: RequestInfo): Promise<void> {
  const body = await readObjectBody(info);
  const updated = updateObject(
    info.scope,
    info.route.name!,
    fromWire(info.type, body),
    info.route.subresource ?? '',
    dryRunOf(info.query),
  );
  respondObject(info, 200, updated);
}

function contentTypeOf(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

function unsupportedMediaType(): ApiError {
  return new ApiError(
    failure(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`,
    ),
  );
}

function applyPatchBody(patchType: PatchType, current: KObject, text: string): KObject {
  if (patchType === 'application/json-patch+json') return applyJsonPatch(current, parseJsonBody(text));
  if (patchType === 'application/merge-patch+json') {
    let patch: unknown;
    try {
      patch = JSON.parse(text);
    } catch {
      throw badRequest('Invalid JSON Patch');
    }
    if (patch === null || typeof patch !== 'object') throw badRequest('Invalid JSON Patch');
    return applyMergePatch(current, patch);
  }
  const patch = patchType === 'application/apply-patch+yaml' ? parseYamlBody(text) : parseJsonBody(text);
  return applyStrategicMergePatch(current, patch);
}

/** Applies a patch body; the result must still be an object (a merge patch that is an array is not). */
function patchToObject(patchType: PatchType, current: KObject, text: string): KObject {
  const patched = applyPatchBody(patchType, current, text);
  if (patched && typeof patched === 'object' && !Array.isArray(patched)) return patched;
  const what = Array.isArray(patched) ? 'array' : typeof patched;
  throw new ApiError(
    failure(
      422,
      'Invalid',
      ` "" is invalid: patch: Invalid value: "${JSON.stringify(patched)}": couldn't get version/kind; json parse error: json: cannot unmarshal ${what} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`,
      { causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value', field: 'patch' }] },
    ),
  );
}

async function handlePatch(info: RequestInfo): Promise<void> {
  const patchType = contentTypeOf(info.req) as PatchType;
  if (!PATCH_TYPES.includes(patchType)) throw unsupportedMediaType();
  if (patchType === 'application/apply-patch+yaml' && !info.query.get('fieldManager')) {
    throw invalid('PatchOptions', 'meta.k8s.io', '', [
      {
        field: 'fieldManager',
        message: 'Required value: is required for apply patch',
        reason: 'FieldValueRequired',
      },
    ]);
  }
  const text = await readBody(info.req);
  const dryRun = dryRunOf(info.query);
  const name = info.route.name!;
  const current = info.scope.store.get(
    info.type.storeKey,
    info.type.namespaced ? info.scope.namespace : undefined,
    name,
  );
  if (!current) {
    if (patchType !== 'application/apply-patch+yaml')
      throw notFound({ group: info.type.group, resource: info.type.resource }, name);
    // server-side apply creates what does not exist
    const created = createObject(info.scope, fromWire(info.type, parseYamlBody(text) as KObject), dryRun);
    return respondObject(info, 201, created);
  }
  const patched = patchToObject(patchType, toWire(info.type, info.route.version, current), text);
  const next = prepareUpdate(info.scope, current, fromWire(info.type, patched), info.route.subresource ?? '');
  respondObject(info, 200, commitUpdate(info.scope, current, next, dryRun));
}

async function handleDelete(info: RequestInfo): Promise<void> {
  const options = parseDeleteOptions(parseJsonBody(await readBody(info.req)), info.query);
  const dryRun = isDryRun(options.dryRun);
  const result =
    info.type.resource === 'namespaces'
      ? deleteNamespace(info.ctx.store, info.route.name!, dryRun)
      : deleteObject(info.scope, info.route.name!, options, dryRun);
  respondObject(info, 200, result);
}

async function handleDeleteCollection(info: RequestInfo): Promise<void> {
  const options = parseDeleteOptions(parseJsonBody(await readBody(info.req)), info.query);
  const dryRun = isDryRun(options.dryRun);
  const filter = parseFilter(info.scope, info.query);
  const deleted: KObject[] = [];
  for (const obj of selectObjects(info.scope, filter)) {
    const scope = { ...info.scope, namespace: obj.metadata.namespace ?? '' };
    deleted.push(deleteObject(scope, obj.metadata.name, options, dryRun));
  }
  const { type, route } = info;
  writeJson(info.res, 200, {
    kind: `${type.kind}List`,
    apiVersion: apiVersionOf(type.group, route.version),
    metadata: { resourceVersion: String(info.ctx.store.currentResourceVersion()) },
    items: deleted.map((obj) => toListItem(type, route.version, obj)),
  });
}

async function handleScale(info: RequestInfo, verb: string): Promise<void> {
  const name = info.route.name!;
  if (verb === 'get') return writeJson(info.res, 200, getScale(info.scope, name));
  if (verb !== 'update' && verb !== 'patch') throw methodNotAllowed();
  const text = await readBody(info.req);
  let scale: KObject;
  if (verb === 'update') {
    scale = parseJsonBody(text) as KObject;
  } else {
    const patchType = contentTypeOf(info.req) as PatchType;
    if (!PATCH_TYPES.includes(patchType)) throw unsupportedMediaType();
    scale = patchToObject(patchType, getScale(info.scope, name), text);
  }
  writeJson(info.res, 200, updateScale(info.scope, name, scale, dryRunOf(info.query)));
}

async function handleEviction(info: RequestInfo): Promise<void> {
  const body = parseJsonBody(await readBody(info.req));
  const result = evictPod(info.ctx.store, info.scope.namespace ?? '', info.route.name!, body, info.query, {
    policyV1: info.ctx.served.servePolicyV1,
  });
  writeStatus(info.res, result.status);
}

async function handleBinding(info: RequestInfo): Promise<void> {
  const body = (parseJsonBody(await readBody(info.req)) ?? {}) as KObject;
  const name = info.route.name!;
  const nodeName = body.target?.name;
  if (!nodeName) throw badRequest('Binding target name is required');
  const { store } = info.ctx;
  const pod = getObject(info.scope, name);
  if (pod.spec?.nodeName) {
    throw new ApiError(
      failure(
        409,
        'Conflict',
        `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is already assigned to node "${pod.spec.nodeName}"`,
        {
          name,
          kind: 'pods/binding',
        },
      ),
    );
  }
  store.mutate('pods', pod.metadata.namespace, name, (draft) => {
    draft.spec = { ...draft.spec, nodeName };
  });
  writeStatus(info.res, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    code: 201,
  } as Status);
}
