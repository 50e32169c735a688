// Fault injection shared by every simulated endpoint (Kubernetes API, Auto Scaling, EC2, EKS, STS).
// A server asks `decide(...)` before handling a request and applies the answer: wait, fail with a
// status, or never answer.

export interface FaultRule {
  /** 'k8s' | 'autoscaling' | 'ec2' | 'eks' | 'sts'; unset = every service */
  service?: string;
  /** e.g. get, list, watch, create, update, patch, delete (k8s) or the AWS action name */
  verb?: string;
  resource?: string;
  subresource?: string;
  /** 429, 500, 503 … */
  status?: number;
  retryAfterSeconds?: number;
  latencyMs?: number;
  /** fraction of matching requests the rule applies to, 0..1 (default 1) */
  share?: number;
  /** apply at most this many times */
  count?: number;
  /** never answer; the connection is closed after 30 s */
  timeout?: boolean;
}

export interface FaultRequest {
  service: string;
  verb: string;
  resource?: string;
  subresource?: string;
}

export interface FaultDecision {
  latencyMs: number;
  status?: number;
  retryAfterSeconds?: number;
  timeout?: boolean;
}

interface ActiveRule {
  rule: FaultRule;
  remaining: number;
}

export class FaultInjector {
  private rules: ActiveRule[] = [];
  private readonly random: () => number;

  /** `random` is injectable so a scenario can be replayed with a seeded generator. */
  constructor(random: () => number = Math.random) {
    this.random = random;
  }

  /** Adds a rule; returns a function that removes it. */
  add(rule: FaultRule): () => void {
    const active: ActiveRule = { rule, remaining: rule.count ?? Number.POSITIVE_INFINITY };
    this.rules.push(active);
    return () => {
      this.rules = this.rules.filter((r) => r !== active);
    };
  }

  clear(): void {
    this.rules = [];
  }

  /**
   * Latencies of all applying rules add up; the first applying rule with a status or timeout
   * decides the failure. A rule counts as used each time it applies.
   */
  decide(req: FaultRequest): FaultDecision {
    const decision: FaultDecision = { latencyMs: 0 };
    for (const active of this.rules) {
      if (active.remaining <= 0 || !matches(active.rule, req)) continue;
      if (active.rule.share !== undefined && this.random() >= active.rule.share) continue;
      const { rule } = active;
      const fails = rule.status !== undefined || rule.timeout === true;
      if (fails && (decision.status !== undefined || decision.timeout)) continue;
      active.remaining--;
      decision.latencyMs += rule.latencyMs ?? 0;
      if (rule.timeout) decision.timeout = true;
      else if (rule.status !== undefined) {
        decision.status = rule.status;
        if (rule.retryAfterSeconds !== undefined) decision.retryAfterSeconds = rule.retryAfterSeconds;
      }
    }
    return decision;
  }
}

function matches(rule: FaultRule, req: FaultRequest): boolean {
  if (rule.service !== undefined && rule.service !== req.service) return false;
  if (rule.verb !== undefined && rule.verb !== req.verb) return false;
  if (rule.resource !== undefined && rule.resource !== req.resource) return false;
  if (rule.subresource !== undefined && rule.subresource !== req.subresource) return false;
  return true;
}
