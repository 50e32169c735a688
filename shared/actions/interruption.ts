// Spot interruption warnings, AWS Health scheduled changes and EC2 state changes: the node is going
// away (or stopping), so close it and move its pods before the deadline.
import { terminateInGroup } from '../aws/autoscaling.ts';
import { type CapacityResult, replaceCapacity } from '../capacity/executor.ts';
import { zoneOfNode } from '../capacity/zonal.ts';
import { drainNode, uncordonNode } from '../drain/index.ts';
import { ANNOTATION_COMING_BACK, ANNOTATION_CORDON_REASON } from '../drain/options.ts';
import type { DrainReport } from '../drain/types.ts';
import type { ScheduledChangeEvent, SpotInterruptionEvent, StateChangeEvent } from '../events/types.ts';
import { metricNames, recordSpotInterruption } from '../observability.ts';
import { drainOptions } from './drain-options.ts';
import { resolveTarget } from './target.ts';
import { type ActionDeps, type HandleReport, report } from './types.ts';

export function drainSummary(drain: DrainReport): string {
  const evicted = drain.pods.filter((p) => p.outcome === 'evicted').length;
  const blocked = drain.pods.filter((p) => p.outcome === 'blocked-by-pdb').length;
  const state = drain.dryRun ? 'planned (dry run)' : drain.complete ? 'drained' : 'drain incomplete';
  const joined = drain.joinedExistingDrain ? ', joined the drain already running' : '';
  return `${state}: ${evicted} evicted, ${blocked} blocked by PDB, ${drain.plan.skipped.length} skipped${joined}`;
}

export async function onSpotInterruption(ev: SpotInterruptionEvent, d: ActionDeps): Promise<HandleReport> {
  const target = await resolveTarget(ev, ev.instanceId, d);
  if (!target.ok) return target.report;
  const { nodeName, node, instance } = target;
  const comingBack = ev.instanceAction !== 'terminate';
  if (instance) {
    // The spot pool (type + AZ) as its own dimensions, so interruption-prone pools show up.
    const pool = d.metrics.singleMetric();
    pool.addDimension('InstanceType', instance.instanceType);
    pool.addDimension('AvailabilityZone', instance.availabilityZone);
    pool.addMetric(metricNames.interruptedSpotPool, 'Count', 1);
    if (instance.autoScalingGroupName)
      recordSpotInterruption(d.metrics, instance.autoScalingGroupName, instance.availabilityZone);
  }

  // The drain cordons first thing; capacity is asked for at the same time, not after.
  const drainPromise = drainNode(
    d.k8s,
    nodeName,
    drainOptions(d, {
      reason: 'spot-interruption',
      deadline: new Date(ev.deadline),
      comingBack,
      knownNode: node,
    }),
  );
  const capacityPromise: Promise<CapacityResult | { error: string } | undefined> =
    comingBack || !instance
      ? Promise.resolve(undefined)
      : replaceCapacity(
          instance,
          { name: nodeName, zone: zoneOfNode(node), annotations: node.metadata?.annotations },
          d,
        ).catch((err: unknown) => {
          d.logger.error('replacement capacity failed; the drain goes on', { error: String(err) });
          return { error: String(err) };
        });
  const [drain, capacity] = await Promise.all([drainPromise, capacityPromise]);

  const actions = [`cordoned and tainted spotguard.io/spot-interruption`, drainSummary(drain)];
  if (capacity && 'error' in capacity) actions.push(`replacement failed: ${capacity.error}`);
  else if (capacity) actions.push(...capacity.actions);
  if (comingBack)
    actions.push(`instance-action ${ev.instanceAction}: node marked to be uncordoned when running again`);
  if (
    capacity &&
    !('error' in capacity) &&
    capacity.replacement.action === 'increment' &&
    drain.complete &&
    !d.dryRun
  ) {
    // Increment mode raised desired by one; terminating the drained instance with a decrement puts it back.
    await terminateInGroup(d.aws.autoScaling, ev.instanceId, true);
    actions.push('terminated the drained instance with ShouldDecrementDesiredCapacity=true');
  }
  return {
    ...report({ kind: ev.kind, dedupKey: ev.dedupKey, instanceId: ev.instanceId, nodeName }, 'handled', ''),
    summary: `${nodeName}: ${drainSummary(drain)}`,
    actions,
    drain,
    ...(capacity && !('error' in capacity)
      ? { replacement: capacity.replacement, zonal: capacity.zonal }
      : {}),
  };
}

export async function onScheduledChange(ev: ScheduledChangeEvent, d: ActionDeps): Promise<HandleReport> {
  const target = await resolveTarget(ev, ev.instanceId, d);
  if (!target.ok) return target.report;
  // Started ahead of the window, at once: the window's start is the deadline.
  const deadline = ev.startTime ? new Date(ev.startTime) : undefined;
  const drain = await drainNode(
    d.k8s,
    target.nodeName,
    drainOptions(d, {
      reason: 'scheduled-change',
      knownNode: target.node,
      ...(deadline && deadline > d.now() ? { deadline } : {}),
    }),
  );
  return {
    ...report(
      { kind: ev.kind, dedupKey: ev.dedupKey, instanceId: ev.instanceId, nodeName: target.nodeName },
      'handled',
      `${target.nodeName}: ${drainSummary(drain)} ahead of ${ev.eventTypeCode}`,
    ),
    actions: [`cordoned and tainted spotguard.io/scheduled-change`, drainSummary(drain)],
    drain,
  };
}

export async function onStateChange(ev: StateChangeEvent, d: ActionDeps): Promise<HandleReport> {
  const base = { kind: ev.kind, dedupKey: ev.dedupKey, instanceId: ev.instanceId };
  if (ev.state === 'pending' || ev.state === 'stopped') {
    return report(base, 'ignored', `state ${ev.state}: nothing to do`);
  }
  const target = await resolveTarget(ev, ev.instanceId, d);
  if (!target.ok) {
    // An instance runs before its node joins and terminates after its node is gone: nothing to do.
    return target.report.outcome === 'not-found'
      ? report(base, 'ignored', `state ${ev.state}: ${ev.instanceId} has no node (not joined yet, or gone)`)
      : target.report;
  }
  const { nodeName, node } = target;
  if (ev.state === 'running') {
    // Only a node spotguard cordoned for a stop/hibernate comes back into service here.
    if (node.metadata?.annotations?.[ANNOTATION_COMING_BACK] !== 'true') {
      return report(
        { ...base, nodeName },
        'ignored',
        `${nodeName} is running; it was not cordoned by spotguard for a stop`,
      );
    }
    const uncordon = d.dryRun
      ? undefined
      : await uncordonNode(d.k8s, nodeName, { onlyIfCordonedBy: 'spotguard' });
    return {
      ...report(
        { ...base, nodeName },
        'handled',
        `${nodeName}: ${uncordon?.detail ?? 'would uncordon (dry run)'}`,
      ),
      actions: [uncordon?.detail ?? 'would uncordon (dry run)'],
      ...(uncordon ? { uncordon } : {}),
    };
  }
  // stopping / shutting-down / terminated: stopped or terminated outside the spot path (console, API).
  // A node spotguard already cordoned keeps that reason: the drain joins or finishes the earlier one
  // instead of stacking a second taint.
  const reason = node.metadata?.annotations?.[ANNOTATION_CORDON_REASON] ?? `instance-${ev.state}`;
  const drain = await drainNode(d.k8s, nodeName, drainOptions(d, { reason, knownNode: node }));
  return {
    ...report({ ...base, nodeName }, 'handled', `${nodeName}: ${drainSummary(drain)}`),
    actions: [`cordoned and tainted spotguard.io/${reason}`, drainSummary(drain)],
    drain,
  };
}
