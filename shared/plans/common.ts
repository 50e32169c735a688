// What every node-safety planner checks first, and the small pieces they share. Pure.
import type { LifecycleActionRef } from '../aws/autoscaling.ts';
import { REPLACEMENT_ANNOTATION, type ReplacementPlan, type ZonalScaleOut } from '../capacity/planner.ts';
import type { Config } from '../config.ts';
import {
  ANNOTATION_CORDON_REASON,
  ANNOTATION_CORDONED_AT,
  ANNOTATION_CORDONED_BY,
} from '../drain/options.ts';
import type { LifecycleActionFields } from '../events/types.ts';
import type { Observed } from '../observe.ts';
import type { CordonStep, DrainStep, NodeStep } from './node-steps.ts';
import type { Plan } from './steps.ts';

export type NodePlan = Plan<NodeStep> & {
  /** How the report classifies a plan with no steps. */
  outcome?: 'ignored' | 'not-found' | 'foreign' | 'failed';
  /** Set with outcome 'failed': the reason the event is retried, then dead-lettered with. */
  error?: string;
  /** Decisions that are not steps (e.g. "the zone has room"), for the report. */
  notes?: string[];
  replacement?: ReplacementPlan;
  zonal?: ZonalScaleOut[];
};

/** The config the planners read (one resolved object, no environment). */
export type PlanConfig = Pick<
  Config,
  | 'safetyMarginMs'
  | 'drainTimeoutMs'
  | 'evictionMode'
  | 'replacementMode'
  | 'rebalancePolicy'
  | 'requeueQueueUrl'
  | 'rebalanceCordonExpiryMs'
>;

export const nothing = (
  target: string,
  trigger: string,
  outcome: NonNullable<NodePlan['outcome']>,
  because: string,
): NodePlan => ({ target, trigger, steps: [], nothingBecause: because, outcome });

/**
 * The plan that does nothing, or undefined when the planner may go on. `needNode`: a node is
 * required (drains); `mutatesAws`: the plan would change AWS capacity or hooks, so unknown
 * ownership stops it (a node found by providerID may still be cordoned and drained).
 */
export function gate(
  o: Observed,
  trigger: string,
  opts: { needNode: boolean; mutatesAws: boolean },
): NodePlan | undefined {
  const target = o.nodeName ? `node/${o.nodeName}` : `instance/${o.instanceId}`;
  const { verdict, why } = o.ownership;
  if (!o.node && !o.instance && !o.ec2Error)
    return nothing(
      target,
      trigger,
      'not-found',
      `${o.instanceId}: ${o.noNodeBecause || 'EC2 does not know this instance id'}`,
    );
  if (verdict === 'foreign') return nothing(target, trigger, 'foreign', `${o.instanceId}: ${why}`);
  if (o.resolveError && !o.node) {
    const because = `${o.instanceId}: ${o.noNodeBecause}`;
    return { ...nothing(target, trigger, 'failed', because), error: because };
  }
  if (verdict === 'unknown' && (opts.mutatesAws || !o.node)) {
    return nothing(target, trigger, 'failed', `${o.instanceId}: ownership unknown (${why}): AWS left alone`);
  }
  if (opts.needNode && !o.node) {
    return nothing(target, trigger, 'not-found', `${o.instanceId}: ${o.noNodeBecause ?? 'no node'}`);
  }
  return undefined;
}

export function cordonStep(o: Observed, reason: string, comingBack: boolean, why: string): CordonStep {
  return { kind: 'cordon', id: 'cordon', node: o.nodeName!, reason, comingBack, why };
}

export function drainStep(
  o: Observed,
  c: PlanConfig,
  reason: string,
  extra: Partial<Pick<DrainStep, 'deadline' | 'comingBack'>> & { why: string },
): DrainStep {
  return {
    kind: 'drain',
    id: 'drain',
    node: o.nodeName!,
    reason,
    comingBack: extra.comingBack ?? false,
    mode: c.evictionMode,
    after: ['cordon'],
    why: extra.why,
    ...(extra.deadline ? { deadline: extra.deadline } : {}),
  };
}

export const annotationsOf = (o: Observed) => o.node?.metadata?.annotations ?? {};

/** spotguard's cordon on the node: its reason and when it was set. */
export function ourCordon(o: Observed): { reason?: string; at?: string } | undefined {
  const a = annotationsOf(o);
  if (a[ANNOTATION_CORDONED_BY] !== 'spotguard') return undefined;
  return { reason: a[ANNOTATION_CORDON_REASON], at: a[ANNOTATION_CORDONED_AT] };
}

/** A desired+1 recorded on the node and not given back yet (a crash left it): `increment:<group>`. */
export function owedIncrement(o: Observed): string | undefined {
  const v = annotationsOf(o)[REPLACEMENT_ANNOTATION];
  return v?.startsWith('increment:') ? v.slice('increment:'.length) : undefined;
}

export function refOf(ev: LifecycleActionFields): LifecycleActionRef {
  return {
    autoScalingGroupName: ev.autoScalingGroupName,
    lifecycleHookName: ev.lifecycleHookName,
    lifecycleActionToken: ev.lifecycleActionToken,
    instanceId: ev.instanceId,
  };
}
