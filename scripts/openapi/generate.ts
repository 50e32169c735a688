// Derives sim/k8s/api/openapi-spec.json (what the simulated API server serves at /openapi/v2 and
// /openapi/v3) from the Kubernetes project's own published OpenAPI document, api/openapi-spec/swagger.json
// of its source: the definitions of the kinds the simulator serves (sim/k8s/api/resources.ts) and
// everything they reference, nothing written by hand.
//
//   node scripts/openapi/generate.ts [path/to/swagger.json]
//
// Default input: Debian's kubernetes source package as scripts/k8s-real/build.sh unpacks it
// ($K8S_HOME/src/kubernetes-*/api/openapi-spec/swagger.json, K8S_HOME default ~/.cache/k8s-real).
// That is Kubernetes 1.20, like the differential suite. Kinds the simulator serves in a version
// 1.20 did not have yet (policy/v1 PodDisruptionBudget, batch/v1 CronJob: GA in 1.21, same
// schema) are copied from the version 1.20 has, renamed to the served version; the output lists them.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESOURCES } from '../../sim/k8s/api/resources.ts';

type Schema = Record<string, unknown>;
interface Swagger {
  info: Record<string, unknown>;
  definitions: Record<string, Schema>;
}
interface Gvk {
  group: string;
  version: string;
  kind: string;
}

const OUT = fileURLToPath(new URL('../../sim/k8s/api/openapi-spec.json', import.meta.url));

function defaultInput(): string {
  const home = process.env.K8S_HOME ?? join(homedir(), '.cache/k8s-real');
  const src = join(home, 'src');
  const dir = existsSync(src) ? readdirSync(src).find((d) => /^kubernetes-\d/.test(d)) : undefined;
  const path = dir ? join(src, dir, 'api/openapi-spec/swagger.json') : '';
  if (!path || !existsSync(path))
    throw new Error(
      `no Kubernetes source under ${src}: run scripts/k8s-real/build.sh (or its fetch step, ` +
        '`apt-get source --download-only kubernetes`) or pass the path of swagger.json',
    );
  return path;
}

const gvksOf = (s: Schema) => (s['x-kubernetes-group-version-kind'] as Gvk[] | undefined) ?? [];

/** The kinds the simulator serves: each resource's kind per served version, and its subresources' kinds. */
function servedKinds(): Gvk[] {
  const out = new Map<string, Gvk>();
  const add = (g: Gvk) => out.set(`${g.group}/${g.version}/${g.kind}`, g);
  for (const r of RESOURCES) {
    for (const version of r.versions) {
      add({ group: r.group, version, kind: r.kind });
      for (const sub of r.subresources)
        add({ group: sub.group ?? r.group, version: sub.version ?? version, kind: sub.kind });
    }
  }
  // what every API answer may carry
  add({ group: '', version: 'v1', kind: 'Status' });
  return [...out.values()];
}

function refsOf(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) for (const v of value) refsOf(v, into);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') into.add(v.replace('#/definitions/', ''));
      else refsOf(v, into);
    }
  }
}

/** Copies `name` (package pkg) and what it references in that package into package `toPkg`. */
function copyPackage(defs: Record<string, Schema>, name: string, toPkg: string, gvk: Gvk): string {
  const pkg = name.slice(0, name.lastIndexOf('.'));
  const rename = (n: string) => (n.startsWith(`${pkg}.`) ? toPkg + n.slice(pkg.length) : n);
  const todo = [name];
  const seen = new Set<string>();
  while (todo.length) {
    const n = todo.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    const text = JSON.stringify(defs[n]).replaceAll(`"#/definitions/${pkg}.`, `"#/definitions/${toPkg}.`);
    const copy = JSON.parse(text) as Schema;
    if (n === name) copy['x-kubernetes-group-version-kind'] = [gvk];
    defs[rename(n)] = copy;
    const refs = new Set<string>();
    refsOf(defs[n], refs);
    for (const r of refs) if (r.startsWith(`${pkg}.`)) todo.push(r);
  }
  return rename(name);
}

function generate(input: string) {
  const swagger = JSON.parse(readFileSync(input, 'utf8')) as Swagger;
  const defs = swagger.definitions;
  const byGvk = new Map<string, string>();
  for (const [name, s] of Object.entries(defs))
    for (const g of gvksOf(s)) byGvk.set(`${g.group}/${g.version}/${g.kind}`, name);

  const roots: string[] = [];
  const derived: string[] = [];
  const missing: string[] = [];
  for (const gvk of servedKinds()) {
    const key = `${gvk.group}/${gvk.version}/${gvk.kind}`;
    let name = byGvk.get(key);
    if (!name) {
      // the same kind in another version of the group (1.20 had it only in beta)
      const other = [...byGvk].find(([k]) => k.startsWith(`${gvk.group}/`) && k.endsWith(`/${gvk.kind}`));
      if (other) {
        const pkg = `${other[1].slice(0, other[1].lastIndexOf('.', other[1].lastIndexOf('.') - 1))}.${gvk.version}`;
        name = copyPackage(defs, other[1], pkg, gvk);
        derived.push(`${key} from ${other[1]}`);
      }
    }
    if (name) roots.push(name);
    else missing.push(key);
  }

  const keep = new Set<string>();
  const todo = [...roots];
  while (todo.length) {
    const n = todo.pop()!;
    if (keep.has(n) || !defs[n]) continue;
    keep.add(n);
    const refs = new Set<string>();
    refsOf(defs[n], refs);
    todo.push(...refs);
  }
  const definitions = Object.fromEntries([...keep].sort().map((n) => [n, defs[n]!]));
  const out = {
    swagger: '2.0',
    info: { ...swagger.info, 'x-spotguard-source': 'kubernetes api/openapi-spec/swagger.json' },
    'x-spotguard-derived': derived,
    definitions,
  };
  writeFileSync(OUT, `${JSON.stringify(out)}\n`);
  process.stderr.write(
    `openapi: ${keep.size} of ${Object.keys(swagger.definitions).length} definitions (${roots.length} served kinds) → ${OUT}\n` +
      (derived.length ? `  derived: ${derived.join('; ')}\n` : '') +
      (missing.length ? `  no schema in the source for: ${missing.join(', ')}\n` : ''),
  );
}

generate(process.argv[2] ?? defaultInput());
