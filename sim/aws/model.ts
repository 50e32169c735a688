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
  /** The EKS cluster the group's nodes join; only this simulator's cluster has them in its API. */
  cluster: string;
  tags: Record<string, string>;
  /** Tag keys with PropagateAtLaunch=true: only these are copied to instances the group launches. */
  propagateAtLaunch: Set<string>;
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
  /**
   * An EKS managed node group of another cluster in the same account (default: the simulator's).
   * Its instances run and emit events, but their nodes are not in this simulator's Kubernetes API.
   */
  cluster?: string;
  /** Extra group tags, PropagateAtLaunch=false (as infra/lifecycle-hook.* adds the managed tag). */
  tags?: Record<string, string>;
  /** Extra group tags with PropagateAtLaunch=true (copied to instances launched after). */
  propagatedTags?: Record<string, string>;
  /** Leave the managed tag off the group (default: on for the simulator's own cluster). */
  unmanaged?: boolean;
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

/**
 * The tag infra/lifecycle-hook.* puts on a group spotguard manages (not propagated); its value is
 * the cluster's name, so every install's IAM condition and check is scoped to its own cluster.
 */
export const MANAGED_TAG_KEY = 'spotguard.io/managed';

/** The launch template id EC2 and Auto Scaling report for a group's instances. */
export function launchTemplateId(groupName: string): string {
  return `lt-${Buffer.from(groupName).toString('hex').padEnd(17, '0').slice(0, 17)}`;
}
