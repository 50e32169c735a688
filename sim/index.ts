// The simulator assembled: object store, Kubernetes API, controllers and kubelets, the AWS side
// (Auto Scaling, EC2, EKS, STS, SQS on one endpoint, EventBridge bus) and an optional scenario.

import { readFileSync, writeFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { EventInput } from './aws/events.ts';
import {
  type AwsRequestLog,
  type ElbTimings,
  type EventBus,
  type GroupSpec,
  type SimAws,
  type SimElbv2,
  type SimSqs,
  startAwsSide,
} from './aws/index.ts';
import type { SimLambdaFunctions } from './aws/lambda-api.ts';
import { alarmStateChange, scheduledEvent } from './aws/scenario-events.ts';
import type { ThrottleRates } from './aws/throttle.ts';
import { FaultInjector } from './faults.ts';
import { createObject } from './k8s/api/crud.ts';
import type { InflightLimits, InflightStats } from './k8s/api/inflight.ts';
import { RESOURCES } from './k8s/api/resources.ts';
import { kubeconfigYaml, type RequestLog, startKubeApi } from './k8s/api/server.ts';
import { startControllers } from './k8s/controllers/index.ts';
import { LoadBalancerController } from './k8s/controllers/lb-controller.ts';
import { type KObject, Store } from './k8s/store.ts';
import { prewarmDeployments } from './prewarm.ts';
import {
  durationMs,
  expandEvents,
  hookTransition,
  loadScenario,
  parseScenario,
  type Scenario,
  type ScenarioEvent,
  type ScenarioInput,
  type ScenarioNodeGroup,
  type ScenarioTarget,
} from './scenario.ts';
import { ServingIndex } from './traffic/serving.ts';

export type { EventBridgeEvent } from './aws/events.ts';
export type { Scenario, ScenarioInput } from './scenario.ts';

export interface SimulatorOptions {
  clusterName?: string;
  region?: string;
  /** default: a, b, c of the region */
  zones?: string[];
  /** default 6 (ignored when the scenario has nodeGroups) */
  nodes?: number;
  /** default 0.9 */
  spotShare?: number;
  /** Kubernetes API port, 0 (default) = random */
  port?: number;
  /** AWS endpoint port, 0 (default) = random */
  awsPort?: number;
  /** a launched instance's Node joins Ready after this long (default 10 000) */
  bootDelayMs?: number;
  podStartMs?: number;
  podTerminationMs?: number;
  volumeDetachMs?: number;
  /** spot notice length (default 120 000); see sim/aws/cloud.ts for how the warning time is back-dated */
  interruptionNoticeMs?: number;
  servePolicyV1?: boolean;
  /** a Scenario object or the path of a YAML file */
  scenario?: ScenarioInput | string;
  /** write the kubeconfig here once the API answers */
  kubeconfigOut?: string;
  /** scenario time compression: event times are divided by this (default 1) */
  speed?: number;
  /** seeds the scenario's storms (which moment each interruption lands; default 1) */
  seed?: number;
  /** true: the scenario's events wait for `startScenario()` (e.g. until the workloads are Ready) */
  holdScenario?: boolean;
  /** called when a scenario event cannot be carried out (default: console.error) */
  onScenarioError?: (error: Error, event: ScenarioEvent) => void;
  /** kube-apiserver max-in-flight limits (default 400 / 200, as its flags) */
  inflight?: InflightLimits;
  /** per-account AWS rate limits (default: sim/aws/throttle.ts); false = none */
  awsThrottle?: ThrottleRates | false;
  /** ELBv2 health-check, propagation and time-scale settings (sim/aws/elbv2-model.ts) */
  elbTimings?: Partial<ElbTimings>;
  /** AWS Load Balancer Controller: endpoint change → target (de)registration (default 500 ms) */
  lbControllerReactionMs?: number;
}

export interface AwsClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
}

export interface Simulator {
  clusterName: string;
  region: string;
  zones: string[];
  k8sUrl: string;
  awsEndpoint: string;
  /** kubeconfig YAML for the simulated cluster */
  kubeconfig: string;
  store: Store;
  faults: FaultInjector;
  aws: SimAws;
  sqs: SimSqs;
  /** ELBv2 target groups, kept in sync with TargetGroupBindings by the simulated LB controller */
  elbv2: SimElbv2;
  /** whether a pod IP / instance answers requests now (sim/traffic) */
  serving: ServingIndex;
  events: Pick<EventBus, 'subscribe' | 'emitted'>;
  kubeRequests: RequestLog;
  kubeInflight: InflightStats;
  awsRequests: AwsRequestLog;
  /** throttling errors the AWS side sent, per bucket (empty when throttling is off) */
  awsThrottled: ReadonlyMap<string, number>;
  /** Lambda Invoke on the AWS endpoint reaches the functions registered here. */
  lambda: Pick<SimLambdaFunctions, 'register'>;
  scenario: Scenario | undefined;
  kubeConfig(): KubeConfig;
  awsClientConfig(): AwsClientConfig;
  applyManifests(objs: KObject[]): void;
  /** starts the scenario's clock (only needed with holdScenario) */
  startScenario(): void;
  waitFor(pred: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const scenario =
    typeof opts.scenario === 'string'
      ? loadScenario(opts.scenario)
      : opts.scenario
        ? parseScenario(opts.scenario)
        : undefined;
  const clusterName = opts.clusterName ?? scenario?.cluster.name ?? 'spotguard-sim';
  const region = opts.region ?? scenario?.cluster.region ?? 'us-east-1';
  const zones = opts.zones ?? scenario?.cluster.zones ?? ['a', 'b', 'c'].map((z) => `${region}${z}`);
  const store = new Store();
  const faults = new FaultInjector();
  const kube = await startKubeApi({
    store,
    faults,
    clusterName,
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(opts.servePolicyV1 !== undefined ? { servePolicyV1: opts.servePolicyV1 } : {}),
    ...(opts.inflight ? { inflight: opts.inflight } : {}),
  });
  const awsSide = await startAwsSide({
    store,
    clusterName,
    region,
    zones,
    faults,
    k8sUrl: () => kube.url,
    ...(opts.awsPort !== undefined ? { port: opts.awsPort } : {}),
    ...(opts.bootDelayMs !== undefined ? { bootDelayMs: opts.bootDelayMs } : {}),
    ...(opts.interruptionNoticeMs !== undefined ? { interruptionNoticeMs: opts.interruptionNoticeMs } : {}),
    ...(opts.awsThrottle !== undefined ? { throttle: opts.awsThrottle } : {}),
    ...(opts.elbTimings ? { elbTimings: opts.elbTimings } : {}),
  });
  const cloud = awsSide.cloud;

  const groups = scenario?.nodeGroups
    ? scenario.nodeGroups.map((g) => groupSpecFromScenario(g))
    : defaultGroups(zones, opts.nodes ?? scenario?.nodes ?? 6, opts.spotShare ?? scenario?.spotShare ?? 0.9);
  for (const group of groups) cloud.createGroup(group);

  const applyManifests = (objs: KObject[]) => applyToStore(store, objs);
  if (scenario) applyManifests(scenario.workloads as KObject[]);
  // what a deployed spotguard has: its namespace and RBAC objects (infra/rbac.yaml), unless the scenario brought them
  applyManifests(spotguardInstallation().filter((o) => !existsIn(store, o)));
  // before the controllers start, so they adopt the running pods instead of scheduling them
  prewarmDeployments(store);

  const controllers = startControllers(store, {
    ...(opts.podStartMs !== undefined ? { podStartMs: opts.podStartMs } : {}),
    ...(opts.podTerminationMs !== undefined ? { podTerminationMs: opts.podTerminationMs } : {}),
    ...(opts.volumeDetachMs !== undefined ? { volumeDetachMs: opts.volumeDetachMs } : {}),
  });

  // health checks pass for targets that serve (sim/traffic/serving.ts)
  const serving = new ServingIndex(store);
  awsSide.elbv2.setHealthProbe((group, target) => !serving.refusal(group.targetType, target.id));
  const lbController = new LoadBalancerController(store, awsSide.elbv2, {
    ...(opts.lbControllerReactionMs !== undefined ? { reactionMs: opts.lbControllerReactionMs } : {}),
  });

  const onScenarioError =
    opts.onScenarioError ??
    ((error, event) => console.error(`scenario event at ${event.at} failed: ${error.message}`));
  const planned = expandEvents(scenario?.events ?? [], { seed: opts.seed ?? 1, speed: opts.speed ?? 1 });
  const scenarioTimers: NodeJS.Timeout[] = [];
  const startScenario = () => {
    if (scenarioTimers.length || planned.length === 0) return;
    scenarioTimers.push(
      ...scheduleScenarioEvents(planned, (event) => {
        try {
          runScenarioEvent(cloud, store, event, (e) => awsSide.events.emit(e));
        } catch (error) {
          onScenarioError(error as Error, event);
        }
      }),
    );
  };
  if (!opts.holdScenario) startScenario();

  const kubeconfig = kubeconfigYaml(kube.url, { clusterName });
  if (opts.kubeconfigOut) writeFileSync(opts.kubeconfigOut, kubeconfig, { mode: 0o600 });

  let stopped = false;
  return {
    clusterName,
    region,
    zones,
    k8sUrl: kube.url,
    awsEndpoint: awsSide.endpoint.url,
    kubeconfig,
    store,
    faults,
    aws: cloud,
    sqs: awsSide.sqs,
    elbv2: awsSide.elbv2,
    serving,
    events: awsSide.events,
    kubeRequests: kube.requests,
    kubeInflight: kube.inflight,
    awsRequests: awsSide.endpoint.requests,
    awsThrottled: awsSide.endpoint.throttle?.throttled ?? new Map(),
    lambda: awsSide.endpoint.lambda,
    scenario,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromString(kubeconfig);
      return kc;
    },
    awsClientConfig() {
      return {
        endpoint: awsSide.endpoint.url,
        region,
        credentials: {
          accessKeyId: 'ASIASIMULATOR',
          secretAccessKey: 'simulator-secret',
          sessionToken: 'simulator-session',
        },
      };
    },
    applyManifests,
    startScenario,
    waitFor: (pred, timeoutMs = 10_000, what = 'condition') => waitFor(pred, timeoutMs, what),
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const timer of scenarioTimers) clearTimeout(timer);
      controllers.stop();
      lbController.stop();
      serving.stop();
      await awsSide.stop();
      await kube.stop();
    },
  };
}

/** One spot group per zone (`spot-<zone>`) plus one on-demand group across the zones. */
export function defaultGroups(zones: string[], nodes: number, spotShare: number): GroupSpec[] {
  const spot = Math.round(nodes * spotShare);
  const onDemand = nodes - spot;
  const groups: GroupSpec[] = zones.map((zone, i) => ({
    name: `spot-${zone}`,
    zones: [zone],
    capacityType: 'SPOT',
    desired: Math.floor(spot / zones.length) + (i < spot % zones.length ? 1 : 0),
    capacityRebalance: true,
  }));
  groups.push({ name: 'on-demand', zones, capacityType: 'ON_DEMAND', desired: onDemand });
  return [...groups, ...neighbourGroups(zones)].map((g) => ({
    ...g,
    max: Math.max(10, g.desired * 2),
    nodegroup: g.nodegroup ?? g.name,
  }));
}

/** Cluster sharing the account in the default fleet: its events reach spotguard, its nodes never. */
export const NEIGHBOUR_CLUSTER = 'neighbour';

/**
 * Another team's EKS cluster in the same account and region, running its own spotguard (same hook
 * name): its groups, instances and events are real, its nodes are in its own API server.
 */
export function neighbourGroups(zones: string[]): GroupSpec[] {
  return [
    {
      name: `eks-${NEIGHBOUR_CLUSTER}-spot-${zones[0]}`,
      nodegroup: 'spot',
      cluster: NEIGHBOUR_CLUSTER,
      zones: [zones[0]!],
      capacityType: 'SPOT',
      desired: 1,
      capacityRebalance: true,
      hooks: [
        {
          name: 'spotguard-terminate',
          transition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          heartbeatTimeoutSeconds: 300,
          defaultResult: 'CONTINUE',
        },
      ],
    },
  ];
}

function groupSpecFromScenario(g: ScenarioNodeGroup): GroupSpec {
  return {
    name: g.name,
    zones: g.zones ?? [g.zone!],
    capacityType: g.capacityType,
    instanceType: g.instanceType,
    desired: g.desired,
    ...(g.min !== undefined ? { min: g.min } : {}),
    ...(g.max !== undefined ? { max: g.max } : {}),
    ...(g.capacityRebalance !== undefined ? { capacityRebalance: g.capacityRebalance } : {}),
    ...(g.cluster ? { cluster: g.cluster } : {}),
    ...(g.labels ? { labels: g.labels } : {}),
    ...(g.taints ? { taints: g.taints } : {}),
    hooks: g.lifecycleHooks.map((h) => ({
      name: h.name,
      transition: hookTransition(h.transition),
      heartbeatTimeoutSeconds: h.heartbeatTimeout,
      defaultResult: h.defaultResult,
      ...(h.notificationMetadata !== undefined ? { notificationMetadata: h.notificationMetadata } : {}),
    })),
  };
}

function existsIn(store: Store, obj: KObject): boolean {
  const type = RESOURCES.find((t) => t.kind === obj.kind);
  return (
    !!type &&
    !!store.get(type.storeKey, type.namespaced ? obj.metadata.namespace : undefined, obj.metadata.name)
  );
}

function spotguardInstallation(): KObject[] {
  const text = readFileSync(new URL('../infra/rbac.yaml', import.meta.url), 'utf8');
  return parseAllDocuments(text).map((d) => d.toJSON() as KObject);
}

/** Creates manifests as the API server would (defaults, namespace checks): namespaces and classes first. */
function applyToStore(store: Store, objs: KObject[]): void {
  const first = new Set(['Namespace', 'StorageClass', 'PriorityClass']);
  const ordered = [...objs.filter((o) => first.has(o.kind)), ...objs.filter((o) => !first.has(o.kind))];
  for (const obj of ordered) {
    const group = obj.apiVersion.includes('/') ? obj.apiVersion.split('/')[0]! : '';
    const type = RESOURCES.find((t) => t.kind === obj.kind && t.group === group);
    if (!type)
      throw new Error(
        `applyManifests: the simulator does not serve kind ${obj.kind} (${obj.apiVersion}) of ${obj.metadata?.name}`,
      );
    createObject(
      { store, type, namespace: type.namespaced ? (obj.metadata.namespace ?? 'default') : '' },
      obj,
      false,
    );
  }
}

function scheduleScenarioEvents(
  events: Array<{ atMs: number; event: ScenarioEvent }>,
  run: (event: ScenarioEvent) => void,
): NodeJS.Timeout[] {
  return events.map(({ atMs, event }) => setTimeout(() => run(event), atMs));
}

function runScenarioEvent(
  cloud: SimAws,
  store: Store,
  event: ScenarioEvent,
  emit: (e: EventInput) => void,
): void {
  if (event.alarm) emit(alarmStateChange(cloud.region, event.alarm));
  else if (event.rebalancer) emit(scheduledEvent(cloud.region, event.rebalancer.rule));
  else if (event.setDesired) cloud.setDesiredCapacity(event.setDesired.group, event.setDesired.desired);
  else if (event.interrupt) {
    const target = resolveTarget(cloud, store, event.interrupt, { spotOnly: true });
    cloud.interruptSpot(target, event.interrupt.action ? { action: event.interrupt.action } : {});
  } else if (event.rebalance)
    cloud.recommendRebalance(resolveTarget(cloud, store, event.rebalance, { spotOnly: true }));
  else if (event.stop) cloud.stopInstance(resolveTarget(cloud, store, event.stop));
  else if (event.start) cloud.startInstance(resolveTarget(cloud, store, event.start, { state: 'stopped' }));
  else if (event.terminate) cloud.terminateInstance(resolveTarget(cloud, store, event.terminate));
  else if (event.scaleIn) cloud.scaleIn(event.scaleIn.group, event.scaleIn.count);
  else if (event.maintenance) {
    const id = resolveTarget(cloud, store, event.maintenance);
    cloud.scheduleMaintenance([id], new Date(Date.now() + durationMs(event.maintenance.in)), {
      eventTypeCode:
        event.maintenance.type === 'stop'
          ? 'AWS_EC2_INSTANCE_STOP_SCHEDULED'
          : 'AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED',
    });
  }
}

/** The instance id an event names (by id, node name, group, or the node running a pod). */
export function resolveTarget(
  cloud: SimAws,
  store: Store,
  target: ScenarioTarget,
  opts: { spotOnly?: boolean; state?: 'running' | 'stopped' } = {},
): string {
  const state = opts.state ?? 'running';
  if (target.instance) return cloud.requireInstance(target.instance).instanceId;
  let nodeName = target.node;
  if (target.pod) {
    const [namespace, name] = target.pod.includes('/') ? target.pod.split('/') : ['default', target.pod];
    const pod = store.get('pods', namespace, name!);
    nodeName = pod?.spec?.nodeName;
    if (!nodeName) throw new Error(`pod ${target.pod} is not on a node`);
  }
  if (nodeName) {
    const instance = cloud.instanceByNodeName(nodeName);
    if (!instance) throw new Error(`no instance behind node ${nodeName}`);
    return instance.instanceId;
  }
  const group = cloud.requireGroup(target.group!);
  const candidate = cloud
    .groupInstances(group)
    .find(
      (i) =>
        i.state === state &&
        (i.lifecycleState === 'InService' || state === 'stopped') &&
        (!opts.spotOnly || i.capacityType === 'SPOT') &&
        i.interruptionAt === undefined,
    );
  if (!candidate)
    throw new Error(`group ${group.name} has no ${state}${opts.spotOnly ? ' spot' : ''} instance to target`);
  return candidate.instanceId;
}

async function waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
