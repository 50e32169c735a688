// What every CLI command needs besides commander: where to write, how to read stdin, how to
// report an exit code. main() installs one CliIO per run, so tests can call main() in-process and
// capture output without touching process.stdout.
import type { Command } from 'commander';

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** Whole of standard input (for `-` arguments). */
  readStdin(): Promise<string>;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Thrown by a command for bad arguments or malformed input: exit code 2, message on stderr. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const processIO: CliIO = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks).toString('utf8');
  },
};

interface RunState {
  io: CliIO;
  exitCode: number;
}

const runs = new WeakMap<Command, RunState>();

function rootOf(cmd: Command): Command {
  let root = cmd;
  while (root.parent) root = root.parent;
  return root;
}

/** Called by main() once per run. */
export function attachRun(program: Command, io: CliIO): void {
  runs.set(program, { io, exitCode: EXIT_OK });
}

function stateOf(cmd: Command): RunState {
  const state = runs.get(rootOf(cmd));
  if (!state) throw new Error('command is not part of a program started by main()');
  return state;
}

/** The output/input of the run this command belongs to. */
export function ioOf(cmd: Command): CliIO {
  return stateOf(cmd).io;
}

/** For commands that print a result and still want a non-zero exit code (e.g. a failed drain). */
export function setExitCode(cmd: Command, code: number): void {
  stateOf(cmd).exitCode = code;
}

export function exitCodeOf(cmd: Command): number {
  return stateOf(cmd).exitCode;
}
