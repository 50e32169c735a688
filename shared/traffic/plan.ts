// The traffic-aware drain planner (pure). Given the target groups holding a doomed node's targets:
//   - one deregister-targets step per target group of this cluster, all at once (they run beside
//     the cordon, before any eviction); other clusters' and untagged groups are left alone;
//   - one eviction gate per pod with ip targets: evict once its targets have left `draining`, or at
//     releaseAt = deadline − grace − margin at the latest, so its own shutdown still fits;
//   - pods without targets, and pods annotated spotguard.io/load-balancer-drain: "false", get no gate.
// Instance targets are deregistered but hold no pod back: a pod behind an instance target gets its
// traffic through every node's kube-proxy, which drops terminating endpoints itself.

import type { TargetRef } from '../aws/elbv2.ts';
import type { Plan, StepBase } from '../plans/steps.ts';
import type { TrafficObserved } from './observe.ts';

export const ANNOTATION_OFF = 'spotguard.io/load-balancer-drain';

export interface DeregisterStep extends StepBase {
  kind: 'deregister-targets';
  targetGroupArn: string;
  targets: TargetRef[];
}

export type TrafficStep = DeregisterStep;

export interface PodGate {
  pod: string;
  targets: Array<TargetRef & { targetGroupArn: string }>;
  /** Evict by this time even if still draining (ISO 8601); absent without a deadline. */
  releaseAt?: string;
  why: string;
}

export interface TrafficPlan {
  plan: Plan<TrafficStep>;
  gates: PodGate[];
  /** What was left alone and why. */
  notes: string[];
}

export interface PlanInput {
  node: string;
  trigger: string;
  clusterName: string;
  observed: TrafficObserved;
  /** per pod "namespace/name": its annotations and the grace it will be given */
  pods: Map<string, { annotations?: Record<string, string>; graceSeconds: number }>;
  deadline?: Date;
  marginMs: number;
}

export function planTrafficDrain(input: PlanInput): TrafficPlan {
  const notes = [...input.observed.notes];
  const optedOut = (pod: string | undefined) =>
    pod !== undefined && input.pods.get(pod)?.annotations?.[ANNOTATION_OFF] === 'false';
  const steps: DeregisterStep[] = [];
  const gates = new Map<string, PodGate>();
  for (const group of input.observed.groups) {
    if (group.cluster !== input.clusterName) {
      notes.push(
        `${group.arn}: left alone (tagged for ${group.cluster ? `cluster ${group.cluster}` : 'no cluster'})`,
      );
      continue;
    }
    const targets = group.targets.filter((t) => t.state !== 'draining' && !optedOut(t.pod));
    for (const t of group.targets)
      if (optedOut(t.pod)) notes.push(`${t.pod}: ${ANNOTATION_OFF}=false, not held`);
    if (targets.length > 0) {
      steps.push({
        kind: 'deregister-targets',
        id: `deregister:${group.arn.split(':').pop()}`,
        why: `${targets.length} ${group.targetType} target(s) of ${input.node} in ${group.binding ?? group.arn}`,
        targetGroupArn: group.arn,
        targets: targets.map(({ id, port }) => ({ id, port })),
      });
    }
    if (group.targetType !== 'ip') continue;
    for (const t of group.targets) {
      if (!t.pod || optedOut(t.pod)) continue;
      const gate = gates.get(t.pod) ?? { pod: t.pod, targets: [], why: '' };
      gate.targets.push({ id: t.id, port: t.port, targetGroupArn: group.arn });
      gates.set(t.pod, gate);
    }
  }
  for (const gate of gates.values()) {
    const grace = input.pods.get(gate.pod)?.graceSeconds ?? 0;
    if (input.deadline) {
      gate.releaseAt = new Date(input.deadline.getTime() - grace * 1000 - input.marginMs).toISOString();
    }
    gate.why = `evict once ${gate.targets.length} target(s) left draining${gate.releaseAt ? `, at the latest ${gate.releaseAt} (deadline − ${grace}s grace − margin)` : ''}`;
  }
  return {
    plan: {
      target: `node/${input.node}`,
      trigger: input.trigger,
      steps,
      ...(steps.length === 0 ? { nothingBecause: 'no target group of this cluster holds the node' } : {}),
      ...(input.deadline ? { deadline: input.deadline.toISOString() } : {}),
    },
    gates: [...gates.values()],
    notes,
  };
}
