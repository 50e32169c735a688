// Hostile input: every value that reaches a URL, a label, an annotation, a log line or a terminal
// is validated where it is parsed. Each rejection is an EventParseError naming the field; the
// error message itself escapes what it echoes and stays short.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_ERROR_MESSAGE_LENGTH } from '../../shared/events/errors.ts';
import { CONTROL_CHARACTERS, MAX_DURATION_SECONDS } from '../../shared/events/fields.ts';
import { EventParseError, parse } from '../../shared/events/parse.ts';

const EVENTS = join(import.meta.dirname, '../../events');
const fixture = (name: string) => JSON.parse(readFileSync(join(EVENTS, name), 'utf8'));
const manualDrain = fixture('manual-drain.json') as Record<string, unknown>;
const itn = fixture('spot-interruption.json') as Record<string, unknown>;
const continuation = fixture('sqs-continuation-lifecycle.json') as { Records: { body: string }[] };

function rejection(input: unknown): EventParseError {
  try {
    parse(input);
  } catch (error) {
    expect(error).toBeInstanceOf(EventParseError);
    return error as EventParseError;
  }
  throw new Error(`accepted: ${JSON.stringify(input).slice(0, 200)}`);
}

const CONTROL = ['\u001b]0;pwned\u0007', 'a\nb', '\u009b31m', 'x\u202eevil', 'del\u007f', '\u2028'];

describe('manual payloads', () => {
  it.each([
    ['../../api/v1/secrets'],
    ['Node-With-Capitals'],
    ['node_underscore'],
    ['-leading-dash'],
    ['trailing-dot.'],
    ['a..b'],
    [`${'a'.repeat(64)}.example`], // a label over 63 characters
    ['a'.repeat(254)],
    ['x'.repeat(2048)],
    ...CONTROL.map((c) => [`node${c}`]),
  ])('node %j is refused at node', (node) => {
    expect(rejection({ ...manualDrain, node }).path).toBe('node');
  });

  it('accepts real node names (EC2 private DNS, Karpenter, Fargate-style)', () => {
    for (const node of [
      'ip-10-0-1-23.eu-west-1.compute.internal',
      'i-0a1b2c3d4e5f60718',
      'fargate-ip-10-0-1-23.eu-west-1.compute.internal',
      `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`, // 253 characters
    ]) {
      const [event] = parse({ ...manualDrain, node });
      expect(event).toMatchObject({ kind: 'manual', nodeName: node });
    }
  });

  it.each([
    ['timeoutSeconds', 2147484],
    ['timeoutSeconds', 4294968],
    ['timeoutSeconds', MAX_DURATION_SECONDS + 1],
    ['timeoutSeconds', 0],
    ['timeoutSeconds', 1.5],
    ['gracePeriodSeconds', MAX_DURATION_SECONDS + 1],
    ['gracePeriodSeconds', -1],
    ['gracePeriodSeconds', Number.MAX_SAFE_INTEGER],
  ])('%s %d is refused (timers hold at most 2^31-1 ms)', (field, value) => {
    expect(rejection({ ...manualDrain, [field]: value }).path).toBe(field);
  });

  it('timeout and grace at the bound still fit one timer together', () => {
    const [event] = parse({
      ...manualDrain,
      timeoutSeconds: MAX_DURATION_SECONDS,
      gracePeriodSeconds: MAX_DURATION_SECONDS,
    });
    expect(event).toMatchObject({ timeoutSeconds: MAX_DURATION_SECONDS });
    expect((MAX_DURATION_SECONDS * 2 + 60) * 1000).toBeLessThan(2 ** 31 - 1);
  });

  it.each(['reason', 'requestedBy', 'requestId'])('control characters in %s are refused', (field) => {
    for (const c of CONTROL) {
      expect(rejection({ ...manualDrain, [field]: `ok ${c}` }).path).toBe(field);
    }
  });

  it.each([
    ['reason', 1025],
    ['requestedBy', 257],
    ['requestId', 256],
  ])('%s longer than its bound (%d) is refused', (field, length) => {
    expect(rejection({ ...manualDrain, [field]: 'r'.repeat(length) }).path).toBe(field);
  });
});

describe('AWS events', () => {
  it('control characters in the envelope fields that reach dedupKeys and logs are refused', () => {
    for (const field of ['id', 'account', 'region', 'source', 'detail-type']) {
      expect(rejection({ ...itn, [field]: `x\u001b[2J` }).path).toBe(field);
    }
  });

  it('a lifecycle hook with a control character in its group or hook name is refused', () => {
    const hook = fixture('lifecycle-terminate.json') as { detail: Record<string, unknown> };
    for (const field of ['AutoScalingGroupName', 'LifecycleHookName']) {
      const bad = { ...hook, detail: { ...hook.detail, [field]: 'workers\r\nforged: line' } };
      expect(rejection(bad).path).toBe(`detail.${field}`);
    }
  });

  it('an alarm with a 50 KB reason is refused at the reason', () => {
    const alarm = fixture('alarm-state-change.json') as {
      detail: { state: Record<string, unknown> };
    };
    const bad = {
      ...alarm,
      detail: { ...alarm.detail, state: { ...alarm.detail.state, reason: 'x'.repeat(50_000) } },
    };
    expect(rejection(bad).path).toBe('detail.state.reason');
  });
});

describe('error messages', () => {
  it('escape control characters in echoed field names and values', () => {
    const error = rejection({ ...manualDrain, '\u001b]0;owned\u0007\nspotguard: all good': 1 });
    expect(error.message).not.toMatch(CONTROL_CHARACTERS);
    expect(error.message).toContain('\\u001b]0;owned\\u0007\\u000a');
    for (const issue of error.issues) expect(issue.path).not.toMatch(CONTROL_CHARACTERS);
  });

  it('stay short however much the input goes wrong (10,000 unknown fields, 50 KB names)', () => {
    const junk = Object.fromEntries(
      Array.from({ length: 10_000 }, (_, i) => [`${'k'.repeat(5_000)}${i}`, i]),
    );
    const error = rejection({ ...manualDrain, ...junk });
    expect(error.message.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_LENGTH);
    expect(error.issues.length).toBeLessThanOrEqual(20);
    expect(error.message).toContain('(and 9995 more)');
  });
});

describe('continuations (forged messages on the queue)', () => {
  const body = (event: Record<string, unknown>, attempt = 1) => ({
    spotguard: 'continuation',
    attempt,
    event,
  });
  const spot = {
    kind: 'spot-interruption',
    instanceIds: ['i-0a1b2c3d4e5f60718'],
    instanceId: 'i-0a1b2c3d4e5f60718',
    instanceAction: 'terminate',
    time: '2026-11-21T10:00:00.000Z',
    deadline: '2026-11-21T10:02:00.000Z',
    dedupKey: 'spot-interruption:i-0a1b2c3d4e5f60718:abc',
  };

  it('non-lifecycle kinds are validated field by field', () => {
    expect(rejection(body({ ...spot, instanceId: '../../secrets' })).path).toBe('event.instanceId');
    expect(rejection(body({ ...spot, instanceAction: 'reboot' })).path).toBe('event.instanceAction');
    expect(rejection(body({ ...spot, deadline: undefined })).path).toBe('event.deadline');
    expect(rejection(body({ ...spot, kind: 'state-change', state: 'exploded' })).path).toBe('event.state');
    expect(rejection(body({ ...spot, kind: 'scheduled-change', eventTypeCode: 'x\u0007' })).path).toBe(
      'event.eventTypeCode',
    );
    expect(rejection(body({ ...spot, dedupKey: 'k\n' })).path).toBe('event.dedupKey');
  });

  it('kinds spotguard never continues (manual, alarm, ignored) are refused', () => {
    for (const kind of ['manual', 'alarm', 'ignored']) {
      expect(rejection(body({ ...spot, kind })).path).toBe('event.kind');
    }
  });

  it('fields the schema does not name are dropped, not passed to the action', () => {
    const [event] = parse(body({ ...spot, force: true, nodeName: 'kube-apiserver', recordId: 'x' }));
    expect(event).not.toHaveProperty('force');
    expect(event).not.toHaveProperty('nodeName');
    expect(event).toMatchObject({ kind: 'spot-interruption', attempt: 1 });
  });

  it('an attempt past the bound is refused', () => {
    expect(rejection(body(spot, 1001)).path).toBe('attempt');
  });

  it('the lifecycle continuation fixture still parses with its fields', () => {
    const [event] = parse(continuation);
    expect(event).toMatchObject({
      kind: 'lifecycle-terminate',
      notificationMetadata: '{"cluster":"prod-eks"}',
      origin: 'AutoScalingGroup',
      attempt: 1,
    });
  });
});

describe('test notifications in any envelope are ignored, never an error', () => {
  const flat = fixture('test-notification.json') as Record<string, unknown>;
  const sqs = (b: unknown) => ({
    Records: [{ messageId: 'm-1', eventSource: 'aws:sqs', body: JSON.stringify(b) }],
  });
  const snsNotification = (m: unknown) => ({
    Type: 'Notification',
    MessageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
    TopicArn: 'arn:aws:sns:eu-west-1:123456789012:spotguard',
    Message: JSON.stringify(m),
    Timestamp: '2026-11-20T16:30:00.000Z',
    SignatureVersion: '1',
    Signature: 'c2lnbmF0dXJl',
    SigningCertURL: 'https://sns.eu-west-1.amazonaws.com/cert.pem',
    UnsubscribeURL: 'https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe',
  });
  const eventBridge = (detail: unknown, extra: Record<string, unknown> = {}) => ({
    version: '0',
    id: '7bf73129-1428-4cd3-a780-95db273d1602',
    'detail-type': 'EC2 Instance-terminate Lifecycle Action',
    source: 'aws.autoscaling',
    account: '123456789012',
    time: '2026-11-20T16:30:00Z',
    region: 'eu-west-1',
    resources: [],
    detail,
    ...extra,
  });

  it.each([
    ['direct', flat],
    ['SQS', sqs(flat)],
    ['SNS in SQS', sqs(snsNotification(flat))],
    ['EventBridge', eventBridge(flat)],
    ['EventBridge in SQS', sqs(eventBridge(flat))],
    ['EventBridge with another detail-type', eventBridge(flat, { 'detail-type': 'Test' })],
    ['EventBridge with a broken envelope', { source: 'aws.autoscaling', detail: flat }],
    ['without Time', { Event: 'autoscaling:TEST_NOTIFICATION' }],
    ['with a bad Time and RequestId', { ...flat, Time: 'yesterday', RequestId: 'x\u001b' }],
  ])('%s', (_name, input) => {
    const events = parse(input);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'ignored', reason: 'autoscaling:TEST_NOTIFICATION' });
    expect(events[0]!.dedupKey).not.toMatch(CONTROL_CHARACTERS);
  });
});
