// Property-based fuzzing with fast-check: 10,000 generated inputs per run (manual payloads,
// continuations, anything inside SQS/SNS/EventBridge envelopes), seeded so a failure replays
// (fast-check prints the seed and the shrunk counterexample). Each input is either rejected with
// an EventParseError naming a field, with a short escaped message, or accepted with values that
// keep the rules: DNS-1123 node names, bounded numbers and lengths, no control characters.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_ERROR_MESSAGE_LENGTH } from '../../shared/events/errors.ts';
import {
  CONTROL_CHARACTERS,
  INSTANCE_ID_PATTERN,
  isDns1123Subdomain,
  MAX_DURATION_SECONDS,
} from '../../shared/events/fields.ts';
import { EventParseError, parse, parseBatch } from '../../shared/events/parse.ts';
import type { DomainEvent } from '../../shared/events/types.ts';

const SEED = 20261203;
const runs = (n: number) => ({ seed: SEED, numRuns: n });

// Strings that matter here: real-looking ones, control characters, path tricks, huge ones.
const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    'ip-10-0-1-23.eu-west-1.compute.internal',
    '../../api/v1/secrets',
    'Node-A',
    '\u001b]0;x\u0007',
    'a\nb',
    '\u009b31m',
    '\u202e',
    'i-0123456789abcdef0',
    '',
  ),
  fc.nat(3000).map((n) => 'x'.repeat(n)),
);
const num = fc.oneof(
  fc.integer({ min: -10, max: 700_000 }),
  fc.constantFrom(2147484, 4294968, Number.MAX_SAFE_INTEGER, 1.5, -0, Number.NaN),
  fc.double(),
);
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
// Mostly well-formed, so that accepted payloads are common and their values get checked too.
const nodeName = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^[a-z0-9]([-a-z0-9.]{0,30}[a-z0-9])?$/) },
  { weight: 1, arbitrary: nasty },
);
const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 60 }) },
  { weight: 1, arbitrary: nasty },
);
const seconds = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 3600 }) },
  { weight: 1, arbitrary: num },
);

const manualPayload = fc.record(
  {
    spotguard: fc.constantFrom('manual', 'manual', 'manual', 'x'),
    action: fc.constantFrom('drain', 'drain', 'uncordon', 'status', 'reboot'),
    node: fc.oneof({ weight: 4, arbitrary: nodeName }, { weight: 1, arbitrary: fc.constant(undefined) }),
    instanceId: fc.oneof(
      { weight: 4, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.oneof(nasty, fc.stringMatching(/^i-[0-9a-f]{8,17}$/)) },
    ),
    reason: fc.oneof({ weight: 4, arbitrary: text }, { weight: 1, arbitrary: fc.constant(undefined) }),
    requestedBy: maybe(text),
    requestId: maybe(text),
    dryRun: maybe(fc.oneof(fc.boolean(), nasty)),
    gracePeriodSeconds: maybe(seconds),
    timeoutSeconds: maybe(seconds),
  },
  { requiredKeys: ['spotguard', 'action'] },
);

const continuation = fc.record({
  spotguard: fc.constant('continuation'),
  attempt: num,
  event: fc.record(
    {
      kind: fc.constantFrom(
        'spot-interruption',
        'rebalance-recommendation',
        'state-change',
        'scheduled-change',
        'asg-activity',
        'lifecycle-terminate',
        'manual',
      ),
      instanceIds: fc.array(fc.oneof(nasty, fc.constant('i-0123456789abcdef0')), { maxLength: 3 }),
      instanceId: fc.oneof(nasty, fc.constant('i-0123456789abcdef0')),
      instanceAction: fc.constantFrom('terminate', 'stop', 'reboot'),
      state: fc.constantFrom('running', 'stopping', 'exploded'),
      time: fc.constantFrom('2026-11-21T10:00:00Z', 'yesterday'),
      deadline: fc.constantFrom('2026-11-21T10:02:00Z', 'soon'),
      dedupKey: nasty,
      eventTypeCode: nasty,
      force: fc.boolean(),
      nodeName: nasty,
    },
    { requiredKeys: ['kind', 'time', 'dedupKey'] },
  ),
});

const sqs = (body: unknown) => ({
  Records: [{ messageId: 'm-1', eventSource: 'aws:sqs', body: JSON.stringify(body) ?? 'null' }],
});
const eventBridge = (detail: unknown, detailType: string) => ({
  version: '0',
  id: '7bf73129-1428-4cd3-a780-95db273d1602',
  'detail-type': detailType,
  source: detailType.startsWith('EC2 Instance-') ? 'aws.autoscaling' : 'aws.ec2',
  account: '123456789012',
  time: '2026-11-21T10:00:00Z',
  region: 'eu-west-1',
  resources: [],
  detail,
});
const anyInEnvelope = fc.oneof(
  fc.jsonValue().map(sqs),
  fc
    .tuple(
      fc.dictionary(
        fc.constantFrom('instance-id', 'instance-action', 'state', 'Event', 'LifecycleActionToken'),
        nasty,
      ),
      fc.constantFrom(
        'EC2 Spot Instance Interruption Warning',
        'EC2 Instance State-change Notification',
        'EC2 Instance-terminate Lifecycle Action',
        'Something New',
      ),
    )
    .map(([d, t]) => eventBridge(d, t)),
  fc.anything().map((a) => sqs({ Type: 'Notification', Message: JSON.stringify(a) ?? '' })),
);

const seen = { accepted: 0, rejected: 0 };

/** The property every input must satisfy. */
function check(input: unknown): void {
  let events: DomainEvent[];
  try {
    events = parse(input);
    seen.accepted++;
  } catch (error) {
    seen.rejected++;
    expect(error).toBeInstanceOf(EventParseError);
    const e = error as EventParseError;
    expect(e.path.length).toBeGreaterThan(0);
    expect(e.message.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_LENGTH);
    expect(e.message).not.toMatch(CONTROL_CHARACTERS);
    expect(e.message).not.toContain('could not be parsed'); // a crash, not a schema error
    return;
  }
  for (const ev of events) {
    expect(ev.dedupKey).not.toMatch(CONTROL_CHARACTERS);
    for (const id of ev.instanceIds) expect(id).toMatch(INSTANCE_ID_PATTERN);
    if (ev.kind === 'manual') {
      if (ev.nodeName !== undefined) expect(isDns1123Subdomain(ev.nodeName)).toBe(true);
      for (const text of [ev.reason, ev.requestedBy, ev.requestId]) {
        if (text !== undefined) {
          expect(text).not.toMatch(CONTROL_CHARACTERS);
          expect(text.length).toBeLessThanOrEqual(1024);
        }
      }
      for (const n of [ev.timeoutSeconds, ev.gracePeriodSeconds]) {
        if (n !== undefined) {
          expect(Number.isInteger(n)).toBe(true);
          expect(n).toBeGreaterThanOrEqual(0);
          expect(n).toBeLessThanOrEqual(MAX_DURATION_SECONDS);
        }
      }
    }
    if (ev.attempt !== undefined) {
      expect(ev.kind).not.toBe('manual');
      expect(ev).not.toHaveProperty('force');
    }
  }
}

describe(`fast-check fuzzing (seed ${SEED}, 10,000 inputs)`, () => {
  it('manual payloads, direct and in SQS (4,000)', () => {
    fc.assert(
      fc.property(manualPayload, (p) => {
        check(p);
        check(sqs(p));
      }),
      runs(4_000),
    );
  });

  it('continuations of every kind (3,000)', () => {
    fc.assert(
      fc.property(continuation, (c) => {
        check(c);
      }),
      runs(3_000),
    );
  });

  it('anything inside SQS, SNS and EventBridge envelopes; parseBatch never throws (3,000)', () => {
    fc.assert(
      fc.property(anyInEnvelope, (input) => {
        check(input);
        const items = parseBatch(input);
        expect(items.length).toBeGreaterThan(0);
      }),
      runs(3_000),
    );
  });

  it('the generators reach both sides: hundreds accepted, thousands rejected', () => {
    expect(seen.accepted).toBeGreaterThan(500);
    expect(seen.rejected).toBeGreaterThan(1_000);
  });
});
