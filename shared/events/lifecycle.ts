// Auto Scaling lifecycle hooks: the EventBridge form ("EC2 Instance-terminate Lifecycle Action")
// and the flat notification body Auto Scaling sends straight to SQS/SNS map to the same domain
// event with the same token-based dedupKey, so either delivery of one hook dedupes with the other.
import { z } from 'zod';
import { type EventContext, type EventMeta, optional } from './context.ts';
import { check } from './errors.ts';
import { instanceId, isoTime, lifecycleToken, lifecycleTransition, nonEmpty } from './fields.ts';
import type { IgnoredEvent, LifecycleLaunchEvent, LifecycleTerminateEvent } from './types.ts';

/** `detail` of the EventBridge lifecycle action events. */
export const LifecycleDetailSchema = z.object({
  LifecycleActionToken: lifecycleToken,
  AutoScalingGroupName: nonEmpty,
  LifecycleHookName: nonEmpty,
  EC2InstanceId: instanceId,
  LifecycleTransition: lifecycleTransition,
  NotificationMetadata: z.string().optional(),
  Origin: z.string().optional(),
  Destination: z.string().optional(),
});
export type LifecycleDetail = z.output<typeof LifecycleDetailSchema>;

/** The body Auto Scaling puts on an SQS queue / SNS topic for a lifecycle hook. */
export const FlatLifecycleSchema = LifecycleDetailSchema.extend({
  Service: z.literal('AWS Auto Scaling'),
  Time: isoTime,
  AccountId: z.string(),
  RequestId: z.string().optional(),
});

/** Sent once when a hook's notification target is configured. */
export const TestNotificationSchema = z.object({
  Event: z.literal('autoscaling:TEST_NOTIFICATION'),
  Service: z.string().optional(),
  Time: isoTime,
  AccountId: z.string().optional(),
  RequestId: z.string().optional(),
  AutoScalingGroupName: z.string().optional(),
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
  const body = check(TestNotificationSchema, value, ctx.path);
  return {
    kind: 'ignored',
    reason: 'autoscaling:TEST_NOTIFICATION',
    instanceIds: [],
    time: body.Time,
    dedupKey: `ignored:autoscaling:TEST_NOTIFICATION:${body.RequestId ?? body.Time}`,
    envelopes: [...ctx.envelopes, 'lifecycle-hook'],
    ...optional({ account: body.AccountId, recordId: ctx.recordId }),
  };
}
