// `spotguard demo` (what `npm start` runs): a scenario on the embedded simulator, its AWS events
// delivered to spotguard's real Lambda handlers, shown live (cli/demo/view.ts), then a summary, an
// HTML report and the same storm handled kubectl-drain style for comparison.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Command, InvalidArgumentError } from 'commander';
import { ioOf, setExitCode } from '../io.ts';

const DEFAULT_SCENARIO = fileURLToPath(new URL('../../sim/scenarios/spot-storm.yaml', import.meta.url));
/** --speed max: the most compression at which the simulated delays stay above the handlers' own fixed waits. */
export const MAX_SPEED = 10;

interface DemoOptions {
  scenario: string;
  speed: number;
  seed: number;
  tty: boolean;
  output: 'text' | 'json';
  report?: string;
  baseline: boolean;
  timeout: string;
}

function speedArg(value: string): number {
  if (value === 'max') return MAX_SPEED;
  const n = Number(value);
  if (!(n > 0) || n > MAX_SPEED) throw new InvalidArgumentError(`a number in (0, ${MAX_SPEED}] or max`);
  return n;
}

function seedArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('an integer');
  return n;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      "run a scenario on the embedded simulator with spotguard's real handlers, live, then a summary and an HTML report",
    )
    .option('--scenario <file>', 'scenario YAML', DEFAULT_SCENARIO)
    .option(
      '--speed <n|max>',
      `time compression: scenario time runs n× faster (max = ${MAX_SPEED})`,
      speedArg,
      4,
    )
    .option('--seed <n>', "seeds the scenario's storms (when each interruption lands)", seedArg, 1)
    .option('--no-tty', 'plain lines instead of the live view (CI; also when stderr is not a terminal)')
    .option('--output <format>', 'text, or json: the last line of stdout is the JSON summary', 'text')
    .option('--report <file>', 'where to write the HTML report (default: a new file in the temp dir)')
    .option('--no-baseline', 'skip the kubectl-drain-style comparison run')
    .option('--timeout <seconds>', 'give up waiting for the cluster to settle after this long', '90')
    .action(async (options: DemoOptions, cmd: Command) => {
      const io = ioOf(cmd);
      // The handlers' own JSON logs and EMF lines would drown the view: the demo prints its own.
      process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
      process.env.POWERTOOLS_METRICS_DISABLED = 'true';
      const { runDemo } = await import('../demo/run.ts');
      const summary = await runDemo({
        scenario: options.scenario,
        speed: options.speed,
        seed: options.seed,
        live: options.tty && !!process.stderr.isTTY,
        reportPath: options.report ?? join(tmpdir(), `spotguard-demo-${Date.now()}.html`),
        baseline: options.baseline,
        timeoutMs: Number(options.timeout) * 1000,
        out: (s) => io.out(s),
        err: (s) => io.err(s),
      });
      if (options.output === 'json') io.out(`${JSON.stringify(summary)}\n`);
      const bad =
        summary.deadlineMisses + summary.pdbViolations + summary.failedEvents + summary.deadLetters > 0 ||
        !summary.settled;
      if (bad) setExitCode(cmd, 1);
    });
}
