// `spotguard demo` (what `npm start` runs): a scenario on the embedded simulator, its AWS events
// delivered to spotguard's real Lambda handlers, then what happened per node and a one-line summary.
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { HandleReport } from '../../shared/actions/types.ts';
import { ioOf, setExitCode, UsageError } from '../io.ts';

const DEFAULT_SCENARIO = fileURLToPath(new URL('../../sim/scenarios/default.yaml', import.meta.url));

interface DemoOptions {
  scenario: string;
  notice: string;
  timeout: string;
  json?: boolean;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      "run a scenario on the embedded simulator with spotguard's real handlers and report per node",
    )
    .option('--scenario <file>', 'scenario YAML', DEFAULT_SCENARIO)
    .option('--notice <seconds>', 'simulated spot notice (AWS: 120; shorter keeps the demo quick)', '30')
    .option('--timeout <seconds>', 'give up waiting for the cluster to settle after this long', '300')
    .option('--json', 'print every handler report as JSON instead of the table')
    .action(async (options: DemoOptions, cmd: Command) => {
      const io = ioOf(cmd);
      const noticeMs = Number(options.notice) * 1000;
      const timeoutMs = Number(options.timeout) * 1000;
      if (!(noticeMs > 0) || !(timeoutMs > 0))
        throw new UsageError('--notice and --timeout take seconds > 0');
      // The handlers' own JSON logs and EMF lines would drown the report: the demo prints its own.
      process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
      process.env.POWERTOOLS_METRICS_DISABLED = 'true';
      const { startSimulator } = await import('../../sim/index.ts');
      const { connectLambdas } = await import('../../sim/lambda-bridge.ts');
      const { durationMs } = await import('../../sim/scenario.ts');

      const started = Date.now();
      const elapsed = () => `t+${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;
      const sim = await startSimulator({
        scenario: options.scenario,
        bootDelayMs: 4000,
        podStartMs: 500,
        podTerminationMs: 2000,
        volumeDetachMs: 1500,
        interruptionNoticeMs: noticeMs,
        onScenarioError: (error, event) =>
          io.err(`${elapsed()} scenario event at ${event.at} failed: ${error.message}\n`),
      });
      const pdbFloor = watchPdbHeadroom(sim.store);
      try {
        const bridge = await connectLambdas(sim, { retryDelayMs: 500 });
        sim.events.subscribe((e) => {
          const id = (e.detail['instance-id'] ?? e.detail.EC2InstanceId ?? '') as string;
          const node = id ? sim.aws.instance(id)?.privateDnsName : undefined;
          io.err(`${elapsed()} AWS → ${e['detail-type']}${id ? ` ${id}` : ''}${node ? ` (${node})` : ''}\n`);
        });
        io.err(
          `${elapsed()} simulator up: ${sim.store.count('nodes')} nodes, ${sim.store.count('pods')} pods, ` +
            `${sim.zones.length} zones; spot notice ${noticeMs / 1000} s\n`,
        );
        const lastEventMs = Math.max(0, ...(sim.scenario?.events ?? []).map((e) => durationMs(e.at)));
        await sleep(lastEventMs + 500);
        await bridge.idle(timeoutMs);
        const settled = await waitForSettled(sim, timeoutMs);
        const reports = collectReports(bridge.invocations.map((i) => i.result));
        if (options.json) {
          io.out(`${JSON.stringify(reports, null, 2)}\n`);
        } else {
          io.out(renderTable(reports));
        }
        const deadLetters = Object.values(bridge.deadLetters()).reduce((a, b) => a + b, 0);
        io.out(
          `${summaryLine(reports, { settled, deadLetters, pdbFloor: pdbFloor(), seconds: (Date.now() - started) / 1000, sim })}\n`,
        );
        bridge.stop();
        if (reports.some((r) => r.outcome === 'failed') || deadLetters > 0) setExitCode(cmd, 1);
      } finally {
        await sim.stop();
      }
    });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type SimLike = Awaited<ReturnType<typeof import('../../sim/index.ts').startSimulator>>;

/**
 * Lowest (currentHealthy − desiredHealthy) any PDB reached once it had first been met: < 0 means
 * the budget was broken during the run (start-up, before the pods are Ready, does not count).
 */
function watchPdbHeadroom(store: SimLike['store']): () => number {
  let floor = Number.POSITIVE_INFINITY;
  const met = new Set<string>();
  store.watch('poddisruptionbudgets', (e) => {
    const s = e.object.status;
    if (e.type === 'DELETED' || !s || typeof s.currentHealthy !== 'number' || !(s.desiredHealthy > 0)) return;
    const key = `${e.object.metadata.namespace}/${e.object.metadata.name}`;
    if (s.currentHealthy >= s.desiredHealthy) met.add(key);
    if (met.has(key)) floor = Math.min(floor, s.currentHealthy - s.desiredHealthy);
  });
  return () => floor;
}

/** Every pod of the workloads Running and Ready again, no instance left shutting down. */
async function waitForSettled(sim: SimLike, timeoutMs: number): Promise<boolean> {
  const ready = () =>
    sim.store.list('pods').every((p) => {
      if (p.metadata.deletionTimestamp) return false;
      return (p.status?.conditions ?? []).some(
        (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True',
      );
    });
  try {
    await sim.waitFor(ready, timeoutMs, 'all pods Running and Ready');
    return true;
  } catch {
    return false;
  }
}

function collectReports(results: unknown[]): HandleReport[] {
  const out: HandleReport[] = [];
  for (const result of results) {
    const reports = (result as { reports?: HandleReport[] } | undefined)?.reports;
    if (reports) out.push(...reports);
  }
  return out;
}

function renderTable(reports: HandleReport[]): string {
  const rows = reports
    .filter((r) => r.outcome !== 'ignored')
    .map((r) => [
      r.nodeName ?? r.instanceId ?? '-',
      r.kind,
      r.outcome,
      r.drain ? String(r.drain.pods.filter((p) => p.outcome === 'evicted').length) : '-',
      r.drain?.cordon ? `${r.drain.cordon.requests} req` : '-',
      r.drain ? `${(r.drain.durationMs / 1000).toFixed(1)} s` : '-',
      r.lifecycle ? `${r.lifecycle.result}${r.lifecycle.completed ? '' : ' (pending)'}` : '-',
      r.replacement
        ? r.replacement.action === 'none'
          ? 'none'
          : `${r.replacement.action} ${r.replacement.group}`
        : '-',
    ]);
  const header = ['node', 'event', 'outcome', 'evicted', 'cordon', 'drain', 'hook', 'replacement'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')}\n`;
  return line(header) + line(widths.map((w) => '-'.repeat(w))) + rows.map(line).join('');
}

function summaryLine(
  reports: HandleReport[],
  x: { settled: boolean; deadLetters: number; pdbFloor: number; seconds: number; sim: SimLike },
): string {
  const drains = reports.filter(
    (r) => r.drain && !r.drain.joinedExistingDrain && r.drain.pods.some((p) => p.outcome === 'evicted'),
  );
  const evicted = drains.reduce((n, r) => n + r.drain!.pods.filter((p) => p.outcome === 'evicted').length, 0);
  const hooks = reports.filter((r) => r.lifecycle);
  const completed = hooks.filter((r) => r.lifecycle!.completed).length;
  const replacements = reports.filter((r) => r.replacement && r.replacement.action !== 'none').length;
  const duplicates = reports.filter((r) => r.outcome === 'duplicate' || r.drain?.joinedExistingDrain).length;
  const pods = x.sim.store.count('pods');
  const pdb = x.pdbFloor < 0 ? `a PDB went ${-x.pdbFloor} below its minimum` : 'no PDB below its minimum';
  return (
    `spotguard demo: ${reports.length} events handled, ${drains.length} nodes drained (${evicted} pods evicted, ${pdb}), ` +
    `${completed}/${hooks.length} lifecycle hooks completed, ${replacements} replacements, ${duplicates} duplicates joined, ` +
    `${x.deadLetters} dead-lettered; ${x.settled ? `all ${pods} pods Running` : 'cluster NOT settled'} after ${x.seconds.toFixed(0)} s`
  );
}
