// Building, starting and stopping the real Kubernetes 1.20 control plane (scripts/k8s-real): shared by
// the test runner (test-real/run.ts) and the real-cluster benchmark (bench/drain-real.ts).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const SCRIPTS = join(ROOT, 'scripts', 'k8s-real');
export const READY_TIMEOUT_MS = 120_000;
export const STOP_GRACE_MS = 10_000;

/** Runs build.sh (returns at once when the cache is warm); returns the bin folder or throws. */
export function buildControlPlane(): string {
  const build = spawnSync('bash', [join(SCRIPTS, 'build.sh')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const binDir = build.stdout?.trim().split('\n').at(-1) ?? '';
  if (build.status !== 0 || !binDir) {
    throw new Error(
      `cannot build the real control plane (build.sh exit ${build.status ?? build.signal}); ` +
        'the reason is printed above. It needs apt-get with access to the Debian archive.',
    );
  }
  return binDir;
}

/** A TCP port nothing listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject()));
    });
  });
}

export function exited(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? 1);
  return new Promise((done) => child.once('exit', (code) => done(code ?? 1)));
}

/** Kills a whole process group: TERM first, KILL after the grace period. */
export async function killGroup(child: ChildProcess, graceMs: number): Promise<void> {
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

export async function waitUntilReady(runDir: string, controlPlane: ChildProcess): Promise<void> {
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

/**
 * Spawns start.sh in a process group of its own (one group kill stops etcd and all three
 * components); it also stops by itself when this process is gone (WATCH_PID).
 */
export function spawnControlPlane(
  binDir: string,
  runDir: string,
  ports: { api: number; etcd: number; etcdPeer: number },
  stdio: 'inherit' | 'ignore' = 'inherit',
): ChildProcess {
  return spawn('bash', [join(SCRIPTS, 'start.sh'), runDir, String(ports.api)], {
    detached: true,
    stdio: ['ignore', stdio, stdio],
    env: {
      ...process.env,
      K8S_BIN: binDir,
      ETCD_PORT: String(ports.etcd),
      ETCD_PEER_PORT: String(ports.etcdPeer),
      WATCH_PID: String(process.pid),
    },
  });
}

export interface RunningControlPlane {
  /** kubeconfig file with the admin token */
  kubeconfig: string;
  runDir: string;
  /** Stops every component; removes the run dir unless keepRunDir. Safe to call twice. */
  stop(opts?: { keepRunDir?: boolean }): Promise<void>;
}

/** Builds (or reuses) the binaries, starts the control plane and waits until it is ready. */
export async function startControlPlane(opts: { quiet?: boolean } = {}): Promise<RunningControlPlane> {
  const binDir = buildControlPlane();
  const ports = { api: await freePort(), etcd: await freePort(), etcdPeer: await freePort() };
  const runDir = mkdtempSync(join(tmpdir(), 'spotguard-k8s-real-'));
  const child = spawnControlPlane(binDir, runDir, ports, opts.quiet ? 'ignore' : 'inherit');
  let stopping: Promise<void> | undefined;
  const stop = ({ keepRunDir = false } = {}) => {
    stopping ??= (async () => {
      await killGroup(child, STOP_GRACE_MS);
      if (!keepRunDir) rmSync(runDir, { recursive: true, force: true });
    })();
    return stopping;
  };
  try {
    await waitUntilReady(runDir, child);
  } catch (err) {
    await stop({ keepRunDir: true });
    throw err;
  }
  return { kubeconfig: join(runDir, 'kubeconfig'), runDir, stop };
}
