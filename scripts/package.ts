// `npm run package`: `serverless package` (osls + serverless-esbuild) fully offline.
// Produces .serverless/cloudformation-template-update-stack.json and one zip per function.
//
// osls needs no AWS call to package, but it does look for credentials: we hand it dummy ones and
// cut it off from every source of real ones (profiles, SSO, instance metadata). A preloaded guard
// makes any non-loopback TCP connection or DNS lookup throw, so "offline" is enforced, not hoped.
//
// Usage: node scripts/package.ts [-- extra osls args, e.g. --stage prod --param="clusterName=x"]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';
import { parse } from 'yaml';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const serverlessDir = path.join(repoRoot, '.serverless');
export const templatePath = path.join(serverlessDir, 'cloudformation-template-update-stack.json');

/** Injected with --import into the osls process: refuses network access outside loopback. */
const networkGuard = `
import net from 'node:net';
import dns from 'node:dns';
const isLoopback = (h) => h === undefined || h === 'localhost' || h === '::1' || /^127\\./.test(h);
const refuse = (what) => { throw new Error('spotguard package: network access refused (' + what + '); packaging must be offline'); };
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  // net.connect() passes its normalized [options, callback] pair as the first argument
  const o = Array.isArray(args[0]) ? args[0][0] : args[0];
  const host = typeof o === 'object' && o !== null ? (o.path ? 'localhost' : o.host) : args[1];
  if (!isLoopback(host)) refuse('connect ' + host);
  return connect.apply(this, args);
};
const lookup = dns.lookup;
dns.lookup = function (host, ...rest) { if (!isLoopback(host)) refuse('dns ' + host); return lookup.call(this, host, ...rest); };
const lookupP = dns.promises.lookup;
dns.promises.lookup = async (host, ...rest) => { if (!isLoopback(host)) refuse('dns ' + host); return lookupP.call(dns.promises, host, ...rest); };
`;

/** `node --import <this>` loads the guard. */
export const networkGuardImport = `data:text/javascript,${encodeURIComponent(networkGuard)}`;

/** Environment for osls: dummy credentials, no profile/SSO/IMDS, no update or telemetry chatter. */
export function offlineEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const key of ['AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ROLE_ARN'])
    delete env[key];
  return {
    ...env,
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    AWS_REGION: base.AWS_REGION ?? 'us-east-1',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    SLS_TELEMETRY_DISABLED: '1',
    SLS_TRACKING_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    SLS_DEPRECATION_DISABLE: '*',
    SLS_INTERACTIVE_SETUP_ENABLE: '0',
    CI: '1',
  };
}

/**
 * The esbuild options serverless.yml's custom.esbuild gives serverless-esbuild, minus the
 * plugin's own keys: for building a handler the same way outside osls (tests, benchmarks).
 */
export function esbuildOptions(): BuildOptions {
  const passThrough = (tag: string) => ({ tag, resolve: (v: string) => v });
  const sls = parse(readFileSync(path.join(repoRoot, 'serverless.yml'), 'utf8'), {
    customTags: ['!Sub', '!GetAtt', '!Ref'].map(passThrough),
  });
  const options: Record<string, unknown> = { ...sls.custom.esbuild };
  for (const key of PLUGIN_ONLY_OPTIONS) delete options[key];
  return options as BuildOptions;
}

/** serverless-esbuild's own settings, which it removes before calling esbuild (its bundle.js). */
const PLUGIN_ONLY_OPTIONS = [
  'concurrency',
  'zipConcurrency',
  'exclude',
  'nativeZip',
  'packager',
  'packagePath',
  'watch',
  'keepOutputDirectory',
  'packagerOptions',
  'installExtraArgs',
  'outputFileExtension',
  'outputBuildFolder',
  'outputWorkFolder',
  'nodeExternals',
  'skipBuild',
  'skipRebuild',
  'skipBuildExcludeFns',
  'stripEntryResolveExtensions',
  'disposeContext',
];

export interface PackageResult {
  status: number;
  output: string;
}

/** Longest a package run may take before it is killed (esbuild on a busy 2-core machine: ~30 s). */
const PACKAGE_TIMEOUT_MS = 5 * 60_000;

/**
 * Runs `osls package` in the repo with the offline environment. `outDir` (osls --package) keeps
 * the artifacts away from .serverless/, e.g. for tests.
 */
export function packageService(extraArgs: string[] = [], outDir?: string): PackageResult {
  const osls = path.join(repoRoot, 'node_modules', 'osls', 'bin', 'serverless.js');
  if (!existsSync(osls)) throw new Error(`osls not installed at ${osls}: run npm install`);
  const args = [
    '--import',
    networkGuardImport,
    osls,
    'package',
    ...(outDir ? ['--package', outDir] : []),
    ...extraArgs,
  ];
  // a private esbuild work folder per run: serverless-esbuild deletes its work folder when done,
  // and with the shared default (.esbuild) one run would delete another's build under its feet
  const workFolder = { SPOTGUARD_ESBUILD_WORK_FOLDER: `.esbuild/run-${process.pid}-${Date.now()}` };
  const run = spawnSync(process.execPath, args, {
    cwd: repoRoot,
    env: { ...offlineEnv(), ...workFolder },
    encoding: 'utf8',
    maxBuffer: 32 * 1024 * 1024,
    timeout: PACKAGE_TIMEOUT_MS,
  });
  if (run.error) throw new Error(`osls package failed to run: ${run.error.message}`, { cause: run.error });
  if (run.signal)
    throw new Error(`osls package killed by ${run.signal} (limit ${PACKAGE_TIMEOUT_MS / 1000} s)`);
  return { status: run.status ?? 1, output: `${run.stdout}${run.stderr}` };
}

/** Where the V8 compile cache sits in a function's zip (and so under /var/task). */
export const COMPILE_CACHE_DIR = '.node-compile-cache';

/**
 * Builds a portable V8 compile cache for `entry` inside `taskDir` (an unzipped function): imports
 * the bundle once in a fresh Node with NODE_COMPILE_CACHE_PORTABLE, so the cache is keyed by the
 * path relative to the cache folder and stays valid under /var/task. The function then needs
 * NODE_COMPILE_CACHE=/var/task/.node-compile-cache and NODE_COMPILE_CACHE_PORTABLE=1. A Node whose
 * version differs looks in another sub-folder (named by version and V8 flags), finds nothing and
 * compiles as without a cache; writing back fails silently on Lambda's read-only /var/task.
 */
export function buildCompileCache(taskDir: string, entry: string): string {
  const cacheDir = path.join(taskDir, COMPILE_CACHE_DIR);
  rmSync(cacheDir, { recursive: true, force: true });
  const node = path.join(repoRoot, 'node_modules', '.bin', 'node');
  execFileSync(
    node,
    ['--input-type=module', '-e', `await import(${JSON.stringify(path.join(taskDir, entry))})`],
    {
      env: {
        PATH: process.env.PATH ?? '',
        ...offlineEnv({}),
        CLUSTER_NAME: 'compile-cache',
        POWERTOOLS_METRICS_DISABLED: 'true',
        NODE_COMPILE_CACHE: cacheDir,
        NODE_COMPILE_CACHE_PORTABLE: '1',
      },
      stdio: 'pipe',
    },
  );
  return cacheDir;
}

/** Adds a compile cache to every function zip in `dir` (unzip, import once, zip the cache in). */
export function addCompileCaches(dir: string): string[] {
  const zips = readdirSync(dir).filter((f) => f.endsWith('.zip'));
  for (const zip of zips) {
    const task = mkdtempSync(path.join(tmpdir(), 'spotguard-task-'));
    execFileSync('unzip', ['-q', path.join(dir, zip), '-d', task]);
    const entry = readdirSync(task, { recursive: true, encoding: 'utf8' }).find((f) =>
      f.endsWith('handler.mjs'),
    );
    if (!entry) throw new Error(`${zip} has no handler.mjs`);
    buildCompileCache(task, entry);
    execFileSync('zip', ['-qr', path.join(dir, zip), COMPILE_CACHE_DIR], { cwd: task });
    rmSync(task, { recursive: true, force: true });
  }
  return zips;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const raw = process.argv.slice(2).filter((a) => a !== '--');
  // --compile-cache: ship a V8 compile cache in each zip (BENCHMARKS.md, cold path: what it costs)
  const compileCache = raw.includes('--compile-cache');
  const args = raw.filter((a) => a !== '--compile-cache');
  const result = packageService(args);
  if (result.status === 0 && compileCache) addCompileCaches(serverlessDir);
  process.stdout.write(result.output);
  if (result.status === 0 && !existsSync(templatePath)) {
    process.stderr.write(`osls reported success but ${templatePath} is missing\n`);
    process.exit(1);
  }
  process.exit(result.status);
}
