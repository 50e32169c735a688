// The CLI's drain / uncordon / status both ways: from the kubeconfig, and --via-lambda through the
// simulated Lambda Invoke endpoint to the real manual handler (identity verified by the function).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../cli/io.ts';
import { main } from '../../cli/main.ts';
import { deployment, type E2E, eventsAbout, startE2E } from '../e2e/harness.ts';

let e: E2E;
async function run(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
    readStdin: async () => '',
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}
const spotNodes = () =>
  e.sim.aws
    .instances()
    .filter((i) => i.groupName === 'spot-a' && i.state === 'running')
    .map((i) => i.privateDnsName);
const node = (name: string) => e.sim.store.get('nodes', undefined, name)!;

beforeAll(async () => {
  e = await startE2E({
    scenario: {
      cluster: { name: 'e2e-cli', region: 'us-east-1', zones: ['us-east-1a'] },
      nodeGroups: [
        {
          name: 'spot-a',
          zone: 'us-east-1a',
          capacityType: 'SPOT',
          desired: 4,
          max: 6,
          capacityRebalance: false,
        },
      ],
      workloads: [deployment('web', 4)],
    },
  });
  e.sim.lambda.register('spotguard-dev-manual', (payload) => e.bridge.invoke('manual', payload));
}, 60_000);

afterAll(async () => {
  await e?.stop();
});

describe('spotguard drain / status / uncordon', () => {
  it('kubeconfig mode: free-text reason, the local user recorded, progress on stderr, JSON on request', async () => {
    const name = spotNodes()[0]!;
    const r = await run([
      'drain',
      name,
      '--reason',
      'INC-4711: disk pressure',
      '--timeout',
      '30s',
      '--output',
      'json',
    ]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stderr).toMatch(/pods left/);
    const report = JSON.parse(r.stdout);
    expect(report.outcome).toBe('handled');
    expect(report.principal).toMatch(/^local user /);
    expect(node(name).metadata.annotations?.['spotguard.io/manual-reason']).toBe('INC-4711: disk pressure');
    const status = await run(['status']);
    expect(status.stdout).toMatch(new RegExp(`${name}\\s+INC-4711: disk pressure`));
    expect(status.stdout).toContain('fallbacks in effect: none');
    const un = await run(['uncordon', name]);
    expect(un.code).toBe(0);
    expect(node(name).spec?.unschedulable).toBeFalsy();
  }, 60_000);

  it('--via-lambda: the deployed function drains; the principal is the verified IAM identity', async () => {
    const name = spotNodes()[1]!;
    const r = await run([
      'drain',
      name,
      '--reason',
      'INC-4712 via lambda',
      '--via-lambda',
      '--output',
      'json',
      '--timeout',
      '30s',
    ]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.principal).toMatch(/^arn:aws:(iam|sts)::123456789012:/);
    expect(node(name).metadata.annotations?.['spotguard.io/requested-by']).toBe(report.principal);
    const ev = eventsAbout(e.sim, 'Node', name).find((x) => x.reason === 'ManualDrainRequested');
    expect(ev?.message).toContain(report.principal);
    const status = await run(['status', name, '--via-lambda', '--output', 'json']);
    expect(JSON.parse(status.stdout).manualStatus.nodes[0]).toMatchObject({
      node: name,
      manualReason: 'INC-4712 via lambda',
    });
    expect((await run(['uncordon', name, '--via-lambda'])).code).toBe(0);
    expect(node(name).spec?.unschedulable).toBeFalsy();
  }, 60_000);

  it('a refusal exits 1 and says why; --via-lambda to a missing function fails clearly', async () => {
    const [a, b] = spotNodes();
    expect((await run(['drain', a!, '--reason', 'one', '--timeout', '30s'])).code).toBe(0);
    const refused = await run(['drain', b!, '--reason', 'two']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/REFUSED: .*2 of 4 nodes would be cordoned/);
    const missing = await run(['status', '--via-lambda', '--function', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Function not found/);
    await run(['uncordon', a!]);
  }, 60_000);

  it('--bypass-pdb warns loudly; the reason is required for drain (same rule as the Lambda)', async () => {
    const noReason = await run(['drain', spotNodes()[2]!]);
    expect(noReason.code).toBe(2);
    const dry = await run(['drain', spotNodes()[2]!, '--reason', 'x', '--bypass-pdb', '--dry-run']);
    expect(dry.stderr).toMatch(/WARNING: --bypass-pdb/);
    expect(node(spotNodes()[2]!).spec?.unschedulable).toBeFalsy();
  });
});
