// `spotguard parse <file|->`: shows what spotguard would make of an event, one JSON line per
// domain event — the quickest way to check a captured message or a DLQ entry.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { type EventParseError, escapeControls } from '../../shared/events/errors.ts';
import { parse, parseBatch } from '../../shared/events/parse.ts';
import type { DomainEvent } from '../../shared/events/types.ts';
import { EXIT_USAGE, ioOf, setExitCode, UsageError } from '../io.ts';

export function registerParseCommand(program: Command): void {
  program
    .command('parse')
    .description(
      'parse an event (EventBridge, SQS, SNS, lifecycle hook, manual) and print its domain events as JSON lines',
    )
    .argument('<file>', 'JSON file with the event, or - for standard input')
    .option(
      '--batch',
      'one line per SQS record ({recordId, events} or {recordId, error}) instead of failing on the first bad record',
    )
    .addHelpText('after', '\nExit codes: 0 parsed, 2 malformed input (the message names the bad field).')
    .action(async (file: string, options: { batch?: boolean }, cmd: Command) => {
      const io = ioOf(cmd);
      const text = await readInput(file, cmd);
      if (!options.batch) {
        for (const event of parse(text)) io.out(`${line(eventForDisplay(event))}\n`);
        return;
      }
      for (const item of parseBatch(text)) {
        if ('error' in item) {
          io.out(`${line({ recordId: item.recordId, error: errorForDisplay(item.error) })}\n`);
          setExitCode(cmd, EXIT_USAGE);
        } else {
          io.out(`${line({ recordId: item.recordId, events: item.events.map(eventForDisplay) })}\n`);
        }
      }
    });
}

async function readInput(file: string, cmd: Command): Promise<string> {
  if (file === '-') return ioOf(cmd).readStdin();
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/**
 * One JSON line that is safe on a terminal: JSON.stringify escapes C0 controls but leaves DEL,
 * C1 (0x9b is CSI on some terminals), line separators and bidi overrides raw; those become \uXXXX.
 */
function line(value: unknown): string {
  return escapeControls(JSON.stringify(value));
}

/** The fields people look for first, then the kind-specific ones. */
export function eventForDisplay(event: DomainEvent): Record<string, unknown> {
  const { kind, instanceIds, time, deadline, dedupKey, ...rest } = event;
  return { kind, instanceIds, time, deadline, dedupKey, ...rest };
}

function errorForDisplay(error: EventParseError): { path: string; message: string } {
  return { path: error.path, message: error.message };
}
