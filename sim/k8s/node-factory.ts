// Node objects as an EKS managed node group's kubelet registers them (EKS 1.30, Amazon Linux 2023).
// The AWS side of the simulator calls buildNodeObject when an instance boots.
import { createHash } from 'node:crypto';
import { parseBytes, parseMilliCpu } from '../../shared/k8s/quantity.ts';
import type { KObject } from './store.ts';

export interface SimNodeSpec {
  /** = EC2 PrivateDnsName, e.g. ip-10-0-1-23.ec2.internal */
  name: string;
  instanceId: string;
  zone: string;
  region: string;
  instanceType: string;
  capacityType: 'SPOT' | 'ON_DEMAND';
  nodegroup: string;
  /** default '4' */
  cpu?: string;
  /** default '16Gi' */
  memory?: string;
  /** default 110 */
  maxPods?: number;
  taints?: object[];
  labels?: Record<string, string>;
}

const KUBELET_VERSION = 'v1.30.11-eks-473151a';
const MiB = 2 ** 20;

export function buildNodeObject(spec: SimNodeSpec): KObject {
  const cpu = spec.cpu ?? '4';
  const memory = spec.memory ?? '16Gi';
  const maxPods = spec.maxPods ?? 110;
  const arch = isGraviton(spec.instanceType) ? 'arm64' : 'amd64';
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const capacity = {
    cpu,
    'ephemeral-storage': '20959212Ki',
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: `${Math.floor(parseBytes(memory) / 1024)}Ki`,
    pods: String(maxPods),
  };
  const allocatable = {
    ...capacity,
    cpu: `${parseMilliCpu(cpu) - eksReservedMilliCpu(parseMilliCpu(cpu))}m`,
    'ephemeral-storage': '18242267924',
    memory: `${Math.floor((parseBytes(memory) - eksReservedMemoryBytes(maxPods)) / 1024)}Ki`,
  };
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
    reason,
    message,
  });
  const internalIp = ipFromName(spec.name);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      labels: {
        'beta.kubernetes.io/arch': arch,
        'beta.kubernetes.io/instance-type': spec.instanceType,
        'beta.kubernetes.io/os': 'linux',
        'eks.amazonaws.com/capacityType': spec.capacityType,
        'eks.amazonaws.com/nodegroup': spec.nodegroup,
        'eks.amazonaws.com/nodegroup-image': 'ami-0b3d2a1c9e8f7a6b5',
        'eks.amazonaws.com/sourceLaunchTemplateVersion': '1',
        'failure-domain.beta.kubernetes.io/region': spec.region,
        'failure-domain.beta.kubernetes.io/zone': spec.zone,
        'k8s.io/cloud-provider-aws': '6d6b3c1e2f4a5b7c8d9e0f1a2b3c4d5e',
        'kubernetes.io/arch': arch,
        'kubernetes.io/hostname': spec.name,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': spec.instanceType,
        'topology.ebs.csi.aws.com/zone': spec.zone,
        'topology.k8s.aws/zone-id': zoneId(spec.zone),
        'topology.kubernetes.io/region': spec.region,
        'topology.kubernetes.io/zone': spec.zone,
        ...(spec.labels ?? {}),
      },
      annotations: {
        'alpha.kubernetes.io/provided-node-ip': internalIp,
        'csi.volume.kubernetes.io/nodeid': JSON.stringify({ 'ebs.csi.aws.com': spec.instanceId }),
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: {
      providerID: `aws:///${spec.zone}/${spec.instanceId}`,
      ...(spec.taints?.length ? { taints: structuredClone(spec.taints) } : {}),
    },
    status: {
      capacity,
      allocatable,
      conditions: [
        condition(
          'MemoryPressure',
          'False',
          'KubeletHasSufficientMemory',
          'kubelet has sufficient memory available',
        ),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: internalIp },
        { type: 'InternalDNS', address: spec.name },
        { type: 'Hostname', address: spec.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: arch,
        bootID: uuidFrom(`${spec.instanceId}/boot`),
        containerRuntimeVersion: 'containerd://1.7.27',
        kernelVersion: `6.1.134-152.225.amzn2023.${arch === 'arm64' ? 'aarch64' : 'x86_64'}`,
        kubeProxyVersion: KUBELET_VERSION,
        kubeletVersion: KUBELET_VERSION,
        machineID: createHash('md5').update(spec.instanceId).digest('hex'),
        operatingSystem: 'linux',
        osImage: 'Amazon Linux 2023.7.20250527',
        systemUUID: `ec2${uuidFrom(spec.instanceId).slice(3)}`,
      },
    },
  };
}

/** ip-10-0-1-23.ec2.internal → 10.0.1.23 (EC2 private DNS names encode the address). */
function ipFromName(name: string): string {
  const match = /^ip-(\d+)-(\d+)-(\d+)-(\d+)/.exec(name);
  return match ? match.slice(1, 5).join('.') : '10.0.0.1';
}

/** Graviton families carry a "g" after the generation digit: m6g, c7gn, r8g… */
const isGraviton = (instanceType: string): boolean => /^[a-z]+\d+g/.test(instanceType);

/** EKS AMI kube-reserved CPU: 6% of the first core, 1% of the second, 0.5% of the next two, 0.25% above. */
function eksReservedMilliCpu(milliCpu: number): number {
  const bands: [number, number][] = [
    [1000, 0.06],
    [1000, 0.01],
    [2000, 0.005],
    [Number.POSITIVE_INFINITY, 0.0025],
  ];
  let left = milliCpu;
  let reserved = 0;
  for (const [size, share] of bands) {
    const take = Math.min(left, size);
    reserved += take * share;
    left -= take;
  }
  return Math.round(reserved);
}

/** EKS AMI kube-reserved memory (255Mi + 11Mi per pod) plus the 100Mi hard eviction threshold. */
const eksReservedMemoryBytes = (maxPods: number): number => (255 + 11 * maxPods + 100) * MiB;

function uuidFrom(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** us-east-1a → use1-az1 style zone id (stable, not AWS's per-account mapping). */
function zoneId(zone: string): string {
  const match = /^([a-z]+)-([a-z]+)-(\d+)([a-z])$/.exec(zone);
  if (!match) return zone;
  const [, geo, direction, number, letter] = match;
  return `${geo}${direction![0]}${number}-az${letter!.charCodeAt(0) - 96}`;
}
