// `spotguard demo` as CI runs it: the whole spot-storm scenario through spotguard's real handlers on
// the simulator, then the JSON summary on the last line of stdout, and the HTML report it names.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const BIN = new URL('../../cli/bin.mjs', import.meta.url).pathname;

it('npm start story, --no-tty --speed max --output json: no misses, no PDB violations, stateful pods home', async () => {
  const report = join(mkdtempSync(join(tmpdir(), 'spotguard-demo-test-')), 'report.html');
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
    (resolve) =>
      execFile(
        process.execPath,
        [BIN, 'demo', '--no-tty', '--speed', 'max', '--output', 'json', '--report', report],
        { timeout: 240_000, maxBuffer: 32 << 20 },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      ),
  );
  const lines = stdout.trim().split('\n');
  const summary = JSON.parse(lines.at(-1)!);
  expect(code, stderr.slice(-3000)).toBe(0);

  // the storm happened and spotguard handled it: every interrupted node cordoned, its pods moved
  expect(summary.eventsHandled).toBeGreaterThanOrEqual(20);
  expect(summary.timeToCordonMs.n).toBeGreaterThanOrEqual(7);
  expect(summary.timeToCordonMs.p50).toBeGreaterThan(0);
  expect(summary.timeToCordonMs.p99).toBeGreaterThanOrEqual(summary.timeToCordonMs.p50);
  expect(summary.podsMoved).toBeGreaterThan(0);
  expect(summary.deadlineMisses).toBe(0);
  expect(summary.pdbViolations).toBe(0);
  expect(summary.statefulPods).toBe(3);
  expect(summary.statefulPodsOutOfZone).toBe(0);
  expect(summary.hooksCompleted).toBe(summary.hooksTotal);
  expect(summary.hooksTotal).toBeGreaterThan(0);
  expect(summary.settled).toBe(true);
  expect(summary.deadLetters).toBe(0);
  expect(typeof summary.maxZoneSkew).toBe('number');
  // the AZ rebalancer and the on-demand fallback are part of the story: both ran, skew within maxSkew
  expect(summary.features).toEqual({ fallback: 'ran', rebalancer: 'ran' });
  expect(summary.maxZoneSkew).toBeLessThanOrEqual(summary.zoneSkewAtEnd.allowed);

  // the kubectl-drain comparison ran on the same storm
  expect(summary.baseline.kubectl.deadlineMisses).toBeGreaterThanOrEqual(0);
  expect(summary.baseline.rows.map((r: { metric: string }) => r.metric)).toContain('time to cordon p50');

  // the report: self-contained (chart.js inlined, no external script or stylesheet), path printed
  expect(stdout).toContain(`report: ${report}`);
  expect(existsSync(report)).toBe(true);
  const html = readFileSync(report, 'utf8');
  expect(html).toContain('Chart.js v4');
  expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
}, 300_000);
