// The `spotguard` command line. Each command lives in cli/commands/<name>.ts and exports a
// register function; adding a command is one line in `commandModules` below.
import { Command, CommanderError } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { EventParseError } from '../shared/events/errors.ts';
import { attachRun, type CliIO, EXIT_FAILURE, EXIT_USAGE, exitCodeOf, processIO, UsageError } from './io.ts';

type Register = (program: Command) => void;

interface CommandModule {
  /** The command names the module registers (used to load only what the arguments ask for). */
  names: string[];
  load: () => Promise<Register>;
}

/**
 * One line per command module. Modules load on demand: `spotguard parse` does not pay for the
 * AWS SDK, and a module that fails to load breaks only its own commands.
 */
const commandModules: CommandModule[] = [
  { names: ['parse'], load: async () => (await import('./commands/parse.ts')).registerParseCommand },
  { names: ['handle'], load: async () => (await import('./commands/handle.ts')).registerHandleCommand },
  { names: ['demo'], load: async () => (await import('./commands/demo.ts')).registerDemoCommand },
  {
    names: ['rebalance'],
    load: async () => (await import('./commands/rebalance.ts')).registerRebalanceCommand,
  },
  { names: ['sim'], load: async () => (await import('./commands/sim.ts')).registerSimCommand },
  {
    names: ['drain', 'uncordon', 'status'],
    load: async () => (await import('./commands/drain.ts')).registerDrainCommands,
  },
];

/** The program with the commands `argv` needs (all of them for help or an unknown command). */
export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command('spotguard')
    .description('Keeps EKS workloads safe on spot capacity: parse events, drain nodes, run the simulator.')
    .version(packageJson.version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)');
  const requested = commandModules.filter((m) => m.names.includes(argv[0] ?? ''));
  for (const module of requested.length > 0 ? requested : commandModules) await addModule(program, module);
  return program;
}

async function addModule(program: Command, module: CommandModule): Promise<void> {
  let register: Register;
  try {
    register = await module.load();
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    for (const name of module.names) addUnavailable(program, name, why);
    return;
  }
  register(program);
}

/** Stands in for a command whose module failed to load: says so and exits 1 when used. */
function addUnavailable(program: Command, name: string, why: string): void {
  program
    .command(name)
    .description(`(unavailable: ${why})`)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => {
      throw new Error(`spotguard ${name} is unavailable: ${why}`);
    });
}

/** Runs the CLI with `argv` (arguments after the program name) and returns the exit code. */
export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const program = await buildProgram(argv);
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
