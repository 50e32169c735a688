// Auto Scaling lifecycle hooks: the EventBridge form ("EC2 Instance-terminate Lifecycle Action")
// and the flat notification body Auto Scaling sends straight to SQS/SNS map to the same domain
// event with the same token-based dedupKey, so either delivery of one hook dedupes with the other.
import { z } from 'zod';
import { type EventContext, type EventMeta, optional } from './context.ts';
import { check } from './errors.ts';
import {
  boundedName,
  boundedText,
  instanceId,
  isoTime,
  lifecycleToken,
  lifecycleTransition,
} from './fields.ts';
import type { IgnoredEvent, LifecycleLaunchEvent, LifecycleTerminateEvent } from './types.ts';

/** `detail` of the EventBridge lifecycle action events. */
export const LifecycleDetailSchema = z.object({
  LifecycleActionToken: lifecycleToken,
  AutoScalingGroupName: boundedName,
  LifecycleHookName: boundedName,
  EC2InstanceId: instanceId,
  LifecycleTransition: lifecycleTransition,
  // AWS allows 1023 characters of metadata; JSON in it may be pretty-printed (newlines are fine).
  NotificationMetadata: z.string().max(1023).optional(),
  Origin: boundedText(64).optional(),
  Destination: boundedText(64).optional(),
});
export type LifecycleDetail = z.output<typeof LifecycleDetailSchema>;

/** The body Auto Scaling puts on an SQS queue / SNS topic for a lifecycle hook. */
export const FlatLifecycleSchema = LifecycleDetailSchema.extend({
  Service: z.literal('AWS Auto Scaling'),
  Time: isoTime,
  AccountId: z.string(),
  RequestId: z.string().optional(),
});

export const TEST_NOTIFICATION = 'autoscaling:TEST_NOTIFICATION';

/**
 * Sent once when a hook's notification target is configured. Never an error, whatever else it
 * carries: its other fields are read only when they are well-formed.
 */
const TestNotificationFields = z.object({
  Time: isoTime.catch(() => new Date().toISOString()),
  AccountId: boundedText(64).optional().catch(undefined),
  RequestId: z.guid().optional().catch(undefined),
});

export function lifecycleEvent(
  d: LifecycleDetail,
  meta: EventMeta,
): LifecycleTerminateEvent | LifecycleLaunchEvent {
  const kind =
    d.LifecycleTransition === 'autoscaling:EC2_INSTANCE_TERMINATING'
      ? 'lifecycle-terminate'
      : 'lifecycle-launch';
  return {
    kind,
    instanceIds: [d.EC2InstanceId],
    instanceId: d.EC2InstanceId,
    autoScalingGroupName: d.AutoScalingGroupName,
    lifecycleHookName: d.LifecycleHookName,
    lifecycleActionToken: d.LifecycleActionToken,
    transition: d.LifecycleTransition,
    ...optional({
      origin: d.Origin,
      destination: d.Destination,
      notificationMetadata: d.NotificationMetadata,
    }),
    dedupKey: `${kind}:${d.EC2InstanceId}:${d.LifecycleActionToken}`,
    ...meta,
  };
}

export function parseFlatLifecycle(
  value: unknown,
  ctx: EventContext,
): LifecycleTerminateEvent | LifecycleLaunchEvent {
  const body = check(FlatLifecycleSchema, value, ctx.path);
  return lifecycleEvent(body, {
    time: body.Time,
    account: body.AccountId,
    envelopes: [...ctx.envelopes, 'lifecycle-hook'],
    ...optional({ recordId: ctx.recordId }),
  });
}

export function parseTestNotification(value: unknown, ctx: EventContext): IgnoredEvent {
  const parsed = TestNotificationFields.safeParse(value);
  const body = parsed.success ? parsed.data : { Time: new Date().toISOString() };
  return {
    kind: 'ignored',
    reason: TEST_NOTIFICATION,
    instanceIds: [],
    time: body.Time,
    dedupKey: `ignored:${TEST_NOTIFICATION}:${body.RequestId ?? body.Time}`,
    envelopes: [...ctx.envelopes, 'lifecycle-hook'],
    ...optional({ account: body.AccountId, recordId: ctx.recordId }),
  };
}
