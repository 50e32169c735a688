// Per-function IAM, derived from the code: for each route in shared/routes.ts, the AWS SDK v3
// commands reachable from its handler when the dispatch and planFor only know the event kinds the
// route accepts (shared/events/routing.ts) and nodeRunners only the step kinds those kinds'
// planners can emit (stepKindsOf, shared/plans/plan-for.ts). esbuild bundles the handler with the SDK left external and
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

/** Loads shared/routes.ts, shared/events/routing.ts and plan-for.ts's stepKindsOf through esbuild. */
async function loadRoutes() {
  const out = await esbuild().build({
    stdin: {
      contents:
        "export { routes } from './shared/routes.ts';\nexport { acceptedKinds } from './shared/events/routing.ts';\nexport { stepKindsOf } from './shared/plans/plan-for.ts';",
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

const DISPATCH = 'shared/plans/dispatch.ts';
const PLAN_FOR = 'shared/plans/plan-for.ts';
const RUNNERS = 'shared/plans/runners/index.ts';

function unreadable(file, what) {
  return new Error(
    `infra/iam/derive.cjs: ${file}: ${what}; it can no longer be cut per function (update derive.cjs)`,
  );
}

/**
 * `source` with the `case 'kind': return fn(…);` clauses of kinds not in `kinds` removed (a clause
 * may carry several labels: it stays with the labels that remain). Every `case` of the file must
 * be of that form: a case derive.cjs cannot read could reach anything.
 */
function cutCases(source, kinds, file) {
  const clause = /((?:case '[\w-]+':\s*)+)return \w+\([^;]*\);/g;
  const labelsIn = (text) => [...text.matchAll(/case '([\w-]+)':/g)].map((m) => m[1]);
  const unread = labelsIn(source.replace(clause, ''));
  if (unread.length > 0) {
    throw unreadable(file, `case '${unread[0]}' is not of the form \`case 'kind': return fn(…);\``);
  }
  if (labelsIn(source).length === 0) throw unreadable(file, "no `case 'kind': return fn(…);` found");
  return source.replace(clause, (whole, labels) => {
    const kept = labelsIn(labels).filter((k) => kinds.includes(k));
    return kept.length === 0
      ? ''
      : `${kept.map((k) => `case '${k}':`).join(' ')} ${whole.slice(labels.length)}`;
  });
}

/** runners/index.ts with the `nodeRunners` entries of `stepKinds` only (each line `kind: runFn,`). */
function cutRunners(source, stepKinds, file = RUNNERS) {
  const table = /(export const nodeRunners\b[^=]*=\s*\{)([^}]*)(\};)/.exec(source);
  if (!table) throw unreadable(file, 'no `export const nodeRunners … = { … };`');
  const entries = table[2].split('\n').filter((l) => l.trim());
  const parsed = entries.map((line) => [line, /^\s*'?([\w-]+)'?:\s*\w+,\s*$/.exec(line)?.[1]]);
  const odd = parsed.find(([, kind]) => !kind);
  if (odd) throw unreadable(file, `entry ${JSON.stringify(odd[0].trim())} is not \`kind: runFn,\``);
  const missing = stepKinds.filter((k) => !parsed.some(([, kind]) => kind === k));
  if (missing.length > 0) throw unreadable(file, `no runner for step kind(s) ${missing.join(', ')}`);
  const kept = parsed.filter(([, kind]) => stepKinds.includes(kind)).map(([line]) => line);
  return source.replace(table[0], `${table[1]}\n${kept.join('\n')}\n${table[3]}`);
}

/** The step kinds the planners of `kinds` can emit (stepKindsOf in plan-for.ts). */
function stepKindsFor(kinds, stepKindsOf) {
  return [...new Set(kinds.flatMap((k) => stepKindsOf[k] ?? []))].sort();
}

/**
 * The esbuild plugin that cuts a function's bundle to its route: the dispatch and planFor to the
 * event kinds it accepts, nodeRunners to the step kinds their planners can emit.
 */
function cutToRoute(kinds, stepKindsOf) {
  const cuts = [
    [DISPATCH, (src) => cutCases(src, kinds, DISPATCH)],
    [PLAN_FOR, (src) => cutCases(src, kinds, PLAN_FOR)],
    [RUNNERS, (src) => cutRunners(src, stepKindsFor(kinds, stepKindsOf))],
  ];
  return {
    name: 'cut-to-route',
    setup(build) {
      for (const [file, cut] of cuts) {
        const abs = path.join(ROOT, file);
        const filter = new RegExp(
          `${file
            .split('/')
            .map((part) => part.replace(/\./g, '\\.'))
            .join('[\\\\/]')}$`,
        );
        build.onLoad({ filter }, () => ({
          contents: cut(readFileSync(abs, 'utf8')),
          loader: 'ts',
          resolveDir: path.dirname(abs),
        }));
      }
    },
  };
}

/** IAM actions (→ the files' commands) reachable from functions/<name>/handler.ts for `kinds`. */
async function reachableActions(functionName, kinds, stepKindsOf) {
  const steps = stepKindsOf ?? (await loadRoutes()).stepKindsOf;
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
    plugins: [cutToRoute(kinds, steps)],
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
  const { routes, acceptedKinds, stepKindsOf } = await loadRoutes();
  const result = {};
  for (const route of routes) {
    const kinds = acceptedKinds(route);
    result[route.functionName] = {
      route,
      kinds,
      actions: await reachableActions(route.functionName, kinds, stepKindsOf),
    };
  }
  return result;
}

module.exports = { deriveAll, reachableActions, cutCases, cutRunners, stepKindsFor, IAM_PREFIX };
