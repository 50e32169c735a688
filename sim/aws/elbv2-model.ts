// Simulated ELBv2 target groups: the state the API reports and the data plane routes by.
// A target's state is derived from timestamps when asked (no timers):
//   registered → `initial` (Elb.RegistrationInProgress) for the health-check time, then `healthy`
//   (or `unhealthy` Target.FailedHealthChecks when the probe says the target does not answer);
//   deregistered → `draining` (Target.DeregistrationInProgress) for the deregistration delay, but never
//   shorter than the data plane's propagation lag (AWS keeps reporting draining until every load
//   balancer node has stopped routing to it: aws-load-balancer-controller #2366, #3270); then gone.
// Routing: healthy targets, plus draining targets until the deregistration has propagated — new
// requests still arrive at a draining target for that long (aws-load-balancer-controller #1064).
import { ACCOUNT_ID, AwsError } from './wire.ts';

export type TargetType = 'ip' | 'instance';
export type TargetState = 'initial' | 'healthy' | 'unhealthy' | 'draining' | 'unused';

export interface SimTarget {
  id: string;
  port: number;
  availabilityZone?: string;
  registeredAt: number;
  deregisteredAt?: number;
}

export interface SimTargetGroup {
  arn: string;
  name: string;
  protocol: string;
  port: number;
  vpcId: string;
  targetType: TargetType;
  tags: Record<string, string>;
  /** deregistration_delay.timeout_seconds (AWS default 300) */
  deregistrationDelaySeconds: number;
  targets: SimTarget[];
}

export interface ElbTimings {
  /** Real milliseconds one "second" of ELBv2 time lasts (default 1000; tests shrink it). */
  secondMs: number;
  /** registration → first passing health checks (AWS: interval × healthy threshold; default 10 s) */
  healthyAfterSeconds: number;
  /** deregistration → data plane stops sending new requests (default 5 s) */
  propagationSeconds: number;
}

export interface TargetHealth {
  target: SimTarget;
  state: TargetState;
  reason?: string;
  description?: string;
}

/** Whether a registered target answers health checks (the simulator wires pods and instances in). */
export type HealthProbe = (group: SimTargetGroup, target: SimTarget) => boolean;

export class SimElbv2 {
  readonly timings: ElbTimings;
  private readonly groups = new Map<string, SimTargetGroup>();
  private readonly region: string;
  private probe: HealthProbe = () => true;
  private serial = 0;

  constructor(region: string, timings: Partial<ElbTimings> = {}) {
    this.region = region;
    this.timings = { secondMs: 1000, healthyAfterSeconds: 10, propagationSeconds: 5, ...timings };
  }

  setHealthProbe(probe: HealthProbe) {
    this.probe = probe;
  }

  createTargetGroup(spec: {
    name: string;
    port?: number;
    protocol?: string;
    targetType?: TargetType;
    vpcId?: string;
    tags?: Record<string, string>;
    deregistrationDelaySeconds?: number;
  }): SimTargetGroup {
    if (!/^[A-Za-z0-9-]{1,32}$/.test(spec.name) || spec.name.startsWith('-'))
      throw new AwsError('ValidationError', `Target group name '${spec.name}' is not valid`);
    const existing = [...this.groups.values()].find((g) => g.name === spec.name);
    if (existing) throw new AwsError('DuplicateTargetGroupName', 'A target group with the same name exists');
    const id = (++this.serial).toString(16).padStart(16, '0');
    const group: SimTargetGroup = {
      arn: `arn:aws:elasticloadbalancing:${this.region}:${ACCOUNT_ID}:targetgroup/${spec.name}/${id}`,
      name: spec.name,
      protocol: spec.protocol ?? 'HTTP',
      port: spec.port ?? 80,
      vpcId: spec.vpcId ?? 'vpc-0sim0000000000000',
      targetType: spec.targetType ?? 'instance',
      tags: { ...spec.tags },
      deregistrationDelaySeconds: spec.deregistrationDelaySeconds ?? 300,
      targets: [],
    };
    this.groups.set(group.arn, group);
    return group;
  }

  targetGroups(): SimTargetGroup[] {
    return [...this.groups.values()];
  }

  group(arn: string): SimTargetGroup | undefined {
    return this.groups.get(arn);
  }

  requireGroup(arn: string): SimTargetGroup {
    if (!/^arn:aws:elasticloadbalancing:[^:]+:\d{12}:targetgroup\/[^/]+\/[0-9a-f]+$/.test(arn))
      throw new AwsError('ValidationError', `'${arn}' is not a valid target group ARN`);
    const group = this.groups.get(arn);
    if (!group) throw new AwsError('TargetGroupNotFound', `Target groups '${arn}' not found`);
    return group;
  }

  register(arn: string, targets: { id: string; port?: number; availabilityZone?: string }[]) {
    const group = this.requireGroup(arn);
    this.prune(group);
    const now = Date.now();
    for (const t of targets) {
      validateTargetId(group, t.id);
      const port = t.port ?? group.port;
      const current = group.targets.find((x) => x.id === t.id && x.port === port);
      // re-registering a draining target makes it a new registration (AWS: back to initial)
      if (current && current.deregisteredAt === undefined) continue;
      if (current) group.targets.splice(group.targets.indexOf(current), 1);
      group.targets.push({
        id: t.id,
        port,
        ...(t.availabilityZone ? { availabilityZone: t.availabilityZone } : {}),
        registeredAt: now,
      });
    }
  }

  deregister(arn: string, targets: { id: string; port?: number }[]) {
    const group = this.requireGroup(arn);
    this.prune(group);
    const now = Date.now();
    for (const t of targets) {
      const port = t.port ?? group.port;
      const current = group.targets.find((x) => x.id === t.id && x.port === port);
      // AWS: deregistering a target that is not registered is an error
      if (!current)
        throw new AwsError('InvalidTarget', `The following targets are not registered: '${t.id}:${port}'`);
      current.deregisteredAt ??= now;
    }
  }

  /** Health of the given targets (unregistered ones are `unused`), or of every registered target. */
  health(arn: string, only?: { id: string; port?: number }[]): TargetHealth[] {
    const group = this.requireGroup(arn);
    this.prune(group);
    if (!only) return group.targets.map((t) => this.healthOf(group, t));
    return only.map((o) => {
      const port = o.port ?? group.port;
      const current = group.targets.find((x) => x.id === o.id && (o.port === undefined || x.port === port));
      if (current) return this.healthOf(group, current);
      return {
        target: { id: o.id, port, registeredAt: 0 },
        state: 'unused',
        reason: 'Target.NotRegistered',
        description: 'Target is not registered to the target group',
      };
    });
  }

  /** Targets the data plane sends a new request to right now. */
  routable(group: SimTargetGroup): SimTarget[] {
    this.prune(group);
    const now = Date.now();
    const lag = this.ms(this.timings.propagationSeconds);
    return group.targets.filter((t) => {
      if (t.deregisteredAt !== undefined) return now < t.deregisteredAt + lag && this.passed(group, t, now);
      return this.passed(group, t, now) && this.probe(group, t);
    });
  }

  private healthOf(group: SimTargetGroup, t: SimTarget): TargetHealth {
    const now = Date.now();
    if (t.deregisteredAt !== undefined)
      return {
        target: t,
        state: 'draining',
        reason: 'Target.DeregistrationInProgress',
        description: 'Target deregistration is in progress',
      };
    if (!this.passed(group, t, now))
      return {
        target: t,
        state: 'initial',
        reason: 'Elb.RegistrationInProgress',
        description: 'Target registration is in progress',
      };
    if (!this.probe(group, t))
      return {
        target: t,
        state: 'unhealthy',
        reason: 'Target.FailedHealthChecks',
        description: 'Health checks failed',
      };
    return { target: t, state: 'healthy' };
  }

  private passed(_group: SimTargetGroup, t: SimTarget, now: number): boolean {
    return now >= t.registeredAt + this.ms(this.timings.healthyAfterSeconds);
  }

  /** Drops targets whose draining is over. */
  private prune(group: SimTargetGroup) {
    const now = Date.now();
    const drain = this.ms(Math.max(group.deregistrationDelaySeconds, this.timings.propagationSeconds));
    group.targets = group.targets.filter(
      (t) => t.deregisteredAt === undefined || now < t.deregisteredAt + drain,
    );
  }

  private ms(seconds: number): number {
    return seconds * this.timings.secondMs;
  }
}

function validateTargetId(group: SimTargetGroup, id: string) {
  const ok =
    group.targetType === 'ip'
      ? /^\d{1,3}(\.\d{1,3}){3}$/.test(id)
      : /^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$/.test(id);
  if (!ok)
    throw new AwsError(
      'ValidationError',
      group.targetType === 'ip'
        ? `The IP address '${id}' is not a valid IPv4 address`
        : `The instance ID '${id}' is not valid`,
    );
}
