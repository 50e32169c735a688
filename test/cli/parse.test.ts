// `spotguard parse`: in-process through main() for every fixture, and through the real bin with
// `npx spotguard` (child process, cwd = repo) for a few, checking stdout JSON, exit codes and stderr.
import { execFile, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { CliIO } from '../../cli/io.ts';
import { main } from '../../cli/main.ts';
import { parse } from '../../shared/events/parse.ts';

const REPO = join(import.meta.dirname, '../..');
const FIXTURES = readdirSync(join(REPO, 'events')).filter((f) => f.endsWith('.json'));
const MALFORMED = readdirSync(join(REPO, 'events/malformed')).filter((f) => f.endsWith('.json'));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], stdin = ''): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
    readStdin: async () => stdin,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Manual payloads are stamped with the parse time; everything else must match exactly. */
function withoutManualTime(line: Record<string, unknown>): Record<string, unknown> {
  if (line.kind !== 'manual') return line;
  const { time: _time, dedupKey, ...rest } = line;
  // without a requestId every manual request is a new one (its key is unique by design)
  return line.requestId ? { ...rest, dedupKey } : rest;
}

describe('spotguard parse (in-process main)', () => {
  for (const file of FIXTURES) {
    it(`events/${file}: one JSON line per domain event, exit 0`, async () => {
      const result = await run(['parse', join(REPO, 'events', file)]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const lines = jsonLines(result.stdout);
      const events = parse(readFileSync(join(REPO, 'events', file), 'utf8'));
      expect(lines.map(withoutManualTime)).toEqual(
        events.map((e) => withoutManualTime(JSON.parse(JSON.stringify(e)) as Record<string, unknown>)),
      );
      for (const line of lines) {
        // The fields people read first come first.
        expect(Object.keys(line).slice(0, 4)).toEqual([
          'kind',
          'instanceIds',
          'time',
          ...(line.deadline ? ['deadline'] : ['dedupKey']),
        ]);
        if (line.kind === 'ignored') expect(typeof line.reason).toBe('string');
      }
    });
  }

  for (const file of MALFORMED) {
    it(`events/malformed/${file}: exit 2, stderr names the field, nothing on stdout`, async () => {
      const result = await run(['parse', join(REPO, 'events/malformed', file)]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      let expected = '';
      try {
        parse(readFileSync(join(REPO, 'events/malformed', file), 'utf8'));
      } catch (error) {
        expected = (error as Error).message;
      }
      expect(expected).not.toBe('');
      expect(result.stderr).toBe(`spotguard: ${expected}\n`);
    });
  }

  it('prints the spot interruption fields an operator needs', async () => {
    const [line] = jsonLines((await run(['parse', join(REPO, 'events/spot-interruption.json')])).stdout);
    expect(line).toEqual({
      kind: 'spot-interruption',
      instanceIds: ['i-0a1b2c3d4e5f60718'],
      time: '2026-11-21T10:00:00.000Z',
      deadline: '2026-11-21T10:02:00.000Z',
      dedupKey: 'spot-interruption:i-0a1b2c3d4e5f60718:1e5527d7-bb36-4607-3370-4164db56a40e',
      instanceId: 'i-0a1b2c3d4e5f60718',
      instanceAction: 'terminate',
      region: 'eu-west-1',
      account: '123456789012',
      envelopes: ['eventbridge'],
    });
  });

  it('reads standard input for -', async () => {
    const result = await run(
      ['parse', '-'],
      readFileSync(join(REPO, 'events/state-change-running.json'), 'utf8'),
    );
    expect(result.code).toBe(0);
    expect(jsonLines(result.stdout)).toMatchObject([{ kind: 'state-change', state: 'running' }]);
  });

  it('malformed JSON on stdin: exit 2 naming the root', async () => {
    const result = await run(['parse', '-'], '{"source": "aws.ec2"');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^spotguard: \(root\): expected a JSON document, got invalid JSON/);
  });

  it('--batch prints one line per SQS record and exits 2 when one is bad', async () => {
    const result = await run([
      'parse',
      '--batch',
      join(REPO, 'events/malformed/sqs-lifecycle-bad-token.json'),
    ]);
    expect(result.code).toBe(2);
    const lines = jsonLines(result.stdout);
    expect(lines.map((l) => ('error' in l ? 'error' : 'events'))).toEqual(['events', 'events', 'error']);
    expect(lines[2]).toMatchObject({
      recordId: '8e7a8ada-fdf8-4f06-89d8-cc7fdebe6d0c',
      error: { path: 'Records[2].body.detail.LifecycleActionToken' },
    });
  });

  it('a missing file is a usage error (exit 2) naming the file', async () => {
    const result = await run(['parse', 'events/does-not-exist.json']);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toBe('spotguard: cannot read events/does-not-exist.json: ENOENT\n');
  });

  it('usage errors exit 2 with commander’s message', async () => {
    const missing = await run(['parse']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'file'");
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const option = await run(['parse', '--nope', 'x.json']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("unknown option '--nope'");
  });

  it('--help and --version exit 0', async () => {
    const help = await run(['parse', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: spotguard parse [options] <file>');
    const version = await run(['--version']);
    expect(version).toEqual({
      code: 0,
      stdout: `${JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version}\n`,
      stderr: '',
    });
  });
});

const exec = promisify(execFile);

/** Runs `npx spotguard …` from the repo root; npm's own warnings are dropped from stderr. */
async function npx(args: string[], input?: string): Promise<Run> {
  const child = exec('npx', ['--no-install', 'spotguard', ...args], { cwd: REPO, encoding: 'utf8' });
  if (input !== undefined) child.child.stdin?.end(input);
  else child.child.stdin?.end();
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr: withoutNpmNoise(stderr) };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: withoutNpmNoise(e.stderr) };
  }
}

function withoutNpmNoise(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => !line.startsWith('npm warn'))
    .join('\n');
}

describe('npx spotguard (real bin, child process)', () => {
  it('parse events/spot-interruption.json', async () => {
    const result = await npx(['parse', 'events/spot-interruption.json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(jsonLines(result.stdout)).toMatchObject([
      {
        kind: 'spot-interruption',
        instanceIds: ['i-0a1b2c3d4e5f60718'],
        deadline: '2026-11-21T10:02:00.000Z',
      },
    ]);
  });

  it('parse events/sqs-batch-itn.json prints one line per record', async () => {
    const result = await npx(['parse', 'events/sqs-batch-itn.json']);
    expect(result.code).toBe(0);
    expect(jsonLines(result.stdout).map((l) => [l.kind, l.recordId])).toEqual([
      ['spot-interruption', '059f36b4-87a3-44ab-83d2-661975830a7d'],
      ['rebalance-recommendation', '2e1424d4-f796-459a-8184-9c92662be6da'],
    ]);
  });

  it('parse of a malformed event exits 2 with the field in the message', async () => {
    const result = await npx(['parse', 'events/malformed/spot-interruption-bad-action.json']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'spotguard: detail.instance-action: expected one of terminate|stop|hibernate, got "reboot"\n',
    );
  });

  it('parse - reads the event from a pipe', async () => {
    const result = await npx(
      ['parse', '-'],
      readFileSync(join(REPO, 'events/test-notification.json'), 'utf8'),
    );
    expect(result.code).toBe(0);
    expect(jsonLines(result.stdout)).toMatchObject([
      { kind: 'ignored', reason: 'autoscaling:TEST_NOTIFICATION' },
    ]);
  });
});

// The bin refuses an old Node with a clear message (the system node here is older than 24).
const systemNode = spawnSync('/usr/bin/node', ['-p', 'process.versions.node'], { encoding: 'utf8' });
const oldNode = systemNode.status === 0 && Number(systemNode.stdout.split('.')[0]) < 24;

describe.skipIf(!oldNode)('cli/bin.mjs on an old Node', () => {
  it('exits 1 telling the user to run it through npm/npx', () => {
    const result = spawnSync(
      '/usr/bin/node',
      [join(REPO, 'cli/bin.mjs'), 'parse', 'events/spot-interruption.json'],
      {
        cwd: REPO,
        encoding: 'utf8',
      },
    );
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('spotguard needs Node 24');
    expect(result.stderr).toContain('run it through npm/npx in the project so the pinned node is used');
  });
});
