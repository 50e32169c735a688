// Property-style: whatever arrives — random junk, truncated or mutated fixtures, junk inside SQS
// and SNS envelopes — parse() returns well-formed domain events or throws EventParseError, and
// parseBatch() never throws. A seeded generator keeps failures reproducible (the seed is in the name).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventParseError, parse, parseBatch } from '../../shared/events/parse.ts';
import type { DomainEvent, EventKind } from '../../shared/events/types.ts';

const EVENTS_DIR = join(import.meta.dirname, '../../events');
const FIXTURE_TEXTS = [
  ...readdirSync(EVENTS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => readFileSync(join(EVENTS_DIR, f), 'utf8')),
  ...readdirSync(join(EVENTS_DIR, 'malformed')).map((f) =>
    readFileSync(join(EVENTS_DIR, 'malformed', f), 'utf8'),
  ),
];
const KINDS = new Set<EventKind>([
  'spot-interruption',
  'rebalance-recommendation',
  'state-change',
  'lifecycle-terminate',
  'lifecycle-launch',
  'scheduled-change',
  'asg-activity',
  'alarm',
  'manual',
  'ignored',
]);

/** mulberry32: small seeded PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = rng(seed);
  }
  int(max: number): number {
    return Math.floor(this.next() * max);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** Values that show up in real payloads, plus nasty ones. */
  scalar(): unknown {
    return this.pick([
      () => null,
      () => undefined,
      () => this.int(2) === 0,
      () => this.next() * 1e6 - 5e5,
      () => this.pick([0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, -0]),
      () =>
        this.pick(['', ' ', 'i-', 'i-1234abcd', 'aws:sqs', 'Notification', 'manual', '{', '{}', '[]', '"x"']),
      () =>
        this.pick(['drain', 'terminate', 'reboot', 'aws.ec2', 'AWS Health Event', '2026-11-21T10:00:00Z']),
      () => this.pick(['autoscaling:TEST_NOTIFICATION', 'AWS Auto Scaling', '__proto__', 'constructor']),
      () => String.fromCharCode(...Array.from({ length: this.int(12) }, () => this.int(0xffff))),
    ])();
  }
  value(depth: number): unknown {
    if (depth <= 0 || this.int(3) === 0) return this.scalar();
    if (this.int(2) === 0) return Array.from({ length: this.int(4) }, () => this.value(depth - 1));
    const keys = [
      'Records',
      'body',
      'eventSource',
      'messageId',
      'Type',
      'Message',
      'detail-type',
      'source',
      'detail',
      'time',
      'id',
      'spotguard',
      'action',
      'Event',
      'LifecycleTransition',
      'Service',
      'EventSource',
      'Sns',
      'instance-id',
      'x',
    ];
    const obj: Record<string, unknown> = {};
    for (let i = this.int(5); i > 0; i--) obj[this.pick(keys)] = this.value(depth - 1);
    return obj;
  }
  /** A fixture with one field replaced by junk or removed (somewhere in the tree). */
  mutate(value: unknown, depth = 0): unknown {
    if (typeof value !== 'object' || value === null || depth > 6)
      return this.int(4) === 0 ? this.scalar() : value;
    const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...value };
    const keys = Object.keys(copy);
    if (keys.length === 0) return copy;
    const key = this.pick(keys) as keyof typeof copy;
    const roll = this.int(4);
    if (roll === 0 && !Array.isArray(copy)) delete (copy as Record<string, unknown>)[key as string];
    else if (roll === 1) (copy as Record<string, unknown>)[key as string] = this.value(2);
    else
      (copy as Record<string, unknown>)[key as string] = this.mutate(
        (copy as Record<string, unknown>)[key as string],
        depth + 1,
      );
    return copy;
  }
}

/** The property: events that look right, or an EventParseError with a path and a message. */
function assertEventsOrParseError(raw: unknown, { allowUnexplained = false } = {}): void {
  let events: DomainEvent[];
  try {
    events = parse(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(EventParseError);
    const e = error as EventParseError;
    expect(e.path.length).toBeGreaterThan(0);
    expect(e.message.length).toBeGreaterThan(0);
    expect(e.issues.length).toBeGreaterThan(0);
    // JSON-shaped input must get a schema error naming a field, never the catch-all for crashes.
    if (!allowUnexplained) expect(e.message).not.toContain('could not be parsed');
    return;
  }
  expect(Array.isArray(events)).toBe(true);
  for (const event of events) {
    expect(KINDS.has(event.kind)).toBe(true);
    expect(typeof event.dedupKey).toBe('string');
    expect(Number.isNaN(Date.parse(event.time))).toBe(false);
    expect(Array.isArray(event.instanceIds)).toBe(true);
    expect(event.envelopes.length).toBeGreaterThan(0);
  }
}

function assertBatchNeverThrows(raw: unknown): void {
  const items = parseBatch(raw);
  expect(items.length).toBeGreaterThan(0);
  for (const item of items) {
    if ('error' in item) expect(item.error).toBeInstanceOf(EventParseError);
    else expect(Array.isArray(item.events)).toBe(true);
  }
}

function inSqs(bodies: unknown[]): unknown {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `m-${i}`,
      eventSource: 'aws:sqs',
      body: typeof body === 'string' ? body : (JSON.stringify(body) ?? 'undefined'),
    })),
  };
}

const SEED = 20261121;

describe(`parse property (seed ${SEED})`, () => {
  it('random nested junk → events or EventParseError', () => {
    const gen = new Gen(SEED);
    for (let i = 0; i < 1500; i++) {
      const raw = gen.value(4);
      assertEventsOrParseError(raw);
      assertBatchNeverThrows(raw);
    }
  });

  it('every prefix-truncation of every fixture text → events or EventParseError', () => {
    const gen = new Gen(SEED + 1);
    for (const text of FIXTURE_TEXTS) {
      for (let i = 0; i < 15; i++) {
        const cut = text.slice(0, gen.int(text.length + 1));
        assertEventsOrParseError(cut);
        assertEventsOrParseError(inSqs([cut]));
        assertBatchNeverThrows(inSqs([cut, text]));
      }
    }
  });

  it('fixtures with a field removed or replaced by junk → events or EventParseError', () => {
    const gen = new Gen(SEED + 2);
    const fixtures = FIXTURE_TEXTS.map((t) => JSON.parse(t) as unknown);
    for (let i = 0; i < 1500; i++) {
      const mutated = gen.mutate(gen.pick(fixtures));
      assertEventsOrParseError(mutated);
      assertEventsOrParseError(inSqs([mutated]));
      assertBatchNeverThrows(inSqs([mutated, gen.value(3)]));
    }
  });

  it('hand-picked awkward inputs', () => {
    const cyclic: Record<string, unknown> = { source: 'aws.ec2', 'detail-type': 'x' };
    cyclic.detail = cyclic;
    const deep = JSON.parse(`${'['.repeat(5000)}${']'.repeat(5000)}`);
    for (const raw of [
      cyclic,
      deep,
      Object.create(null),
      new Date(),
      () => 1,
      Symbol('s'),
      10n,
      '',
      '   ',
      'null',
    ]) {
      assertEventsOrParseError(raw, { allowUnexplained: true });
      assertBatchNeverThrows(raw);
    }
  });
});
