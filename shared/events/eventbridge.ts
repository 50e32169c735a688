// EventBridge events: the envelope is checked with Powertools' EventBridgeSchema, then the
// `detail` with the schema registered for (source, detail-type). Unknown pairs become an explicit
// `ignored` event (one parser per message kind, unknown kinds are a no-op — as Karpenter does).
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { z } from 'zod';
import { AlarmDataSchema, alarmFields } from './alarm.ts';
import { type EventContext, type EventMeta, optional } from './context.ts';
import { check, EventParseError, joinPath } from './errors.ts';
import {
  addSeconds,
  boundedName,
  boundedText,
  healthTime,
  INSTANCE_ID_PATTERN,
  instanceId,
  instanceIdFromResource,
  isoTime,
} from './fields.ts';
import {
  LifecycleDetailSchema,
  lifecycleEvent,
  parseTestNotification,
  TEST_NOTIFICATION,
} from './lifecycle.ts';
import type { AsgActivity, DomainEvent, IgnoredEvent, ScheduledChangeEvent } from './types.ts';

/** Seconds between the Spot interruption warning and the interruption (EC2 user guide). */
export const SPOT_INTERRUPTION_NOTICE_SECONDS = 120;

// AWS writes `time` with a Z; we also accept offsets and normalise it to toISOString() form.
// id, account, region, source and detail-type end up in dedupKeys, reasons and log lines: bounded.
const EnvelopeSchema = EventBridgeSchema.extend({
  time: isoTime,
  id: boundedName,
  account: boundedText(64),
  region: boundedText(64),
  source: boundedName,
  'detail-type': boundedName,
});
export type EventBridgeEnvelope = z.output<typeof EnvelopeSchema>;

type DetailParser = (event: EventBridgeEnvelope, meta: EventMeta, detailPath: string) => DomainEvent[];

/** (source|detail-type) → parser. Exported so tests and docs can list what is understood. */
export const registry = new Map<string, DetailParser>();

export function registryKey(source: string, detailType: string): string {
  return `${source}|${detailType}`;
}

function register<S extends z.ZodType>(
  source: string,
  detailType: string,
  schema: S,
  toEvents: (
    detail: z.output<S>,
    event: EventBridgeEnvelope,
    meta: EventMeta,
    detailPath: string,
  ) => DomainEvent[],
): void {
  registry.set(registryKey(source, detailType), (event, meta, detailPath) =>
    toEvents(check(schema, event.detail, detailPath), event, meta, detailPath),
  );
}

export function parseEventBridge(value: unknown, ctx: EventContext): DomainEvent[] {
  // A test notification forwarded through EventBridge (or wrapped like an event by a tool) is
  // acknowledged as ignored, whatever the envelope around it looks like.
  const detail = (value as { detail?: unknown }).detail;
  if (isTestNotification(detail)) {
    return [parseTestNotification(detail, { ...ctx, envelopes: [...ctx.envelopes, 'eventbridge'] })];
  }
  const event = check(EnvelopeSchema, value, ctx.path);
  const meta: EventMeta = {
    time: event.time,
    region: event.region,
    account: event.account,
    envelopes: [...ctx.envelopes, 'eventbridge'],
    ...optional({ recordId: ctx.recordId }),
  };
  const parser = registry.get(registryKey(event.source, event['detail-type']));
  if (!parser) {
    return [ignored(`no handler for ${event.source} / ${event['detail-type']}`, event, meta)];
  }
  return parser(event, meta, joinPath(ctx.path, 'detail'));
}

function isTestNotification(detail: unknown): boolean {
  return (
    typeof detail === 'object' &&
    detail !== null &&
    (detail as { Event?: unknown }).Event === TEST_NOTIFICATION
  );
}

function ignored(reason: string, event: EventBridgeEnvelope, meta: EventMeta): IgnoredEvent {
  return { kind: 'ignored', reason, instanceIds: [], dedupKey: `ignored:${event.id}`, ...meta };
}

// --- aws.ec2 -------------------------------------------------------------------------------

register(
  'aws.ec2',
  'EC2 Spot Instance Interruption Warning',
  z.object({ 'instance-id': instanceId, 'instance-action': z.enum(['terminate', 'stop', 'hibernate']) }),
  (d, event, meta) => [
    {
      kind: 'spot-interruption',
      instanceIds: [d['instance-id']],
      instanceId: d['instance-id'],
      instanceAction: d['instance-action'],
      deadline: addSeconds(meta.time, SPOT_INTERRUPTION_NOTICE_SECONDS),
      dedupKey: `spot-interruption:${d['instance-id']}:${event.id}`,
      ...meta,
    },
  ],
);

register(
  'aws.ec2',
  'EC2 Instance Rebalance Recommendation',
  z.object({ 'instance-id': instanceId }),
  (d, event, meta) => [
    {
      kind: 'rebalance-recommendation',
      instanceIds: [d['instance-id']],
      instanceId: d['instance-id'],
      dedupKey: `rebalance-recommendation:${d['instance-id']}:${event.id}`,
      ...meta,
    },
  ],
);

register(
  'aws.ec2',
  'EC2 Instance State-change Notification',
  z.object({
    'instance-id': instanceId,
    state: z.enum(['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated']),
  }),
  (d, event, meta) => [
    {
      kind: 'state-change',
      instanceIds: [d['instance-id']],
      instanceId: d['instance-id'],
      state: d.state,
      dedupKey: `state-change:${d['instance-id']}:${event.id}`,
      ...meta,
    },
  ],
);

// --- aws.autoscaling -----------------------------------------------------------------------

for (const detailType of [
  'EC2 Instance-terminate Lifecycle Action',
  'EC2 Instance-launch Lifecycle Action',
]) {
  register('aws.autoscaling', detailType, LifecycleDetailSchema, (d, _event, meta) => [
    lifecycleEvent(d, meta),
  ]);
}

const ASG_ACTIVITIES: Record<string, AsgActivity> = {
  'EC2 Instance Launch Successful': 'launch-successful',
  'EC2 Instance Launch Unsuccessful': 'launch-unsuccessful',
  'EC2 Instance Terminate Successful': 'terminate-successful',
  'EC2 Instance Terminate Unsuccessful': 'terminate-unsuccessful',
};

for (const [detailType, activity] of Object.entries(ASG_ACTIVITIES)) {
  // A failed launch may have no instance yet: AWS then sends EC2InstanceId "".
  const id = activity === 'launch-unsuccessful' ? z.union([instanceId, z.literal('')]) : instanceId;
  const schema = z.object({
    AutoScalingGroupName: boundedName,
    EC2InstanceId: id,
    Details: z.object({ 'Availability Zone': boundedText(64).optional() }).optional(),
  });
  register('aws.autoscaling', detailType, schema, (d, event, meta) => [
    {
      kind: 'asg-activity',
      activity,
      instanceIds: d.EC2InstanceId ? [d.EC2InstanceId] : [],
      instanceId: d.EC2InstanceId,
      autoScalingGroupName: d.AutoScalingGroupName,
      ...optional({ availabilityZone: d.Details?.['Availability Zone'] }),
      dedupKey: `asg-activity:${d.EC2InstanceId}:${event.id}`,
      ...meta,
    },
  ]);
}

// --- aws.health ----------------------------------------------------------------------------

const HealthKindSchema = z.object({ service: z.string(), eventTypeCategory: z.string() });

const Ec2ScheduledChangeSchema = z.object({
  eventArn: boundedText(2048).pipe(z.string().min(1)),
  eventTypeCode: boundedName,
  startTime: healthTime.optional(),
  endTime: healthTime.optional(),
  statusCode: z.string().optional(),
  affectedEntities: z.array(z.object({ entityValue: z.string() })).default([]),
});

register('aws.health', 'AWS Health Event', z.unknown(), (detail, event, meta, detailPath) => {
  const kind = check(HealthKindSchema, detail, detailPath);
  if (kind.service !== 'EC2' || kind.eventTypeCategory !== 'scheduledChange') {
    return [
      ignored(
        `AWS Health ${kind.service} ${kind.eventTypeCategory} is not an EC2 scheduled change`,
        event,
        meta,
      ),
    ];
  }
  const d = check(Ec2ScheduledChangeSchema, detail, detailPath);
  const ids = affectedInstanceIds(
    d.affectedEntities.map((e) => e.entityValue),
    event.resources,
    detailPath,
  );
  if (ids.length === 0)
    return [ignored(`EC2 scheduled change ${d.eventTypeCode} names no instances`, event, meta)];
  return ids.map(
    (id): ScheduledChangeEvent => ({
      kind: 'scheduled-change',
      instanceIds: [id],
      instanceId: id,
      eventTypeCode: d.eventTypeCode,
      ...optional({
        startTime: d.startTime,
        endTime: d.endTime,
        deadline: d.startTime,
        statusCode: d.statusCode,
      }),
      // the status is part of the key: the `closed` update of the same event is new work
      dedupKey: `scheduled-change:${id}:${d.eventArn}${d.statusCode === 'closed' ? ':closed' : ''}`,
      ...meta,
    }),
  );
});

/**
 * Instance ids named by a Health event, in order, without duplicates. Entities that are not
 * instances (hosts, volumes) are skipped; something that starts like an instance id but is not
 * one is an error, because dropping it would silently skip a drain.
 */
function affectedInstanceIds(entityValues: string[], resources: string[], detailPath: string): string[] {
  const ids = new Set<string>();
  entityValues.forEach((value, i) => {
    if (value.startsWith('i-') && !INSTANCE_ID_PATTERN.test(value)) {
      throw EventParseError.at(
        `${detailPath}.affectedEntities[${i}].entityValue`,
        `expected an EC2 instance id matching i-[0-9a-f]{8,17}, got ${JSON.stringify(value)}`,
      );
    }
    if (INSTANCE_ID_PATTERN.test(value)) ids.add(value);
  });
  for (const resource of resources) {
    const id = instanceIdFromResource(resource);
    if (id) ids.add(id);
  }
  return [...ids];
}

// --- aws.cloudwatch ------------------------------------------------------------------------

register('aws.cloudwatch', 'CloudWatch Alarm State Change', AlarmDataSchema, (d, event, meta) => {
  const fields = alarmFields(d);
  return [
    {
      ...fields,
      alarmArn: event.resources[0] ?? '',
      // the same key as the direct alarm action of the same transition: delivered both ways, handled once
      dedupKey: `alarm:${d.alarmName}:${fields.state}:${fields.stateTime ?? event.time}`,
      ...meta,
    },
  ];
});
