// The one error type the event parser throws: every message names the field path and what was
// expected, so an operator reading a DLQ message or CLI output knows which field to look at.
import type { z } from 'zod';

export interface ParseIssue {
  /** Dotted path from the outermost input, e.g. 'Records[2].body.detail.LifecycleActionToken'. */
  path: string;
  /** What was expected and what was found, e.g. 'expected one of terminate|stop|hibernate, got "reboot"'. */
  message: string;
}

/** Path used when the problem is the input as a whole. */
export const ROOT_PATH = '(root)';

const MAX_ISSUES_IN_MESSAGE = 5;

export class EventParseError extends Error {
  /** Path of the first bad field. */
  readonly path: string;
  readonly issues: ParseIssue[];

  constructor(issues: ParseIssue[]) {
    const all = issues.length > 0 ? issues : [{ path: ROOT_PATH, message: 'invalid input' }];
    const shown = all.slice(0, MAX_ISSUES_IN_MESSAGE).map((i) => `${i.path}: ${i.message}`);
    const more =
      all.length > MAX_ISSUES_IN_MESSAGE ? ` (and ${all.length - MAX_ISSUES_IN_MESSAGE} more)` : '';
    super(shown.join('; ') + more);
    this.name = 'EventParseError';
    this.issues = all;
    this.path = all[0]!.path;
  }

  static at(path: string, message: string): EventParseError {
    return new EventParseError([{ path, message }]);
  }
}

/** Appends a property name or array index to a dotted path ('' is the root). */
export function joinPath(base: string, segment: string | number): string {
  if (typeof segment === 'number') return `${base}[${segment}]`;
  return base === '' ? segment : `${base}.${segment}`;
}

export function displayPath(path: string): string {
  return path === '' ? ROOT_PATH : path;
}

/** Short human description of a value for "got …" in messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (field missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}…"` : text;
  }
  return `${typeof value} ${String(value)}`;
}

/** Converts zod issues (relative to `basePath`) into ParseIssues with our wording. */
export function issuesFromZod(error: z.ZodError, basePath: string): ParseIssue[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.reduce<string>((p, seg) => joinPath(p, seg as string | number), basePath);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: displayPath(joinPath(path, key)), message: 'unknown field' }));
    }
    return [{ path: displayPath(path), message: messageFor(issue) }];
  });
}

function messageFor(issue: z.core.$ZodIssue): string {
  const got = `got ${describeValue(issue.input)}`;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected === 'int' ? 'an integer' : issue.expected}, ${got}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `expected ${JSON.stringify(issue.values[0])}, ${got}`
        : `expected one of ${issue.values.map(String).join('|')}, ${got}`;
    default:
      return issue.input === undefined ? issue.message : `${issue.message}, ${got}`;
  }
}

/** Validates `value` against `schema`; throws EventParseError with paths under `basePath`. */
export function check<S extends z.ZodType>(schema: S, value: unknown, basePath: string): z.output<S> {
  const result = schema.safeParse(value, { reportInput: true });
  if (!result.success) throw new EventParseError(issuesFromZod(result.error, basePath));
  return result.data;
}
