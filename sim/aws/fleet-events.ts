// The EventBridge events of the simulated fleet, one builder per detail-type, shaped as in the
// AWS docs' examples (EC2 user guide: Spot interruption notices, rebalance recommendations, state
// change; Auto Scaling user guide: event reference; AWS Health user guide: EC2 scheduled changes).
import { randomBytes, randomUUID } from 'node:crypto';
import { type EventInput, rfc1123 } from './events.ts';
import type { InterruptionAction, LifecycleHook, SimGroup, SimInstance } from './model.ts';
import { ACCOUNT_ID } from './wire.ts';

export type MaintenanceEventType =
  | 'AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED'
  | 'AWS_EC2_INSTANCE_STOP_SCHEDULED'
  | 'AWS_EC2_INSTANCE_REBOOT_MAINTENANCE_SCHEDULED';

export type ActivityDetailType =
  | 'EC2 Instance Launch Successful'
  | 'EC2 Instance Launch Unsuccessful'
  | 'EC2 Instance Terminate Successful'
  | 'EC2 Instance Terminate Unsuccessful';

function instanceArn(instance: SimInstance, region: string): string {
  return `arn:aws:ec2:${region}:${ACCOUNT_ID}:instance/${instance.instanceId}`;
}

/** The Spot warning and rebalance events name the instance as the EC2 docs' examples do: arn:aws:ec2:<az>:instance/<id>. */
function spotArn(instance: SimInstance): string {
  return `arn:aws:ec2:${instance.zone}:instance/${instance.instanceId}`;
}

/** `time` is when AWS says the warning was issued; consumers take the deadline as time + 120 s. */
export function spotInterruptionWarning(
  instance: SimInstance,
  action: InterruptionAction,
  time: Date,
): EventInput {
  return {
    source: 'aws.ec2',
    'detail-type': 'EC2 Spot Instance Interruption Warning',
    time,
    resources: [spotArn(instance)],
    detail: { 'instance-id': instance.instanceId, 'instance-action': action },
  };
}

export function rebalanceRecommendation(instance: SimInstance): EventInput {
  return {
    source: 'aws.ec2',
    'detail-type': 'EC2 Instance Rebalance Recommendation',
    resources: [spotArn(instance)],
    detail: { 'instance-id': instance.instanceId },
  };
}

export function stateChangeNotification(instance: SimInstance, region: string): EventInput {
  return {
    source: 'aws.ec2',
    'detail-type': 'EC2 Instance State-change Notification',
    resources: [instanceArn(instance, region)],
    detail: { 'instance-id': instance.instanceId, state: instance.state },
  };
}

export function lifecycleActionEvent(
  group: SimGroup,
  instance: SimInstance,
  hook: LifecycleHook,
  token: string,
): EventInput {
  const launching = hook.transition === 'autoscaling:EC2_INSTANCE_LAUNCHING';
  return {
    source: 'aws.autoscaling',
    'detail-type': launching
      ? 'EC2 Instance-launch Lifecycle Action'
      : 'EC2 Instance-terminate Lifecycle Action',
    resources: [group.arn],
    detail: {
      LifecycleActionToken: token,
      AutoScalingGroupName: group.name,
      LifecycleHookName: hook.name,
      EC2InstanceId: instance.instanceId,
      LifecycleTransition: hook.transition,
      ...(hook.notificationMetadata !== undefined ? { NotificationMetadata: hook.notificationMetadata } : {}),
      Origin: launching ? 'EC2' : 'AutoScalingGroup',
      Destination: launching ? 'AutoScalingGroup' : 'EC2',
    },
  };
}

export function autoScalingActivity(
  group: SimGroup,
  instance: SimInstance,
  detailType: ActivityDetailType,
  region: string,
  statusMessage?: string,
): EventInput {
  const launch = detailType.startsWith('EC2 Instance Launch');
  const now = new Date().toISOString();
  return {
    source: 'aws.autoscaling',
    'detail-type': detailType,
    resources: [group.arn, instanceArn(instance, region)],
    detail: {
      StatusCode: detailType.endsWith('Unsuccessful') ? 'Failed' : 'InProgress',
      ...(statusMessage ? { StatusMessage: statusMessage } : {}),
      AutoScalingGroupName: group.name,
      ActivityId: randomUUID(),
      Details: { 'Availability Zone': instance.zone, 'Subnet ID': instance.subnetId },
      RequestId: randomUUID(),
      EndTime: now,
      EC2InstanceId: instance.instanceId,
      StartTime: instance.launchTime.toISOString(),
      Cause: launch
        ? `At ${now} an instance was started in response to a difference between desired and actual capacity, increasing the capacity.`
        : `At ${now} an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity.`,
      Origin: launch ? 'EC2' : 'AutoScalingGroup',
      Destination: launch ? 'AutoScalingGroup' : 'EC2',
    },
  };
}

/** An AWS Health "scheduledChange" for EC2 instances; start/end times in RFC 1123 as Health sends them. */
export function healthScheduledChange(
  instances: SimInstance[],
  region: string,
  code: MaintenanceEventType,
  startTime: Date,
): EventInput {
  const endTime = new Date(startTime.getTime() + 7 * 24 * 3600_000);
  const verb =
    code === 'AWS_EC2_INSTANCE_STOP_SCHEDULED'
      ? 'stop'
      : code === 'AWS_EC2_INSTANCE_REBOOT_MAINTENANCE_SCHEDULED'
        ? 'reboot'
        : 'retire';
  return {
    source: 'aws.health',
    'detail-type': 'AWS Health Event',
    resources: instances.map((i) => i.instanceId),
    detail: {
      eventArn: `arn:aws:health:${region}::event/EC2/${code}/${code}_${randomUUID()}`,
      service: 'EC2',
      eventScopeCode: 'ACCOUNT_SPECIFIC',
      communicationId: randomBytes(32).toString('hex'),
      lastUpdatedTime: rfc1123(new Date()),
      statusCode: 'upcoming',
      eventRegion: region,
      eventTypeCode: code,
      eventTypeCategory: 'scheduledChange',
      startTime: rfc1123(startTime),
      endTime: rfc1123(endTime),
      eventDescription: [
        {
          language: 'en_US',
          latestDescription: `EC2 has detected degradation of the underlying hardware hosting your Amazon EC2 instance(s) in the ${region} region. We will ${verb} your instance(s) after ${rfc1123(startTime)}.`,
        },
      ],
      affectedEntities: instances.map((i) => ({ entityValue: i.instanceId })),
    },
  };
}
