// Auto Scaling lifecycle hooks. Terminate: drain, heartbeat while it runs, then CompleteLifecycleAction
// CONTINUE — always, because a hook left hanging blocks the group for up to 48 h and the instance is
// leaving anyway. Launch: CONTINUE once the node is Ready, ABANDON when the hook's time runs out.
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import {
  completeLifecycleAction,
  heartbeatTimeoutSeconds,
  type LifecycleActionRef,
  recordHeartbeat,
} from '../aws/autoscaling.ts';
import { drainNode } from '../drain/index.ts';
import type { LifecycleLaunchEvent, LifecycleTerminateEvent } from '../events/types.ts';
import { metricNames } from '../observability.ts';
import { drainOptions } from './drain-options.ts';
import { drainSummary } from './interruption.ts';
import { resolveTarget } from './target.ts';
import { type ActionDeps, type HandleReport, type LifecycleOutcome, report } from './types.ts';

/** Used when the hook cannot be described (AWS's own default heartbeat timeout is 3600 s). */
const DEFAULT_HEARTBEAT_TIMEOUT_S = 3600;
const LAUNCH_POLL_MS = 2000;

function refOf(ev: LifecycleTerminateEvent | LifecycleLaunchEvent): LifecycleActionRef {
  return {
    autoScalingGroupName: ev.autoScalingGroupName,
    lifecycleHookName: ev.lifecycleHookName,
    lifecycleActionToken: ev.lifecycleActionToken,
    instanceId: ev.instanceId,
  };
}

/** Heartbeats at half the hook's heartbeat timeout while long work runs. */
function startHeartbeats(d: ActionDeps, ref: LifecycleActionRef, timeoutSeconds: number) {
  let count = 0;
  const beat = async () => {
    try {
      await recordHeartbeat(d.aws.autoScaling, ref);
      count++;
    } catch (err) {
      d.logger.warn('lifecycle heartbeat failed', { error: String(err), instanceId: ref.instanceId });
    }
  };
  // AWS's minimum heartbeat timeout is 30 s, so this is every 15 s or more in practice.
  const timer = d.dryRun ? undefined : setInterval(beat, Math.max(1, timeoutSeconds / 2) * 1000);
  timer?.unref();
  return { stop: () => clearInterval(timer), beat, count: () => count };
}

/** Complete the action; an action that is already gone (completed by a joined drain, timed out) is fine. */
async function complete(
  d: ActionDeps,
  ref: LifecycleActionRef,
  result: 'CONTINUE' | 'ABANDON',
  outcome: LifecycleOutcome,
) {
  outcome.result = result;
  if (d.dryRun) return;
  try {
    await completeLifecycleAction(d.aws.autoScaling, ref, result);
    outcome.completed = true;
    d.metrics.addMetric(metricNames.lifecycleActionsCompleted, 'Count', 1);
  } catch (err) {
    if (/No active Lifecycle Action found/i.test(String(err))) {
      outcome.completed = true;
      outcome.why += ' (the action was no longer active: already completed or timed out)';
      return;
    }
    d.metrics.addMetric(metricNames.lifecycleCompleteFailed, 'Count', 1);
    outcome.error = String(err);
    throw err; // retried by SQS: the drain is a no-op the second time, the completion is not
  }
}

/** Sends the event back to the lifecycle queue so the next invocation carries on. */
async function requeue(
  ev: LifecycleTerminateEvent | LifecycleLaunchEvent,
  d: ActionDeps,
  delaySeconds: number,
) {
  if (!d.config.requeueQueueUrl) return false;
  const attempt = (ev.attempt ?? 0) + 1;
  const { recordId: _r, envelopes: _e, ...event } = ev;
  await d.aws.sqs.send(
    new SendMessageCommand({
      QueueUrl: d.config.requeueQueueUrl,
      DelaySeconds: Math.min(900, Math.max(0, Math.round(delaySeconds))),
      MessageBody: JSON.stringify({ spotguard: 'continuation', attempt, event }),
    }),
  );
  return true;
}

export async function onLifecycleTerminate(
  ev: LifecycleTerminateEvent,
  d: ActionDeps,
): Promise<HandleReport> {
  const ref = refOf(ev);
  const lifecycle: LifecycleOutcome = { result: 'CONTINUE', completed: false, why: '', heartbeats: 0 };
  const base = { kind: ev.kind, dedupKey: ev.dedupKey, instanceId: ev.instanceId };
  let result: HandleReport;
  let heartbeats: ReturnType<typeof startHeartbeats> | undefined;
  try {
    const target = await resolveTarget(ev, ev.instanceId, d);
    if (!target.ok && target.report.outcome === 'ignored') return target.report; // not ours: not our hook
    if (!target.ok) {
      lifecycle.why = 'no node for this instance in the cluster';
      result = target.report;
    } else {
      const timeout =
        (await heartbeatTimeoutSeconds(
          d.aws.autoScaling,
          ev.autoScalingGroupName,
          ev.lifecycleHookName,
        ).catch(() => undefined)) ?? DEFAULT_HEARTBEAT_TIMEOUT_S;
      heartbeats = startHeartbeats(d, ref, timeout);
      const drain = await drainNode(
        d.k8s,
        target.nodeName,
        drainOptions(d, { reason: 'asg-termination', knownNode: target.node }),
      );
      const outOfTime = !drain.complete && d.timeLeftMs() < 1000;
      const withinDrainTimeout = d.now().getTime() - Date.parse(ev.time) < d.config.drainTimeoutMs;
      if (outOfTime && withinDrainTimeout && !d.dryRun && (await requeue(ev, d, 0))) {
        await heartbeats.beat();
        return {
          ...report(
            { ...base, nodeName: target.nodeName },
            'continued',
            `${target.nodeName}: drain continues in the next invocation`,
          ),
          actions: [drainSummary(drain), 're-queued; lifecycle action kept alive by heartbeats'],
          drain,
        };
      }
      lifecycle.why = drain.complete ? 'drained' : 'drain incomplete; the instance is leaving anyway';
      result = {
        ...report(
          { ...base, nodeName: target.nodeName },
          'handled',
          `${target.nodeName}: ${drainSummary(drain)}`,
        ),
        actions: [drainSummary(drain)],
        drain,
      };
    }
  } catch (err) {
    d.logger.error('terminate hook: drain failed; completing the lifecycle action anyway', {
      error: String(err),
    });
    lifecycle.why = `drain failed: ${String(err)}`;
    result = { ...report(base, 'failed', `drain failed: ${String(err)}`), error: String(err) };
  } finally {
    heartbeats?.stop();
    lifecycle.heartbeats = heartbeats?.count() ?? 0;
  }
  await complete(d, ref, 'CONTINUE', lifecycle);
  result.lifecycle = lifecycle;
  result.actions.push(
    `lifecycle action ${lifecycle.completed ? 'completed' : 'would complete'}: CONTINUE (${lifecycle.why})`,
  );
  return result;
}

export async function onLifecycleLaunch(ev: LifecycleLaunchEvent, d: ActionDeps): Promise<HandleReport> {
  const ref = refOf(ev);
  const lifecycle: LifecycleOutcome = { result: 'CONTINUE', completed: false, why: '', heartbeats: 0 };
  const base = { kind: ev.kind, dedupKey: ev.dedupKey, instanceId: ev.instanceId };
  const timeout =
    (await heartbeatTimeoutSeconds(d.aws.autoScaling, ev.autoScalingGroupName, ev.lifecycleHookName).catch(
      () => undefined,
    )) ?? DEFAULT_HEARTBEAT_TIMEOUT_S;
  // Leave a few seconds so ABANDON reaches AWS before the hook's own default result would.
  const hookDeadline = Date.parse(ev.time) + timeout * 1000 - 5000;
  for (;;) {
    // refresh: a cached "not joined yet" must not stick (one node GET per poll).
    const resolution = await d.resolver.resolve(ev.instanceId, { refresh: true });
    const ready =
      resolution.status === 'found' &&
      (resolution.node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
    if (ready) {
      lifecycle.why = `node ${resolution.nodeName} joined and is Ready`;
      await complete(d, ref, 'CONTINUE', lifecycle);
      return {
        ...report({ ...base, nodeName: resolution.nodeName }, 'handled', lifecycle.why),
        actions: [`lifecycle action completed: CONTINUE (${lifecycle.why})`],
        lifecycle,
      };
    }
    const now = d.now().getTime();
    if (now >= hookDeadline) {
      lifecycle.why = `no Ready node for ${ev.instanceId} within the hook's ${timeout} s`;
      await complete(d, ref, 'ABANDON', lifecycle);
      return {
        ...report(base, 'handled', lifecycle.why),
        actions: [`lifecycle action completed: ABANDON (${lifecycle.why})`],
        lifecycle,
      };
    }
    if (d.timeLeftMs() < LAUNCH_POLL_MS + 1000) {
      if (!d.dryRun && (await requeue(ev, d, 10))) {
        await recordHeartbeat(d.aws.autoScaling, ref).catch(() => undefined);
        return {
          ...report(base, 'continued', `${ev.instanceId}: still waiting for the node; re-queued`),
          lifecycle,
        };
      }
      lifecycle.why = 'out of time and no re-queue configured: left to the hook default result';
      return { ...report(base, 'failed', lifecycle.why), lifecycle };
    }
    await new Promise((r) => setTimeout(r, LAUNCH_POLL_MS));
  }
}
