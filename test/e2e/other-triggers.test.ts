// Rebalance recommendations (cordon and replace-then-drain), AWS Health scheduled changes and
// EC2 state changes from outside the spot path, end to end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploymentWithPdb, type E2E, podsOn, readyPods, startE2E } from './harness.ts';

let e: E2E;

beforeAll(async () => {
  e = await startE2E({
    scenario: {
      cluster: { name: 'e2e-other', region: 'us-east-1', zones: ['us-east-1a', 'us-east-1b'] },
      nodeGroups: [
        {
          name: 'spot-a',
          zone: 'us-east-1a',
          capacityType: 'SPOT',
          desired: 3,
          max: 6,
          capacityRebalance: false,
        },
        // Make-before-break is spotguard's job here: Capacity Rebalancing off, policy from the group tag.
        {
          name: 'spot-b',
          zone: 'us-east-1b',
          capacityType: 'SPOT',
          desired: 2,
          max: 5,
          capacityRebalance: false,
        },
      ],
      workloads: [...deploymentWithPdb('web', 6)],
    },
  });
  e.sim.aws.group('spot-b')!.tags['spotguard.io/rebalance-policy'] = 'replace-then-drain';
  await e.sim.waitFor(() => readyPods(e.sim, 'default', 'app', 'web').length === 6, 20_000, 'web ready');
}, 60_000);

afterAll(async () => {
  await e?.stop();
});

const running = (group: string) =>
  e.sim.aws
    .instances()
    .filter((i) => i.groupName === group && i.state === 'running' && i.lifecycleState === 'InService');

function handled(instanceId: string, kind: string) {
  return e.sim.waitFor(
    () => e.reports().some((r) => r.instanceId === instanceId && r.kind === kind),
    40_000,
    `${kind} handled`,
  );
}

describe('rebalance recommendation', () => {
  it('default policy cordons and taints without evicting anything', async () => {
    const target = running('spot-a')[0]!;
    const podsBefore = podsOn(e.sim, target.privateDnsName).length;
    e.sim.aws.recommendRebalance(target.instanceId);
    await handled(target.instanceId, 'rebalance-recommendation');
    const node = e.sim.store.get('nodes', undefined, target.privateDnsName)!;
    expect(node.spec.unschedulable).toBe(true);
    expect(node.spec.taints.map((t: { key: string }) => t.key)).toContain(
      'spotguard.io/rebalance-recommendation',
    );
    expect(podsOn(e.sim, target.privateDnsName).length).toBe(podsBefore);
  }, 60_000);

  it('replace-then-drain (group tag): a new node is Ready before the old one is drained and terminated', async () => {
    const target = running('spot-b')[0]!;
    const before = new Set(e.sim.aws.group('spot-b')!.instanceIds);
    e.sim.aws.recommendRebalance(target.instanceId);
    await handled(target.instanceId, 'rebalance-recommendation');
    const report = e
      .reports()
      .find((r) => r.instanceId === target.instanceId && r.kind === 'rebalance-recommendation')!;
    expect(report.outcome).toBe('handled');
    expect(report.actions.join('\n')).toMatch(/replacement i-[0-9a-f]+ .* Ready in spot-b/);
    expect(report.drain?.complete).toBe(true);
    const fresh = [...e.sim.aws.group('spot-b')!.instanceIds].filter((id) => !before.has(id));
    expect(fresh.length).toBeGreaterThanOrEqual(1);
    await e.sim.waitFor(
      () => ['shutting-down', 'terminated'].includes(e.sim.aws.instance(target.instanceId)!.state),
      20_000,
      'old instance terminated',
    );
    expect(e.sim.aws.group('spot-b')!.desiredCapacity).toBe(2);
  }, 90_000);
});

describe('AWS Health scheduled change', () => {
  it('drains the affected instance ahead of the window', async () => {
    const target = running('spot-a').find(
      (i) => !e.sim.store.get('nodes', undefined, i.privateDnsName)?.spec.unschedulable,
    )!;
    e.sim.aws.scheduleMaintenance([target.instanceId], new Date(Date.now() + 10 * 60_000));
    await handled(target.instanceId, 'scheduled-change');
    const report = e
      .reports()
      .find((r) => r.instanceId === target.instanceId && r.kind === 'scheduled-change')!;
    expect(report.drain?.complete).toBe(true);
    const node = e.sim.store.get('nodes', undefined, target.privateDnsName)!;
    expect(node.spec.taints.map((t: { key: string }) => t.key)).toContain('spotguard.io/scheduled-change');
    expect(podsOn(e.sim, target.privateDnsName).filter((p) => p.metadata.labels?.app === 'web')).toHaveLength(
      0,
    );
  }, 60_000);
});

describe('EC2 state change', () => {
  it('an instance stopped from the console (no ITN) is drained on "stopping"', async () => {
    await e.sim.waitFor(() => readyPods(e.sim, 'default', 'app', 'web').length === 6, 30_000, 'web ready');
    const target = running('spot-a').find(
      (i) => !e.sim.store.get('nodes', undefined, i.privateDnsName)?.spec.unschedulable,
    )!;
    e.sim.aws.stopInstance(target.instanceId);
    await e.sim.waitFor(
      () =>
        e.reports().some((r) => r.instanceId === target.instanceId && r.kind === 'state-change' && r.drain),
      40_000,
      'stopping handled',
    );
    const report = e
      .reports()
      .find((r) => r.instanceId === target.instanceId && r.kind === 'state-change' && r.drain)!;
    expect(report.outcome).toBe('handled');
    expect(
      e.sim.store
        .get('nodes', undefined, target.privateDnsName)!
        .spec.taints.map((t: { key: string }) => t.key),
    ).toContain('spotguard.io/instance-stopping');
  }, 60_000);
});
