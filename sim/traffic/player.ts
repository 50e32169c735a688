// Traffic player: a steady request rate through each simulated target group, spread round-robin over
// the targets the data plane routes to (healthy ones, and draining ones until the deregistration has
// propagated). A request fails when no target is routable (the ALB answers 503) or when it reaches a
// target that does not serve (serving.ts: pod gone, terminating past its preStop, node gone).
import type { SimElbv2, SimTargetGroup } from '../aws/elbv2-model.ts';
import type { Refusal, ServingIndex } from './serving.ts';

export type FailureReason = Refusal | 'no-routable-target';

export interface FailedRequest {
  at: number;
  group: string;
  target?: string;
  reason: FailureReason;
}

export interface TrafficStats {
  sent: number;
  ok: number;
  failed: number;
  byReason: Partial<Record<FailureReason, number>>;
  failures: FailedRequest[];
}

export interface TrafficPlayerOptions {
  /** requests per second per target group (default 100) */
  ratePerSecond?: number;
  /** only these target group ARNs (default: every target group) */
  groups?: string[];
  /** scheduling tick (default 20 ms) */
  tickMs?: number;
}

export class TrafficPlayer {
  private readonly elb: SimElbv2;
  private readonly serving: ServingIndex;
  private readonly rate: number;
  private readonly tickMs: number;
  private readonly only?: Set<string>;
  private readonly cursor = new Map<string, number>();
  private readonly owed = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private last = 0;
  stats: TrafficStats = emptyStats();

  constructor(elb: SimElbv2, serving: ServingIndex, opts: TrafficPlayerOptions = {}) {
    this.elb = elb;
    this.serving = serving;
    this.rate = opts.ratePerSecond ?? 100;
    this.tickMs = opts.tickMs ?? 20;
    if (opts.groups) this.only = new Set(opts.groups);
  }

  start() {
    this.last = Date.now();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop(): TrafficStats {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    return this.stats;
  }

  reset() {
    this.stats = emptyStats();
  }

  private tick() {
    const now = Date.now();
    const elapsed = now - this.last;
    this.last = now;
    for (const group of this.elb.targetGroups()) {
      if (this.only && !this.only.has(group.arn)) continue;
      const owed = (this.owed.get(group.arn) ?? 0) + (this.rate * elapsed) / 1000;
      const n = Math.floor(owed);
      this.owed.set(group.arn, owed - n);
      for (let i = 0; i < n; i++) this.send(group, now);
    }
  }

  private send(group: SimTargetGroup, now: number) {
    this.stats.sent++;
    const targets = this.elb.routable(group);
    if (targets.length === 0) return this.fail({ at: now, group: group.arn, reason: 'no-routable-target' });
    const i = (this.cursor.get(group.arn) ?? 0) % targets.length;
    this.cursor.set(group.arn, i + 1);
    const target = targets[i]!;
    const refusal = this.serving.refusal(group.targetType, target.id, now);
    if (refusal) return this.fail({ at: now, group: group.arn, target: target.id, reason: refusal });
    this.stats.ok++;
  }

  private fail(f: FailedRequest) {
    this.stats.failed++;
    this.stats.byReason[f.reason] = (this.stats.byReason[f.reason] ?? 0) + 1;
    if (this.stats.failures.length < 1000) this.stats.failures.push(f);
  }
}

function emptyStats(): TrafficStats {
  return { sent: 0, ok: 0, failed: 0, byReason: {}, failures: [] };
}
