// Auto Scaling lifecycle hooks end to end, and the overlap of ITN + terminate hook + state change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deploymentWithPdb,
  type E2E,
  type Manifest,
  metricTotal,
  podsOn,
  readyPods,
  startE2E,
} from './harness.ts';

let e: E2E;
const HOOK = 'spotguard-drain';

/** Three pods per spot-a node, one eviction at a time under the PDB: a drain of several seconds. */
function pinnedToZoneA(manifests: Manifest[]): Manifest[] {
  for (const m of manifests) {
    if (m.kind === 'Deployment') {
      const spec = (m.spec as { template: { spec: Record<string, unknown> } }).template.spec;
      spec.nodeSelector = { 'topology.kubernetes.io/zone': 'us-east-1a' };
    }
  }
  return manifests;
}

beforeAll(async () => {
  e = await startE2E(
    {
      // Replacement pods take a while to be Ready, so a PDB-bound drain outlasts the hook's heartbeat timeout.
      podStartMs: 1200,
      scenario: {
        cluster: { name: 'e2e-hooks', region: 'us-east-1', zones: ['us-east-1a', 'us-east-1b'] },
        nodeGroups: [
          {
            name: 'spot-a',
            zone: 'us-east-1a',
            capacityType: 'SPOT',
            desired: 3,
            max: 6,
            lifecycleHooks: [
              { name: HOOK, transition: 'terminate', heartbeatTimeout: 3, defaultResult: 'CONTINUE' },
            ],
          },
          {
            name: 'ondemand-b',
            zone: 'us-east-1b',
            capacityType: 'ON_DEMAND',
            desired: 3,
            max: 6,
            lifecycleHooks: [
              { name: HOOK, transition: 'terminate', heartbeatTimeout: 60, defaultResult: 'CONTINUE' },
              {
                name: 'spotguard-launch',
                transition: 'launch',
                heartbeatTimeout: 60,
                defaultResult: 'ABANDON',
              },
            ],
          },
        ],
        workloads: [...deploymentWithPdb('web', 6), ...pinnedToZoneA(deploymentWithPdb('batch', 9))],
      },
    },
    { env: { DRAIN_TIMEOUT_SECONDS: '20' } },
  );
  await e.sim.waitFor(() => readyPods(e.sim, 'default', 'app', 'web').length === 6, 20_000, 'web ready');
  await e.sim.waitFor(() => readyPods(e.sim, 'default', 'app', 'batch').length === 9, 20_000, 'batch ready');
}, 60_000);

afterAll(async () => {
  await e?.stop();
});

const completions = () => e.sim.awsRequests.count('autoscaling', 'CompleteLifecycleAction');

function nodeWithPods(group: string) {
  const inst = e.sim.aws
    .instances()
    .filter((i) => i.groupName === group && i.state === 'running' && i.lifecycleState === 'InService')
    .sort((a, b) => podsOn(e.sim, b.privateDnsName).length - podsOn(e.sim, a.privateDnsName).length)[0]!;
  return { instanceId: inst.instanceId, node: inst.privateDnsName };
}

describe('terminate lifecycle hook', () => {
  it('drains, heartbeats while the PDB-bound drain runs past the heartbeat timeout, then completes CONTINUE', async () => {
    const { instanceId, node } = nodeWithPods('spot-a');
    const podCount = podsOn(e.sim, node).length;
    expect(podCount).toBeGreaterThan(1);
    e.sim.aws.terminateInGroup(instanceId, false);
    await e.sim.waitFor(
      () => e.reports().some((r) => r.instanceId === instanceId && r.kind === 'lifecycle-terminate'),
      45_000,
      'terminate hook handled',
    );
    const report = e.reports().find((r) => r.instanceId === instanceId && r.kind === 'lifecycle-terminate')!;
    expect(report.lifecycle).toMatchObject({ result: 'CONTINUE', completed: true });
    expect(report.drain?.complete).toBe(true);
    expect(report.lifecycle!.heartbeats).toBeGreaterThanOrEqual(1);
    // Completed by spotguard, not by the hook timing out: the instance is terminated right after.
    await e.sim.waitFor(() => e.sim.aws.instance(instanceId)?.state === 'terminated', 15_000, 'terminated');
  }, 60_000);

  it('a hook that times out under a running drain (heartbeats failing) is counted as LifecycleHookTimedOut', async () => {
    const { instanceId } = nodeWithPods('spot-a');
    const before = metricTotal(e.emf, 'LifecycleHookTimedOut');
    // Heartbeats fail (500) until the 3 s hook has timed out; the next one then hears "No active
    // Lifecycle Action" from Auto Scaling: the action ended before spotguard completed it.
    const removeFault = e.sim.faults.add({
      service: 'autoscaling',
      verb: 'RecordLifecycleActionHeartbeat',
      status: 500,
    });
    try {
      e.sim.aws.terminateInGroup(instanceId, false);
      await e.sim.waitFor(
        () =>
          e.sim.aws.instance(instanceId)?.lifecycleState !== 'Terminating:Wait' &&
          !!e.sim.aws.instance(instanceId)?.lifecycleState?.startsWith('Terminating'),
        20_000,
        'hook timed out',
      );
    } finally {
      removeFault();
    }
    await e.sim.waitFor(
      () => e.reports().some((r) => r.instanceId === instanceId && r.kind === 'lifecycle-terminate'),
      45_000,
      'terminate hook handled',
    );
    const report = e.reports().find((r) => r.instanceId === instanceId && r.kind === 'lifecycle-terminate')!;
    const heartbeat = report.plan?.steps.find((st) => st.kind === 'heartbeat');
    expect(heartbeat?.detail).toContain('the lifecycle action timed out meanwhile');
    expect(metricTotal(e.emf, 'LifecycleHookTimedOut')).toBe(before + 1);
  }, 60_000);

  it('completes CONTINUE when the instance is not a node of the cluster', async () => {
    const { instanceId, node } = nodeWithPods('ondemand-b');
    e.sim.store.delete('nodes', undefined, node);
    e.sim.aws.terminateInGroup(instanceId, true);
    await e.sim.waitFor(
      () => e.reports().some((r) => r.instanceId === instanceId && r.kind === 'lifecycle-terminate'),
      20_000,
      'hook handled',
    );
    const report = e.reports().find((r) => r.instanceId === instanceId && r.kind === 'lifecycle-terminate')!;
    expect(report.outcome).toBe('not-found');
    expect(report.lifecycle).toMatchObject({ result: 'CONTINUE', completed: true });
    // Well before the hook's 60 s heartbeat timeout.
    await e.sim.waitFor(() => e.sim.aws.instance(instanceId)?.state === 'terminated', 10_000, 'terminated');
  }, 40_000);

  it('completes CONTINUE even when every eviction fails', async () => {
    const { instanceId } = nodeWithPods('ondemand-b');
    const removeFault = e.sim.faults.add({ service: 'k8s', subresource: 'eviction', status: 500 });
    try {
      e.sim.aws.terminateInGroup(instanceId, true);
      await e.sim.waitFor(
        () => e.reports().some((r) => r.instanceId === instanceId && r.kind === 'lifecycle-terminate'),
        45_000,
        'hook handled',
      );
    } finally {
      removeFault();
    }
    const report = e.reports().find((r) => r.instanceId === instanceId && r.kind === 'lifecycle-terminate')!;
    expect(report.drain?.complete ?? false).toBe(false);
    expect(report.lifecycle).toMatchObject({ result: 'CONTINUE', completed: true });
  }, 60_000);
});

describe('launch lifecycle hook', () => {
  it('completes CONTINUE once the new node is Ready', async () => {
    const group = e.sim.aws.group('ondemand-b')!;
    const before = new Set(group.instanceIds);
    e.sim.aws.setDesiredCapacity('ondemand-b', group.desiredCapacity + 1);
    await e.sim.waitFor(
      () => e.reports().some((r) => r.kind === 'lifecycle-launch' && !before.has(r.instanceId ?? '')),
      30_000,
      'launch hook handled',
    );
    const report = e.reports().find((r) => r.kind === 'lifecycle-launch' && !before.has(r.instanceId ?? ''))!;
    expect(report.lifecycle).toMatchObject({ result: 'CONTINUE', completed: true });
    const node = e.sim.store.get('nodes', undefined, report.nodeName!)!;
    expect(node.status.conditions.find((c: { type: string }) => c.type === 'Ready').status).toBe('True');
    await e.sim.waitFor(
      () => e.sim.aws.instance(report.instanceId!)?.lifecycleState === 'InService',
      10_000,
      'InService',
    );
  }, 45_000);
});

describe('overlapping events for one instance', () => {
  it('ITN + terminate hook + state change → one drain, one lifecycle completion, no pod evicted twice', async () => {
    await e.sim.waitFor(() => readyPods(e.sim, 'default', 'app', 'web').length === 6, 30_000, 'web ready');
    const { instanceId, node } = nodeWithPods('spot-a');
    const pods = podsOn(e.sim, node).length;
    expect(pods).toBeGreaterThan(0);
    const completedBefore = completions();
    // The group starts terminating it (hook), and EC2 warns of the interruption at the same moment.
    e.sim.aws.terminateInGroup(instanceId, false);
    e.sim.aws.interruptSpot(instanceId);
    await e.sim.waitFor(
      () =>
        ['lifecycle-terminate', 'spot-interruption'].every((k) =>
          e.reports().some((r) => r.instanceId === instanceId && r.kind === k),
        ),
      45_000,
      'both handled',
    );
    await e.sim.waitFor(() => e.sim.aws.instance(instanceId)?.state === 'terminated', 40_000, 'terminated');
    await e.bridge.idle(30_000);
    const mine = e.reports().filter((r) => r.instanceId === instanceId);
    const drainsThatEvicted = mine.filter(
      (r) => r.drain && !r.drain.joinedExistingDrain && r.drain.pods.some((p) => p.outcome === 'evicted'),
    );
    expect(drainsThatEvicted).toHaveLength(1);
    const evicted = mine
      .flatMap((r) => (r.drain && !r.drain.joinedExistingDrain ? r.drain.pods : []))
      .filter((p) => p.outcome === 'evicted');
    expect(new Set(evicted.map((p) => `${p.namespace}/${p.name}`)).size).toBe(evicted.length);
    expect(completions() - completedBefore).toBe(1);
    expect(mine.some((r) => r.kind === 'state-change')).toBe(true);
  }, 90_000);
});
