// The simulated fleet's data: groups, instances, lifecycle hooks (what the APIs describe).
import type { NodeExtras } from './node-sync.ts';

export type CapacityType = 'SPOT' | 'ON_DEMAND';
export type InstanceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';
export type LifecycleState =
  | 'Pending'
  | 'Pending:Wait'
  | 'Pending:Proceed'
  | 'InService'
  | 'Terminating'
  | 'Terminating:Wait'
  | 'Terminating:Proceed'
  | 'Terminated'
  | 'Detaching'
  | 'Detached';
export type LifecycleTransition =
  | 'autoscaling:EC2_INSTANCE_LAUNCHING'
  | 'autoscaling:EC2_INSTANCE_TERMINATING';
export type LifecycleResult = 'CONTINUE' | 'ABANDON';
export type InterruptionAction = 'terminate' | 'stop' | 'hibernate';

export const SPOT_NOTICE_MS = 120_000;

export interface SimInstance {
  instanceId: string;
  privateDnsName: string;
  privateIpAddress: string;
  zone: string;
  subnetId: string;
  instanceType: string;
  capacityType: CapacityType;
  spotInstanceRequestId?: string;
  groupName?: string;
  nodegroup: string;
  lifecycleState?: LifecycleState;
  state: InstanceState;
  stateReason?: string;
  launchTime: Date;
  tags: Record<string, string>;
  /** Set while a capacity-rebalance replacement is being launched for it. */
  rebalancing?: boolean;
  /** Epoch ms at which a pending spot interruption takes effect. */
  interruptionAt?: number;
}

export interface LifecycleHook {
  name: string;
  groupName: string;
  transition: LifecycleTransition;
  heartbeatTimeoutSeconds: number;
  defaultResult: LifecycleResult;
  notificationMetadata?: string;
  notificationTargetARN?: string;
  roleARN?: string;
}

export interface SimGroup {
  name: string;
  arn: string;
  zones: string[];
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  instanceType: string;
  onDemandBaseCapacity: number;
  onDemandPercentageAboveBaseCapacity: number;
  capacityRebalance: boolean;
  nodegroup: string;
  tags: Record<string, string>;
  hooks: Map<string, LifecycleHook>;
  /** Instances attached to the group (including ones on their way out). */
  instanceIds: Set<string>;
  createdTime: Date;
  node: NodeExtras;
}

export interface GroupSpec {
  name: string;
  zones: string[];
  capacityType: CapacityType;
  instanceType?: string;
  desired: number;
  min?: number;
  max?: number;
  capacityRebalance?: boolean;
  nodegroup?: string;
  hooks?: Array<
    Omit<LifecycleHook, 'groupName' | 'heartbeatTimeoutSeconds' | 'defaultResult'> & Partial<LifecycleHook>
  >;
  tags?: Record<string, string>;
  labels?: Record<string, string>;
  taints?: NodeExtras['taints'];
}

export interface ActivityRecord {
  activityId: string;
  groupName: string;
  description: string;
  cause: string;
  startTime: Date;
  statusCode: string;
  progress: number;
  details: string;
}

const STATE_CODES: Record<InstanceState, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export function instanceStateCode(state: InstanceState): number {
  return STATE_CODES[state];
}
