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
/** Issues kept on the error (a payload with 10,000 unknown keys does not make a 10,000-entry list). */
const MAX_ISSUES_KEPT = 20;
const MAX_PATH_LENGTH = 200;
const MAX_ISSUE_MESSAGE_LENGTH = 300;
/** The whole message: what reaches a DLQ attribute, a log line or a terminal. */
export const MAX_ERROR_MESSAGE_LENGTH = 2000;

// biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Control characters as \uXXXX, so an echoed field name cannot drive a terminal or forge a line. */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Escaped and cut to `max` characters (an ellipsis marks the cut). */
export function safeEcho(text: string, max: number): string {
  const escaped = escapeControls(text);
  return escaped.length > max ? `${escaped.slice(0, max - 1)}…` : escaped;
}

function safeIssue(issue: ParseIssue): ParseIssue {
  return {
    path: safeEcho(issue.path, MAX_PATH_LENGTH),
    message: safeEcho(issue.message, MAX_ISSUE_MESSAGE_LENGTH),
  };
}

export class EventParseError extends Error {
  /** Path of the first bad field. */
  readonly path: string;
  readonly issues: ParseIssue[];

  constructor(issues: ParseIssue[]) {
    const given = issues.length > 0 ? issues : [{ path: ROOT_PATH, message: 'invalid input' }];
    const all = given.slice(0, MAX_ISSUES_KEPT).map(safeIssue);
    const shown = all.slice(0, MAX_ISSUES_IN_MESSAGE).map((i) => `${i.path}: ${i.message}`);
    const more =
      given.length > MAX_ISSUES_IN_MESSAGE ? ` (and ${given.length - MAX_ISSUES_IN_MESSAGE} more)` : '';
    super(safeEcho(shown.join('; '), MAX_ERROR_MESSAGE_LENGTH - more.length) + more);
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
    const text = escapeControls(JSON.stringify(value.length > 200 ? value.slice(0, 200) : value));
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
