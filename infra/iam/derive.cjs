// Per-function IAM, derived from the code: for each route in shared/routes.ts, the AWS SDK v3
// commands reachable from its handler when the dispatcher only knows the event kinds the route
// accepts (shared/events/routing.ts). esbuild bundles the handler with the SDK left external and
// tree-shaking on; the `import { …Command } from "@aws-sdk/client-…"` lines left in its output are
// exactly the commands that code can send. Used at packaging (infra/iam/roles.cjs) and by
// test/deploy (support/iam.ts), so a new function or a new SDK call changes its role by itself.
'use strict';

const { mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');

/** `@aws-sdk/client-auto-scaling` → `autoscaling` (the IAM service prefix). */
const IAM_PREFIX = {
  'auto-scaling': 'autoscaling',
  ec2: 'ec2',
  eks: 'eks',
  sqs: 'sqs',
  sts: 'sts',
  'elastic-load-balancing-v2': 'elasticloadbalancing',
  lambda: 'lambda',
  cloudwatch: 'cloudwatch',
  sns: 'sns',
};

/** STS GetCallerIdentity (the EKS token is a presigned one) needs no IAM permission. */
const NEEDS_NO_PERMISSION = new Set(['sts:GetCallerIdentity']);

function esbuild() {
  return require('esbuild');
}

/** Loads shared/routes.ts and shared/events/routing.ts (TypeScript) through esbuild. */
async function loadRoutes() {
  const out = await esbuild().build({
    stdin: {
      contents:
        "export { routes } from './shared/routes.ts';\nexport { acceptedKinds } from './shared/events/routing.ts';",
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  const dir = path.join(ROOT, 'node_modules', '.cache', 'spotguard-iam');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `routes-${process.pid}-${Date.now()}.cjs`);
  writeFileSync(file, out.outputFiles[0].text);
  return require(file);
}

/**
 * shared/actions/dispatch.ts cut down to `kinds`: its `case '<kind>': return <fn>(…)` lines and the
 * imports of those functions. Throws when it can no longer be read that way (say so, do not guess).
 */
function dispatchFor(kinds, source) {
  const imports = new Map();
  for (const m of source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'([^']+)'/g)) {
    for (const name of m[1]
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s && !s.startsWith('type '))) {
      imports.set(name, m[2]);
    }
  }
  const cases = [...source.matchAll(/case '([\w-]+)':\s*return (\w+)\(/g)];
  if (cases.length === 0) {
    throw new Error("infra/iam/derive.cjs: no `case 'kind': return fn(` found in shared/actions/dispatch.ts");
  }
  const lines = [];
  const used = [];
  for (const [, kind, fn] of cases) {
    if (!kinds.includes(kind)) continue;
    const from = imports.get(fn);
    if (!from) throw new Error(`infra/iam/derive.cjs: ${fn} (kind ${kind}) is not imported in dispatch.ts`);
    lines.push(`import { ${fn} } from '${from}';`);
    used.push(`    case '${kind}': return ${fn}(event, d);`);
  }
  return [
    ...lines,
    'export async function handleEvent(event, d) {',
    '  switch (event.kind) {',
    ...used,
    "    default: return { kind: event.kind, dedupKey: event.dedupKey, outcome: 'ignored', summary: '', actions: [] };",
    '  }',
    '}',
  ].join('\n');
}

/** IAM actions (→ the files' commands) reachable from functions/<name>/handler.ts for `kinds`. */
async function reachableActions(functionName, kinds) {
  const dispatchPath = path.join(ROOT, 'shared/actions/dispatch.ts');
  const dispatchSource = readFileSync(dispatchPath, 'utf8');
  const out = await esbuild().build({
    entryPoints: [path.join(ROOT, `functions/${functionName}/handler.ts`)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    treeShaking: true,
    minify: false,
    // Our code only: every package stays an import (the SDK commands are read from those).
    packages: 'external',
    logLevel: 'silent',
    plugins: [
      {
        name: 'dispatch-for-route',
        setup(build) {
          build.onLoad({ filter: /shared[\\/]actions[\\/]dispatch\.ts$/ }, () => ({
            contents: dispatchFor(kinds, dispatchSource),
            loader: 'ts',
            resolveDir: path.dirname(dispatchPath),
          }));
        },
      },
    ],
  });
  const text = out.outputFiles[0].text;
  // esbuild drops unreachable functions but keeps an external import's full name list, so a
  // command counts when its local name is still used in the code left after tree-shaking.
  const sdkImport = /import\s*\{([^}]*)\}\s*from\s*"@aws-sdk\/client-([\w-]+)";?/g;
  const code = text.replace(sdkImport, '');
  const actions = new Set();
  for (const m of text.matchAll(sdkImport)) {
    const prefix = IAM_PREFIX[m[2]];
    for (const spec of m[1].split(',')) {
      const found = /^\s*(\w+)Command(?:\s+as\s+(\w+))?\s*$/.exec(spec);
      if (!found) continue;
      const local = found[2] ?? `${found[1]}Command`;
      if (!new RegExp(`\\b${local}\\b`).test(code)) continue;
      if (!prefix) throw new Error(`infra/iam/derive.cjs: no IAM prefix known for @aws-sdk/client-${m[2]}`);
      const action = `${prefix}:${found[1]}`;
      if (!NEEDS_NO_PERMISSION.has(action)) actions.add(action);
    }
  }
  return [...actions].sort();
}

/** { functionName → { route, kinds, actions } } for every route. */
async function deriveAll() {
  const { routes, acceptedKinds } = await loadRoutes();
  const result = {};
  for (const route of routes) {
    const kinds = acceptedKinds(route);
    result[route.functionName] = { route, kinds, actions: await reachableActions(route.functionName, kinds) };
  }
  return result;
}

module.exports = { deriveAll, reachableActions, dispatchFor, IAM_PREFIX };
