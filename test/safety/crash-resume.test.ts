// A handler killed mid-drain (SIGKILL of a real `spotguard handle` process) is resumed: a retry
// while the dead holder's time is not up is refused (not acknowledged as a duplicate), the next one
// after it takes over the in-progress idempotency record and the drain Lease, finishes the drain,
// and no pod is evicted twice.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.ts';
import { simulatorEnvironment } from '../../sim/lambda-bridge.ts';
import { deployment, podsOn } from '../e2e/harness.ts';
import { spotWarning } from './support.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const NODE24 = join(ROOT, 'node_modules/.bin/node');
const HOLD_S = 8;

let sim: Simulator;
let env: Record<string, string>;
let file: string;

beforeAll(async () => {
  sim = await startSimulator({
    nodes: 3,
    podStartMs: 50,
    // Evicted pods take 20 s to go: the drain is still waiting on them when it is killed.
    podTerminationMs: 20_000,
    scenario: { workloads: [deployment('web', 6, { grace: 30 })] },
  });
  env = {
    ...(process.env as Record<string, string>),
    ...simulatorEnvironment(sim),
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    SPOTGUARD_DRAIN_LEASE_SECONDS: String(HOLD_S),
  };
  await sim.waitFor(
    () => sim.store.list('pods').filter((p) => p.status?.phase === 'Running').length === 6,
    10_000,
  );
  const dir = mkdtempSync(join(tmpdir(), 'spotguard-crash-'));
  file = join(dir, 'itn.json');
}, 30_000);

afterAll(async () => {
  await sim?.stop();
});

function handle(): { child: ChildProcess; done: Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn(NODE24, [join(ROOT, 'cli/bin.mjs'), 'handle', file], { env, cwd: ROOT });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, out, err })),
  );
  return { child, done };
}

describe('crash mid-drain', () => {
  it('is taken over once the holder time is up and finishes without evicting a pod twice', async () => {
    const inst = sim.aws
      .instances()
      .sort((a, b) => podsOn(sim, b.privateDnsName).length - podsOn(sim, a.privateDnsName).length)[0]!;
    const node = inst.privateDnsName;
    const pods = podsOn(sim, node).map((p) => p.metadata.name);
    expect(pods.length).toBeGreaterThan(0);
    writeFileSync(file, JSON.stringify(spotWarning(inst.instanceId, { region: sim.region })));
    const evictions = () => sim.kubeRequests.byKey()['create pods/eviction'] ?? 0;
    const before = evictions();

    // 1. Killed once every pod is evicted and terminating: the drain was waiting on them.
    const first = handle();
    await sim.waitFor(
      () => pods.every((name) => sim.store.get('pods', 'default', name)?.metadata.deletionTimestamp),
      20_000,
      'all pods of the node terminating',
    );
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.code).toBeNull();
    expect(sim.store.get('nodes', undefined, node)!.spec.unschedulable).toBe(true);

    // 2. At once: the dead holder's time is not up. Refused for a later retry, not acked as duplicate.
    const early = await handle().done;
    expect(early.code).toBe(1);
    expect(early.err).toMatch(/being handled by another invocation/);

    // 3. After the holder time: taken over and finished.
    await new Promise((r) => setTimeout(r, HOLD_S * 1000 + 500));
    const resumed = await handle().done;
    expect(resumed.code, resumed.err).toBe(0);
    const report = JSON.parse(resumed.out).reports[0];
    expect(report.outcome, JSON.stringify(report)).toBe('handled');
    expect(report.drain.complete).toBe(true);
    for (const name of pods) expect(sim.store.get('pods', 'default', name)).toBeUndefined();
    // One eviction per pod over all three runs.
    expect(evictions() - before).toBe(pods.length);
  }, 60_000);
});
