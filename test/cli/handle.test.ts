// `spotguard handle` runs the Lambda code path from a laptop: against the simulator through its
// kubeconfig and AWS_ENDPOINT_URL, with the exit codes the CLI promises.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.ts';
import { simulatorEnvironment } from '../../sim/lambda-bridge.ts';
import { deployment, pdb } from '../e2e/harness.ts';
import { runCli as run, spotWarning } from '../safety/support.ts';

let sim: Simulator;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  sim = await startSimulator({
    nodes: 3,
    podStartMs: 50,
    podTerminationMs: 100,
    scenario: {
      workloads: [deployment('web', 3), pdb('web-all', 'web', { minAvailable: '100%' })],
    },
  });
  const env = simulatorEnvironment(sim);
  kubeconfig = env.SPOTGUARD_KUBECONFIG!;
  Object.assign(process.env, env, { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' });
  dir = mkdtempSync(join(tmpdir(), 'spotguard-handle-'));
  await sim.waitFor(
    () => sim.store.list('pods').filter((p) => p.status?.phase === 'Running').length === 3,
    10_000,
  );
}, 30_000);

afterAll(async () => {
  await sim?.stop();
});

/** `ageSeconds` back-dates the warning: the deadline is time + 120 s. */
function itnFile(instanceId: string, id: string, ageSeconds = 0): string {
  const file = join(dir, `${id}.json`);
  writeFileSync(file, JSON.stringify(spotWarning(instanceId, { id, ageSeconds })));
  return file;
}

describe('spotguard handle', () => {
  it('--dry-run prints the plan and changes nothing', async () => {
    const inst = sim.aws.instances()[0]!;
    const { code, out } = await run([
      'handle',
      itnFile(inst.instanceId, 'a0000000-0000-4000-8000-000000000001'),
      '--dry-run',
      '--kubeconfig',
      kubeconfig,
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(out).reports[0];
    expect(report).toMatchObject({
      kind: 'spot-interruption',
      outcome: 'handled',
      nodeName: inst.privateDnsName,
    });
    // the plan, every step only planned; nothing on the node and no Auto Scaling change
    expect(report.plan.dryRun).toBe(true);
    expect(report.plan.steps.every((s: { status: string }) => s.status === 'planned')).toBe(true);
    expect(report.actions.join('\n')).toMatch(/would cordon/);
    expect(sim.store.get('nodes', undefined, inst.privateDnsName)!.spec.unschedulable).toBeFalsy();
    expect(sim.awsRequests.count('autoscaling', 'DetachInstances')).toBe(0);

    // The same event for real runs exactly the steps the dry run printed.
    const real = await run([
      'handle',
      itnFile(inst.instanceId, 'a0000000-0000-4000-8000-000000000011', 105),
      '--kubeconfig',
      kubeconfig,
    ]);
    const ran = JSON.parse(real.out).reports[0].plan;
    expect(ran.dryRun).toBe(false);
    const shape = (p: { steps: { id: string; kind: string }[] }) => p.steps.map((s) => `${s.id}:${s.kind}`);
    expect(shape(ran)).toEqual(shape(report.plan));
    expect(ran.steps.every((s: { status: string }) => s.status !== 'planned')).toBe(true);
    expect(sim.store.get('nodes', undefined, inst.privateDnsName)!.spec.unschedulable).toBe(true);
  }, 30_000);

  it('handles an interruption for real: exit 0, node cordoned; the same file again is a duplicate', async () => {
    const inst = sim.aws.instances()[1]!;
    // 105 s old: 15 s left, so the drain gives up on the 100% PDB at deadline − 10 s margin.
    const file = itnFile(inst.instanceId, 'a0000000-0000-4000-8000-000000000002', 105);
    const first = await run(['handle', file, '--kubeconfig', kubeconfig]);
    expect(first.code).toBe(0);
    const report = JSON.parse(first.out).reports[0];
    expect(report.outcome).toBe('handled');
    expect(report.drain.pods).toEqual([
      expect.objectContaining({ outcome: 'blocked-by-pdb', pdb: 'default/web-all' }),
    ]);
    expect(sim.store.get('nodes', undefined, inst.privateDnsName)!.spec.unschedulable).toBe(true);
    const again = await run(['handle', file, '--kubeconfig', kubeconfig]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out).reports[0].outcome).toBe('duplicate');
  }, 30_000);

  it('exits 1 when the event failed: a manual drain blocked by a PDB past its timeout', async () => {
    // a small cluster: the cordoned-share refusal is not what this test is about
    process.env.MANUAL_MAX_CORDONED_SHARE = '1';
    const node = sim.aws.instances()[2]!.privateDnsName;
    const file = join(dir, 'manual.json');
    writeFileSync(
      file,
      JSON.stringify({
        spotguard: 'manual',
        action: 'drain',
        node,
        reason: 'test: PDB blocks',
        timeoutSeconds: 2,
      }),
    );
    const { code, out } = await run(['handle', file, '--kubeconfig', kubeconfig]);
    expect(code).toBe(1);
    const report = JSON.parse(out).reports[0];
    expect(report.outcome).toBe('failed');
    expect(
      report.drain.pods.some(
        (p: { outcome: string; pdb?: string }) =>
          p.outcome === 'blocked-by-pdb' && /web-all/.test(p.pdb ?? ''),
      ),
    ).toBe(true);
    expect(
      sim.store.get('nodes', undefined, node)!.metadata.annotations?.['spotguard.io/manual-reason'],
    ).toBe('test: PDB blocks');
  }, 30_000);

  it('exits 2 naming the field for malformed input', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ spotguard: 'manual', action: 'drain', node: 'x' }));
    const { code, err } = await run(['handle', file, '--kubeconfig', kubeconfig]);
    expect(code).toBe(2);
    expect(err).toMatch(/reason/);
  });
});
