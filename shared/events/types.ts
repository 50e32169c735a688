// Domain events: what every spotguard entry point sees after `parse`. Nothing past the parser
// looks at EventBridge/SQS/SNS shapes.

export type EventKind =
  | 'spot-interruption'
  | 'rebalance-recommendation'
  | 'state-change'
  | 'lifecycle-terminate'
  | 'lifecycle-launch'
  | 'scheduled-change'
  | 'asg-activity'
  | 'alarm'
  | 'manual'
  | 'ignored';

/** How the event reached us, outermost first (e.g. ['sqs', 'sns', 'eventbridge']). */
export type Envelope = 'eventbridge' | 'sqs' | 'sns' | 'lifecycle-hook' | 'direct';

interface EventBase {
  kind: EventKind;
  /** EC2 instance ids the event is about (may be empty for alarms and ignored input). */
  instanceIds: string[];
  /** When AWS says it happened (ISO 8601). */
  time: string;
  /** When the instance is gone or the action must be done by (ISO 8601), where one exists. */
  deadline?: string;
  /** Same value for a redelivery of the same event: the idempotency key. */
  dedupKey: string;
  region?: string;
  account?: string;
  envelopes: Envelope[];
  /** SQS messageId when the event came in an SQS record: used for partial batch responses. */
  recordId?: string;
  /**
   * Set on work spotguard re-queued to itself because it outlasted one invocation (lifecycle drains,
   * launch waits): 1 for the first continuation. The dedupKey carries it too.
   */
  attempt?: number;
}

export type SpotInstanceAction = 'terminate' | 'stop' | 'hibernate';

export interface SpotInterruptionEvent extends EventBase {
  kind: 'spot-interruption';
  instanceId: string;
  instanceAction: SpotInstanceAction;
  deadline: string;
}

export interface RebalanceRecommendationEvent extends EventBase {
  kind: 'rebalance-recommendation';
  instanceId: string;
}

export type InstanceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';

export interface StateChangeEvent extends EventBase {
  kind: 'state-change';
  instanceId: string;
  state: InstanceState;
}

export interface LifecycleActionFields {
  instanceId: string;
  autoScalingGroupName: string;
  lifecycleHookName: string;
  lifecycleActionToken: string;
  /** 'autoscaling:EC2_INSTANCE_TERMINATING' | 'autoscaling:EC2_INSTANCE_LAUNCHING' */
  transition: string;
  /** e.g. 'AutoScalingGroup' → 'EC2' (or 'WarmPool'): present on newer events. */
  origin?: string;
  destination?: string;
  notificationMetadata?: string;
}

export interface LifecycleTerminateEvent extends EventBase, LifecycleActionFields {
  kind: 'lifecycle-terminate';
}

export interface LifecycleLaunchEvent extends EventBase, LifecycleActionFields {
  kind: 'lifecycle-launch';
}

export interface ScheduledChangeEvent extends EventBase {
  kind: 'scheduled-change';
  instanceId: string;
  eventTypeCode: string;
  /** Start of the maintenance window (deadline), when the event gives one. */
  startTime?: string;
  endTime?: string;
  /** AWS Health statusCode: 'upcoming' | 'open' | 'closed' (closed = the maintenance is over). */
  statusCode?: string;
}

export type AsgActivity =
  | 'launch-successful'
  | 'launch-unsuccessful'
  | 'terminate-successful'
  | 'terminate-unsuccessful';

export interface AsgActivityEvent extends EventBase {
  kind: 'asg-activity';
  instanceId: string;
  autoScalingGroupName: string;
  activity: AsgActivity;
  availabilityZone?: string;
}

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface AlarmEvent extends EventBase {
  kind: 'alarm';
  alarmName: string;
  state: AlarmState;
  previousState?: AlarmState;
  reason?: string;
  /** When the alarm entered `state` (state.timestamp): orders out-of-order deliveries. */
  stateTime?: string;
  alarmArn?: string;
  /** Metric dimensions of the alarm's configuration (e.g. AutoScalingGroupName of a per-group alarm). */
  dimensions?: Record<string, string>;
}

export type ManualAction = 'drain' | 'uncordon' | 'status';

export interface ManualEvent extends EventBase {
  kind: 'manual';
  action: ManualAction;
  /** At most one of nodeName / instanceId is set (none: status of every node spotguard works on). */
  nodeName?: string;
  instanceId?: string;
  /** Required for drain: recorded on the node and in every Kubernetes Event. */
  reason?: string;
  requestedBy?: string;
  /** Caller-chosen id: part of the dedupKey, so a retry of one request dedupes and two requests do not. */
  requestId?: string;
  /** uncordon: an explicit reason filter (only spotguard's cordon for this reason is undone). */
  onlyIfReason?: string;
  /** drain: bypass PodDisruptionBudgets (explicit, loud). */
  bypassPdb: boolean;
  /** Act despite a safety refusal. */
  overrideSafety: boolean;
  /** Presigned GetCallerIdentity URL as a k8s-aws-v1 token: replayed to learn the caller. */
  identityToken?: string;
  dryRun: boolean;
  force: boolean;
  deleteEmptyDirData: boolean;
  gracePeriodSeconds?: number;
  timeoutSeconds?: number;
}

export interface IgnoredEvent extends EventBase {
  kind: 'ignored';
  /** Why spotguard does nothing with it, e.g. 'autoscaling:TEST_NOTIFICATION'. */
  reason: string;
}

export type DomainEvent =
  | SpotInterruptionEvent
  | RebalanceRecommendationEvent
  | StateChangeEvent
  | LifecycleTerminateEvent
  | LifecycleLaunchEvent
  | ScheduledChangeEvent
  | AsgActivityEvent
  | AlarmEvent
  | ManualEvent
  | IgnoredEvent;
