// On-call's hand tools, by node name or instance id: the same drain the events use.
import { drainNode, nodeDrainStatus, uncordonNode } from '../drain/index.ts';
import type { ManualEvent } from '../events/types.ts';
import { annotateNode } from '../k8s/annotate.ts';
import { drainOptions } from './drain-options.ts';

export const MANUAL_REASON_ANNOTATION = 'spotguard.io/manual-reason';

import { drainSummary } from '../plans/runners/node.ts';
import { type ActionDeps, type HandleReport, report } from './types.ts';

export async function onManual(ev: ManualEvent, d: ActionDeps): Promise<HandleReport> {
  const base = { kind: ev.kind, dedupKey: ev.dedupKey, instanceId: ev.instanceId };
  let nodeName = ev.nodeName;
  if (!nodeName && ev.instanceId) {
    const resolution = await d.resolver.resolve(ev.instanceId);
    if (resolution.status !== 'found')
      return report(base, 'not-found', `${ev.instanceId}: ${resolution.reason}`);
    nodeName = resolution.nodeName;
  }
  if (!nodeName) return report(base, 'failed', 'manual request names no node and no instance');
  const who = ev.requestedBy ? ` by ${ev.requestedBy}` : '';

  if (ev.action === 'status') {
    const status = await nodeDrainStatus(d.k8s, nodeName);
    return {
      ...report(
        { ...base, nodeName },
        'handled',
        `${nodeName}: ${status.exists ? describeStatus(status) : 'no such node'}`,
      ),
      status,
    };
  }
  if (ev.action === 'uncordon') {
    const uncordon = await uncordonNode(d.k8s, nodeName, {
      onlyIfCordonedBy: ev.force ? 'anyone' : 'spotguard',
      reason: ev.reason ?? `manual uncordon${who}`,
    });
    return {
      ...report({ ...base, nodeName }, 'handled', `${nodeName}: ${uncordon.detail}`),
      uncordon,
      actions: [uncordon.detail],
    };
  }
  // The taint says "manual"; the operator's words go on the node too, for whoever looks next.
  if (!d.dryRun && !ev.dryRun) {
    await annotateNode(d.k8s, nodeName, {
      [MANUAL_REASON_ANNOTATION]: `${ev.reason ?? 'manual drain'}${who}`,
    });
  }
  const drain = await drainNode(
    d.k8s,
    nodeName,
    drainOptions(
      { ...d, dryRun: d.dryRun || ev.dryRun },
      {
        reason: 'manual',
        force: ev.force,
        deleteEmptyDirData: ev.deleteEmptyDirData,
        ...(ev.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: ev.gracePeriodSeconds } : {}),
        ...(ev.timeoutSeconds !== undefined ? { timeoutMs: ev.timeoutSeconds * 1000 } : {}),
      },
    ),
  );
  return {
    ...report(
      { ...base, nodeName },
      drain.complete || drain.dryRun ? 'handled' : 'failed',
      `${nodeName}: ${drainSummary(drain)}`,
    ),
    actions: [drainSummary(drain)],
    drain,
  };
}

function describeStatus(s: Awaited<ReturnType<typeof nodeDrainStatus>>): string {
  const cordon = s.unschedulable ? `cordoned${s.cordonedBy ? ` by ${s.cordonedBy}` : ''}` : 'schedulable';
  return `${cordon}, ${s.podsToEvict} pod(s) a drain would evict, ${s.podsSkipped} skipped`;
}
