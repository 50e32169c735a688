// The one entry point from "whatever AWS or a person sent" to domain events. Envelopes (SQS,
// SNS) are unwrapped first, then the innermost object is recognised by its shape: an EventBridge
// event, a flat lifecycle-hook notification, an Auto Scaling test notification, a manual payload
// or a continuation spotguard queued for itself. Powertools' schemas check the envelopes; its
// envelope helpers are not used because they stop at the first bad record and drop the field path.
import { SnsRecordSchema, SnsSqsNotificationSchema } from '@aws-lambda-powertools/parser/schemas/sns';
import { SqsRecordSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import { parseAlarmAction } from './alarm.ts';
import type { EventContext } from './context.ts';
import { parseContinuation } from './continuation.ts';
import { check, describeValue, displayPath, EventParseError, joinPath, ROOT_PATH } from './errors.ts';
import { parseEventBridge } from './eventbridge.ts';
import { parseFlatLifecycle, parseTestNotification } from './lifecycle.ts';
import { parseManual } from './manual.ts';
import type { DomainEvent } from './types.ts';

export { EventParseError, type ParseIssue } from './errors.ts';

export type ParsedItem =
  | { recordId?: string; events: DomainEvent[] }
  | { recordId?: string; error: EventParseError };

/** SNS inside SQS inside … : more than this many envelopes is not something AWS produces. */
const MAX_ENVELOPE_DEPTH = 4;

// Lambda always fills these SQS record fields, but hand-made events (tests, replays, other tools)
// often leave them out and spotguard does not need them: only messageId, body and eventSource matter.
const SqsRecord = SqsRecordSchema.partial({
  receiptHandle: true,
  attributes: true,
  messageAttributes: true,
  md5OfBody: true,
  eventSourceARN: true,
  awsRegion: true,
});

/** Every input spotguard receives → domain events. Throws only EventParseError. */
export function parse(raw: unknown): DomainEvent[] {
  return guard(() => {
    const input = typeof raw === 'string' ? parseJson(raw, '') : raw;
    if (isSqsEvent(input)) {
      return input.Records.flatMap((record, i) => parseSqsRecord(record, joinPath('Records', i)));
    }
    return parseObject(input, { path: '', envelopes: [], depth: 0 });
  });
}

/** For batches: one entry per SQS record, so handlers can report per-record failures. Never throws. */
export function parseBatch(raw: unknown): ParsedItem[] {
  try {
    const input = typeof raw === 'string' ? parseJson(raw, '') : raw;
    if (!isSqsEvent(input)) return [{ events: parse(input) }];
    return input.Records.map((record, i) => {
      const recordId = messageIdOf(record);
      const result = attempt(() => parseSqsRecord(record, joinPath('Records', i)));
      return recordId === undefined ? result : { recordId, ...result };
    });
  } catch (error) {
    return [{ error: asParseError(error) }];
  }
}

function attempt(fn: () => DomainEvent[]): { events: DomainEvent[] } | { error: EventParseError } {
  try {
    return { events: guard(fn) };
  } catch (error) {
    return { error: asParseError(error) };
  }
}

/** Nothing but EventParseError leaves the parser, whatever the input does to the code below. */
function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw asParseError(error);
  }
}

function asParseError(error: unknown): EventParseError {
  if (error instanceof EventParseError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return EventParseError.at(ROOT_PATH, `could not be parsed (${detail})`);
}

function parseSqsRecord(record: unknown, path: string): DomainEvent[] {
  const r = check(SqsRecord, record, path);
  const bodyPath = joinPath(path, 'body');
  return parseObject(parseJson(r.body, bodyPath), {
    path: bodyPath,
    envelopes: ['sqs'],
    recordId: r.messageId,
    depth: 1,
  });
}

/** Recognises the innermost (or next) object by its shape and hands it to its parser. */
function parseObject(value: unknown, ctx: EventContext): DomainEvent[] {
  if (!isRecord(value)) {
    throw EventParseError.at(
      displayPath(ctx.path),
      `expected a JSON object (an event), got ${describeValue(value)}`,
    );
  }
  if (ctx.depth > MAX_ENVELOPE_DEPTH) {
    throw EventParseError.at(
      displayPath(ctx.path),
      `expected at most ${MAX_ENVELOPE_DEPTH} nested envelopes`,
    );
  }
  if ('Records' in value) return parseRecords(value, ctx);
  if (value.Type === 'Notification' && 'Message' in value) return parseSnsNotification(value, ctx);
  if (value.source === 'aws.cloudwatch' && 'alarmData' in value) return [parseAlarmAction(value, ctx)];
  if ('detail-type' in value || ('source' in value && 'detail' in value)) return parseEventBridge(value, ctx);
  if (value.Event === 'autoscaling:TEST_NOTIFICATION') return [parseTestNotification(value, ctx)];
  if ('LifecycleTransition' in value || value.Service === 'AWS Auto Scaling')
    return [parseFlatLifecycle(value, ctx)];
  if (value.spotguard === 'continuation') return [parseContinuation(value, ctx)];
  if ('spotguard' in value) return [parseManual(value, ctx)];
  throw EventParseError.at(
    displayPath(ctx.path),
    'expected an EventBridge event, an SQS or SNS event, an Auto Scaling lifecycle notification or a ' +
      `spotguard manual payload ({"spotguard":"manual",…}), got an object with keys ${keyList(value)}`,
  );
}

/** Records[] nested below the top level (top-level SQS events are split per record earlier). */
function parseRecords(value: Record<string, unknown>, ctx: EventContext): DomainEvent[] {
  const recordsPath = joinPath(ctx.path, 'Records');
  const records = value.Records;
  if (!Array.isArray(records) || records.length === 0) {
    throw EventParseError.at(
      recordsPath,
      `expected a non-empty array of records, got ${describeValue(records)}`,
    );
  }
  return records.flatMap((record, i) => {
    const path = joinPath(recordsPath, i);
    if (isRecord(record) && record.eventSource === 'aws:sqs') return parseSqsRecord(record, path);
    if (isRecord(record) && record.EventSource === 'aws:sns') return parseSnsRecord(record, path, ctx);
    throw EventParseError.at(
      joinPath(path, 'eventSource'),
      `expected an SQS record (eventSource "aws:sqs") or an SNS record (EventSource "aws:sns"), got ${describeValue(isRecord(record) ? (record.eventSource ?? record.EventSource) : record)}`,
    );
  });
}

/** A Lambda SNS event record: the notification is in `.Sns`. */
function parseSnsRecord(record: unknown, path: string, ctx: EventContext): DomainEvent[] {
  const r = check(SnsRecordSchema, record, path);
  const messagePath = joinPath(joinPath(path, 'Sns'), 'Message');
  return parseObject(parseJson(r.Sns.Message, messagePath), {
    ...ctx,
    path: messagePath,
    envelopes: [...ctx.envelopes, 'sns'],
    depth: ctx.depth + 1,
  });
}

/** An SNS notification delivered to SQS without raw message delivery: the payload is `.Message`. */
function parseSnsNotification(value: unknown, ctx: EventContext): DomainEvent[] {
  const n = check(SnsSqsNotificationSchema, value, ctx.path);
  const messagePath = joinPath(ctx.path, 'Message');
  return parseObject(parseJson(n.Message, messagePath), {
    ...ctx,
    path: messagePath,
    envelopes: [...ctx.envelopes, 'sns'],
    depth: ctx.depth + 1,
  });
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw EventParseError.at(displayPath(path), `expected a JSON document, got invalid JSON (${why})`);
  }
}

function isSqsEvent(input: unknown): input is { Records: unknown[] } {
  return (
    isRecord(input) &&
    Array.isArray(input.Records) &&
    input.Records.length > 0 &&
    input.Records.some((r) => isRecord(r) && r.eventSource === 'aws:sqs')
  );
}

function messageIdOf(record: unknown): string | undefined {
  return isRecord(record) && typeof record.messageId === 'string' ? record.messageId : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function keyList(value: Record<string, unknown>): string {
  const keys = Object.keys(value);
  const shown = keys.slice(0, 8).map((k) => JSON.stringify(k));
  return keys.length === 0 ? '(none)' : shown.join(', ') + (keys.length > 8 ? ', …' : '');
}
