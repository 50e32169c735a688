// Which function receives which EventBridge events, and how: the one definition that the
// simulator's local delivery (sim/lambda-bridge.ts) follows and that test/deploy checks
// serverless.yml against.

import type { EventKind } from './events/types.ts';

export type Delivery = 'direct' | 'sqs';

export interface Route {
  /** functions/<name>/handler.ts */
  functionName: string;
  /** Key in serverless.yml `functions:` */
  serverlessName: string;
  /** EventBridge sources of the detail types below (a detail type belongs to one of them). */
  sources: string[];
  detailTypes: string[];
  /** direct: EventBridge invokes the function (time-critical); sqs: through a queue with a DLQ. */
  delivery: Delivery;
  /** One queue per SQS-fed function (a queue with two consumers would split its messages). */
  queue?: string;
  /** The function's timeout (seconds), as in serverless.yml. */
  timeoutSeconds: number;
  /** Event kinds that arrive without an EventBridge rule (manual payloads); see shared/events/routing.ts. */
  alsoAccepts?: EventKind[];
}

export const routes: Route[] = [
  {
    functionName: 'spot-interruption',
    serverlessName: 'spotInterruption',
    sources: ['aws.ec2'],
    detailTypes: ['EC2 Spot Instance Interruption Warning'],
    delivery: 'direct',
    timeoutSeconds: 150,
  },
  {
    functionName: 'rebalance',
    serverlessName: 'rebalance',
    sources: ['aws.ec2'],
    detailTypes: ['EC2 Instance Rebalance Recommendation'],
    delivery: 'direct',
    timeoutSeconds: 900,
  },
  {
    functionName: 'lifecycle',
    serverlessName: 'lifecycle',
    sources: ['aws.autoscaling'],
    detailTypes: ['EC2 Instance-terminate Lifecycle Action', 'EC2 Instance-launch Lifecycle Action'],
    delivery: 'sqs',
    queue: 'lifecycle',
    timeoutSeconds: 900,
  },
  {
    functionName: 'state-change',
    serverlessName: 'stateChange',
    sources: ['aws.ec2', 'aws.autoscaling'],
    // Unsuccessful ASG activities come along for the log trail (reported ignored; an alarm counts them).
    detailTypes: [
      'EC2 Instance State-change Notification',
      'EC2 Instance Terminate Unsuccessful',
      'EC2 Instance Launch Unsuccessful',
    ],
    delivery: 'sqs',
    queue: 'state-change',
    // An instance stopped from the console is gone within minutes; its drain ends by then.
    timeoutSeconds: 300,
  },
  {
    functionName: 'scheduled-change',
    serverlessName: 'scheduledChange',
    sources: ['aws.health'],
    detailTypes: ['AWS Health Event'],
    delivery: 'sqs',
    queue: 'scheduled-change',
    timeoutSeconds: 900,
  },
  {
    // The AZ rebalancer: launches reach it through a delayed queue with a batching window (a burst
    // is one run); it also runs on a schedule and when the zone-skew alarm fires.
    functionName: 'rebalancer',
    serverlessName: 'rebalancer',
    sources: ['aws.autoscaling'],
    detailTypes: ['EC2 Instance Launch Successful'],
    delivery: 'sqs',
    queue: 'rebalancer',
    timeoutSeconds: 900,
  },
  {
    functionName: 'manual',
    serverlessName: 'manual',
    sources: [],
    detailTypes: [],
    delivery: 'direct',
    timeoutSeconds: 900,
    alsoAccepts: ['manual'],
  },
  {
    // CloudWatch alarms: spot fallback and its return (waits on terminate hooks), zone-skew rebalance.
    // Also invoked directly by CloudWatch (Lambda alarm action), without EventBridge.
    functionName: 'alarm-action',
    serverlessName: 'alarmAction',
    sources: ['aws.cloudwatch'],
    detailTypes: ['CloudWatch Alarm State Change'],
    delivery: 'direct',
    timeoutSeconds: 900,
  },
];

export function routeFor(source: string, detailType: string): Route | undefined {
  return routes.find((r) => r.sources.includes(source) && r.detailTypes.includes(detailType));
}
