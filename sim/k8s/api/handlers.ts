// Handlers of resource requests (/api/v1/…, /apis/<group>/<version>/…): one function per verb or
// subresource, each a thin layer between HTTP and the generic operations in crud.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KObject, Store } from '../store.ts';
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
import {
  ApiError,
  badRequest,
  failure,
  genericServerResponse,
  invalid,
  methodNotAllowed,
  notFound,
  pageNotFound,
  type Status,
} from './errors.ts';
import { evictPod } from './eviction.ts';
import { contentTypeOf, parseJsonBody, parseYamlBody, readBody, writeJson, writeStatus } from './http.ts';
import { paginate, parseFilter, requestedResourceVersion, selectObjects } from './list.ts';
import { deleteNamespace } from './namespaces.ts';
import {
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  PATCH_TYPES,
  type PatchType,
} from './patch.ts';
import { apiVersionOf, findResource, type ResourceType, type ServedOptions } from './resources.ts';
import type { ResourceRoute } from './routes.ts';
import { getScale, updateScale } from './scale.ts';
import { type IncludeObject, toTable } from './table.ts';
import { serveWatch } from './watch.ts';

/** What the handlers need from the running server. */
export interface HandlerContext {
  store: Store;
  served: ServedOptions;
  bookmarkIntervalMs: number;
}

interface RequestInfo {
  ctx: HandlerContext;
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

/** Dispatches a resource request to the handler of its verb or subresource. Throws ApiError to refuse. */
export async function handleResource(
  ctx: HandlerContext,
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

/**
 * The patch type of a PATCH request, or the refusal the real server answers with. go-restful's router
 * checks Content-Type first, against the route's Consumes list (the patch types; a comma-separated
 * header matches if any entry does; a missing one counts as application/octet-stream): no match is
 * "415: Unsupported Media Type" with a body, "406: Not Acceptable" without one. The patch handler
 * then checks the type again (its long message is what only custom resources, routed without
 * Consumes, ever get).
 */
function patchTypeOf(req: IncomingMessage): PatchType {
  const header = req.headers['content-type'] || 'application/octet-stream';
  const routed = header.split(',').some((entry) => {
    const mediaType = entry.split(';')[0]!.trim();
    return (PATCH_TYPES as readonly string[]).includes(mediaType);
  });
  if (!routed) {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0;
    throw hasBody
      ? genericServerResponse(415, '415: Unsupported Media Type')
      : genericServerResponse(406, '406: Not Acceptable');
  }
  const patchType = contentTypeOf(req) as PatchType;
  if (!PATCH_TYPES.includes(patchType)) {
    throw new ApiError(
      failure(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`,
      ),
    );
  }
  return patchType;
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
  const patchType = patchTypeOf(info.req);
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
    scale = patchToObject(patchTypeOf(info.req), getScale(info.scope, name), text);
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
