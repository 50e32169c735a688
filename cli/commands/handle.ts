// `spotguard handle <event.json>`: runs an event through exactly the Lambda functions' code path
// (parse → idempotency → action) from a laptop, against a kubeconfig and the default AWS chain.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { processInput } from '../../shared/runtime.ts';
import { EXIT_FAILURE, ioOf, setExitCode, UsageError } from '../io.ts';
import { cliInvocation, cliRuntime } from '../runtime.ts';

export function registerHandleCommand(program: Command): void {
  program
    .command('handle')
    .description(
      'handle an event file (EventBridge, SQS, lifecycle hook, manual) like the Lambda functions do',
    )
    .argument('<file>', 'JSON file with the event, or - for standard input')
    .option('--dry-run', 'plan only: print what would happen and change nothing')
    .option('--kubeconfig <file>', 'kubeconfig to use (default $KUBECONFIG)')
    .option('-v, --verbose', 'log progress to stderr')
    .addHelpText(
      'after',
      '\nAWS calls use the default credential chain; with `spotguard sim`, export the AWS_ENDPOINT_URL it prints.' +
        '\nExit codes: 0 handled (also duplicate or ignored), 1 failed, 2 malformed input.',
    )
    .action(
      async (
        file: string,
        options: { dryRun?: boolean; kubeconfig?: string; verbose?: boolean },
        cmd: Command,
      ) => {
        const io = ioOf(cmd);
        let text: string;
        try {
          text = file === '-' ? await io.readStdin() : await readFile(file, 'utf8');
        } catch (error) {
          throw new UsageError(
            `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
          );
        }
        let raw: unknown;
        try {
          raw = JSON.parse(text);
        } catch (error) {
          throw new UsageError(`${file} is not JSON: ${(error as Error).message}`);
        }
        const rt = await cliRuntime({ kubeconfig: options.kubeconfig, io, verbose: options.verbose });
        const result = await processInput(rt, raw, cliInvocation(options.dryRun ?? false));
        io.out(
          `${JSON.stringify({ reports: result.reports, batchItemFailures: result.batchItemFailures }, null, 2)}\n`,
        );
        const failed =
          result.reports.some((r) => r.outcome === 'failed' || r.outcome === 'refused') ||
          (result.batchItemFailures?.length ?? 0) > 0;
        if (failed) setExitCode(cmd, EXIT_FAILURE);
      },
    );
}
