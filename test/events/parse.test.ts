// Behaviour of the parser beyond single fixtures: dedup across delivery forms, per-record batch
// results, manual payload rules, Health edge cases, strictness and error wording.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registry, registryKey } from '../../shared/events/eventbridge.ts';
import { EventParseError, parse, parseBatch } from '../../shared/events/parse.ts';
import type { DomainEvent } from '../../shared/events/types.ts';

const EVENTS_DIR = join(import.meta.dirname, '../../events');
const load = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(EVENTS_DIR, file), 'utf8'));
const clone = <T>(value: T): T => structuredClone(value);

function parseError(raw: unknown): EventParseError {
  try {
    parse(raw);
  } catch (error) {
    if (error instanceof EventParseError) return error;
    throw new Error(`expected EventParseError, got ${String(error)}`);
  }
  throw new Error('expected parse to throw');
}

function only(events: DomainEvent[]): DomainEvent {
  expect(events).toHaveLength(1);
  return events[0]!;
}

function sqs(...bodies: unknown[]): unknown {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `msg-${i}`,
      body: typeof body === 'string' ? body : JSON.stringify(body),
      eventSource: 'aws:sqs',
    })),
  };
}

function snsNotification(message: unknown): Record<string, unknown> {
  return {
    Type: 'Notification',
    MessageId: 'd88d4479-6ec0-54fe-b63f-1cf9df4bb16e',
    TopicArn: 'arn:aws:sns:eu-west-1:123456789012:spotguard-events',
    Message: JSON.stringify(message),
    Timestamp: '2026-11-21T10:00:01.287Z',
  };
}

describe('dedupKey is stable across delivery forms', () => {
  it('the EventBridge, flat SQS, SQS and SNS forms of one terminate hook share one key', () => {
    const keys = [
      'lifecycle-terminate.json',
      'lifecycle-terminate-flat-sqs-body.json',
      'sqs-lifecycle-flat.json',
      'sns-lifecycle-flat.json',
    ].map((f) => only(parse(load(f))).dedupKey);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toBe('lifecycle-terminate:i-0a1b2c3d4e5f60718:b7d0c6a2-3f1e-4c9a-8e5d-2a4b6c8d0e1f');
  });

  it('an interruption warning direct, in SQS and in SNS-in-SQS shares one key', () => {
    const direct = only(parse(load('spot-interruption.json'))).dedupKey;
    expect(parse(load('sqs-batch-itn.json'))[0]?.dedupKey).toBe(direct);
    expect(only(parse(load('sqs-sns-itn.json'))).dedupKey).toBe(direct);
  });

  it('a redelivered SQS record (new messageId) keeps the key but reports its own recordId', () => {
    const first = only(parse(sqs(load('spot-interruption.json'))));
    const again = sqs(load('spot-interruption.json')) as { Records: { messageId: string }[] };
    again.Records[0]!.messageId = 'msg-redelivered';
    const second = only(parse(again));
    expect(second.dedupKey).toBe(first.dedupKey);
    expect([first.recordId, second.recordId]).toEqual(['msg-0', 'msg-redelivered']);
  });
});

describe('parseBatch', () => {
  it('returns one entry per SQS record: good records parse, the bad one carries its error', () => {
    const items = parseBatch(load('malformed/sqs-lifecycle-bad-token.json'));
    expect(items.map((i) => i.recordId)).toEqual([
      '6c5868b8-dbd6-4de4-87b6-aa5dbc9c4bea',
      '7d6979c9-ece7-4ef5-98c7-bb6ecdad5cfb',
      '8e7a8ada-fdf8-4f06-89d8-cc7fdebe6d0c',
    ]);
    expect(items.map((i) => ('events' in i ? i.events.map((e) => e.kind) : 'error'))).toEqual([
      ['spot-interruption'],
      ['rebalance-recommendation'],
      'error',
    ]);
    const bad = items[2]!;
    expect('error' in bad && bad.error.path).toBe('Records[2].body.detail.LifecycleActionToken');
  });

  it('parse() of the same batch throws the bad record’s error', () => {
    expect(parseError(load('malformed/sqs-lifecycle-bad-token.json')).path).toBe(
      'Records[2].body.detail.LifecycleActionToken',
    );
  });

  it('wraps a non-SQS input in a single entry without recordId', () => {
    const [item, ...rest] = parseBatch(load('spot-interruption.json'));
    expect(rest).toHaveLength(0);
    expect(item && 'events' in item && item.events[0]?.kind).toBe('spot-interruption');
    expect(item?.recordId).toBeUndefined();
  });

  it('never throws: garbage becomes one error entry', () => {
    for (const raw of [undefined, null, 42, 'not json', [1, 2], { Records: 'x' }]) {
      const items = parseBatch(raw);
      expect(items).toHaveLength(1);
      expect(items[0] && 'error' in items[0] && items[0].error).toBeInstanceOf(EventParseError);
    }
  });

  it('a record without messageId is an error naming Records[i].messageId', () => {
    const batch = { Records: [{ body: '{}', eventSource: 'aws:sqs' }] };
    const [item] = parseBatch(batch);
    expect(item && 'error' in item && item.error.path).toBe('Records[0].messageId');
  });
});

describe('input forms', () => {
  it('accepts the event as a JSON string', () => {
    expect(only(parse(readFileSync(join(EVENTS_DIR, 'spot-interruption.json'), 'utf8'))).kind).toBe(
      'spot-interruption',
    );
  });

  it('a test notification in SNS-in-SQS is ignored, not an error', () => {
    const event = only(parse(sqs(snsNotification(load('test-notification.json')))));
    expect(event.kind).toBe('ignored');
    expect(event.envelopes).toEqual(['sqs', 'sns', 'lifecycle-hook']);
  });

  it('rejects envelopes nested deeper than AWS ever nests them', () => {
    let message: unknown = load('spot-interruption.json');
    for (let i = 0; i < 6; i++) message = snsNotification(message);
    expect(parseError(message).message).toContain('nested envelopes');
  });

  it('an array of records of no known source names the eventSource field', () => {
    const error = parseError({ Records: [{ foo: 1 }], other: true, nested: { Records: [] } });
    expect(error.path).toBe('Records[0].eventSource');
  });

  it('normalises times with offsets to UTC ISO form (deadline from the normalised time)', () => {
    const itn = clone(load('spot-interruption.json'));
    itn.time = '2026-11-21T11:00:00+01:00';
    const event = only(parse(itn));
    expect([event.time, event.deadline]).toEqual(['2026-11-21T10:00:00.000Z', '2026-11-21T10:02:00.000Z']);
  });

  it('unknown extra fields from AWS are accepted', () => {
    const itn = clone(load('spot-interruption.json')) as { detail: Record<string, unknown> };
    itn.detail['new-aws-field'] = { anything: true };
    (itn as Record<string, unknown>)['replay-name'] = 'archive-replay';
    expect(only(parse(itn)).kind).toBe('spot-interruption');
  });
});

describe('strictness', () => {
  const withInstanceId = (id: string) => {
    const itn = clone(load('spot-interruption.json')) as { detail: Record<string, unknown> };
    itn.detail['instance-id'] = id;
    return itn;
  };

  it('instance ids: i- and 8 to 17 lowercase hex digits', () => {
    expect(only(parse(withInstanceId('i-1234abcd'))).instanceIds).toEqual(['i-1234abcd']);
    expect(only(parse(withInstanceId('i-0123456789abcdef0'))).instanceIds).toEqual(['i-0123456789abcdef0']);
    for (const bad of ['i-1234abc', 'i-0123456789abcdef01', 'i-0123456789ABCDEF0', '0123456789abcdef0', '']) {
      expect(parseError(withInstanceId(bad)).path).toBe('detail.instance-id');
    }
  });

  it('a missing detail-type field is an error naming it', () => {
    const itn = clone(load('spot-interruption.json'));
    delete itn['detail-type'];
    const error = parseError(itn);
    expect(error.path).toBe('detail-type');
    expect(error.message).toBe('detail-type: expected string, got nothing (field missing)');
  });

  it('lists every bad field in issues', () => {
    const itn = clone(load('spot-interruption.json')) as { detail: Record<string, unknown> };
    itn.detail = { 'instance-id': 'nope', 'instance-action': 'reboot' };
    const error = parseError(itn);
    expect(error.issues.map((i) => i.path)).toEqual(['detail.instance-id', 'detail.instance-action']);
  });

  it('errors inside SQS records carry the full path', () => {
    const itn = clone(load('spot-interruption.json')) as { detail: Record<string, unknown> };
    itn.detail['instance-action'] = 'reboot';
    expect(parseError(sqs(load('rebalance-recommendation.json'), itn)).message).toBe(
      'Records[1].body.detail.instance-action: expected one of terminate|stop|hibernate, got "reboot"',
    );
  });

  it('nothing but EventParseError escapes, even from hostile objects', () => {
    const hostile = new Proxy(
      {},
      {
        has: () => {
          throw new TypeError('boom');
        },
      },
    );
    const error = parseError(hostile);
    expect(error.message).toContain('boom');
  });
});

describe('manual payloads', () => {
  const drain = { spotguard: 'manual', action: 'drain', node: 'ip-10-0-1-23', reason: 'INC-1' };

  it('fills defaults: dryRun false, force false, deleteEmptyDirData true', () => {
    expect(only(parse(drain))).toMatchObject({
      dryRun: false,
      force: false,
      deleteEmptyDirData: true,
      nodeName: 'ip-10-0-1-23',
    });
  });

  it('dedupKey: only an explicit requestId dedupes (ignoring key order and spelled-out defaults)', () => {
    const key = (p: object) => only(parse(p)).dedupKey;
    const reordered = {
      reason: 'INC-1',
      node: 'ip-10-0-1-23',
      action: 'drain',
      spotguard: 'manual',
      dryRun: false,
      requestId: 'a',
    };
    expect(key(reordered)).toBe(key({ ...drain, requestId: 'a' }));
    // without a requestId two identical requests are two requests (a status is never answered from a cache)
    expect(key(drain)).not.toBe(key(drain));
    expect(key({ ...drain, requestId: 'a' })).not.toBe(key({ ...drain, requestId: 'b' }));
    expect(key({ ...drain, requestId: 'a' })).toBe(key({ ...drain, requestId: 'a' }));
    expect(key({ ...drain, requestId: 'a', dryRun: true })).not.toBe(key({ ...drain, requestId: 'a' }));
  });

  it('the same payload via SQS dedupes with the direct one', () => {
    const once = { ...drain, requestId: 'r-1' };
    expect(only(parse(sqs(once))).dedupKey).toBe(only(parse(once)).dedupKey);
  });

  it('checks numbers: grace period ≥ 0, timeout > 0, integers', () => {
    expect(only(parse({ ...drain, gracePeriodSeconds: 0 }))).toMatchObject({ gracePeriodSeconds: 0 });
    expect(parseError({ ...drain, gracePeriodSeconds: -1 }).path).toBe('gracePeriodSeconds');
    expect(parseError({ ...drain, timeoutSeconds: 0 }).path).toBe('timeoutSeconds');
    expect(parseError({ ...drain, timeoutSeconds: 1.5 }).message).toContain(
      'timeoutSeconds: expected an integer',
    );
    expect(parseError({ ...drain, dryRun: 'yes' }).message).toBe('dryRun: expected boolean, got "yes"');
  });

  it('uncordon and status need no reason; instanceId must be a valid id', () => {
    expect(
      only(parse({ spotguard: 'manual', action: 'status', instanceId: 'i-1234abcd' })).instanceIds,
    ).toEqual(['i-1234abcd']);
    expect(parseError({ spotguard: 'manual', action: 'status', instanceId: 'ip-10-0-1-23' }).path).toBe(
      'instanceId',
    );
  });

  it('a wrong marker value is an error on the spotguard field', () => {
    expect(parseError({ ...drain, spotguard: 'auto' }).message).toBe(
      'spotguard: expected "manual", got "auto"',
    );
  });
});

describe('continuations (work spotguard re-queued to itself)', () => {
  const original = () => {
    const { recordId: _r, envelopes: _e, ...event } = only(parse(load('lifecycle-terminate.json')));
    return event;
  };

  it('gives the event back with attempt set and a dedupKey of its own', () => {
    const event = only(parse(sqs({ spotguard: 'continuation', attempt: 1, event: original() })));
    const { dedupKey: _key, ...fields } = original();
    expect(event).toMatchObject({
      ...fields,
      attempt: 1,
      recordId: 'msg-0',
      envelopes: ['sqs', 'direct'],
    });
    expect(event.dedupKey).toBe(`${original().dedupKey}#attempt=1`);
  });

  it('a continuation of a continuation replaces the attempt suffix', () => {
    const first = only(parse({ spotguard: 'continuation', attempt: 1, event: original() }));
    const { recordId: _r, envelopes: _e, ...again } = first;
    const second = only(parse({ spotguard: 'continuation', attempt: 2, event: again }));
    expect(second.dedupKey).toBe(`${original().dedupKey}#attempt=2`);
    expect(second.attempt).toBe(2);
  });

  it('checks the lifecycle fields it will complete the hook with', () => {
    const event = { ...original(), lifecycleActionToken: 'nope' };
    expect(parseError(sqs({ spotguard: 'continuation', attempt: 1, event })).path).toBe(
      'Records[0].body.event.lifecycleActionToken',
    );
    expect(parseError({ spotguard: 'continuation', attempt: 0, event: original() }).path).toBe('attempt');
    expect(
      parseError({ spotguard: 'continuation', attempt: 1, event: { ...original(), kind: 'manual' } }).path,
    ).toBe('event.kind');
  });
});

describe('AWS Health scheduled changes', () => {
  const health = () =>
    clone(load('health-scheduled-change.json')) as Record<string, unknown> & {
      detail: Record<string, unknown>;
    };

  it('collects instance ids from affectedEntities and resources (ARNs too), without duplicates', () => {
    const event = health();
    event.resources = [
      'i-0a1b2c3d4e5f60718',
      'arn:aws:ec2:eu-west-1:123456789012:instance/i-0d4e5f60718293a4b',
    ];
    event.detail.affectedEntities = [
      { entityValue: 'i-0a1b2c3d4e5f60718' },
      { entityValue: 'h-0123456789abcdef0' },
    ];
    expect(parse(event).map((e) => e.instanceIds[0])).toEqual(['i-0a1b2c3d4e5f60718', 'i-0d4e5f60718293a4b']);
  });

  it('accepts ISO 8601 start times as well as HTTP dates', () => {
    const event = health();
    event.detail.startTime = '2026-12-05T14:00:00Z';
    expect(parse(event)[0]?.deadline).toBe('2026-12-05T14:00:00.000Z');
  });

  it('without a start time there is no deadline', () => {
    const event = health();
    delete event.detail.startTime;
    expect(parse(event)[0]?.deadline).toBeUndefined();
  });

  it('an entity that looks like a broken instance id is an error, not silently skipped', () => {
    const event = health();
    event.detail.affectedEntities = [{ entityValue: 'i-0a1b2c3d4e5f60718' }, { entityValue: 'i-broken' }];
    expect(parseError(event).path).toBe('detail.affectedEntities[1].entityValue');
  });

  it('an EC2 scheduled change naming no instance is ignored', () => {
    const event = health();
    event.resources = [];
    event.detail.affectedEntities = [{ entityValue: 'h-0123456789abcdef0' }];
    expect(only(parse(event))).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('names no instances'),
    });
  });

  it('a non-EC2 scheduled change is ignored', () => {
    const event = health();
    event.detail.service = 'RDS';
    expect(only(parse(event)).kind).toBe('ignored');
  });
});

describe('registry', () => {
  it('knows every (source, detail-type) pair spotguard acts on', () => {
    const pairs = [
      ['aws.ec2', 'EC2 Spot Instance Interruption Warning'],
      ['aws.ec2', 'EC2 Instance Rebalance Recommendation'],
      ['aws.ec2', 'EC2 Instance State-change Notification'],
      ['aws.autoscaling', 'EC2 Instance-terminate Lifecycle Action'],
      ['aws.autoscaling', 'EC2 Instance-launch Lifecycle Action'],
      ['aws.autoscaling', 'EC2 Instance Launch Successful'],
      ['aws.autoscaling', 'EC2 Instance Launch Unsuccessful'],
      ['aws.autoscaling', 'EC2 Instance Terminate Successful'],
      ['aws.autoscaling', 'EC2 Instance Terminate Unsuccessful'],
      ['aws.health', 'AWS Health Event'],
      ['aws.cloudwatch', 'CloudWatch Alarm State Change'],
    ];
    expect([...registry.keys()].sort()).toEqual(pairs.map(([s, d]) => registryKey(s!, d!)).sort());
  });
});
