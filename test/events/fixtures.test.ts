// Every fixture in events/ is parsed and checked field by field: kind, instance ids, time,
// deadline and dedupKey. A fixture without an entry here fails the test, so new fixtures get checked.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventParseError, parse } from '../../shared/events/parse.ts';
import type { DomainEvent } from '../../shared/events/types.ts';

const EVENTS_DIR = join(import.meta.dirname, '../../events');
const I1 = 'i-0a1b2c3d4e5f60718';
const I2 = 'i-0b2c3d4e5f6071829';
const I3 = 'i-0c3d4e5f607182930';
const TERMINATE_TOKEN = 'b7d0c6a2-3f1e-4c9a-8e5d-2a4b6c8d0e1f';
const HEALTH_ARN =
  'arn:aws:health:eu-west-1::event/EC2/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED_7f35c8ae-af1f-54e6-a526-d0179ed6d68f';
const ITN_ID = '1e5527d7-bb36-4607-3370-4164db56a40e';
const REBALANCE_ID = '4b885a0a-ee69-4930-96a3-7497ae89d731';

interface Expected {
  kind: DomainEvent['kind'];
  instanceIds: string[];
  /** undefined for manual payloads: their time is when they were parsed. */
  time?: string;
  deadline?: string;
  /** Exact key, or a pattern for manual payload hashes. */
  dedupKey: string | RegExp;
  envelopes: string[];
  recordId?: string;
  extra?: Record<string, unknown>;
}

const expected: Record<string, Expected[]> = {
  'spot-interruption.json': [
    {
      kind: 'spot-interruption',
      instanceIds: [I1],
      time: '2026-11-21T10:00:00.000Z',
      deadline: '2026-11-21T10:02:00.000Z',
      dedupKey: `spot-interruption:${I1}:${ITN_ID}`,
      envelopes: ['eventbridge'],
      extra: { instanceAction: 'terminate', region: 'eu-west-1', account: '123456789012' },
    },
  ],
  'spot-interruption-stop.json': [
    {
      kind: 'spot-interruption',
      instanceIds: [I2],
      time: '2026-11-21T10:05:00.000Z',
      deadline: '2026-11-21T10:07:00.000Z',
      dedupKey: `spot-interruption:${I2}:2f6638e8-cc47-4718-4481-5275ec67b51f`,
      envelopes: ['eventbridge'],
      extra: { instanceAction: 'stop' },
    },
  ],
  'spot-interruption-hibernate.json': [
    {
      kind: 'spot-interruption',
      instanceIds: [I2],
      time: '2026-11-21T10:06:30.000Z',
      deadline: '2026-11-21T10:08:30.000Z',
      dedupKey: `spot-interruption:${I2}:3a7749f9-dd58-4829-8592-6386fd78c620`,
      envelopes: ['eventbridge'],
      extra: { instanceAction: 'hibernate' },
    },
  ],
  'rebalance-recommendation.json': [
    {
      kind: 'rebalance-recommendation',
      instanceIds: [I1],
      time: '2026-11-21T09:45:00.000Z',
      dedupKey: `rebalance-recommendation:${I1}:${REBALANCE_ID}`,
      envelopes: ['eventbridge'],
    },
  ],
  'state-change-stopping.json': [
    {
      kind: 'state-change',
      instanceIds: [I2],
      time: '2026-11-21T10:07:10.000Z',
      dedupKey: `state-change:${I2}:5c996b1b-ff7a-4a41-a7b4-85a8bf9ae842`,
      envelopes: ['eventbridge'],
      extra: { state: 'stopping' },
    },
  ],
  'state-change-running.json': [
    {
      kind: 'state-change',
      instanceIds: [I2],
      time: '2026-11-21T10:20:00.000Z',
      dedupKey: `state-change:${I2}:6daa7c2c-008b-4b52-b8c5-96b9c0abf953`,
      envelopes: ['eventbridge'],
      extra: { state: 'running' },
    },
  ],
  'lifecycle-terminate.json': [
    {
      kind: 'lifecycle-terminate',
      instanceIds: [I1],
      time: '2026-11-21T10:00:05.000Z',
      dedupKey: `lifecycle-terminate:${I1}:${TERMINATE_TOKEN}`,
      envelopes: ['eventbridge'],
      extra: {
        autoScalingGroupName: 'spot-workers-eu-west-1a',
        lifecycleHookName: 'spotguard-terminate',
        lifecycleActionToken: TERMINATE_TOKEN,
        transition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        origin: 'AutoScalingGroup',
        destination: 'EC2',
        notificationMetadata: '{"cluster":"prod-eks"}',
      },
    },
  ],
  'lifecycle-launch.json': [
    {
      kind: 'lifecycle-launch',
      instanceIds: [I3],
      time: '2026-11-21T10:01:00.000Z',
      dedupKey: `lifecycle-launch:${I3}:c1e2d3f4-a5b6-4c7d-9e8f-0a1b2c3d4e5f`,
      envelopes: ['eventbridge'],
      extra: { transition: 'autoscaling:EC2_INSTANCE_LAUNCHING', lifecycleHookName: 'spotguard-launch' },
    },
  ],
  'lifecycle-terminate-flat-sqs-body.json': [
    {
      kind: 'lifecycle-terminate',
      instanceIds: [I1],
      time: '2026-11-21T10:00:05.123Z',
      dedupKey: `lifecycle-terminate:${I1}:${TERMINATE_TOKEN}`,
      envelopes: ['lifecycle-hook'],
      extra: { account: '123456789012', autoScalingGroupName: 'spot-workers-eu-west-1a' },
    },
  ],
  'sqs-batch-itn.json': [
    {
      kind: 'spot-interruption',
      instanceIds: [I1],
      time: '2026-11-21T10:00:00.000Z',
      deadline: '2026-11-21T10:02:00.000Z',
      dedupKey: `spot-interruption:${I1}:${ITN_ID}`,
      envelopes: ['sqs', 'eventbridge'],
      recordId: '059f36b4-87a3-44ab-83d2-661975830a7d',
    },
    {
      kind: 'rebalance-recommendation',
      instanceIds: [I1],
      time: '2026-11-21T09:45:00.000Z',
      dedupKey: `rebalance-recommendation:${I1}:${REBALANCE_ID}`,
      envelopes: ['sqs', 'eventbridge'],
      recordId: '2e1424d4-f796-459a-8184-9c92662be6da',
    },
  ],
  'sqs-lifecycle-flat.json': [
    {
      kind: 'lifecycle-terminate',
      instanceIds: [I1],
      time: '2026-11-21T10:00:05.123Z',
      dedupKey: `lifecycle-terminate:${I1}:${TERMINATE_TOKEN}`,
      envelopes: ['sqs', 'lifecycle-hook'],
      recordId: '3f2535e5-a8a7-4ab1-94e3-772a86941eb7',
    },
  ],
  'sns-lifecycle-flat.json': [
    {
      kind: 'lifecycle-terminate',
      instanceIds: [I1],
      time: '2026-11-21T10:00:05.123Z',
      dedupKey: `lifecycle-terminate:${I1}:${TERMINATE_TOKEN}`,
      envelopes: ['sns', 'lifecycle-hook'],
    },
  ],
  'sqs-continuation-lifecycle.json': [
    {
      kind: 'lifecycle-terminate',
      instanceIds: [I1],
      time: '2026-11-21T10:00:05.000Z',
      dedupKey: `lifecycle-terminate:${I1}:${TERMINATE_TOKEN}#attempt=1`,
      envelopes: ['sqs', 'direct'],
      recordId: '6d7e8f90-a1b2-4c3d-8e4f-5a6b7c8d9e0f',
      extra: { attempt: 1, lifecycleActionToken: TERMINATE_TOKEN, lifecycleHookName: 'spotguard-terminate' },
    },
  ],
  'sqs-sns-itn.json': [
    {
      kind: 'spot-interruption',
      instanceIds: [I1],
      time: '2026-11-21T10:00:00.000Z',
      deadline: '2026-11-21T10:02:00.000Z',
      dedupKey: `spot-interruption:${I1}:${ITN_ID}`,
      envelopes: ['sqs', 'sns', 'eventbridge'],
      recordId: '79406a00-bf15-46ca-978c-22c3613fcb30',
    },
  ],
  'test-notification.json': [
    {
      kind: 'ignored',
      instanceIds: [],
      time: '2026-11-20T16:30:00.000Z',
      dedupKey: 'ignored:autoscaling:TEST_NOTIFICATION:5f1e3b2a-9c8d-4e7f-a6b5-c4d3e2f1a0b9',
      envelopes: ['lifecycle-hook'],
      extra: { reason: 'autoscaling:TEST_NOTIFICATION' },
    },
  ],
  'sqs-test-notification.json': [
    {
      kind: 'ignored',
      instanceIds: [],
      time: '2026-11-20T16:30:00.000Z',
      dedupKey: 'ignored:autoscaling:TEST_NOTIFICATION:5f1e3b2a-9c8d-4e7f-a6b5-c4d3e2f1a0b9',
      envelopes: ['sqs', 'lifecycle-hook'],
      recordId: '4a3646f6-b9b8-4bc2-a5f4-883b97a52fc8',
      extra: { reason: 'autoscaling:TEST_NOTIFICATION' },
    },
  ],
  'asg-launch-successful.json': [
    {
      kind: 'asg-activity',
      instanceIds: [I3],
      time: '2026-11-21T10:02:30.000Z',
      dedupKey: `asg-activity:${I3}:90dd0f5f-33be-4e85-9b0e-c9ecf3de2c86`,
      envelopes: ['eventbridge'],
      extra: {
        activity: 'launch-successful',
        availabilityZone: 'eu-west-1a',
        autoScalingGroupName: 'spot-workers-eu-west-1a',
      },
    },
  ],
  'asg-launch-unsuccessful.json': [
    {
      kind: 'asg-activity',
      instanceIds: [],
      time: '2026-11-21T10:03:00.000Z',
      dedupKey: 'asg-activity::a1ee1f6f-44cf-4f96-8c1f-dafdf4ef3d97',
      envelopes: ['eventbridge'],
      extra: { activity: 'launch-unsuccessful', instanceId: '', availabilityZone: 'eu-west-1a' },
    },
  ],
  'asg-terminate-unsuccessful.json': [
    {
      kind: 'asg-activity',
      instanceIds: [I1],
      time: '2026-11-21T10:04:00.000Z',
      dedupKey: `asg-activity:${I1}:b2ff2070-55d0-4fa7-9d20-ebfe05f04ea8`,
      envelopes: ['eventbridge'],
      extra: { activity: 'terminate-unsuccessful', availabilityZone: 'eu-west-1b' },
    },
  ],
  'health-scheduled-change.json': [I1, I2].map((id) => ({
    kind: 'scheduled-change' as const,
    instanceIds: [id],
    time: '2026-11-21T08:00:00.000Z',
    deadline: '2026-12-05T14:00:00.000Z',
    dedupKey: `scheduled-change:${id}:${HEALTH_ARN}`,
    envelopes: ['eventbridge'],
    extra: {
      instanceId: id,
      eventTypeCode: 'AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED',
      startTime: '2026-12-05T14:00:00.000Z',
      endTime: '2026-12-05T16:00:00.000Z',
    },
  })),
  'health-issue-ignored.json': [
    {
      kind: 'ignored',
      instanceIds: [],
      time: '2026-11-21T08:30:00.000Z',
      dedupKey: 'ignored:d4112292-77f2-41c9-9f42-0d1027026c0a',
      envelopes: ['eventbridge'],
      extra: { reason: 'AWS Health EC2 issue is not an EC2 scheduled change' },
    },
  ],
  'alarm-state-change.json': [
    {
      kind: 'alarm',
      instanceIds: [],
      time: '2026-11-21T10:10:00.000Z',
      dedupKey: 'alarm:spotguard-interruption-storm:ALARM:2026-11-21T10:10:00.456Z',
      envelopes: ['eventbridge'],
      extra: { alarmName: 'spotguard-interruption-storm', state: 'ALARM', previousState: 'OK' },
    },
  ],
  'alarm-action-direct.json': [
    {
      kind: 'alarm',
      instanceIds: [],
      time: '2026-11-30T10:15:02.000Z',
      dedupKey: 'alarm:spotguard-prod-interruption-storm:ALARM:2026-11-30T10:15:02.000Z',
      envelopes: ['direct'],
      extra: {
        alarmName: 'spotguard-prod-interruption-storm',
        state: 'ALARM',
        previousState: 'OK',
        stateTime: '2026-11-30T10:15:02.000Z',
        account: '123456789012',
        region: 'eu-west-1',
      },
    },
  ],
  'manual-status.json': [
    {
      kind: 'manual',
      instanceIds: [],
      dedupKey: /^manual:[0-9a-f]{32}$/,
      envelopes: ['direct'],
      extra: { action: 'status', dryRun: false },
    },
  ],
  'manual-drain.json': [
    {
      kind: 'manual',
      instanceIds: [],
      dedupKey: /^manual:[0-9a-f]{32}$/,
      envelopes: ['direct'],
      extra: {
        action: 'drain',
        nodeName: 'ip-10-0-1-23.eu-west-1.compute.internal',
        reason: 'INC-4711: host degraded, draining ahead of retirement',
        requestedBy: 'oncall@example.com',
        requestId: 'req-20261121-001',
        dryRun: false,
        force: false,
        deleteEmptyDirData: true,
        gracePeriodSeconds: 30,
        timeoutSeconds: 300,
      },
    },
  ],
  'sqs-manual-drain.json': [
    {
      kind: 'manual',
      instanceIds: [],
      dedupKey: /^manual:[0-9a-f]{32}$/,
      envelopes: ['sqs', 'direct'],
      recordId: '5b4757a7-cac9-4cd3-b6a5-994ca8b63ad9',
      extra: { action: 'drain', nodeName: 'ip-10-0-1-23.eu-west-1.compute.internal' },
    },
  ],
  'manual-uncordon.json': [
    {
      kind: 'manual',
      instanceIds: [I2],
      dedupKey: /^manual:[0-9a-f]{32}$/,
      envelopes: ['direct'],
      extra: { action: 'uncordon', instanceId: I2, dryRun: false, deleteEmptyDirData: true },
    },
  ],
  'unknown-kind.json': [
    {
      kind: 'ignored',
      instanceIds: [],
      time: '2026-11-21T10:15:00.000Z',
      dedupKey: 'ignored:f6334414-9914-43eb-b164-2f3249248e2c',
      envelopes: ['eventbridge'],
      extra: { reason: 'no handler for aws.ec2 / EC2 AMI State Change' },
    },
  ],
};

/** Malformed fixtures: the error path and the words the message must contain. */
const malformed: Record<string, { path: string; message: string }> = {
  'spot-interruption-bad-action.json': {
    path: 'detail.instance-action',
    message: 'detail.instance-action: expected one of terminate|stop|hibernate, got "reboot"',
  },
  'spot-interruption-bad-instance-id.json': {
    path: 'detail.instance-id',
    message: 'detail.instance-id: expected an EC2 instance id matching i-[0-9a-f]{8,17}, got "i-XYZ"',
  },
  'state-change-missing-state.json': { path: 'detail.state', message: 'got nothing (field missing)' },
  'eventbridge-bad-time.json': { path: 'time', message: 'expected an ISO 8601 date-time' },
  'sqs-lifecycle-bad-token.json': {
    path: 'Records[2].body.detail.LifecycleActionToken',
    message: 'expected a lifecycle action token (GUID), got "not-a-token"',
  },
  'sqs-body-not-json.json': { path: 'Records[0].body', message: 'Records[0].body: expected a JSON document' },
  'sqs-sns-bad-message.json': {
    path: 'Records[0].body.Message',
    message: 'expected a JSON document, got invalid JSON',
  },
  'flat-hook-bad-transition.json': {
    path: 'LifecycleTransition',
    message: 'got "autoscaling:EC2_INSTANCE_REBOOTING"',
  },
  'health-bad-start-time.json': { path: 'detail.startTime', message: 'got "next Tuesday"' },
  'manual-drain-no-reason.json': { path: 'reason', message: 'expected a non-empty reason for drain' },
  'manual-both-targets.json': {
    path: 'node|instanceId',
    message: 'expected exactly one of node or instanceId, got both',
  },
  'manual-no-target.json': { path: 'node|instanceId', message: 'got neither' },
  'manual-unknown-field.json': { path: 'dryrun', message: 'dryrun: unknown field' },
  'manual-bad-action.json': {
    path: 'action',
    message: 'expected one of drain|uncordon|status, got "delete"',
  },
  'alarm-action-bad-time.json': {
    path: 'time',
    message: 'expected a time like 2026-11-30T10:15:02.000+0000',
  },
  'alarm-bad-state.json': {
    path: 'detail.state.value',
    message: 'expected one of OK|ALARM|INSUFFICIENT_DATA, got "RED"',
  },
  'not-an-event.json': { path: '(root)', message: 'got an object with keys "hello"' },
};

function fixtures(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

function load(file: string): unknown {
  return JSON.parse(readFileSync(join(EVENTS_DIR, file), 'utf8'));
}

describe('events/*.json fixtures', () => {
  it('every fixture has expectations (and every expectation a fixture)', () => {
    expect(fixtures(EVENTS_DIR)).toEqual(Object.keys(expected).sort());
    expect(fixtures(join(EVENTS_DIR, 'malformed'))).toEqual(Object.keys(malformed).sort());
  });

  for (const file of fixtures(EVENTS_DIR)) {
    it(`${file} → ${(expected[file] ?? []).map((e) => e.kind).join(', ')}`, () => {
      const events = parse(load(file));
      const wanted = expected[file] ?? [];
      expect(events).toHaveLength(wanted.length);
      events.forEach((event, i) => {
        const want = wanted[i]!;
        expect(event.kind).toBe(want.kind);
        expect(event.instanceIds).toEqual(want.instanceIds);
        if (want.time === undefined) expect(Number.isNaN(Date.parse(event.time))).toBe(false);
        else expect(event.time).toBe(want.time);
        expect(event.deadline).toBe(want.deadline);
        if (typeof want.dedupKey === 'string') expect(event.dedupKey).toBe(want.dedupKey);
        else expect(event.dedupKey).toMatch(want.dedupKey);
        expect(event.envelopes).toEqual(want.envelopes);
        expect(event.recordId).toBe(want.recordId);
        expect(event).toMatchObject(want.extra ?? {});
      });
    });
  }

  for (const file of fixtures(join(EVENTS_DIR, 'malformed'))) {
    it(`malformed/${file} → EventParseError naming ${malformed[file]?.path}`, () => {
      const want = malformed[file]!;
      let thrown: unknown;
      try {
        parse(load(join('malformed', file)));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(EventParseError);
      const error = thrown as EventParseError;
      expect(error.path).toBe(want.path);
      expect(error.message).toContain(want.message);
      expect(error.issues[0]?.path).toBe(want.path);
    });
  }
});
