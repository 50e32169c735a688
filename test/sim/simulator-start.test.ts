import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventBridgeEvent, type Simulator, startSimulator } from '../../sim/index.ts';
import { loadScenario, parseScenario } from '../../sim/scenario.ts';

const run = promisify(execFile);
const DEFAULT_SCENARIO = new URL('../../sim/scenarios/default.yaml', import.meta.url).pathname;

describe('startSimulator with the default scenario', () => {
  let sim: Simulator;
  let dir: string;
  const events: EventBridgeEvent[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spotguard-sim-'));
    const scenario = loadScenario(DEFAULT_SCENARIO);
    sim = await startSimulator({
      scenario: { ...scenario, events: [] },
      bootDelayMs: 200,
      podStartMs: 50,
      podTerminationMs: 50,
      volumeDetachMs: 50,
      interruptionNoticeMs: 1_500,
      kubeconfigOut: join(dir, 'kubeconfig'),
    });
    sim.events.subscribe((e) => {
      events.push(e);
    });
    await sim.waitFor(
      () => sim.store.list('pods').filter((p) => p.status?.phase === 'Running').length === 6 + 4 + 3 + 3 + 9,
      15_000,
      'every scenario pod Running',
    );
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('serves the nodes through client-node and kubectl, consistent with EC2', async () => {
    const core = sim.kubeConfig().makeApiClient(CoreV1Api);
    const nodes = (await core.listNode()).items;
    expect(nodes).toHaveLength(9);
    const ec2 = new EC2Client(sim.awsClientConfig());
    const reservations = (
      await ec2.send(
        new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['running'] }] }),
      )
    ).Reservations!;
    // The neighbour cluster's instance runs in the same account; its node is in its own API server.
    const all = reservations.flatMap((r) => r.Instances!);
    const instances = all.filter((i) =>
      i.Tags!.some((t) => t.Key === 'eks:cluster-name' && t.Value === sim.clusterName),
    );
    expect(all.length - instances.length).toBe(1);
    expect(instances.map((i) => i.PrivateDnsName).sort()).toEqual(nodes.map((n) => n.metadata!.name).sort());
    for (const node of nodes) {
      const instance = instances.find((i) => i.PrivateDnsName === node.metadata!.name)!;
      expect(node.spec!.providerID).toBe(
        `aws:///${instance.Placement!.AvailabilityZone}/${instance.InstanceId}`,
      );
      expect(node.metadata!.labels!['topology.kubernetes.io/zone']).toBe(
        instance.Placement!.AvailabilityZone,
      );
    }
    expect(readFileSync(join(dir, 'kubeconfig'), 'utf8')).toBe(sim.kubeconfig);
    const { stdout } = await run('kubectl', ['get', 'nodes', '-o', 'json'], {
      env: { ...process.env, KUBECONFIG: join(dir, 'kubeconfig') },
    });
    expect(JSON.parse(stdout).items).toHaveLength(9);
  });

  it('runs the StatefulSet on zonal volumes and reports the k8s URL through EKS', async () => {
    const pvcs = sim.store.list('persistentvolumeclaims', { namespace: 'default' });
    expect(pvcs.map((p) => p.status?.phase)).toEqual(['Bound', 'Bound', 'Bound']);
    const dbZones = ['db-0', 'db-1', 'db-2'].map((name) => {
      const node = sim.store.get('nodes', undefined, sim.store.get('pods', 'default', name)!.spec.nodeName)!;
      return node.metadata.labels!['topology.kubernetes.io/zone'];
    });
    expect(new Set(dbZones).size).toBe(3);
    const eks = new EKSClient(sim.awsClientConfig());
    const cluster = await eks.send(new DescribeClusterCommand({ name: 'spotguard-sim' }));
    expect(cluster.cluster!.endpoint).toBe(sim.k8sUrl);
  });

  it('a spot interruption of the stateful pod node: warning, node gone at the deadline, replacement in the same zone', async () => {
    const pod = sim.store.get('pods', 'default', 'db-0')!;
    const instance = sim.aws.instanceByNodeName(pod.spec.nodeName)!;
    sim.aws.interruptSpot(instance.instanceId);
    const itn = events.find((e) => e['detail-type'] === 'EC2 Spot Instance Interruption Warning')!;
    expect(itn.detail['instance-id']).toBe(instance.instanceId);
    await sim.waitFor(
      () => !sim.store.get('nodes', undefined, instance.privateDnsName),
      5_000,
      'interrupted node deleted',
    );
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(itn.time) + 120_000 - 1_000);
    const group = sim.aws.group(instance.groupName!)!;
    await sim.waitFor(
      () =>
        sim.aws
          .groupInstances(group)
          .filter(
            (i) => i.lifecycleState === 'InService' && sim.store.get('nodes', undefined, i.privateDnsName),
          ).length === 2,
      5_000,
      'replacement node joined',
    );
    expect(sim.aws.groupInstances(group).every((i) => i.zone === instance.zone)).toBe(true);
    expect(sim.awsRequests.count('ec2', 'DescribeInstances')).toBe(1);
  });
});

describe('startSimulator defaults and scenarios', () => {
  it('default layout: one spot group per zone plus on-demand, sized by nodes and spotShare', async () => {
    const sim = await startSimulator({ nodes: 10, spotShare: 0.8 });
    try {
      expect(sim.zones).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
      const sizes = Object.fromEntries(sim.aws.groups().map((g) => [g.name, g.desiredCapacity]));
      expect(sizes).toEqual({
        'spot-us-east-1a': 3,
        'spot-us-east-1b': 3,
        'spot-us-east-1c': 2,
        'on-demand': 2,
        'eks-neighbour-spot-us-east-1a': 1,
      });
      expect(sim.store.count('nodes')).toBe(10);
      const own = sim.aws.instances().filter((i) => i.tags['eks:cluster-name'] === sim.clusterName);
      expect(own.filter((i) => i.capacityType === 'SPOT')).toHaveLength(8);
    } finally {
      await sim.stop();
    }
  });

  it('runs timed scenario events', async () => {
    const seen: string[] = [];
    const sim = await startSimulator({
      nodes: 3,
      spotShare: 1,
      interruptionNoticeMs: 200,
      scenario: {
        events: [
          { at: '100ms', interrupt: { group: 'spot-us-east-1a' } },
          { at: '150ms', rebalance: { group: 'spot-us-east-1b' } },
        ],
      },
    });
    sim.events.subscribe((e) => {
      seen.push(e['detail-type']);
    });
    try {
      await sim.waitFor(
        () => seen.includes('EC2 Instance Rebalance Recommendation'),
        3_000,
        'scenario events',
      );
      expect(seen[0]).toBe('EC2 Spot Instance Interruption Warning');
    } finally {
      await sim.stop();
    }
  });

  it('names the bad field of an invalid scenario', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spotguard-scenario-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'nodeGroups:\n  - name: x\n    zone: us-east-1a\n    capacityType: RESERVED\n    desired: 1\nevents:\n  - at: soon\n    scaleIn: { group: x }\n',
    );
    expect(() => loadScenario(file)).toThrow(/nodeGroups\.0\.capacityType/);
    expect(() => loadScenario(file)).toThrow(/events\.0\.at/);
    expect(() => parseScenario({ events: [{ at: 1, interrupt: { group: 'a', node: 'b' } }] })).toThrow(
      /exactly one of instance, node, group, pod/,
    );
  });
});
