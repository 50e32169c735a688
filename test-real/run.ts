// `npm run test:real-k8s`: builds (or reuses) a real Kubernetes 1.20 control plane, starts it on
// loopback, runs the vitest suite in test-real/ against it, and stops everything it started — also
// on failure, SIGINT and SIGTERM. Exits with vitest's exit code. Extra arguments go to vitest
// (e.g. `npm run test:real-k8s -- differential -t eviction`).
//
// env: K8S_HOME (build cache, default ~/.cache/k8s-real). The run dir (kubeconfig, logs, etcd data)
// is removed after a passing run and kept after a failing one; KEEP_RUN_DIR=1 / 0 forces either.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  buildControlPlane as build,
  exited,
  freePort,
  killGroup,
  STOP_GRACE_MS,
  spawnControlPlane,
  waitUntilReady,
} from './control-plane.ts';

const ROOT = resolve(import.meta.dirname, '..');

const log = (message: string) => console.error(`test:real-k8s: ${message}`);

/** Runs build.sh (returns at once when the cache is warm); returns the bin folder or exits. */
function buildControlPlane(): string {
  try {
    return build();
  } catch (err) {
    log((err as Error).message);
    process.exit(2);
  }
}

async function main(): Promise<number> {
  const binDir = buildControlPlane();
  const [apiPort, etcdPort, etcdPeerPort] = [await freePort(), await freePort(), await freePort()];
  const runDir = mkdtempSync(join(tmpdir(), 'spotguard-k8s-real-'));
  const kubeconfig = join(runDir, 'kubeconfig');

  // detached: its own process group, so one group kill stops etcd and all three components
  const controlPlane = spawnControlPlane(binDir, runDir, {
    api: apiPort,
    etcd: etcdPort,
    etcdPeer: etcdPeerPort,
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
