// The traffic-aware drain of one node, as the drain engine's EvictionGate: start() runs beside the
// cordon (observe → plan → deregister every target at once through the plan executor);
// beforeEviction() holds a pod until its targets have left `draining` (DescribeTargetHealth), or
// until its gate's releaseAt when the deadline demands it. When ELBv2 is throttled or unreachable,
// the drain goes on without load-balancer draining and the report and the node's Events say so.

import { deregisterTargets, type Elbv2, targetHealth } from '../aws/elbv2.ts';
import type {
  DrainOptions,
  EvictionGate,
  LoadBalancerDrainReport,
  PlannedEviction,
  PodTargetsReport,
} from '../drain/types.ts';
import type { KubeClients } from '../k8s/client.ts';
import { createEvent } from '../k8s/events.ts';
import { listPodsOnNode } from '../k8s/pods.ts';
import { executePlan, type RunnerMap } from '../plans/execute.ts';
import { observeTargets, short } from './observe.ts';
import { type PodGate, planTrafficDrain, type TrafficStep } from './plan.ts';

export interface TrafficDrainDeps {
  k8s: KubeClients;
  elb: Elbv2;
  clusterName: string;
  trigger: string;
  deadline?: Date;
  marginMs: number;
  /** overrides every pod's grace (as the drain does) */
  gracePeriodSeconds?: number;
  /** DescribeTargetHealth poll interval while a pod is held (default 2000 ms) */
  pollMs?: number;
  /** evictions wait at most this long for the targets to be found and deregistered (default 5000 ms) */
  startTimeoutMs?: number;
  holder: string;
  logger?: DrainOptions['logger'];
}

interface PodTrack extends PodTargetsReport {
  gate: PodGate;
}

export class TrafficDrain implements EvictionGate {
  private readonly deps: TrafficDrainDeps;
  private node = '';
  private started: Promise<void> | undefined;
  private bounded: Promise<void> | undefined;
  private readonly pods = new Map<string, PodTrack>();
  private readonly notes: string[] = [];
  private readonly events: Promise<unknown>[] = [];
  private source: LoadBalancerDrainReport['source'] = 'none';
  private unavailable = false;

  constructor(deps: TrafficDrainDeps) {
    this.deps = deps;
  }

  start(node: string): void {
    this.node = node;
    this.started ??= this.deregister().catch((err: unknown) => this.giveUp('observe/deregister', err));
    // an unreachable ELBv2 (SDK timeouts and retries) must not eat the notice: go on without it
    const limitMs = this.deps.startTimeoutMs ?? 5_000;
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        if (!this.ready && !this.unavailable)
          this.giveUp('no answer', { message: `ELBv2 did not answer within ${limitMs} ms` });
        resolve();
      }, limitMs);
    });
    this.bounded = Promise.race([this.started.then(() => clearTimeout(timer)), limit]);
  }

  private ready = false;

  async beforeEviction(pod: PlannedEviction, stop: AbortSignal): Promise<void> {
    await this.bounded;
    const track = this.pods.get(`${pod.namespace}/${pod.name}`);
    if (!track || this.unavailable) return;
    const releaseAt = track.gate.releaseAt ? Date.parse(track.gate.releaseAt) : Number.POSITIVE_INFINITY;
    const pollMs = this.deps.pollMs ?? 2_000;
    while (!stop.aborted && !this.unavailable) {
      if (Date.now() >= releaseAt) {
        track.cutShortByDeadline = true;
        return;
      }
      try {
        if (await this.drained(track)) {
          track.drainedAt = new Date().toISOString();
          return;
        }
      } catch (err) {
        this.giveUp('DescribeTargetHealth', err);
        return;
      }
      await sleep(Math.min(pollMs, Math.max(0, releaseAt - Date.now())), stop);
    }
  }

  evicted(pod: PlannedEviction, at: Date): void {
    const track = this.pods.get(`${pod.namespace}/${pod.name}`);
    if (!track) return;
    track.evictedAt = at.toISOString();
    const drained = track.drainedAt
      ? `drained at ${track.drainedAt}`
      : track.cutShortByDeadline
        ? `still draining: cut short by the deadline at ${track.gate.releaseAt}`
        : 'draining not awaited (ELBv2 unavailable)';
    this.event(
      'LoadBalancerDrained',
      `pod ${track.pod}: ${track.targets} target(s) deregistered at ${track.deregisteredAt ?? '-'}, ${drained}, evicted at ${track.evictedAt}`,
      track.drainedAt ? 'Normal' : 'Warning',
    );
  }

  async report(): Promise<LoadBalancerDrainReport> {
    await this.bounded;
    await Promise.allSettled(this.events);
    return {
      source: this.source,
      unavailable: this.unavailable,
      notes: this.notes,
      pods: [...this.pods.values()].map(({ gate: _gate, ...p }) => p),
    };
  }

  private async deregister() {
    const { pods } = await listPodsOnNode(this.deps.k8s, this.node);
    const node = await this.deps.k8s.core.readNode({ name: this.node });
    const instanceId = node.spec?.providerID?.split('/').pop();
    const observed = await observeTargets(this.deps.k8s, this.deps.elb, {
      clusterName: this.deps.clusterName,
      ...(instanceId ? { instanceId } : {}),
      pods,
    });
    this.source = observed.source;
    const plan = planTrafficDrain({
      node: this.node,
      trigger: this.deps.trigger,
      clusterName: this.deps.clusterName,
      observed,
      pods: new Map(
        pods.map((p) => [
          `${p.metadata?.namespace}/${p.metadata?.name}`,
          {
            ...(p.metadata?.annotations ? { annotations: p.metadata.annotations } : {}),
            graceSeconds: this.deps.gracePeriodSeconds ?? p.spec?.terminationGracePeriodSeconds ?? 30,
          },
        ]),
      ),
      ...(this.deps.deadline ? { deadline: this.deps.deadline } : {}),
      marginMs: this.deps.marginMs,
    });
    this.notes.push(...plan.notes);
    for (const gate of plan.gates)
      this.pods.set(gate.pod, {
        gate,
        pod: gate.pod,
        targets: gate.targets.length,
        cutShortByDeadline: false,
      });
    const runners: RunnerMap<TrafficStep> = {
      'deregister-targets': async (step) => {
        await deregisterTargets(this.deps.elb, step.targetGroupArn, step.targets);
        const at = new Date().toISOString();
        for (const track of this.pods.values())
          if (track.gate.targets.some((t) => t.targetGroupArn === step.targetGroupArn))
            track.deregisteredAt ??= at;
        return {
          status: 'done',
          detail: `deregistered ${step.targets.length} target(s) from ${step.targetGroupArn}`,
        };
      },
    };
    if (this.unavailable) return; // gave up waiting: evictions already go ahead
    const result = await executePlan(plan.plan, runners, { dryRun: false, now: () => new Date() });
    const failed = result.steps.filter((s) => s.status === 'failed');
    if (failed.length > 0) throw new Error(failed.map((s) => s.detail).join('; '));
    this.ready = true;
    if (plan.plan.steps.length > 0) {
      this.event(
        'LoadBalancerDeregistered',
        `spotguard deregistered ${plan.plan.steps.reduce((n, s) => n + s.targets.length, 0)} target(s) of this node from ${plan.plan.steps.length} target group(s) before evicting`,
        'Normal',
      );
    }
  }

  /** All of the pod's targets have left draining; a target the controller registered again is deregistered again. */
  private async drained(track: PodTrack): Promise<boolean> {
    let done = true;
    const byGroup = new Map<string, { id: string; port: number }[]>();
    for (const t of track.gate.targets)
      byGroup.set(t.targetGroupArn, [...(byGroup.get(t.targetGroupArn) ?? []), t]);
    for (const [arn, targets] of byGroup) {
      const states = await targetHealth(this.deps.elb, arn, targets);
      const back = states.filter((s) => s.state !== 'draining' && s.state !== 'unused');
      if (back.length > 0) {
        // the AWS Load Balancer Controller re-registers a still-ready endpoint on its next reconcile
        await deregisterTargets(this.deps.elb, arn, back);
        this.notes.push(`${track.pod}: target registered again by the controller; deregistered again`);
      }
      if (states.some((s) => s.state !== 'unused')) done = false;
    }
    return done;
  }

  private giveUp(what: string, err: unknown) {
    this.unavailable = true;
    const note = `ELBv2 unavailable (${what}: ${short(err)}): the drain proceeds without load-balancer draining`;
    this.notes.push(note);
    this.deps.logger?.warn(note, { node: this.node });
    this.event('LoadBalancerDrainSkipped', note, 'Warning');
  }

  private event(reason: string, message: string, type: 'Normal' | 'Warning') {
    this.events.push(
      createEvent(this.deps.k8s, {
        target: { kind: 'Node', name: this.node },
        reason,
        message,
        type,
        action: 'Drain',
        component: 'spotguard',
        instance: this.deps.holder,
      }).catch(() => undefined),
    );
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
