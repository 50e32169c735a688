import { describe, expect, it } from 'vitest';
import { buildNodeObject } from '../../sim/k8s/node-factory.ts';

const spec = {
  name: 'ip-10-0-1-23.ec2.internal',
  instanceId: 'i-0123456789abcdef0',
  zone: 'us-east-1b',
  region: 'us-east-1',
  instanceType: 'm5.xlarge',
  capacityType: 'SPOT' as const,
  nodegroup: 'spot-b',
};

describe('buildNodeObject', () => {
  it('builds a Ready EKS managed node group node', () => {
    const node = buildNodeObject(spec);
    expect(node.metadata.labels).toMatchObject({
      'topology.kubernetes.io/zone': 'us-east-1b',
      'topology.kubernetes.io/region': 'us-east-1',
      'failure-domain.beta.kubernetes.io/zone': 'us-east-1b',
      'node.kubernetes.io/instance-type': 'm5.xlarge',
      'beta.kubernetes.io/instance-type': 'm5.xlarge',
      'kubernetes.io/hostname': spec.name,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'eks.amazonaws.com/capacityType': 'SPOT',
      'eks.amazonaws.com/nodegroup': 'spot-b',
    });
    expect(Object.keys(node.metadata.labels ?? {}).some((k) => k.startsWith('karpenter'))).toBe(false);
    expect(node.spec.providerID).toBe('aws:///us-east-1b/i-0123456789abcdef0');
    expect(node.spec.taints).toBeUndefined();
    expect(node.status.addresses).toEqual([
      { type: 'InternalIP', address: '10.0.1.23' },
      { type: 'InternalDNS', address: spec.name },
      { type: 'Hostname', address: spec.name },
    ]);
    const ready = node.status.conditions.find((c: { type: string }) => c.type === 'Ready');
    expect(ready).toMatchObject({
      status: 'True',
      reason: 'KubeletReady',
      message: 'kubelet is posting ready status',
    });
    expect(
      node.status.conditions.map((c: { type: string; status: string }) => `${c.type}=${c.status}`),
    ).toEqual(['MemoryPressure=False', 'DiskPressure=False', 'PIDPressure=False', 'Ready=True']);
    expect(node.status.nodeInfo.kubeletVersion).toMatch(/^v1\.30\.\d+-eks-[0-9a-f]+$/);
    expect(node.status.nodeInfo.systemUUID).toMatch(/^ec2/);
  });

  it('reserves cpu and memory like the EKS AMI and defaults to 4 cpu / 16Gi / 110 pods', () => {
    const node = buildNodeObject(spec);
    expect(node.status.capacity).toMatchObject({ cpu: '4', memory: '16777216Ki', pods: '110' });
    // 4 cores: 60m + 10m + 2 × 5m reserved; memory: 255Mi + 11Mi × 110 + 100Mi eviction threshold
    expect(node.status.allocatable.cpu).toBe('3920m');
    expect(node.status.allocatable.memory).toBe(`${(16384 - 255 - 1210 - 100) * 1024}Ki`);
  });

  it('takes the given size, taints and labels; Graviton types are arm64', () => {
    const node = buildNodeObject({
      ...spec,
      instanceType: 'm7g.2xlarge',
      cpu: '8',
      memory: '32Gi',
      maxPods: 58,
      taints: [{ key: 'spot', value: 'true', effect: 'NoSchedule' }],
      labels: { team: 'payments' },
    });
    expect(node.metadata.labels?.['kubernetes.io/arch']).toBe('arm64');
    expect(node.metadata.labels?.team).toBe('payments');
    expect(node.spec.taints).toEqual([{ key: 'spot', value: 'true', effect: 'NoSchedule' }]);
    expect(node.status.capacity.pods).toBe('58');
    expect(node.status.allocatable.cpu).toBe('7910m');
  });
});
