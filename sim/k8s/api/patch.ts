// PATCH bodies: JSON Patch (RFC 6902), JSON Merge Patch (RFC 7386) and Kubernetes strategic merge
// patch for the lists spotguard, kubectl and the simulator touch. Errors carry the status codes the
// real server answers with (see apiserver endpoints/handlers/patch.go).
import { badRequest, genericServerResponse } from './errors.ts';

// biome-ignore lint/suspicious/noExplicitAny: patches are open-ended JSON
type Json = any;

export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
] as const;

export type PatchType = (typeof PATCH_TYPES)[number];

const isObject = (v: unknown): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** An operation that cannot be applied; the message is json-patch's (the server does not return it). */
class JsonPatchError extends Error {}

const unprocessable = (message: string) => new JsonPatchError(message);

// ---------- JSON Patch ----------

function decodePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw unprocessable(`invalid JSON pointer: "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, parts: string[], op: string, path: string): Json {
  let node = doc;
  for (const part of parts.slice(0, -1)) {
    node = Array.isArray(node) ? node[Number(part)] : isObject(node) ? node[part] : undefined;
    if (node === undefined) {
      throw unprocessable(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
    }
  }
  return node;
}

function getAt(doc: Json, path: string, op: string): Json {
  const parts = decodePointer(path);
  if (parts.length === 0) return doc;
  const parent = parentOf(doc, parts, op, path);
  const last = parts.at(-1)!;
  const value = Array.isArray(parent) ? parent[Number(last)] : parent?.[last];
  if (value === undefined) {
    throw unprocessable(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  }
  return value;
}

function removeAt(doc: Json, path: string, op: string): Json {
  const parts = decodePointer(path);
  const parent = parentOf(doc, parts, op, path);
  const last = parts.at(-1)!;
  if (Array.isArray(parent)) {
    const index = Number(last);
    if (!Number.isInteger(index) || index < 0 || index >= parent.length) {
      throw unprocessable(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
    }
    return parent.splice(index, 1)[0];
  }
  if (!isObject(parent) || !(last in parent)) {
    throw unprocessable(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  }
  const value = parent[last];
  delete parent[last];
  return value;
}

function addAt(doc: Json, path: string, value: Json, op: string, replace: boolean): Json {
  const parts = decodePointer(path);
  if (parts.length === 0) return value;
  const parent = parentOf(doc, parts, op, path);
  const last = parts.at(-1)!;
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    const max = replace ? parent.length - 1 : parent.length;
    if (!Number.isInteger(index) || index < 0 || index > max) {
      throw unprocessable(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
    }
    parent.splice(index, replace ? 1 : 0, value);
  } else if (isObject(parent)) {
    if (replace && !(last in parent)) {
      throw unprocessable(`${op} operation does not apply: doc is missing key: ${path}: missing value`);
    }
    parent[last] = value;
  } else {
    throw unprocessable(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  }
  return doc;
}

/**
 * Applies a JSON patch. An operation that cannot be applied is refused as the real server does
 * (patch.go applyJSPatch): a generic 422 Invalid whose message does not carry json-patch's error text.
 */
export function applyJsonPatch(doc: Json, patch: Json): Json {
  if (!Array.isArray(patch)) {
    throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  }
  try {
    return applyOperations(doc, patch);
  } catch (error) {
    if (!(error instanceof JsonPatchError)) throw error;
    const refused = genericServerResponse(422, error.message);
    refused.cause = error;
    throw refused;
  }
}

function applyOperations(doc: Json, patch: Json[]): Json {
  let out = structuredClone(doc);
  for (const operation of patch) {
    const { op, path, from } = operation ?? {};
    const value = operation?.value === undefined ? undefined : structuredClone(operation.value);
    switch (op) {
      case 'add':
        out = addAt(out, path, value, op, false);
        break;
      case 'replace':
        out = addAt(out, path, value, op, true);
        break;
      case 'remove':
        removeAt(out, path, op);
        break;
      case 'move':
        out = addAt(out, path, removeAt(out, from, op), op, false);
        break;
      case 'copy':
        out = addAt(out, path, structuredClone(getAt(out, from, op)), op, false);
        break;
      case 'test':
        if (JSON.stringify(getAt(out, path, op)) !== JSON.stringify(value)) {
          throw unprocessable(`testing value ${path} failed: test failed`);
        }
        break;
      default:
        throw unprocessable(`Unexpected kind: ${op}`);
    }
  }
  return out;
}

// ---------- JSON Merge Patch ----------

/** RFC 7386. A patch that is not an object replaces the document (the caller then rejects it). */
export function applyMergePatch(doc: Json, patch: Json): Json {
  if (!isObject(patch)) return patch === null ? null : structuredClone(patch);
  const out: Record<string, Json> = isObject(doc) ? { ...doc } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = applyMergePatch(out[key], value);
  }
  return out;
}

// ---------- strategic merge patch ----------

/**
 * patchMergeKey of the list fields where the real types declare patchStrategy=merge, keyed by
 * field name (with the parent field where the same name means different things). Lists of
 * strings marked '' merge as sets. Every other list is replaced, as the real server does — for
 * example node.spec.taints has no patch strategy, so a patch's taints replace the node's.
 */
const MERGE_KEYS: Record<string, string> = {
  finalizers: '',
  podCIDRs: '',
  ownerReferences: 'uid',
  conditions: 'type',
  addresses: 'type',
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  imagePullSecrets: 'name',
  podIPs: 'ip',
  hostAliases: 'ip',
  'containers.ports': 'containerPort',
  'spec.ports': 'port',
};

function mergeKeyFor(parent: string, field: string): string | undefined {
  return MERGE_KEYS[`${parent}.${field}`] ?? MERGE_KEYS[field];
}

/** How Go's encoding/json names a JSON value's type in unmarshal errors. */
function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null || value === undefined) return 'null';
  return typeof value === 'object' ? 'object' : typeof value;
}

export function applyStrategicMergePatch(doc: Json, patch: Json): Json {
  if (!isObject(patch))
    throw badRequest(
      `json: cannot unmarshal ${jsonKind(patch)} into Go value of type map[string]interface {}`,
    );
  return mergeObject(doc, patch, '');
}

function mergeObject(doc: Json, patch: Record<string, Json>, parentField: string): Json {
  const out: Record<string, Json> = isObject(doc) ? { ...doc } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$setElementOrder/') || key === '$retainKeys' || key === '$patch') continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[field]) && Array.isArray(value)) {
        out[field] = out[field].filter((v: Json) => !value.includes(v));
      }
      continue;
    }
    if (value === null) {
      delete out[key];
    } else if (isObject(value)) {
      out[key] = value.$patch === 'replace' ? stripDirectives(value) : mergeObject(out[key], value, key);
    } else if (Array.isArray(value)) {
      out[key] = mergeList(out[key], value, mergeKeyFor(parentField, key), key);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function stripDirectives(value: Record<string, Json>): Record<string, Json> {
  const { $patch: _ignored, ...rest } = value;
  return rest;
}

function mergeList(current: Json, patch: Json[], mergeKey: string | undefined, field: string): Json[] {
  if (mergeKey === undefined || !Array.isArray(current)) {
    return patch
      .filter((item) => !(isObject(item) && item.$patch === 'delete'))
      .map((item) => structuredClone(item));
  }
  if (mergeKey === '') {
    const out = [...current];
    for (const item of patch) if (!out.includes(item)) out.push(item);
    return out;
  }
  const out: Json[] = [...current];
  for (const item of patch) {
    if (!isObject(item)) continue;
    const index = out.findIndex((existing) => isObject(existing) && existing[mergeKey] === item[mergeKey]);
    if (item.$patch === 'delete') {
      if (index >= 0) out.splice(index, 1);
    } else if (index >= 0) {
      out[index] = mergeObject(out[index], item, field);
    } else {
      out.push(mergeObject({}, item, field));
    }
  }
  return out;
}
