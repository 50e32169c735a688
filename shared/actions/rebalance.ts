// Rebalance recommendations: the instance is at elevated risk, not yet going. Policy per node group:
// cordon (default), drain, or replace-then-drain (make-before-break).
import { describeGroup, type GroupInfo, setDesiredCapacity, terminateInGroup } from '../aws/autoscaling.ts';
import { groupTags, type RebalancePolicy, rebalancePolicies } from '../config.ts';
import { cordonNode, drainNode } from '../drain/index.ts';
import type { RebalanceRecommendationEvent } from '../events/types.ts';
import { drainOptions } from './drain-options.ts';
import { drainSummary } from './interruption.ts';
import { resolveTarget } from './target.ts';
import { type ActionDeps, type HandleReport, report } from './types.ts';

const REASON = 'rebalance-recommendation';
const REPLACEMENT_POLL_MS = 2000;

export function rebalancePolicyFor(
  group: GroupInfo | undefined,
  fallback: RebalancePolicy,
): {
  policy: RebalancePolicy;
  note?: string;
} {
  const tagged = group?.tags[groupTags.rebalancePolicy];
  const policy = (rebalancePolicies as readonly string[]).includes(tagged ?? '')
    ? (tagged as RebalancePolicy)
    : fallback;
  if (policy === 'replace-then-drain' && group?.capacityRebalance) {
    // The group already launches a replacement and then terminates through the terminate hook.
    return {
      policy: 'cordon',
      note: `${group.name} has Capacity Rebalancing: the group does make-before-break`,
    };
  }
  return { policy };
}

export async function onRebalanceRecommendation(
  ev: RebalanceRecommendationEvent,
  d: ActionDeps,
): Promise<HandleReport> {
  const target = await resolveTarget(ev, ev.instanceId, d);
  if (!target.ok) return target.report;
  const { nodeName, node, instance } = target;
  const base = { kind: ev.kind, dedupKey: ev.dedupKey, instanceId: ev.instanceId, nodeName };
  const group = instance?.autoScalingGroupName
    ? await describeGroup(d.aws.autoScaling, instance.autoScalingGroupName)
    : undefined;
  const { policy, note } = rebalancePolicyFor(group, d.config.rebalancePolicy);
  const actions = note ? [note] : [];

  if (policy === 'cordon') {
    if (!d.dryRun) {
      await cordonNode(d.k8s, nodeName, {
        reason: REASON,
        knownNode: node,
        holder: d.holder,
        taintEffect: d.config.taintEffect,
        excludeFromLoadBalancers: d.config.excludeFromLoadBalancers,
      });
    }
    actions.push(
      `policy cordon: ${d.dryRun ? 'would cordon' : 'cordoned and tainted'} spotguard.io/${REASON}`,
    );
    return { ...report(base, 'handled', `${nodeName}: cordoned (rebalance recommendation)`), actions };
  }

  if (policy === 'replace-then-drain' && group && !d.dryRun) {
    const ready = await launchReplacementAndWait(d, group, nodeName);
    actions.push(ready.detail);
    if (!ready.ok) {
      await cordonNode(d.k8s, nodeName, {
        reason: REASON,
        holder: d.holder,
        taintEffect: d.config.taintEffect,
      });
      actions.push('cordoned; the drain waits for the interruption or the group');
      return { ...report(base, 'handled', `${nodeName}: cordoned, replacement not Ready in time`), actions };
    }
  }
  // After a replacement wait the node read at the start is stale: let the drain read it again.
  const knownNode = policy === 'drain' ? node : undefined;
  const drain = await drainNode(d.k8s, nodeName, drainOptions(d, { reason: REASON, knownNode }));
  actions.push(`policy ${policy}: ${drainSummary(drain)}`);
  if (policy === 'replace-then-drain' && group && drain.complete && !d.dryRun) {
    await terminateInGroup(d.aws.autoScaling, ev.instanceId, true);
    actions.push('terminated the old instance through the group (desired capacity lowered back)');
  }
  return { ...report(base, 'handled', `${nodeName}: ${drainSummary(drain)}`), actions, drain };
}

/** Make-before-break: raise desired by one and wait for a new Ready node from the group. */
async function launchReplacementAndWait(d: ActionDeps, group: GroupInfo, exclude: string) {
  if (group.desiredCapacity >= group.maxSize) {
    return { ok: false, detail: `no replacement: ${group.name} is at max size (${group.maxSize})` };
  }
  const before = new Set(group.instances.map((i) => i.instanceId));
  await setDesiredCapacity(d.aws.autoScaling, group.name, group.desiredCapacity + 1);
  while (d.timeLeftMs() > REPLACEMENT_POLL_MS + 30_000) {
    await new Promise((r) => setTimeout(r, REPLACEMENT_POLL_MS));
    const now = await describeGroup(d.aws.autoScaling, group.name);
    const fresh = (now?.instances ?? []).filter(
      (i) => !before.has(i.instanceId) && i.lifecycleState === 'InService',
    );
    for (const instance of fresh) {
      const node = await d.resolver.resolve(instance.instanceId, { refresh: true });
      if (
        node.status === 'found' &&
        node.nodeName !== exclude &&
        (node.node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
      ) {
        return {
          ok: true,
          detail: `replacement ${instance.instanceId} (${node.nodeName}) Ready in ${group.name}`,
        };
      }
    }
  }
  return { ok: false, detail: `replacement in ${group.name} not Ready within this invocation` };
}
