// Rebalance recommendation: the instance is at elevated risk, not yet going. Policy per group (tag)
// or config: cordon (expires), drain, or replace-then-drain (make-before-break: desired+1 first,
// given back on every exit path — the old instance terminated with decrement once drained).
import type { GroupInfo } from '../aws/autoscaling.ts';
import { groupTags, type RebalancePolicy, rebalancePolicies } from '../config.ts';
import type { RebalanceRecommendationEvent } from '../events/types.ts';
import type { Observed } from '../observe.ts';
import { cordonStep, drainStep, gate, type NodePlan, type PlanConfig } from './common.ts';
import type { NodeStep } from './node-steps.ts';

const REASON = 'rebalance-recommendation';
export const ANNOTATION_CORDON_EXPIRES_AT = 'spotguard.io/cordon-expires-at';

export function rebalancePolicyFor(
  group: GroupInfo | undefined,
  fallback: RebalancePolicy,
): { policy: RebalancePolicy; note?: string } {
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

export function planRebalance(ev: RebalanceRecommendationEvent, o: Observed, c: PlanConfig): NodePlan {
  const stop = gate(o, REASON, { needNode: true, mutatesAws: false });
  if (stop) return stop;
  const node = o.nodeName!;
  const chosen = rebalancePolicyFor(o.group, c.rebalancePolicy);
  const notes = chosen.note ? [chosen.note] : [];
  let policy = chosen.policy;
  if (policy === 'replace-then-drain' && (o.ownership.verdict !== 'ours' || !o.group)) {
    notes.push(
      o.group ? `ownership unknown (${o.ownership.why}): no capacity change` : 'no group: no replacement',
    );
    policy = 'cordon';
  }
  const plan: NodePlan = { target: `node/${node}`, trigger: REASON, steps: [], notes };
  const cordon = cordonStep(o, REASON, false, `policy ${policy}: keep new pods off an instance at risk`);
  if (policy === 'cordon') {
    plan.steps.push(cordon);
    if (c.rebalanceCordonExpiryMs > 0) {
      const at = new Date(o.now.getTime() + c.rebalanceCordonExpiryMs).toISOString();
      plan.steps.push({
        kind: 'annotate',
        id: 'expiry',
        node,
        annotations: { [ANNOTATION_CORDON_EXPIRES_AT]: at },
        requires: ['cordon'],
        why: `the cordon expires at ${at} unless an interruption follows`,
      });
    }
    return plan;
  }
  const steps: NodeStep[] = [];
  if (policy === 'replace-then-drain') {
    const group = o.group!;
    if (group.desiredCapacity >= group.maxSize) {
      notes.push(`no replacement: ${group.name} is at max size (${group.maxSize}); cordoned only`);
      plan.steps.push(cordon);
      return plan;
    }
    steps.push(
      {
        kind: 'increment',
        id: 'replace',
        group: group.name,
        instanceId: ev.instanceId,
        node,
        newDesired: group.desiredCapacity + 1,
        why: 'make before break: one more instance first',
        undo: {
          kind: 'give-back',
          id: 'give-back',
          group: group.name,
          instanceId: ev.instanceId,
          terminateIfDrained: 'drain',
          node,
          why: 'drained: the old instance leaves with decrement; otherwise desired goes back down by one',
        } as NodeStep,
      },
      {
        kind: 'await-replacement',
        id: 'await-replacement',
        group: group.name,
        node,
        known: group.instances.map((i) => i.instanceId),
        requires: ['replace'],
        why: 'drain only once a new node of the group is Ready',
      },
    );
    cordon.why = 'policy replace-then-drain: keep new pods off an instance at risk';
  }
  steps.push(cordon);
  const drain = drainStep(o, c, REASON, { why: `policy ${policy}: move pods off an instance at risk` });
  if (policy === 'replace-then-drain') drain.requires = ['await-replacement'];
  steps.push(drain);
  plan.steps = steps;
  return plan;
}
