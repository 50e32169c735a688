// Runners for lifecycle hooks and re-queued work: heartbeat, complete, wait for a launching node.
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { completeLifecycleAction, recordHeartbeat } from '../../aws/autoscaling.ts';
import { metricNames } from '../../observability.ts';
import { sleepUntil } from '../../time.ts';
import type { StepRunner } from '../execute.ts';
import { FALLBACK_HEARTBEAT_TIMEOUT_S } from '../lifecycle.ts';
import type { AwaitNodeReadyStep, CompleteHookStep, HeartbeatStep, RequeueStep } from '../node-steps.ts';
import type { NodeContext } from './context.ts';

const LAUNCH_POLL_MS = 2000;

export type ReadyResult = 'ready' | 'timed-out' | 'out-of-time';

export const runHeartbeat: StepRunner<HeartbeatStep, NodeContext> = async (step, ctx, _done, until) => {
  const timeout = ctx.observed.hookTimeoutSeconds ?? FALLBACK_HEARTBEAT_TIMEOUT_S;
  let count = 0;
  let timedOut = false;
  const timer = setInterval(
    () => {
      recordHeartbeat(ctx.deps.aws.autoScaling, step.ref).then(
        () => count++,
        (err: unknown) => {
          ctx.deps.logger.warn('lifecycle heartbeat failed', { error: String(err) });
          // The action ended while our drain still runs, before spotguard completed it: it timed out
          // (AWS applied the hook's default result). What the LifecycleHookTimedOut alarm watches.
          if (!timedOut && /No active Lifecycle Action found/i.test(String(err))) {
            timedOut = true;
            ctx.deps.metrics.addMetric(metricNames.lifecycleHookTimedOut, 'Count', 1);
          }
        },
      );
    },
    Math.max(1, timeout / 2) * 1000,
  );
  timer.unref();
  try {
    await until(step.whileRunning);
  } finally {
    clearInterval(timer);
  }
  return {
    status: 'done',
    detail: `${count} heartbeat(s) while ${step.whileRunning} ran${timedOut ? '; the lifecycle action timed out meanwhile' : ''}`,
    data: { count, timedOut },
  };
};

function unfinished(data: unknown): boolean {
  const d = data as { outOfTime?: boolean; result?: ReadyResult } | undefined;
  return d?.outOfTime === true || d?.result === 'out-of-time';
}

export const runRequeue: StepRunner<RequeueStep, NodeContext> = async (step, ctx, done) => {
  const { config, aws } = ctx.deps;
  if (!unfinished(done.get(step.ifUnfinished)?.data))
    return { status: 'skipped', detail: `${step.ifUnfinished} finished in this invocation` };
  if (!config.requeueQueueUrl) return { status: 'skipped', detail: 'no re-queue configured' };
  const ev = step.event;
  const { recordId: _r, envelopes: _e, ...event } = ev;
  await aws.sqs.send(
    new SendMessageCommand({
      QueueUrl: config.requeueQueueUrl,
      DelaySeconds: Math.min(900, Math.max(0, Math.round(step.delaySeconds))),
      MessageBody: JSON.stringify({ spotguard: 'continuation', attempt: (ev.attempt ?? 0) + 1, event }),
    }),
  );
  if (step.ref) await recordHeartbeat(aws.autoScaling, step.ref).catch(() => undefined);
  return { status: 'done', detail: 're-queued; lifecycle action kept alive by heartbeats' };
};

export const runCompleteHook: StepRunner<CompleteHookStep, NodeContext> = async (step, ctx, done) => {
  if (step.unlessRequeued && done.get(step.unlessRequeued)?.status === 'done')
    return { status: 'skipped', detail: 'the next invocation completes the lifecycle action' };
  let result: 'CONTINUE' | 'ABANDON';
  if (typeof step.result === 'string') result = step.result;
  else {
    const ready = (done.get(step.result.fromReady)?.data as { result?: ReadyResult } | undefined)?.result;
    if (ready === 'out-of-time' || ready === undefined)
      return {
        status: 'failed',
        detail: 'out of time and no re-queue configured: left to the hook default result',
      };
    result = ready === 'ready' ? 'CONTINUE' : 'ABANDON';
  }
  try {
    await completeLifecycleAction(ctx.deps.aws.autoScaling, step.ref, result);
    ctx.deps.metrics.addMetric(metricNames.lifecycleActionsCompleted, 'Count', 1);
    return {
      status: 'done',
      detail: `lifecycle action completed: ${result}`,
      data: { result, completed: true },
    };
  } catch (err) {
    if (/No active Lifecycle Action found/i.test(String(err))) {
      return {
        status: 'done',
        detail: `lifecycle action completed: ${result} (it was no longer active: already completed or timed out)`,
        data: { result, completed: true },
      };
    }
    ctx.deps.metrics.addMetric(metricNames.lifecycleCompleteFailed, 'Count', 1);
    return {
      status: 'failed',
      detail: `CompleteLifecycleAction failed: ${String(err)}`,
      data: { result, retry: true },
    };
  }
};

export const runAwaitNodeReady: StepRunner<AwaitNodeReadyStep, NodeContext> = async (step, ctx) => {
  const d = ctx.deps;
  const until = Date.parse(step.until);
  for (;;) {
    // refresh: a cached "not joined yet" must not stick (one node GET per poll).
    const found = await d.resolver.resolve(step.instanceId, { refresh: true });
    if (
      found.status === 'found' &&
      (found.node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
    ) {
      return {
        status: 'done',
        detail: `node ${found.nodeName} joined and is Ready`,
        data: { result: 'ready', nodeName: found.nodeName },
      };
    }
    if (d.now().getTime() >= until)
      return {
        status: 'done',
        detail: `no Ready node for ${step.instanceId} by ${step.until}`,
        data: { result: 'timed-out' },
      };
    if (d.timeLeftMs() < LAUNCH_POLL_MS + 1000)
      return {
        status: 'failed',
        detail: `${step.instanceId}: still waiting for the node`,
        data: { result: 'out-of-time' },
      };
    await sleepUntil(new Date(Math.min(until, d.now().getTime() + LAUNCH_POLL_MS)));
  }
};
