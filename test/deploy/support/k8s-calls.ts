// Derives the Kubernetes permissions spotguard's code needs from the code itself: every
// @kubernetes/client-node API method called in shared/** is looked up in client-node's generated
// request factories (its HTTP method and URL path), which gives the (apiGroup, resource, verb)
// RBAC must allow. Watches started from a raw path (client-node's Watch) and the generic
// KubernetesObjectApi `.list(apiVersion, kind)` are recognised too.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface Permission {
  group: string;
  resource: string;
  verb: string;
}

export interface Derived extends Permission {
  /** file:line of the call that needs it. */
  origin: string;
}

interface Operation {
  apiClass: string;
  method: string;
  httpMethod: string;
  path: string;
}

export const permissionKey = (p: Permission): string => `${p.group || 'core'}/${p.resource}:${p.verb}`;

/** Every operation of every typed API class of the installed @kubernetes/client-node. */
export function clientNodeOperations(): Operation[] {
  const require = createRequire(import.meta.url);
  const apisDir = path.join(path.dirname(require.resolve('@kubernetes/client-node')), 'gen', 'apis');
  const ops: Operation[] = [];
  for (const file of readdirSync(apisDir).filter((f) => /Api\.js$/.test(f) && !f.startsWith('Object'))) {
    const apiClass = file.replace(/\.js$/, '');
    const source = readFileSync(path.join(apisDir, file), 'utf8');
    const factory = source.split(`export class ${apiClass}ResponseProcessor`)[0] ?? '';
    for (const chunk of factory.split(/\n\s+async (?=\w+\()/).slice(1)) {
      const method = /^(\w+)\(/.exec(chunk)?.[1];
      const urlPath = /const localVarPath = '([^']+)'/.exec(chunk)?.[1];
      const httpMethod = /HttpMethod\.(\w+)/.exec(chunk)?.[1];
      if (method && urlPath && httpMethod) ops.push({ apiClass, method, httpMethod, path: urlPath });
    }
  }
  if (ops.length < 100)
    throw new Error(`parsed only ${ops.length} operations from ${apisDir}: layout changed?`);
  return ops;
}

interface ParsedPath {
  group: string | undefined;
  resource: string;
  named: boolean;
}

/** `/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets/{name}` → policy, poddisruptionbudgets. */
export function parseApiPath(urlPath: string): ParsedPath | undefined {
  const segs = urlPath.split('?')[0]!.split('/').filter(Boolean);
  let group: string | undefined;
  let rest: string[];
  if (segs[0] === 'api') {
    group = '';
    rest = segs.slice(2);
  } else if (segs[0] === 'apis') {
    // `/apis/${version}/x`: one placeholder standing for group/version
    if (segs[1]?.includes('${')) {
      group = undefined;
      rest = segs.slice(2);
    } else {
      group = segs[1];
      rest = segs.slice(3);
    }
  } else return undefined;
  if (rest[0] === 'watch') rest = rest.slice(1);
  if (rest[0] === 'namespaces' && rest.length > 2) rest = rest.slice(2);
  const [plural, name, sub] = rest;
  if (!plural) return undefined; // discovery, not a resource
  return { group, resource: sub ? `${plural}/${sub}` : plural, named: name !== undefined };
}

export function verbOf(op: Operation, parsed: ParsedPath): string {
  switch (op.httpMethod) {
    case 'GET':
      return parsed.named ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return parsed.named ? 'delete' : 'deletecollection';
    default:
      throw new Error(`client-node ${op.apiClass}.${op.method}: unexpected HTTP method ${op.httpMethod}`);
  }
}

export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (entry.endsWith('.ts') && !entry.endsWith('.test.ts') && !entry.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** Comments would otherwise be read as calls (`GET /apis/policy` in a doc comment). */
function stripComments(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

const lineOf = (source: string, index: number): number => source.slice(0, index).split('\n').length;

/** The permissions the given source files need, each with where the need comes from. */
export function derivePermissions(files: string[], root: string): Derived[] {
  const ops = clientNodeOperations();
  const byMethod = new Map<string, Operation[]>();
  for (const op of ops) byMethod.set(op.method, [...(byMethod.get(op.method) ?? []), op]);
  const groupsOfPlural = new Map<string, Set<string>>();
  for (const op of ops) {
    const p = parseApiPath(op.path);
    if (p?.group !== undefined) {
      const plural = p.resource.split('/')[0]!;
      groupsOfPlural.set(plural, new Set([...(groupsOfPlural.get(plural) ?? []), p.group]));
    }
  }
  const sources = files.map((f) => ({
    file: path.relative(root, f),
    text: stripComments(readFileSync(f, 'utf8')),
  }));
  // `core: CoreV1Api;` / `core: make(CoreV1Api)` / `core: config.makeApiClient(CoreV1Api)` →
  // receiver property "core" is a CoreV1Api
  const apiClasses = new Set(ops.map((op) => op.apiClass));
  const classOfReceiver = new Map<string, string>();
  for (const { text } of sources) {
    for (const m of text.matchAll(/(\w+)\??\s*:\s*(?:[\w.]+\()?(\w+Api)\b/g)) {
      if (apiClasses.has(m[2]!)) classOfReceiver.set(m[1]!, m[2]!);
    }
  }

  const found: Derived[] = [];
  const problems: string[] = [];
  for (const { file, text } of sources) {
    for (const m of text.matchAll(/(?:(\w+)\s*\)?\s*)?\.(\w+)\(/g)) {
      // discovery calls (getAPIGroup, getAPIVersions) are non-resource URLs every identity may read
      const candidates = byMethod.get(m[2]!)?.filter((op) => parseApiPath(op.path));
      if (!candidates?.length) continue;
      const origin = `${file}:${lineOf(text, m.index)}`;
      const receiverClass = m[1] ? classOfReceiver.get(m[1]) : undefined;
      const matching = receiverClass ? candidates.filter((c) => c.apiClass === receiverClass) : candidates;
      const classes = new Set(matching.map((c) => c.apiClass));
      if (classes.size !== 1) {
        problems.push(
          `${origin}: .${m[2]}() could be ${[...new Set(candidates.map((c) => c.apiClass))].join(' or ')}`,
        );
        continue;
      }
      const op = matching[0]!;
      const parsed = parseApiPath(op.path)!;
      // CustomObjectsApi: /apis/{group}/{version}/{plural} — take group and plural from the call's
      // literal arguments ({ group: 'policy', version: 'v1beta1', plural: 'poddisruptionbudgets' })
      if (parsed.group?.includes('{') || parsed.resource.includes('{')) {
        const args = text.slice(m.index, text.indexOf(')', m.index + m[0].length));
        const literal = (name: string) => new RegExp(`${name}:\\s*['"]([^'"]+)['"]`).exec(args)?.[1];
        const group = literal('group');
        const plural = literal('plural');
        if (!group || !plural) {
          problems.push(
            `${origin}: .${m[2]}() needs literal group and plural arguments to derive its permission`,
          );
          continue;
        }
        parsed.group = parsed.group?.includes('{') ? group : parsed.group;
        parsed.resource = parsed.resource.replace('{plural}', plural);
      }
      found.push({ group: parsed.group!, resource: parsed.resource, verb: verbOf(op, parsed), origin });
    }
    // raw-path watches: Watch.watch(path) / startWatch({ path }) / makeInformer(kc, path)
    for (const m of text.matchAll(/(startWatch|\.watch|makeInformer)\([^;]*?['"`](\/apis?\/[^'"`]+)['"`]/g)) {
      const origin = `${file}:${lineOf(text, m.index)}`;
      const parsed = parseApiPath(m[2]!);
      if (!parsed) continue;
      const plural = parsed.resource.split('/')[0]!;
      const groups = parsed.group !== undefined ? [parsed.group] : [...(groupsOfPlural.get(plural) ?? [])];
      if (groups.length !== 1) {
        problems.push(`${origin}: cannot tell the API group of watched path ${m[2]}`);
        continue;
      }
      const verbs = m[1] === 'makeInformer' ? ['list', 'watch'] : ['watch'];
      for (const verb of verbs) found.push({ group: groups[0]!, resource: parsed.resource, verb, origin });
    }
    // generic client: KubernetesObjectApi.list('policy/v1beta1', 'PodDisruptionBudget')
    for (const m of text.matchAll(/\.list\(\s*'([\w.-]+\/)?(\w+)'\s*,\s*'(\w+)'/g)) {
      const origin = `${file}:${lineOf(text, m.index)}`;
      const group = m[1] ? m[1].slice(0, -1) : '';
      const kind = m[3]!.toLowerCase();
      const plural = [`${kind}s`, `${kind}es`, kind.replace(/y$/, 'ies')].find((p) => groupsOfPlural.has(p));
      if (!plural) problems.push(`${origin}: unknown kind ${m[3]}`);
      else found.push({ group, resource: plural, verb: 'list', origin });
    }
  }
  if (problems.length) throw new Error(`cannot derive Kubernetes permissions:\n  ${problems.join('\n  ')}`);
  return found;
}
