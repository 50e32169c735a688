// `npm run package`: `serverless package` (osls + serverless-esbuild) fully offline.
// Produces .serverless/cloudformation-template-update-stack.json and one zip per function.
//
// osls needs no AWS call to package, but it does look for credentials: we hand it dummy ones and
// cut it off from every source of real ones (profiles, SSO, instance metadata). A preloaded guard
// makes any non-loopback TCP connection or DNS lookup throw, so "offline" is enforced, not hoped.
//
// Usage: node scripts/package.ts [-- extra osls args, e.g. --stage prod --param="clusterName=x"]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2).filter((a) => a !== '--');
  const result = packageService(args);
  process.stdout.write(result.output);
  if (result.status === 0 && !existsSync(templatePath)) {
    process.stderr.write(`osls reported success but ${templatePath} is missing\n`);
    process.exit(1);
  }
  process.exit(result.status);
}
