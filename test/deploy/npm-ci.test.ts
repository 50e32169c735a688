// `npm ci` is what a deploy pipeline runs: it must accept the committed lockfile on every platform a
// developer or CI uses (Linux and macOS, x64 and arm64), which needs each platform's optional
// packages (esbuild's, biome's binaries) in the lockfile. Dry runs in a copy: nothing is installed
// and nothing is downloaded (the lockfile alone decides).
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../scripts/package.ts';

const run = promisify(execFile);

function copyOfProject(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'spotguard-npm-ci-'));
  for (const f of ['package.json', 'package-lock.json'])
    copyFileSync(path.join(repoRoot, f), path.join(dir, f));
  return dir;
}

const npmCiDryRun = (dir: string, os: string, cpu: string) =>
  run('npm', ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund', '--os', os, '--cpu', cpu], {
    cwd: dir,
    env: { ...process.env, npm_config_update_notifier: 'false' },
    timeout: 60_000,
  });

describe('npm ci --dry-run with the committed lockfile', () => {
  for (const [os, cpu] of [
    ['linux', 'x64'],
    ['linux', 'arm64'],
    ['darwin', 'x64'],
    ['darwin', 'arm64'],
  ] as const) {
    it(`accepts it on ${os}-${cpu} and plans that platform's binaries`, async () => {
      const { stdout } = await npmCiDryRun(copyOfProject(), os, cpu);
      expect(stdout).toContain(`add @esbuild/${os}-${cpu} `);
      expect(stdout).toContain(`add @biomejs/cli-${os}-${cpu} `);
      expect(stdout).toMatch(/added \d+ packages/);
    });
  }

  it('refuses a lockfile out of step with package.json (so the checks above can fail)', async () => {
    const dir = copyOfProject();
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    pkg.dependencies['left-pad'] = '^1.3.0';
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
    await expect(npmCiDryRun(dir, 'linux', 'x64')).rejects.toMatchObject({
      stderr: expect.stringContaining('in sync'),
    });
  });
});
