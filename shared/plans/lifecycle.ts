// Auto Scaling lifecycle hooks. Terminate: drain, heartbeat while it runs, re-queue when it outlasts
// the invocation, then CompleteLifecycleAction CONTINUE (the instance leaves anyway). Launch: wait
// for the node to be Ready → CONTINUE, or ABANDON a few seconds before the hook's own timeout.
// Only this cluster's hooks are ever completed (another cluster's spotguard owns the others).
import type { LifecycleLaunchEvent, LifecycleTerminateEvent } from '../events/types.ts';
import type { Observed } from '../observe.ts';
import { cordonStep, drainStep, gate, type NodePlan, nothing, type PlanConfig, refOf } from './common.ts';
import type { NodeStep } from './node-steps.ts';

/**
 * When the hook cannot be described, heartbeats assume AWS's minimum heartbeat timeout (30 s):
 * a heartbeat too many costs one call, one too few loses the hook.
 */
export const FALLBACK_HEARTBEAT_TIMEOUT_S = 30;
/** ABANDON this long before the hook's own timeout, so it reaches AWS first. */
export const ABANDON_LEAD_MS = 5000;

export function planLifecycleTerminate(ev: LifecycleTerminateEvent, o: Observed, c: PlanConfig): NodePlan {
  const trigger = 'lifecycle-terminate';
  const ref = refOf(ev);
  const target = o.nodeName ? `node/${o.nodeName}` : `instance/${ev.instanceId}`;
  if (o.ownership.verdict === 'foreign')
    return nothing(target, trigger, 'foreign', `${ev.instanceId}: ${o.ownership.why}: its hook is not ours`);
  const ours = o.ownership.verdict === 'ours';
  if (!o.node && o.resolveError && ours) {
    // Whether pods still run there is unknown, but a hook left hanging blocks the group and the
    // instance leaves anyway: complete it, and fail the event so the reason reaches the DLQ.
    const because = `${ev.instanceId}: ${o.noNodeBecause}`;
    return {
      target,
      trigger,
      outcome: 'failed',
      error: because,
      steps: [
        {
          kind: 'complete-hook',
          id: 'complete-hook',
          ref,
          result: 'CONTINUE',
          why: `${because}: nothing can be drained; completed so the group is not blocked`,
        },
      ],
    };
  }
  if (!o.node) {
    if (!ours) return gate(o, trigger, { needNode: true, mutatesAws: true })!;
    return {
      target,
      trigger,
      outcome: 'not-found',
      steps: [
        {
          kind: 'complete-hook',
          id: 'complete-hook',
          ref,
          result: 'CONTINUE',
          why: `no node for this instance in the cluster (${o.noNodeBecause}): nothing to drain`,
        },
      ],
    };
  }
  const steps: NodeStep[] = [
    cordonStep(o, 'asg-termination', false, 'the group is terminating this instance'),
    drainStep(o, c, 'asg-termination', { why: 'move pods before the group terminates the instance' }),
  ];
  if (!ours) {
    // Ours by providerID only (EC2 and the group could not be read): drain, leave the hook alone.
    steps[1]!.why += `; hook left to its timeout: ${o.ownership.why}`;
    return { target, trigger, steps };
  }
  steps.push({
    kind: 'heartbeat',
    id: 'heartbeat',
    ref,
    whileRunning: 'drain',
    why: 'keep the lifecycle action alive while the drain runs',
  });
  const started = Date.parse(ev.time);
  if (c.requeueQueueUrl && o.now.getTime() - started < c.drainTimeoutMs) {
    steps.push({
      kind: 'requeue',
      id: 'requeue',
      event: ev,
      ifUnfinished: 'drain',
      delaySeconds: 0,
      startedAt: ev.time,
      ref,
      after: ['drain'],
      why: 'a drain that outlasts this invocation goes on in the next one',
    });
  }
  steps.push({
    kind: 'complete-hook',
    id: 'complete-hook',
    ref,
    result: 'CONTINUE',
    after: steps.some((s) => s.id === 'requeue') ? ['drain', 'requeue'] : ['drain'],
    ...(steps.some((s) => s.id === 'requeue') ? { unlessRequeued: 'requeue' } : {}),
    why: 'always completed: a hanging hook blocks the group, and the instance leaves anyway',
  });
  return { target, trigger, steps };
}

export function planLifecycleLaunch(ev: LifecycleLaunchEvent, o: Observed, c: PlanConfig): NodePlan {
  const trigger = 'lifecycle-launch';
  // A launching instance has no node yet: that is normal, not foreign. Its tags (or its group's) decide.
  const stop = gate(o, trigger, { needNode: false, mutatesAws: true });
  if (stop) return { ...stop, nothingBecause: `${stop.nothingBecause}: the launch hook is not ours` };
  const timeout = o.hookTimeoutSeconds ?? FALLBACK_HEARTBEAT_TIMEOUT_S;
  const until = new Date(Date.parse(ev.time) + timeout * 1000 - ABANDON_LEAD_MS).toISOString();
  const steps: NodeStep[] = [
    {
      kind: 'await-node-ready',
      id: 'await-ready',
      instanceId: ev.instanceId,
      until,
      why: `CONTINUE once the node is Ready; ABANDON at ${until}, before the hook's ${timeout} s`,
    },
  ];
  if (c.requeueQueueUrl) {
    steps.push({
      kind: 'requeue',
      id: 'requeue',
      event: ev,
      ifUnfinished: 'await-ready',
      delaySeconds: 10,
      startedAt: ev.time,
      after: ['await-ready'],
      why: 'a wait that outlasts this invocation goes on in the next one',
    });
  }
  steps.push({
    kind: 'complete-hook',
    id: 'complete-hook',
    ref: refOf(ev),
    result: { fromReady: 'await-ready' },
    after: steps.map((s) => s.id),
    ...(c.requeueQueueUrl ? { unlessRequeued: 'requeue' } : {}),
    why: 'the launch goes on only with a Ready node',
  });
  return { target: `instance/${ev.instanceId}`, trigger, steps };
}
