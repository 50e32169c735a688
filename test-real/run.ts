// `npm run test:real-k8s`: builds (or reuses) a real Kubernetes 1.20 control plane, starts it on
// loopback, runs the vitest suite in test-real/ against it, and stops everything it started — also
// on failure, SIGINT and SIGTERM. Exits with vitest's exit code. Extra arguments go to vitest
// (e.g. `npm run test:real-k8s -- differential -t eviction`).
//
// env: K8S_HOME (build cache, default ~/.cache/k8s-real). The run dir (kubeconfig, logs, etcd data)
// is removed after a passing run and kept after a failing one; KEEP_RUN_DIR=1 / 0 forces either.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const SCRIPTS = join(ROOT, 'scripts', 'k8s-real');
const READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 10_000;

const log = (message: string) => console.error(`test:real-k8s: ${message}`);

/** Runs build.sh (returns at once when the cache is warm); returns the bin folder or exits. */
function buildControlPlane(): string {
  const build = spawnSync('bash', [join(SCRIPTS, 'build.sh')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const binDir = build.stdout?.trim().split('\n').at(-1) ?? '';
  if (build.status !== 0 || !binDir) {
    log(
      `cannot build the real control plane (build.sh exit ${build.status ?? build.signal}); ` +
        'the reason is printed above. It needs apt-get with access to the Debian archive.',
    );
    process.exit(2);
  }
  return binDir;
}

/** A TCP port nothing listens on right now (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject()));
    });
  });
}

function exited(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? 1);
  return new Promise((done) => child.once('exit', (code) => done(code ?? 1)));
}

/** Kills a whole process group: TERM first, KILL after the grace period. */
async function killGroup(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.pid === undefined) return;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // the group is already gone
    }
  };
  signalGroup('SIGTERM');
  const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
  signalGroup('SIGKILL'); // anything left in the group after its leader exited
}

async function waitUntilReady(runDir: string, controlPlane: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!existsSync(join(runDir, 'ready'))) {
    if (controlPlane.exitCode !== null || controlPlane.signalCode !== null) {
      throw new Error(`the control plane exited during start; logs in ${join(runDir, 'logs')}`);
    }
    if (Date.now() > deadline)
      throw new Error(`the control plane was not ready after ${READY_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<number> {
  const binDir = buildControlPlane();
  const [apiPort, etcdPort, etcdPeerPort] = [await freePort(), await freePort(), await freePort()];
  const runDir = mkdtempSync(join(tmpdir(), 'spotguard-k8s-real-'));
  const kubeconfig = join(runDir, 'kubeconfig');

  // detached: its own process group, so one group kill stops etcd and all three components
  const controlPlane = spawn('bash', [join(SCRIPTS, 'start.sh'), runDir, String(apiPort)], {
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      K8S_BIN: binDir,
      ETCD_PORT: String(etcdPort),
      ETCD_PEER_PORT: String(etcdPeerPort),
      WATCH_PID: String(process.pid),
    },
  });
  let vitest: ChildProcess | undefined;
  let failed = true;

  // once only: a signal may arrive while the normal path is already cleaning up
  let cleaning: Promise<void> | undefined;
  const cleanUp = () => {
    cleaning ??= (async () => {
      if (vitest) await killGroup(vitest, STOP_GRACE_MS);
      await killGroup(controlPlane, STOP_GRACE_MS);
      if (failed && process.env.KEEP_RUN_DIR !== '0') log(`logs kept in ${join(runDir, 'logs')}`);
      else if (process.env.KEEP_RUN_DIR !== '1') rmSync(runDir, { recursive: true, force: true });
    })();
    return cleaning;
  };
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping`);
      cleanUp().finally(() => process.exit(code));
    });
  }

  try {
    await waitUntilReady(runDir, controlPlane);
    log(`control plane ready on https://127.0.0.1:${apiPort}`);
    vitest = spawn(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'),
        'run',
        '--config',
        join(ROOT, 'test-real', 'vitest.config.ts'),
        ...process.argv.slice(2),
      ],
      {
        cwd: ROOT,
        detached: true, // own group: a group kill also reaches vitest's workers
        stdio: 'inherit',
        env: { ...process.env, REAL_K8S_KUBECONFIG: kubeconfig },
      },
    );
    const code = await exited(vitest);
    failed = code !== 0;
    return code;
  } catch (err) {
    log((err as Error).message);
    return 1;
  } finally {
    await cleanUp();
  }
}

process.exitCode = await main();
