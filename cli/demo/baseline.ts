// The same storm handled kubectl-drain style, for the closing comparison: a fresh simulator with the
// scenario's cluster and its spot interruptions only, and on each interruption warning the real
// `kubectl drain --ignore-daemonsets --delete-emptydir-data --force` (as bench/drain.ts runs it), the
// way a script or node-termination-handler-style agent would. No spotguard: nobody completes the
// lifecycle hooks, nobody replaces capacity ahead of EC2.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '../../sim/index.ts';
import type { Scenario } from '../../sim/scenario.ts';
import { Recorder } from './recorder.ts';
import type { SCENARIO_TIMINGS } from './run.ts';
import { type DemoSummary, percentile } from './summary.ts';

export interface Baseline {
  rows: Array<{ metric: string; spotguard: string; kubectl: string }>;
  note: string;
  kubectl?: { timeToCordonMs: { p50: number; p99: number }; deadlineMisses: number; drainsFailed: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function kubectlAvailable(): Promise<boolean> {
  return new Promise((resolve) => execFile('kubectl', ['version', '--client'], (error) => resolve(!error)));
}

export async function runKubectlBaseline(
  scenario: Scenario,
  o: { speed: number; seed: number; scaled: typeof SCENARIO_TIMINGS },
  spotguard: DemoSummary,
  log: (s: string) => void,
): Promise<Baseline> {
  const note = `kubectl drain on each interruption warning, same cluster and storm (seed ${o.seed}), time ×${o.speed}`;
  if (!(await kubectlAvailable()))
    return { rows: [], note: 'kubectl not found on PATH: the comparison was skipped' };
  log('\nthe same storm, kubectl drain-style: running …\n');
  const storm = scenario.events.filter((e) => e.interrupt || e.storm);
  let failed = 0;
  const sim = await startSimulator({
    scenario: { ...scenario, events: storm },
    speed: o.speed,
    seed: o.seed,
    ...o.scaled,
    holdScenario: true,
    onScenarioError: () => failed++,
  });
  const recorder = new Recorder(sim);
  const home = mkdtempSync(join(tmpdir(), 'spotguard-baseline-'));
  const kubeconfig = join(home, 'kubeconfig');
  writeFileSync(kubeconfig, sim.kubeconfig);
  const drains: Array<Promise<boolean>> = [];
  const noticeSeconds = Math.max(1, Math.floor(o.scaled.interruptionNoticeMs / 1000));
  const unsubscribe = sim.events.subscribe((e) => {
    if (e['detail-type'] !== 'EC2 Spot Instance Interruption Warning') return;
    const node = sim.aws.instance(String(e.detail['instance-id']))?.privateDnsName;
    if (!node) return;
    drains.push(
      new Promise((resolve) =>
        execFile(
          'kubectl',
          [
            '--kubeconfig',
            kubeconfig,
            'drain',
            node,
            '--ignore-daemonsets',
            '--delete-emptydir-data',
            '--force',
            `--timeout=${noticeSeconds}s`,
          ],
          { env: { ...process.env, HOME: home }, maxBuffer: 16 << 20 },
          (error) => resolve(!error),
        ),
      ),
    );
  });
  try {
    await sim.waitFor(
      () => sim.store.list('pods').every((p) => p.status?.phase === 'Running'),
      120_000,
      'the workloads to start',
    );
    sim.startScenario();
    // until every interrupted instance has shut down
    await sleep(1000);
    await sim.waitFor(
      () => {
        const hit = [...recorder.nodes.values()].filter((r) => r.deadlineAt !== undefined);
        return (
          hit.length + failed >= countInterruptions(scenario) &&
          hit.every((r) => r.podsAtShutdown !== undefined)
        );
      },
      300_000,
      'the interrupted instances to shut down',
    );
    const results = await Promise.all(drains);
    recorder.stop();
    const rows = [...recorder.nodes.values()].filter((r) => r.deadlineAt !== undefined);
    const cordon = rows
      .filter((r) => r.cordonAt !== undefined && r.triggerAt !== undefined)
      .map((r) => r.cordonAt! - r.triggerAt!);
    const misses = rows.filter((r) => (r.podsAtShutdown ?? 0) > 0);
    const stranded = misses.reduce((n, r) => n + (r.podsAtShutdown ?? 0), 0);
    const k = {
      timeToCordonMs: { p50: Math.round(percentile(cordon, 50)), p99: Math.round(percentile(cordon, 99)) },
      deadlineMisses: misses.length,
      drainsFailed: results.filter((ok) => !ok).length,
    };
    return {
      note,
      kubectl: k,
      rows: [
        {
          metric: 'time to cordon p50',
          spotguard: `${spotguard.timeToCordonMs.p50} ms`,
          kubectl: `${k.timeToCordonMs.p50} ms`,
        },
        {
          metric: 'time to cordon p99',
          spotguard: `${spotguard.timeToCordonMs.p99} ms`,
          kubectl: `${k.timeToCordonMs.p99} ms`,
        },
        {
          metric: 'deadline misses',
          spotguard: String(spotguard.deadlineMisses),
          kubectl: `${k.deadlineMisses}${stranded ? ` (${stranded} pods killed with their node)` : ''}`,
        },
        {
          metric: 'drains not finished',
          spotguard: String(spotguard.failedEvents),
          kubectl: `${k.drainsFailed} of ${results.length}`,
        },
        {
          metric: 'lifecycle hooks completed',
          spotguard: `${spotguard.hooksCompleted} of ${spotguard.hooksTotal}`,
          kubectl: 'none (left to time out)',
        },
      ],
    };
  } finally {
    unsubscribe();
    recorder.stop();
    await sim.stop();
  }
}

function countInterruptions(scenario: Scenario): number {
  return scenario.events.reduce((n, e) => n + (e.interrupt ? 1 : 0) + (e.storm?.count ?? 0), 0);
}
