// The simulated fleet: Auto Scaling groups, EC2 instances, lifecycle hooks, and the event
// injection methods (spot interruptions, rebalance recommendations, scale-in, maintenance).
// The HTTP APIs (autoscaling-api.ts, ec2-api.ts) are thin translations onto this class.
//
// Time model: instance state transitions (pending→running, stopping→stopped,
// shutting-down→terminated) take `stateChangeMs`; a launched instance's Node joins Ready after
// `bootDelayMs`; a spot interruption terminates/stops the instance `interruptionNoticeMs` after
// the warning. The warning's `time` is back-dated to now + interruptionNoticeMs − 120 s so that a
// consumer computing the deadline as `time + 120 s` (as AWS documents) gets exactly the moment the
// simulator acts (to the second: EventBridge times have second precision, which only ever makes
// the computed deadline earlier, never later).
import { randomBytes, randomUUID } from 'node:crypto';
import type { Store } from '../k8s/store.ts';
import type { EventBus } from './events.ts';
import {
  type ActivityDetailType,
  autoScalingActivity,
  healthScheduledChange,
  lifecycleActionEvent,
  type MaintenanceEventType,
  rebalanceRecommendation,
  spotInterruptionWarning,
  stateChangeNotification,
} from './fleet-events.ts';
import {
  type ActivityRecord,
  type CapacityType,
  type GroupSpec,
  type InstanceState,
  type InterruptionAction,
  type LifecycleHook,
  type LifecycleResult,
  type LifecycleTransition,
  launchTemplateId,
  MANAGED_TAG_KEY,
  type SimGroup,
  type SimInstance,
  SPOT_NOTICE_MS,
} from './model.ts';
import { joinNode, markNodeRunning, markNodeShutdown, removeNode } from './node-sync.ts';
import { ACCOUNT_ID, AwsError } from './wire.ts';

export type {
  ActivityRecord,
  CapacityType,
  GroupSpec,
  InstanceState,
  InterruptionAction,
  LifecycleHook,
  LifecycleResult,
  LifecycleState,
  LifecycleTransition,
  SimGroup,
  SimInstance,
} from './model.ts';
export { instanceStateCode, SPOT_NOTICE_MS } from './model.ts';

const MAX_GLOBAL_TIMEOUT_MS = 48 * 3600_000;

interface LifecycleAction {
  token: string;
  hook: LifecycleHook;
  instanceId: string;
  heartbeatDeadline: number;
  globalDeadline: number;
  timer?: NodeJS.Timeout;
}

export interface SimAwsOptions {
  store: Store;
  events: EventBus;
  clusterName: string;
  region: string;
  zones: string[];
  bootDelayMs?: number;
  interruptionNoticeMs?: number;
  stateChangeMs?: number;
}

export class SimAws {
  readonly region: string;
  readonly clusterName: string;
  readonly zones: string[];
  readonly bootDelayMs: number;
  readonly interruptionNoticeMs: number;
  readonly stateChangeMs: number;
  private readonly store: Store;
  private readonly bus: EventBus;
  private readonly groupsByName = new Map<string, SimGroup>();
  private readonly instancesById = new Map<string, SimInstance>();
  private readonly instancesByDns = new Map<string, SimInstance>();
  private readonly actions = new Map<string, LifecycleAction>();
  /** replacement instance id → the instance it replaces (capacity rebalance) */
  private readonly rebalanceReplacements = new Map<string, string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly ipCounters = new Map<string, number>();
  private stopped = false;

  constructor(opts: SimAwsOptions) {
    this.store = opts.store;
    this.bus = opts.events;
    this.clusterName = opts.clusterName;
    this.region = opts.region;
    this.zones = opts.zones;
    this.bootDelayMs = opts.bootDelayMs ?? 10_000;
    this.interruptionNoticeMs = opts.interruptionNoticeMs ?? SPOT_NOTICE_MS;
    this.stateChangeMs = opts.stateChangeMs ?? Math.min(1_000, this.bootDelayMs);
  }

  // ---------------------------------------------------------------- reading

  groups(): SimGroup[] {
    return [...this.groupsByName.values()];
  }

  group(name: string): SimGroup | undefined {
    return this.groupsByName.get(name);
  }

  requireGroup(name: string): SimGroup {
    const group = this.groupsByName.get(name);
    if (!group)
      throw new AwsError(
        'ValidationError',
        `AutoScalingGroup name not found - AutoScalingGroup '${name}' not found`,
      );
    return group;
  }

  instances(): SimInstance[] {
    return [...this.instancesById.values()];
  }

  instance(instanceId: string): SimInstance | undefined {
    return this.instancesById.get(instanceId);
  }

  instanceByNodeName(nodeName: string): SimInstance | undefined {
    return this.instancesByDns.get(nodeName);
  }

  requireInstance(instanceId: string): SimInstance {
    const instance = this.instancesById.get(instanceId);
    if (!instance)
      throw new AwsError('InvalidInstanceID.NotFound', `The instance ID '${instanceId}' does not exist`);
    return instance;
  }

  groupInstances(group: SimGroup): SimInstance[] {
    return [...group.instanceIds].map((id) => this.instancesById.get(id)!);
  }

  hooks(groupName: string): LifecycleHook[] {
    return [...this.requireGroup(groupName).hooks.values()];
  }

  // ---------------------------------------------------------------- groups

  /**
   * Creates a group. With `prewarmed` (the default), its desired instances exist at once as
   * running/InService with Ready Nodes and no events (the state of a cluster that has been up for a
   * while); otherwise they are launched like any scale-out.
   */
  createGroup(spec: GroupSpec, opts: { prewarmed?: boolean } = {}): SimGroup {
    if (this.groupsByName.has(spec.name))
      throw new AwsError(
        'AlreadyExists',
        `AutoScalingGroup by this name already exists - A group with the name ${spec.name} already exists`,
      );
    if (spec.zones.length === 0)
      throw new AwsError('ValidationError', `group ${spec.name}: zones must not be empty`);
    const nodegroup = spec.nodegroup ?? spec.name;
    const cluster = spec.cluster ?? this.clusterName;
    // What an EKS managed node group puts on its group; the first three propagate to instances.
    const eksPropagated = {
      'eks:cluster-name': cluster,
      'eks:nodegroup-name': nodegroup,
      [`kubernetes.io/cluster/${cluster}`]: 'owned',
    };
    const eksGroupOnly = {
      [`k8s.io/cluster-autoscaler/${cluster}`]: 'owned',
      'k8s.io/cluster-autoscaler/enabled': 'true',
      'k8s.io/cluster-autoscaler/node-template/label/eks.amazonaws.com/capacityType': spec.capacityType,
    };
    // The documented setup (infra/lifecycle-hook.*): the managed tag on the group, not propagated.
    const managed: Record<string, string> =
      cluster === this.clusterName && !spec.unmanaged ? { [MANAGED_TAG_KEY]: this.clusterName } : {};
    const group: SimGroup = {
      name: spec.name,
      arn: `arn:aws:autoscaling:${this.region}:${ACCOUNT_ID}:autoScalingGroup:${randomUUID()}:autoScalingGroupName/${spec.name}`,
      zones: [...spec.zones],
      minSize: spec.min ?? 0,
      maxSize: spec.max ?? Math.max(spec.desired * 2, spec.desired + 3),
      desiredCapacity: spec.desired,
      instanceType: spec.instanceType ?? 'm5.large',
      onDemandBaseCapacity: 0,
      onDemandPercentageAboveBaseCapacity: spec.capacityType === 'ON_DEMAND' ? 100 : 0,
      capacityRebalance: spec.capacityRebalance ?? spec.capacityType === 'SPOT',
      nodegroup,
      cluster,
      tags: { ...eksPropagated, ...eksGroupOnly, ...managed, ...spec.tags, ...spec.propagatedTags },
      propagateAtLaunch: new Set([
        ...Object.keys(eksPropagated).filter((k) => !(k in (spec.tags ?? {}))),
        ...Object.keys(spec.propagatedTags ?? {}),
      ]),
      hooks: new Map(),
      instanceIds: new Set(),
      createdTime: new Date(),
      node: {
        ...(spec.labels ? { labels: spec.labels } : {}),
        ...(spec.taints ? { taints: spec.taints } : {}),
      },
    };
    this.groupsByName.set(group.name, group);
    for (const hook of spec.hooks ?? []) this.putLifecycleHook({ ...hook, groupName: group.name });
    if (opts.prewarmed ?? true) {
      for (let i = 0; i < group.desiredCapacity; i++) this.addPrewarmedInstance(group);
    } else {
      this.reconcile(group);
    }
    return group;
  }

  putLifecycleHook(
    hook: Omit<LifecycleHook, 'heartbeatTimeoutSeconds' | 'defaultResult'> & Partial<LifecycleHook>,
  ) {
    const group = this.requireGroup(hook.groupName);
    const heartbeat = hook.heartbeatTimeoutSeconds ?? 3600;
    if (!(heartbeat > 0) || heartbeat > 7200) {
      throw new AwsError(
        'ValidationError',
        `HeartbeatTimeout ${heartbeat} must be between 1 and 7200 seconds`,
      );
    }
    group.hooks.set(hook.name, {
      ...hook,
      heartbeatTimeoutSeconds: heartbeat,
      defaultResult: hook.defaultResult ?? 'ABANDON',
    });
  }

  setDesiredCapacity(groupName: string, desired: number): void {
    const group = this.requireGroup(groupName);
    if (desired > group.maxSize) {
      throw new AwsError(
        'ValidationError',
        `New SetDesiredCapacity value ${desired} is above max value ${group.maxSize} for the AutoScalingGroup.`,
      );
    }
    if (desired < group.minSize) {
      throw new AwsError(
        'ValidationError',
        `New SetDesiredCapacity value ${desired} is below min value ${group.minSize} for the AutoScalingGroup.`,
      );
    }
    group.desiredCapacity = desired;
    this.reconcile(group);
  }

  updateGroup(
    groupName: string,
    change: {
      minSize?: number;
      maxSize?: number;
      desiredCapacity?: number;
      capacityRebalance?: boolean;
      onDemandBaseCapacity?: number;
      onDemandPercentageAboveBaseCapacity?: number;
      zones?: string[];
    },
  ): void {
    const group = this.requireGroup(groupName);
    const min = change.minSize ?? group.minSize;
    const max = change.maxSize ?? group.maxSize;
    let desired = change.desiredCapacity ?? group.desiredCapacity;
    if (min > max)
      throw new AwsError(
        'ValidationError',
        `Max bound, ${max}, must be greater than or equal to min bound, ${min}`,
      );
    if (change.desiredCapacity !== undefined && (desired < min || desired > max)) {
      throw new AwsError(
        'ValidationError',
        `Desired capacity:${desired} must be between the specified min size:${min} and max size:${max}`,
      );
    }
    // as in AWS, changing only min/max pulls the desired capacity into the new bounds
    desired = Math.min(Math.max(desired, min), max);
    const pct = change.onDemandPercentageAboveBaseCapacity;
    if (pct !== undefined && (pct < 0 || pct > 100)) {
      throw new AwsError(
        'ValidationError',
        `OnDemandPercentageAboveBaseCapacity ${pct} must be between 0 and 100`,
      );
    }
    Object.assign(group, {
      minSize: min,
      maxSize: max,
      desiredCapacity: desired,
      capacityRebalance: change.capacityRebalance ?? group.capacityRebalance,
      onDemandBaseCapacity: change.onDemandBaseCapacity ?? group.onDemandBaseCapacity,
      onDemandPercentageAboveBaseCapacity: pct ?? group.onDemandPercentageAboveBaseCapacity,
      zones: change.zones ?? group.zones,
    });
    this.reconcile(group);
  }

  /** DetachInstances: the instances keep running outside the group. */
  detachInstances(groupName: string, instanceIds: string[], decrement: boolean): ActivityRecord[] {
    const group = this.requireGroup(groupName);
    const instances = instanceIds.map((id) => this.requireGroupMember(group, id));
    if (decrement && group.desiredCapacity - instances.length < group.minSize) {
      throw new AwsError(
        'ValidationError',
        `The number of instances to detach would take the group below its minimum size ${group.minSize}.`,
      );
    }
    if (decrement) group.desiredCapacity -= instances.length;
    const activities = instances.map((instance) => {
      instance.lifecycleState = 'Detached';
      group.instanceIds.delete(instance.instanceId);
      delete instance.groupName;
      delete instance.tags['aws:autoscaling:groupName'];
      return this.activity(
        group,
        `Detaching EC2 instance: ${instance.instanceId}`,
        `At ${new Date().toISOString()} instance ${instance.instanceId} was detached in response to a user request${decrement ? ', shrinking the capacity' : ''}.`,
      );
    });
    this.reconcile(group);
    return activities;
  }

  /** TerminateInstanceInAutoScalingGroup: through the terminate hooks; a replacement when not decrementing. */
  terminateInGroup(instanceId: string, decrement: boolean): ActivityRecord {
    const instance = this.requireInstance(instanceId);
    const group = instance.groupName ? this.groupsByName.get(instance.groupName) : undefined;
    if (!group)
      throw new AwsError(
        'ValidationError',
        `Instance Id not found - No managed instance found for instance ID: ${instanceId}`,
      );
    const cause = `At ${new Date().toISOString()} instance ${instanceId} was taken out of service in response to a user request${decrement ? ', shrinking the capacity' : ''}.`;
    // already on its way out (interrupted, scaled in): nothing more to do, and no second decrement
    if (!instance.rebalancing && !this.isActive(instance)) {
      return this.activity(group, `Terminating EC2 instance: ${instanceId}`, cause);
    }
    if (decrement) {
      if (group.desiredCapacity - 1 < group.minSize) {
        throw new AwsError(
          'ValidationError',
          `Currently, desiredSize equals minSize (${group.minSize}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`,
        );
      }
      group.desiredCapacity -= 1;
    }
    this.beginGroupTermination(group, instance);
    this.reconcile(group);
    return this.activity(group, `Terminating EC2 instance: ${instanceId}`, cause);
  }

  /** Scale-in through desired capacity; returns the instances chosen for termination. */
  scaleIn(groupName: string, count = 1): string[] {
    const group = this.requireGroup(groupName);
    const before = new Set(this.activeInstances(group).map((i) => i.instanceId));
    this.setDesiredCapacity(groupName, Math.max(group.minSize, group.desiredCapacity - count));
    return [...before].filter((id) => !this.isActive(this.instancesById.get(id)!));
  }

  // ---------------------------------------------------------------- lifecycle actions

  completeLifecycleAction(req: {
    groupName: string;
    hookName: string;
    token?: string;
    instanceId?: string;
    result: LifecycleResult;
  }): void {
    if (req.result !== 'CONTINUE' && req.result !== 'ABANDON') {
      throw new AwsError(
        'ValidationError',
        `LifecycleActionResult must be CONTINUE or ABANDON, got '${req.result}'`,
      );
    }
    const action = this.findAction(req);
    this.finishAction(action, req.result);
  }

  recordHeartbeat(req: { groupName: string; hookName: string; token?: string; instanceId?: string }): void {
    const action = this.findAction(req);
    const now = Date.now();
    action.heartbeatDeadline = Math.min(
      now + action.hook.heartbeatTimeoutSeconds * 1000,
      action.globalDeadline,
    );
    this.armActionTimer(action);
  }

  /** Pending lifecycle actions (for tests and the CLI's status). */
  pendingActions(): Array<{
    token: string;
    instanceId: string;
    hookName: string;
    groupName: string;
    transition: LifecycleTransition;
    heartbeatDeadline: Date;
    globalDeadline: Date;
  }> {
    return [...this.actions.values()].map((a) => ({
      token: a.token,
      instanceId: a.instanceId,
      hookName: a.hook.name,
      groupName: a.hook.groupName,
      transition: a.hook.transition,
      heartbeatDeadline: new Date(a.heartbeatDeadline),
      globalDeadline: new Date(a.globalDeadline),
    }));
  }

  private findAction(req: {
    groupName: string;
    hookName: string;
    token?: string;
    instanceId?: string;
  }): LifecycleAction {
    this.requireGroup(req.groupName);
    const matches = (a: LifecycleAction) =>
      a.hook.groupName === req.groupName && a.hook.name === req.hookName;
    if (req.token) {
      const action = this.actions.get(req.token);
      if (!action || !matches(action)) {
        throw new AwsError('ValidationError', `No active Lifecycle Action found with token ${req.token}`);
      }
      return action;
    }
    if (req.instanceId) {
      const action = [...this.actions.values()].find((a) => a.instanceId === req.instanceId && matches(a));
      if (!action)
        throw new AwsError(
          'ValidationError',
          `No active Lifecycle Action found with instance ID ${req.instanceId}`,
        );
      return action;
    }
    throw new AwsError('ValidationError', 'Either LifecycleActionToken or InstanceId must be specified');
  }

  private startLifecycleActions(
    group: SimGroup,
    instance: SimInstance,
    transition: LifecycleTransition,
  ): boolean {
    const hooks = [...group.hooks.values()].filter((h) => h.transition === transition);
    const now = Date.now();
    for (const hook of hooks) {
      const globalDeadline = now + Math.min(MAX_GLOBAL_TIMEOUT_MS, 100 * hook.heartbeatTimeoutSeconds * 1000);
      const action: LifecycleAction = {
        token: randomUUID(),
        hook,
        instanceId: instance.instanceId,
        heartbeatDeadline: Math.min(now + hook.heartbeatTimeoutSeconds * 1000, globalDeadline),
        globalDeadline,
      };
      this.actions.set(action.token, action);
      this.armActionTimer(action);
      this.bus.emit(lifecycleActionEvent(group, instance, hook, action.token));
    }
    return hooks.length > 0;
  }

  private armActionTimer(action: LifecycleAction) {
    if (action.timer) this.clearTimer(action.timer);
    action.timer = this.after(action.heartbeatDeadline - Date.now(), () => {
      if (this.actions.get(action.token) === action) this.finishAction(action, action.hook.defaultResult);
    });
  }

  private finishAction(action: LifecycleAction, result: LifecycleResult) {
    if (action.timer) this.clearTimer(action.timer);
    this.actions.delete(action.token);
    const instance = this.instancesById.get(action.instanceId);
    if (!instance) return;
    const stillPending = [...this.actions.values()].some(
      (a) => a.instanceId === instance.instanceId && a.hook.transition === action.hook.transition,
    );
    if (action.hook.transition === 'autoscaling:EC2_INSTANCE_TERMINATING') {
      // terminate hooks: CONTINUE and ABANDON both let the termination proceed
      if (!stillPending && instance.lifecycleState === 'Terminating:Wait') {
        instance.lifecycleState = 'Terminating:Proceed';
        this.ec2Terminate(instance);
      }
      return;
    }
    if (instance.lifecycleState !== 'Pending:Wait') return;
    if (result === 'ABANDON') {
      this.cancelActions(instance.instanceId);
      this.abandonLaunch(instance);
    } else if (!stillPending) {
      instance.lifecycleState = 'Pending:Proceed';
      if (instance.state === 'running') this.enterService(instance);
    }
  }

  private cancelActions(instanceId: string) {
    for (const action of [...this.actions.values()]) {
      if (action.instanceId !== instanceId) continue;
      if (action.timer) this.clearTimer(action.timer);
      this.actions.delete(action.token);
    }
  }

  // ---------------------------------------------------------------- EC2 operations

  terminateInstance(instanceId: string): SimInstance {
    const instance = this.requireInstance(instanceId);
    const group = instance.groupName ? this.groupsByName.get(instance.groupName) : undefined;
    if (group && this.isActive(instance)) {
      // the group's health check sees it go: it leaves service and a replacement is launched
      instance.lifecycleState = 'Terminating';
      this.reconcile(group);
    }
    this.ec2Terminate(instance);
    return instance;
  }

  stopInstance(instanceId: string, opts: { hibernate?: boolean; reason?: string } = {}): SimInstance {
    const instance = this.requireInstance(instanceId);
    if (instance.state === 'terminated' || instance.state === 'shutting-down') {
      throw new AwsError(
        'IncorrectInstanceState',
        `This instance '${instanceId}' is not in a state from which it can be stopped.`,
      );
    }
    if (instance.state === 'stopped' || instance.state === 'stopping') return instance;
    this.setState(instance, 'stopping', opts.reason);
    this.after(this.stateChangeMs, () => {
      if (instance.state !== 'stopping') return;
      this.setState(instance, 'stopped', opts.reason);
      markNodeShutdown(this.store, instance.privateDnsName);
    });
    return instance;
  }

  startInstance(instanceId: string): SimInstance {
    const instance = this.requireInstance(instanceId);
    if (instance.state === 'running' || instance.state === 'pending') return instance;
    if (instance.state !== 'stopped') {
      throw new AwsError(
        'IncorrectInstanceState',
        `The instance '${instanceId}' is not in a state from which it can be started.`,
      );
    }
    this.setState(instance, 'pending');
    this.after(this.stateChangeMs, () => {
      if (instance.state !== 'pending') return;
      this.setState(instance, 'running');
      markNodeRunning(this.store, instance.privateDnsName);
    });
    return instance;
  }

  // ---------------------------------------------------------------- event injection

  /**
   * Spot interruption: the warning now; the instance is terminated (or stopped/hibernated) when
   * the notice runs out. An Auto Scaling group takes a terminating instance out of service at once
   * (terminate hooks run) and launches its replacement.
   */
  interruptSpot(instanceId: string, opts: { action?: InterruptionAction } = {}): void {
    const instance = this.requireInstance(instanceId);
    if (instance.capacityType !== 'SPOT')
      throw new Error(`interruptSpot: ${instanceId} is an on-demand instance`);
    if (instance.state !== 'running')
      throw new Error(`interruptSpot: ${instanceId} is ${instance.state}, not running`);
    const action = opts.action ?? 'terminate';
    const now = Date.now();
    instance.interruptionAt = now + this.interruptionNoticeMs;
    this.bus.emit(
      spotInterruptionWarning(instance, action, new Date(now + this.interruptionNoticeMs - SPOT_NOTICE_MS)),
    );
    const group = instance.groupName ? this.groupsByName.get(instance.groupName) : undefined;
    // Only Capacity Rebalancing makes the group act on the notice itself; without it the group replaces
    // the instance after EC2 has taken it back (its health check fails).
    if (action === 'terminate' && group && group.capacityRebalance && this.isActive(instance)) {
      this.beginGroupTermination(group, instance, { untilGone: true });
      this.reconcile(group);
    }
    this.after(this.interruptionNoticeMs, () => {
      delete instance.interruptionAt;
      if (action === 'terminate') this.ec2Terminate(instance, 'Server.SpotInstanceTermination');
      else if (instance.state === 'running')
        this.stopInstance(instanceId, {
          hibernate: action === 'hibernate',
          reason: 'Server.SpotInstanceShutdown',
        });
    });
  }

  /** Rebalance recommendation; a group with CapacityRebalance launches a replacement first. */
  recommendRebalance(instanceId: string): void {
    const instance = this.requireInstance(instanceId);
    this.bus.emit(rebalanceRecommendation(instance));
    const group = instance.groupName ? this.groupsByName.get(instance.groupName) : undefined;
    if (!group?.capacityRebalance || !this.isActive(instance) || instance.capacityType !== 'SPOT') return;
    instance.rebalancing = true;
    const replacement = this.launchInstance(group, instance.zone);
    this.rebalanceReplacements.set(replacement.instanceId, instance.instanceId);
  }

  /** AWS Health scheduled change for each instance; at `startTime` the instance is retired (terminated) or stopped. */
  scheduleMaintenance(
    instanceIds: string[],
    startTime: Date,
    opts: { eventTypeCode?: MaintenanceEventType; act?: boolean } = {},
  ): void {
    const code = opts.eventTypeCode ?? 'AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED';
    const instances = instanceIds.map((id) => this.requireInstance(id));
    this.bus.emit(healthScheduledChange(instances, this.region, code, startTime));
    if (opts.act === false || code === 'AWS_EC2_INSTANCE_REBOOT_MAINTENANCE_SCHEDULED') return;
    this.after(startTime.getTime() - Date.now(), () => {
      for (const instance of instances) {
        if (instance.state !== 'running') continue;
        if (code === 'AWS_EC2_INSTANCE_STOP_SCHEDULED')
          this.stopInstance(instance.instanceId, { reason: 'Server.ScheduledStop' });
        else this.terminateInstance(instance.instanceId);
      }
    });
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  // ---------------------------------------------------------------- internals: group capacity

  private isActive(instance: SimInstance): boolean {
    return (
      !instance.rebalancing &&
      (instance.lifecycleState === 'Pending' ||
        instance.lifecycleState === 'Pending:Wait' ||
        instance.lifecycleState === 'Pending:Proceed' ||
        instance.lifecycleState === 'InService')
    );
  }

  private activeInstances(group: SimGroup): SimInstance[] {
    return this.groupInstances(group).filter((i) => this.isActive(i));
  }

  private requireGroupMember(group: SimGroup, instanceId: string): SimInstance {
    const instance = this.requireInstance(instanceId);
    if (instance.groupName !== group.name) {
      throw new AwsError(
        'ValidationError',
        `The instance ${instanceId} is not part of Auto Scaling group ${group.name}.`,
      );
    }
    return instance;
  }

  /** Brings the number of in-service (or launching) instances to the desired capacity. */
  private reconcile(group: SimGroup): void {
    if (this.stopped) return;
    const active = this.activeInstances(group);
    const missing = group.desiredCapacity - active.length;
    for (let i = 0; i < missing; i++) this.launchInstance(group, this.zoneWithFewest(group));
    for (let i = 0; i < -missing; i++) {
      const victim = this.scaleInVictim(group);
      if (!victim) break;
      this.beginGroupTermination(group, victim);
    }
  }

  private zoneCounts(group: SimGroup): Map<string, SimInstance[]> {
    const byZone = new Map<string, SimInstance[]>(group.zones.map((z) => [z, []]));
    for (const instance of this.activeInstances(group)) byZone.get(instance.zone)?.push(instance);
    return byZone;
  }

  private zoneWithFewest(group: SimGroup): string {
    let best = group.zones[0]!;
    let bestCount = Number.POSITIVE_INFINITY;
    for (const [zone, list] of this.zoneCounts(group)) {
      if (list.length < bestCount) {
        best = zone;
        bestCount = list.length;
      }
    }
    return best;
  }

  /** Default termination policy, simplified: the zone with the most instances, then the oldest launch. */
  private scaleInVictim(group: SimGroup): SimInstance | undefined {
    let candidates: SimInstance[] = [];
    for (const list of this.zoneCounts(group).values())
      if (list.length > candidates.length) candidates = list;
    return [...candidates].sort((a, b) => a.launchTime.getTime() - b.launchTime.getTime())[0];
  }

  /** Spot or on-demand for the next launch, from the group's instances distribution. */
  private nextCapacityType(group: SimGroup): CapacityType {
    const active = this.activeInstances(group);
    const onDemand = active.filter((i) => i.capacityType === 'ON_DEMAND').length;
    if (onDemand < group.onDemandBaseCapacity) return 'ON_DEMAND';
    const aboveBase = active.length + 1 - group.onDemandBaseCapacity;
    const wantedOnDemandAbove = Math.ceil((aboveBase * group.onDemandPercentageAboveBaseCapacity) / 100);
    return onDemand - group.onDemandBaseCapacity < wantedOnDemandAbove ? 'ON_DEMAND' : 'SPOT';
  }

  /**
   * Takes an instance out of service: terminate hooks run (Terminating:Wait) and the instance is
   * terminated when they complete. Without hooks it is terminated now — unless `untilGone`, used
   * for a spot interruption, where EC2 itself ends the instance when the notice runs out.
   */
  private beginGroupTermination(group: SimGroup, instance: SimInstance, opts: { untilGone?: boolean } = {}) {
    if (!instance.rebalancing && !this.isActive(instance)) return;
    delete instance.rebalancing;
    this.cancelActions(instance.instanceId);
    instance.lifecycleState = 'Terminating';
    if (this.startLifecycleActions(group, instance, 'autoscaling:EC2_INSTANCE_TERMINATING')) {
      instance.lifecycleState = 'Terminating:Wait';
      return;
    }
    if (opts.untilGone) return;
    instance.lifecycleState = 'Terminating:Proceed';
    this.ec2Terminate(instance);
  }

  // ---------------------------------------------------------------- internals: instance life

  private addPrewarmedInstance(group: SimGroup): SimInstance {
    const instance = this.newInstance(group, this.zoneWithFewest(group), this.nextCapacityType(group));
    instance.state = 'running';
    instance.lifecycleState = 'InService';
    instance.launchTime = new Date(Date.now() - 3600_000);
    if (group.cluster === this.clusterName) joinNode(this.store, instance, this.region, group.node);
    return instance;
  }

  private launchInstance(group: SimGroup, zone: string): SimInstance {
    const instance = this.newInstance(group, zone, this.nextCapacityType(group));
    this.emitStateChange(instance);
    if (this.startLifecycleActions(group, instance, 'autoscaling:EC2_INSTANCE_LAUNCHING')) {
      instance.lifecycleState = 'Pending:Wait';
    }
    this.after(this.stateChangeMs, () => {
      if (instance.state !== 'pending') return;
      this.setState(instance, 'running');
      if (instance.lifecycleState === 'Pending' || instance.lifecycleState === 'Pending:Proceed')
        this.enterService(instance);
    });
    this.after(this.bootDelayMs, () => {
      // Another cluster's kubelet registers with that cluster's API server, not ours.
      if (
        (instance.state === 'running' || instance.state === 'pending') &&
        group.cluster === this.clusterName
      )
        joinNode(this.store, instance, this.region, group.node);
    });
    return instance;
  }

  private enterService(instance: SimInstance) {
    const group = instance.groupName ? this.groupsByName.get(instance.groupName) : undefined;
    instance.lifecycleState = 'InService';
    if (!group) return;
    this.emitActivity(group, instance, 'EC2 Instance Launch Successful');
    const replaced = this.rebalanceReplacements.get(instance.instanceId);
    if (replaced) {
      this.rebalanceReplacements.delete(instance.instanceId);
      const old = this.instancesById.get(replaced);
      if (old?.rebalancing) this.beginGroupTermination(group, old);
    }
  }

  private abandonLaunch(instance: SimInstance) {
    const group = instance.groupName ? this.groupsByName.get(instance.groupName) : undefined;
    instance.lifecycleState = 'Terminating:Proceed';
    if (group)
      this.emitActivity(
        group,
        instance,
        'EC2 Instance Launch Unsuccessful',
        "Instance failed to complete user's Lifecycle Action: Lifecycle Action with token was abandoned: Lifecycle Action Completed with ABANDON Result",
      );
    this.ec2Terminate(instance, 'Client.UserInitiatedShutdown', { quiet: true });
    if (group) this.reconcile(group);
  }

  /** EC2 side of a termination: shutting-down now, terminated after stateChangeMs; the Node is deleted then. */
  private ec2Terminate(
    instance: SimInstance,
    reason = 'Client.UserInitiatedShutdown',
    opts: { quiet?: boolean } = {},
  ) {
    if (instance.state === 'terminated' || instance.state === 'shutting-down') return;
    this.setState(instance, 'shutting-down', reason);
    this.after(this.stateChangeMs, () => {
      this.setState(instance, 'terminated', reason);
      this.cancelActions(instance.instanceId);
      removeNode(this.store, instance.privateDnsName);
      const group = instance.groupName ? this.groupsByName.get(instance.groupName) : undefined;
      if (!group) return;
      const wasActive = this.isActive(instance);
      instance.lifecycleState = 'Terminated';
      group.instanceIds.delete(instance.instanceId);
      if (!opts.quiet) this.emitActivity(group, instance, 'EC2 Instance Terminate Successful');
      if (wasActive) this.reconcile(group);
    });
  }

  private newInstance(group: SimGroup, zone: string, capacityType: CapacityType): SimInstance {
    const ip = this.allocateIp(zone);
    const instanceId = this.newInstanceId();
    const instance: SimInstance = {
      instanceId,
      privateDnsName: this.dnsName(ip),
      privateIpAddress: ip,
      zone,
      subnetId: `subnet-${zoneSuffixHex(zone)}${'0'.repeat(16)}`.slice(0, 24),
      instanceType: group.instanceType,
      capacityType,
      ...(capacityType === 'SPOT' ? { spotInstanceRequestId: `sir-${randomBytes(4).toString('hex')}` } : {}),
      groupName: group.name,
      nodegroup: group.nodegroup,
      lifecycleState: 'Pending',
      state: 'pending',
      launchTime: new Date(),
      // As EC2 tags an Auto Scaling instance: the group's PropagateAtLaunch tags, the group name
      // and the launch template (aws:* keys are EC2's own and cannot be set by anyone else).
      tags: {
        ...Object.fromEntries(Object.entries(group.tags).filter(([k]) => group.propagateAtLaunch.has(k))),
        'aws:autoscaling:groupName': group.name,
        'aws:ec2launchtemplate:id': launchTemplateId(group.name),
        'aws:ec2launchtemplate:version': '1',
      },
    };
    this.instancesById.set(instanceId, instance);
    this.instancesByDns.set(instance.privateDnsName, instance);
    group.instanceIds.add(instanceId);
    return instance;
  }

  private newInstanceId(): string {
    for (;;) {
      const id = `i-${randomBytes(9).toString('hex').slice(0, 17)}`;
      if (!this.instancesById.has(id)) return id;
    }
  }

  /** 10.0.<zone block + n/250>.<n%250+4>: distinct per zone, like per-AZ subnets. */
  private allocateIp(zone: string): string {
    const n = this.ipCounters.get(zone) ?? 0;
    this.ipCounters.set(zone, n + 1);
    const zoneIndex = Math.max(0, this.zones.indexOf(zone));
    return `10.0.${zoneIndex * 64 + Math.floor(n / 250)}.${(n % 250) + 4}`;
  }

  private dnsName(ip: string): string {
    const host = `ip-${ip.replaceAll('.', '-')}`;
    return this.region === 'us-east-1' ? `${host}.ec2.internal` : `${host}.${this.region}.compute.internal`;
  }

  private setState(instance: SimInstance, state: InstanceState, reason?: string) {
    instance.state = state;
    if (reason) instance.stateReason = reason;
    this.emitStateChange(instance);
  }

  // ---------------------------------------------------------------- internals: events

  private emitStateChange(instance: SimInstance) {
    this.bus.emit(stateChangeNotification(instance, this.region));
  }

  private emitActivity(
    group: SimGroup,
    instance: SimInstance,
    detailType: ActivityDetailType,
    statusMessage?: string,
  ) {
    this.bus.emit(autoScalingActivity(group, instance, detailType, this.region, statusMessage));
  }

  private activity(group: SimGroup, description: string, cause: string): ActivityRecord {
    return {
      activityId: randomUUID(),
      groupName: group.name,
      description,
      cause,
      startTime: new Date(),
      statusCode: 'InProgress',
      progress: 50,
      details: JSON.stringify({ 'Availability Zone': group.zones.join(',') }),
    };
  }

  // ---------------------------------------------------------------- timers

  private after(ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        if (!this.stopped) fn();
      },
      Math.max(0, ms),
    );
    this.timers.add(timer);
    return timer;
  }

  private clearTimer(timer: NodeJS.Timeout) {
    clearTimeout(timer);
    this.timers.delete(timer);
  }
}

function zoneSuffixHex(zone: string): string {
  return Buffer.from(zone).toString('hex').slice(-8);
}
