// Spot interruption warning, end to end: simulator ITN → real Lambda handler → cordon, taint,
// drain, replacement; also the SQS-wrapped form, redelivery, stop/hibernate and foreign instances.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import { createRuntime, processInput } from '../../shared/runtime.ts';
import {
  deploymentWithPdb,
  type E2E,
  eventsAbout,
  metricTotal,
  nodeOf,
  podsOn,
  readyPods,
  startE2E,
} from './harness.ts';

let e: E2E;

beforeAll(async () => {
  e = await startE2E({
    scenario: {
      cluster: { name: 'e2e-itn', region: 'us-east-1', zones: ['us-east-1a', 'us-east-1b', 'us-east-1c'] },
      nodeGroups: [
        // Without Capacity Rebalancing the group would replace only after the instance is gone: spotguard detaches.
        {
          name: 'spot-a',
          zone: 'us-east-1a',
          capacityType: 'SPOT',
          desired: 2,
          max: 5,
          capacityRebalance: false,
        },
        // With it, the group starts replacing at the notice: spotguard must not add a second replacement.
        {
          name: 'spot-b',
          zone: 'us-east-1b',
          capacityType: 'SPOT',
          desired: 2,
          max: 5,
          capacityRebalance: true,
        },
        { name: 'spot-c', zone: 'us-east-1c', capacityType: 'SPOT', desired: 2, max: 5 },
      ],
      workloads: [...deploymentWithPdb('web', 6), ...deploymentWithPdb('api', 4)],
    },
  });
  await e.sim.waitFor(() => readyPods(e.sim, 'default', 'app', 'web').length === 6, 15_000, 'web ready');
  await e.sim.waitFor(() => readyPods(e.sim, 'default', 'app', 'api').length === 4, 15_000, 'api ready');
}, 60_000);

afterAll(async () => {
  await e?.stop();
});

function busiestNode(group: string): { instanceId: string; node: string } {
  const candidates = e.sim.aws
    .instances()
    .filter((i) => i.groupName === group && i.state === 'running')
    .map((i) => ({ instanceId: i.instanceId, node: i.privateDnsName }));
  candidates.sort((a, b) => podsOn(e.sim, b.node).length - podsOn(e.sim, a.node).length);
  return candidates[0]!;
}

describe('spot interruption warning (terminate)', () => {
  it('cordons and taints the node, evicts its pods, launches a replacement and emits metrics and events', async () => {
    const { instanceId, node } = busiestNode('spot-a');
    const podsBefore = podsOn(e.sim, node).filter(
      (p) => !p.metadata.ownerReferences?.some((o: { kind: string }) => o.kind === 'DaemonSet'),
    );
    expect(podsBefore.length).toBeGreaterThan(0);
    const groupBefore = e.sim.aws.group('spot-a')!;
    const membersBefore = new Set(groupBefore.instanceIds);

    e.sim.aws.interruptSpot(instanceId);
    await e.sim.waitFor(() => e.reports().some((r) => r.instanceId === instanceId), 30_000, 'ITN handled');
    const report = e.reports().find((r) => r.instanceId === instanceId)!;
    expect(report.kind).toBe('spot-interruption');
    expect(report.outcome).toBe('handled');
    expect(report.drain?.complete).toBe(true);
    expect(report.drain?.deadlineMissed).toBe(false);

    const nodeObj = e.sim.store.get('nodes', undefined, node)!;
    expect(nodeObj.spec.unschedulable).toBe(true);
    expect(nodeObj.spec.taints).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'spotguard.io/spot-interruption', effect: 'NoSchedule' }),
      ]),
    );
    expect(nodeObj.metadata.annotations?.['spotguard.io/cordoned-by']).toBeTruthy();
    // Every evictable pod left the node and came back Ready elsewhere, within the PDBs.
    expect(
      podsOn(e.sim, node).filter(
        (p) => !p.metadata.ownerReferences?.some((o: { kind: string }) => o.kind === 'DaemonSet'),
      ),
    ).toHaveLength(0);
    await e.sim.waitFor(
      () => readyPods(e.sim, 'default', 'app', 'web').length === 6,
      20_000,
      'web ready again',
    );
    // Replacement: detached from the group without lowering desired → the group launched a new instance.
    const group = e.sim.aws.group('spot-a')!;
    expect(group.instanceIds.has(instanceId)).toBe(false);
    expect([...group.instanceIds].some((id) => !membersBefore.has(id))).toBe(true);
    expect(report.replacement).toMatchObject({ action: 'detach', group: 'spot-a' });
    // Kubernetes events on the node and EMF metrics.
    const reasons = eventsAbout(e.sim, 'Node', node).map((ev) => ev.reason);
    expect(reasons).toEqual(expect.arrayContaining(['Cordon', 'DrainComplete']));
    expect(metricTotal(e.emf, 'PodsEvicted')).toBeGreaterThanOrEqual(podsBefore.length);
    expect(metricTotal(e.emf, 'InterruptedSpotPool')).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('a Capacity Rebalancing group already replacing the instance gets no second replacement', async () => {
    const { instanceId } = busiestNode('spot-b');
    const before = e.sim.aws.group('spot-b')!;
    const launchedBefore = before.instanceIds.size;
    e.sim.aws.interruptSpot(instanceId);
    await e.sim.waitFor(() => e.reports().some((r) => r.instanceId === instanceId), 30_000, 'ITN handled');
    const report = e.reports().find((r) => r.instanceId === instanceId)!;
    expect(report.replacement?.action).toBe('none');
    expect(report.replacement?.reason).toMatch(/Terminating|Capacity Rebalancing/);
    // The group's own replacement only: one more instance than before at most.
    expect(e.sim.aws.group('spot-b')!.instanceIds.size).toBeLessThanOrEqual(launchedBefore + 1);
    expect(e.sim.awsRequests.count('autoscaling', 'DetachInstances')).toBe(1);
  }, 60_000);

  it('redelivery of the same event is a no-op: no second eviction, reported as duplicate', async () => {
    const first = e.sim.events
      .emitted()
      .find((ev) => ev['detail-type'] === 'EC2 Spot Instance Interruption Warning')!;
    expect(first).toBeDefined();
    const evictionsBefore = e.sim.kubeRequests.byKey();
    const result = (await e.bridge.invoke('spot-interruption', first)) as {
      reports: Array<{ outcome: string }>;
    };
    expect(result.reports[0]!.outcome).toBe('duplicate');
    const evictionsAfter = e.sim.kubeRequests.byKey();
    const evictionCount = (m: Record<string, number>) =>
      Object.entries(m)
        .filter(([k]) => k.includes('eviction'))
        .reduce((n, [, v]) => n + v, 0);
    expect(evictionCount(evictionsAfter)).toBe(evictionCount(evictionsBefore));
  }, 30_000);

  it('the SQS-wrapped form is handled the same way and reports no batch failures', async () => {
    const { instanceId, node } = busiestNode('spot-c');
    const rt = await createRuntime({
      config: loadConfig(process.env),
      k8s: e.k8s,
      aws: awsClients(e.sim.awsClientConfig()),
    });
    const itn = {
      version: '0',
      id: '0b0c2f4e-52a1-4c3e-9a3e-1f2d3c4b5a69',
      'detail-type': 'EC2 Spot Instance Interruption Warning',
      source: 'aws.ec2',
      account: '123456789012',
      time: new Date(Date.now() - 90_000).toISOString().replace(/\.\d+Z$/, 'Z'),
      region: 'us-east-1',
      resources: [`arn:aws:ec2:us-east-1c:123456789012:instance/${instanceId}`],
      detail: { 'instance-id': instanceId, 'instance-action': 'terminate' },
    };
    const sqsEvent = {
      Records: [
        {
          messageId: 'c80e8021-a70a-42c7-a470-796e1186f753',
          receiptHandle: 'AQEBJQ+/u6NsnT5t8Q/VbVxgdUl4TMKZ5FqhksRdIQvLBhwNvADoBxYSOVeCBXdnS9P+',
          body: JSON.stringify(itn),
          attributes: {
            ApproximateReceiveCount: '1',
            SentTimestamp: String(Date.now()),
            SenderId: 'AIDAEXAMPLE',
            ApproximateFirstReceiveTimestamp: String(Date.now()),
          },
          messageAttributes: {},
          md5OfBody: 'e4e68fb7bd0e697a0ae8f1bb342846b3',
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:spotguard-spot',
          awsRegion: 'us-east-1',
        },
      ],
    };
    const result = await processInput(rt, sqsEvent, { holder: 'test-sqs', remainingMs: () => 60_000 });
    expect(result.batchItemFailures).toEqual([]);
    expect(result.reports[0]).toMatchObject({
      kind: 'spot-interruption',
      outcome: 'handled',
      nodeName: node,
    });
    expect(e.sim.store.get('nodes', undefined, node)!.spec.unschedulable).toBe(true);
  }, 60_000);

  it('an instance that is not a node of this cluster is ignored: no error, no retry', async () => {
    const result = (await e.bridge.invoke('spot-interruption', {
      version: '0',
      id: '7a1b2c3d-0000-4000-8000-000000000001',
      'detail-type': 'EC2 Spot Instance Interruption Warning',
      source: 'aws.ec2',
      account: '123456789012',
      time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      region: 'us-east-1',
      resources: ['arn:aws:ec2:us-east-1a:123456789012:instance/i-0fedcba9876543210'],
      detail: { 'instance-id': 'i-0fedcba9876543210', 'instance-action': 'terminate' },
    })) as { reports: Array<{ outcome: string; summary: string }> };
    expect(result.reports[0]!.outcome).toBe('not-found');
    // Exactly one invocation for this event (no retry), and it did not fail.
    const mine = e.bridge.invocations.filter(
      (i) => (i.input as { id?: string }).id === '7a1b2c3d-0000-4000-8000-000000000001',
    );
    expect(mine).toHaveLength(1);
    expect(mine[0]!.error).toBeUndefined();
  }, 30_000);
});

describe('replacement mode increment (group tag)', () => {
  it('raises desired by one, then terminates the drained instance with a decrement: one net replacement', async () => {
    e.sim.aws.createGroup({
      name: 'spot-inc',
      zones: ['us-east-1a'],
      capacityType: 'SPOT',
      desired: 2,
      max: 4,
      capacityRebalance: false,
      tags: { 'spotguard.io/replacement-mode': 'increment' },
    });
    await e.sim.waitFor(
      () =>
        e.sim.aws.instances().filter((i) => i.groupName === 'spot-inc' && i.state === 'running').length === 2,
      15_000,
      'spot-inc running',
    );
    const before = new Set(e.sim.aws.group('spot-inc')!.instanceIds);
    const victim = [...before][0]!;
    e.sim.aws.interruptSpot(victim);
    await e.sim.waitFor(() => e.reports().some((r) => r.instanceId === victim), 30_000, 'ITN handled');
    const report = e.reports().find((r) => r.instanceId === victim)!;
    expect(report.replacement).toMatchObject({ action: 'increment', group: 'spot-inc', newDesired: 3 });
    expect(report.actions.join('\n')).toMatch(/ShouldDecrementDesiredCapacity=true/);
    await e.sim.waitFor(
      () => ['shutting-down', 'terminated'].includes(e.sim.aws.instance(victim)!.state),
      15_000,
      'victim gone',
    );
    const group = e.sim.aws.group('spot-inc')!;
    expect(group.desiredCapacity).toBe(2);
    expect([...group.instanceIds].filter((id) => !before.has(id))).toHaveLength(1);
  }, 60_000);
});

describe('instances of another cluster', () => {
  it('an interruption for another cluster’s instance is ignored: its node is not touched', async () => {
    e.sim.aws.createGroup({
      name: 'other-cluster-spot',
      zones: ['us-east-1a'],
      capacityType: 'SPOT',
      desired: 1,
      // Another EKS cluster in the account: tagged for it, its node in its own API server.
      cluster: 'someone-else',
    });
    await e.sim.waitFor(
      () => e.sim.aws.instances().some((i) => i.groupName === 'other-cluster-spot' && i.state === 'running'),
      15_000,
      'other instance running',
    );
    const other = e.sim.aws.instances().find((i) => i.groupName === 'other-cluster-spot')!;
    e.sim.aws.interruptSpot(other.instanceId);
    await e.sim.waitFor(
      () => e.reports().some((r) => r.instanceId === other.instanceId),
      20_000,
      'ITN handled',
    );
    const report = e.reports().find((r) => r.instanceId === other.instanceId)!;
    expect(report.outcome).toBe('foreign');
    expect(report.summary).toMatch(/someone-else/);
    const node = e.sim.store.get('nodes', undefined, other.privateDnsName);
    expect(node?.spec.unschedulable).toBeFalsy();
    expect(e.bridge.invocations.filter((i) => i.error)).toEqual([]);
  }, 40_000);
});

describe('spot interruption warning (stop) then running', () => {
  it('drains the node, marks it as coming back, and uncordons only spotguard’s work when it runs again', async () => {
    const { instanceId, node } = busiestNode('spot-c');
    e.sim.aws.interruptSpot(instanceId, { action: 'stop' });
    await e.sim.waitFor(
      () => e.reports().some((r) => r.instanceId === instanceId && r.kind === 'spot-interruption'),
      30_000,
      'stop ITN handled',
    );
    const cordoned = e.sim.store.get('nodes', undefined, node)!;
    expect(cordoned.spec.unschedulable).toBe(true);
    expect(cordoned.metadata.annotations?.['spotguard.io/coming-back']).toBe('true');
    // The instance stops when the notice runs out; start it again → state-change "running" → uncordon.
    await e.sim.waitFor(
      () => e.sim.aws.instance(instanceId)?.state === 'stopped',
      40_000,
      'instance stopped',
    );
    e.sim.aws.startInstance(instanceId);
    await e.sim.waitFor(
      () => e.reports().some((r) => r.instanceId === instanceId && r.kind === 'state-change' && r.uncordon),
      30_000,
      'running handled (uncordon)',
    );
    const back = e.sim.store.get('nodes', undefined, nodeOf(e.sim, instanceId))!;
    expect(back.spec.unschedulable).toBeFalsy();
    expect(
      (back.spec.taints ?? []).filter((t: { key: string }) => t.key.startsWith('spotguard.io/')),
    ).toEqual([]);
    expect(back.metadata.annotations?.['spotguard.io/coming-back']).toBeUndefined();
  }, 90_000);
});
