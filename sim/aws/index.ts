// The AWS side of the simulator in one call: event bus, fleet, SQS and the HTTP endpoint.
import type { Store } from '../k8s/store.ts';
import { SimAws } from './cloud.ts';
import { type ElbTimings, SimElbv2 } from './elbv2-model.ts';
import { EventBus } from './events.ts';
import { type AwsEndpoint, type FaultSource, startAwsEndpoint } from './server.ts';
import { SimSqs } from './sqs.ts';
import type { ThrottleRates } from './throttle.ts';

export type {
  ActivityRecord,
  CapacityType,
  GroupSpec,
  InterruptionAction,
  LifecycleHook,
  SimGroup,
  SimInstance,
} from './cloud.ts';
export { SimAws } from './cloud.ts';
export type { ElbTimings } from './elbv2-model.ts';
export { SimElbv2 } from './elbv2-model.ts';
export type { EventBridgeEvent, EventSubscriber } from './events.ts';
export { EventBus } from './events.ts';
export type { AwsEndpoint, AwsService, FaultSource } from './server.ts';
export { AwsRequestLog } from './server.ts';
export type { LambdaSqsEvent, LambdaSqsRecord, SqsBatchResponse, SqsEventHandler } from './sqs.ts';
export { SimSqs } from './sqs.ts';
export { validatePresignedCallerIdentity } from './sts-eks-api.ts';

export interface SimAwsSideOptions {
  store: Store;
  clusterName: string;
  region: string;
  zones: string[];
  /** The Kubernetes API URL DescribeCluster reports (resolved per request). */
  k8sUrl: () => string;
  kubernetesVersion?: string;
  faults?: FaultSource;
  port?: number;
  bootDelayMs?: number;
  interruptionNoticeMs?: number;
  stateChangeMs?: number;
  /** per-account AWS rate limits (default on); false = none */
  throttle?: ThrottleRates | false;
  elbTimings?: Partial<ElbTimings>;
}

export interface SimAwsSide {
  cloud: SimAws;
  sqs: SimSqs;
  elbv2: SimElbv2;
  events: EventBus;
  endpoint: AwsEndpoint;
  stop(): Promise<void>;
}

export async function startAwsSide(opts: SimAwsSideOptions): Promise<SimAwsSide> {
  const events = new EventBus(opts.region);
  const cloud = new SimAws({
    store: opts.store,
    events,
    clusterName: opts.clusterName,
    region: opts.region,
    zones: opts.zones,
    ...(opts.bootDelayMs !== undefined ? { bootDelayMs: opts.bootDelayMs } : {}),
    ...(opts.interruptionNoticeMs !== undefined ? { interruptionNoticeMs: opts.interruptionNoticeMs } : {}),
    ...(opts.stateChangeMs !== undefined ? { stateChangeMs: opts.stateChangeMs } : {}),
  });
  const sqs = new SimSqs({ region: opts.region });
  const elbv2 = new SimElbv2(opts.region, opts.elbTimings);
  const endpoint = await startAwsEndpoint({
    cloud,
    sqs,
    elbv2,
    ...(opts.faults ? { faults: opts.faults } : {}),
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(opts.throttle !== undefined ? { throttle: opts.throttle } : {}),
    cluster: {
      name: opts.clusterName,
      region: opts.region,
      endpoint: opts.k8sUrl,
      version: opts.kubernetesVersion ?? '1.30',
      createdAt: new Date(),
    },
  });
  return {
    cloud,
    sqs,
    elbv2,
    events,
    endpoint,
    async stop() {
      cloud.stop();
      sqs.stop();
      await endpoint.stop();
    },
  };
}
