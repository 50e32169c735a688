// Idempotency is bookkeeping: it never fails work already done and, when misconfigured, says what
// to run. Through `spotguard handle` (the Lambda code path) against a bare simulator.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.ts';
import { simulatorEnvironment } from '../../sim/lambda-bridge.ts';
import { deployment } from '../e2e/harness.ts';
import { runCli as run, spotWarning } from './support.ts';

let sim: Simulator;
let dir: string;

beforeAll(async () => {
  // A cluster spotguard was never installed on: the simulator creates its namespace (as a deployed
  // spotguard has it), so take it away (the first test relies on that).
  sim = await startSimulator({
    nodes: 3,
    podStartMs: 50,
    podTerminationMs: 100,
    scenario: { workloads: [deployment('web', 3)] },
  });
  sim.store.delete('namespaces', undefined, 'spotguard');
  Object.assign(process.env, simulatorEnvironment(sim), {
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  dir = mkdtempSync(join(tmpdir(), 'spotguard-bookkeeping-'));
  await sim.waitFor(
    () => sim.store.list('pods').filter((p) => p.status?.phase === 'Running').length === 3,
    10_000,
  );
}, 30_000);

afterAll(async () => {
  await sim?.stop();
});

function itnFile(instanceId: string): string {
  const file = join(dir, `${crypto.randomUUID()}.json`);
  writeFileSync(file, JSON.stringify(spotWarning(instanceId)));
  return file;
}

describe('idempotency bookkeeping', () => {
  it('a missing spotguard namespace fails naming it and the commands that fix it; nothing is touched', async () => {
    const inst = sim.aws.instances()[0]!;
    const { code, err } = await run(['handle', itnFile(inst.instanceId)]);
    expect(code).toBe(1);
    expect(err).toContain('namespace "spotguard" not found');
    expect(err).toContain('kubectl create namespace spotguard');
    expect(err).toContain('kubectl apply -f infra/rbac.yaml');
    expect(sim.store.get('nodes', undefined, inst.privateDnsName)!.spec.unschedulable).toBeFalsy();
  });

  it('a finished drain whose success record cannot be written is still reported handled (exit 0)', async () => {
    sim.store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'spotguard' } });
    const inst = sim.aws.instances()[1]!;
    // The in-progress record is a create; the success record replaces it (PUT): make every PUT fail.
    const removeFault = sim.faults.add({
      service: 'k8s',
      verb: 'update',
      resource: 'configmaps',
      status: 500,
    });
    const warn = vi.spyOn(console, 'warn');
    let result: Awaited<ReturnType<typeof run>>;
    try {
      result = await run(['handle', itnFile(inst.instanceId), '-v']);
    } finally {
      removeFault();
    }
    expect(result.code).toBe(0);
    const report = JSON.parse(result.out).reports[0];
    expect(report.outcome).toBe('handled');
    expect(report.drain.complete).toBe(true);
    expect(result.err).toContain('idempotency record not written');
    expect(sim.store.get('nodes', undefined, inst.privateDnsName)!.spec.unschedulable).toBe(true);
    // The CLI registers its holder time: no Powertools "registerLambdaContext" warning.
    expect(warn.mock.calls.flat().join(' ')).not.toMatch(/registerLambdaContext/);
    warn.mockRestore();
  }, 30_000);
});
