// `spotguard sim` as a user runs it: a child process, kubectl against the kubeconfig it prints,
// the AWS SDK against the endpoint it prints, a clean exit on SIGTERM.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { afterEach, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = new URL('../../cli/bin.mjs', import.meta.url).pathname;
let child: ChildProcess | undefined;

afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
});

function readPrinted(proc: ChildProcess): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const vars = Object.fromEntries(
        out
          .split('\n')
          .filter((l) => l.includes('='))
          .map((l) => l.split(/=(.*)/s).slice(0, 2)),
      );
      if (vars.KUBECONFIG && vars.AWS_ENDPOINT_URL && vars.CLUSTER_NAME) resolve(vars);
    });
    proc.once('exit', (code) => reject(new Error(`spotguard sim exited early with ${code}: ${out}`)));
  });
}

it('starts, serves kubectl and the AWS SDK, logs events to --events-out, stops on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spotguard-cli-'));
  const eventsFile = join(dir, 'events.jsonl');
  child = spawn(
    process.execPath,
    [
      BIN,
      'sim',
      '--nodes',
      '4',
      '--zones',
      'us-east-1a,us-east-1b',
      '--spot-share',
      '0.5',
      '--kubeconfig-out',
      join(dir, 'kc'),
      '--events-out',
      eventsFile,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const vars = await readPrinted(child);
  expect(vars.KUBECONFIG).toBe(join(dir, 'kc'));
  expect(vars.AWS_ENDPOINT_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

  const { stdout } = await run('kubectl', ['get', 'nodes', '-o', 'name'], {
    env: { ...process.env, KUBECONFIG: vars.KUBECONFIG },
  });
  expect(stdout.trim().split('\n')).toHaveLength(4);

  const asg = new AutoScalingClient({
    endpoint: vars.AWS_ENDPOINT_URL,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
  const groups = (await asg.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups!;
  expect(groups.map((g) => g.AutoScalingGroupName).sort()).toEqual([
    'eks-neighbour-spot-us-east-1a',
    'on-demand',
    'spot-us-east-1a',
    'spot-us-east-1b',
  ]);
  // a scale-out makes the sim emit events, which land in the events file
  const { SetDesiredCapacityCommand } = await import('@aws-sdk/client-auto-scaling');
  await asg.send(
    new SetDesiredCapacityCommand({ AutoScalingGroupName: 'spot-us-east-1a', DesiredCapacity: 2 }),
  );

  const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
  await new Promise((resolve) => setTimeout(resolve, 200));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  const events = readFileSync(eventsFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(events[0]).toMatchObject({
    version: '0',
    source: 'aws.ec2',
    'detail-type': 'EC2 Instance State-change Notification',
    detail: { state: 'pending' },
  });
});

it('rejects a bad option value with exit code 2', async () => {
  const result = await run(process.execPath, [BIN, 'sim', '--spot-share', '3']).catch(
    (error: { code: number; stderr: string }) => error,
  );
  expect((result as { code: number }).code).toBe(2);
  expect((result as { stderr: string }).stderr).toContain('--spot-share');
});
