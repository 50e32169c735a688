// The `spotguard` command line. Each command lives in cli/commands/<name>.ts and exports a
// register function; adding a command is one line in `registrations` below.
import { Command, CommanderError } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { EventParseError } from '../shared/events/errors.ts';
import { registerHandleCommand } from './commands/handle.ts';
import { registerParseCommand } from './commands/parse.ts';
import { attachRun, type CliIO, EXIT_FAILURE, EXIT_USAGE, exitCodeOf, processIO, UsageError } from './io.ts';

/** One line per command module. Write output through `ioOf(cmd)` from ./io.ts. */
const registrations: Array<(program: Command) => void> = [
  registerParseCommand,
  registerHandleCommand,
 ];

export function buildProgram(): Command {
  const program = new Command('spotguard')
    .description('Keeps EKS workloads safe on spot capacity: parse events, drain nodes, run the simulator.')
    .version(packageJson.version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)');
  for (const register of registrations) register(program);
  return program;
}

/** Runs the CLI with `argv` (arguments after the program name) and returns the exit code. */
export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const program = buildProgram();
  attachRun(program, io);
  configureAll(program, io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCodeOf(program);
  } catch (error) {
    return reportError(error, io);
  }
}

/** Output and exit behaviour on every command, however it was added (command() or addCommand()). */
function configureAll(cmd: Command, io: CliIO): void {
  cmd.exitOverride();
  cmd.configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  for (const sub of cmd.commands) configureAll(sub, io);
}

/** 0 ok, 1 failure, 2 usage or malformed input. */
function reportError(error: unknown, io: CliIO): number {
  if (error instanceof CommanderError) {
    // commander has already printed its message (or the help / version text).
    if (error.exitCode === 0) return 0;
    return error.code.startsWith('commander.') ? EXIT_USAGE : error.exitCode;
  }
  if (error instanceof UsageError || error instanceof EventParseError) {
    io.err(`spotguard: ${error.message}\n`);
    return EXIT_USAGE;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.err(`spotguard: ${message}\n`);
  return EXIT_FAILURE;
}
