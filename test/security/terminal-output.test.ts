// `spotguard parse` output cannot drive the terminal it is printed on: no raw ESC/BEL/LF/C1/bidi
// characters on stdout or stderr, whatever the event carries, and no forged extra lines.
import { describe, expect, it } from 'vitest';
import type { CliIO } from '../../cli/io.ts';
import { main } from '../../cli/main.ts';

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

async function run(argv: string[], stdin: string) {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
    readStdin: async () => stdin,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

const TITLE = '\u001b]0;owned\u0007';
const FORGED = '\nspotguard: drained ip-10-0-0-1 (complete)\n';

describe('spotguard parse output escaping', () => {
  it('an unknown field named with terminal escapes is echoed escaped, on one line', async () => {
    const payload = JSON.stringify({
      spotguard: 'manual',
      action: 'status',
      node: 'n1',
      [TITLE + FORGED]: 1,
    });
    const r = await run(['parse', '-'], payload);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(RAW_CONTROL);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('\\u001b]0;owned\\u0007');
  });

  it('--batch error lines escape what they echo', async () => {
    const bad = JSON.stringify({
      spotguard: 'manual',
      action: 'status',
      node: 'n1',
      [`x\u009b2J${TITLE}`]: 1,
    });
    const sqs = JSON.stringify({ Records: [{ messageId: 'm1', eventSource: 'aws:sqs', body: bad }] });
    const r = await run(['parse', '--batch', '-'], sqs);
    expect(r.code).toBe(2);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
  });

  it('accepted events with C1/bidi characters in free metadata are printed escaped', async () => {
    const hook = {
      Service: 'AWS Auto Scaling',
      Time: '2026-11-21T10:00:00Z',
      AccountId: '123456789012',
      LifecycleActionToken: 'b7d0c6a2-3f1e-4c9a-8e5d-2a4b6c8d0e1f',
      AutoScalingGroupName: 'workers',
      LifecycleHookName: 'spotguard-terminate',
      EC2InstanceId: 'i-0a1b2c3d4e5f60718',
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      NotificationMetadata: `{"note":"\u009b31m red \u202e reversed\u2028"}`,
    };
    const r = await run(['parse', '-'], JSON.stringify(hook));
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(r.stdout).notificationMetadata).toBe(hook.NotificationMetadata);
  });
});
