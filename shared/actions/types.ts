// What the event-driven actions need from the outside world, and what they report.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { AwsClients } from '../aws/clients.ts';
import type { ReplacementPlan, ZonalScaleOut } from '../capacity/planner.ts';
import type { Config } from '../config.ts';
import type { DrainReport, DrainStatus, UncordonResult } from '../drain/types.ts';
import type { EventKind } from '../events/types.ts';
import type { KubeClients } from '../k8s/client.ts';
import type { PlanReport } from '../plans/steps.ts';
import type { NodeResolver } from '../resolve/node-resolver.ts';

export interface ActionDeps {
  config: Config;
  k8s: KubeClients;
  aws: Pick<AwsClients, 'autoScaling' | 'ec2' | 'sqs'>;
  /** One per invocation: caches instance → node lookups across the events of one batch. */
  resolver: NodeResolver;
  logger: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
  metrics: Metrics;
  /** Lease holder identity: the Lambda request id, or cli-<pid>. */
  holder: string;
  /** Milliseconds this invocation may still spend (Lambda remaining time minus a reserve). */
  timeLeftMs: () => number;
  now: () => Date;
  dryRun: boolean;
}

export type Outcome =
  | 'handled'
  | 'ignored'
  | 'not-found'
  /** Another cluster's instance (or hook, or group): left alone. */
  | 'foreign'
  | 'duplicate'
  /** A lifecycle drain or launch wait that outlasts this invocation was re-queued. */
  | 'continued'
  /** A safety rule said no (reported with the rule; nothing was changed). */
  | 'refused'
  | 'failed';

export interface LifecycleOutcome {
  result: 'CONTINUE' | 'ABANDON';
  completed: boolean;
  /** Why the action was completed with this result. */
  why: string;
  heartbeats: number;
  error?: string;
}

export interface HandleReport {
  kind: EventKind;
  dedupKey: string;
  instanceId?: string;
  nodeName?: string;
  outcome: Outcome;
  /** One line for people. */
  summary: string;
  /** What was done, in order, e.g. "cordoned", "replacement: detach from spot-us-east-1b". */
  actions: string[];
  drain?: DrainReport;
  uncordon?: UncordonResult;
  status?: DrainStatus;
  replacement?: ReplacementPlan;
  zonal?: ZonalScaleOut[];
  lifecycle?: LifecycleOutcome;
  /** The plan as run: every step with its status and detail (dry run: as planned). */
  plan?: PlanReport;
  error?: string;
}

export function report(
  base: Pick<HandleReport, 'kind' | 'dedupKey'> & Partial<HandleReport>,
  outcome: Outcome,
  summary: string,
): HandleReport {
  return { actions: [], ...base, outcome, summary };
}
