// Shared by the CLI-driven tests: an in-process `spotguard …` run and a spot interruption warning.
import { main } from '../../cli/main.ts';

/** Runs the CLI in this process; stdout, stderr and the exit code. */
export async function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    readStdin: async () => '',
  });
  return { code, out, err };
}

/** An EventBridge spot interruption warning; `ageSeconds` back-dates it (deadline = time + 120 s). */
export function spotWarning(
  instanceId: string,
  opts: { id?: string; region?: string; ageSeconds?: number } = {},
): Record<string, unknown> {
  return {
    version: '0',
    id: opts.id ?? crypto.randomUUID(),
    'detail-type': 'EC2 Spot Instance Interruption Warning',
    source: 'aws.ec2',
    account: '123456789012',
    time: new Date(Date.now() - (opts.ageSeconds ?? 0) * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
    region: opts.region ?? 'us-east-1',
    resources: [],
    detail: { 'instance-id': instanceId, 'instance-action': 'terminate' },
  };
}
