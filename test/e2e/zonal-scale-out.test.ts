// Zonal capacity: the zone-b node of a multi-AZ spot group is interrupted while a StatefulSet on
// zonal volumes lives on it and no other zone-b node has room. spotguard scales out the single-zone
// group for zone b (per-AZ groups, as EKS recommends for stateful workloads) and says so.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type E2E, readyPods, startE2E, zonalStatefulSet } from './harness.ts';

let e: E2E;

beforeAll(async () => {
  e = await startE2E({
    bootDelayMs: 1500,
    scenario: {
      cluster: {
        name: 'e2e-zonal-out',
        region: 'us-east-1',
        zones: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
      },
      nodeGroups: [
        {
          name: 'spot-multi',
          zones: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
          capacityType: 'SPOT',
          desired: 3,
          max: 6,
          capacityRebalance: false,
        },
        { name: 'stateful-b', zone: 'us-east-1b', capacityType: 'ON_DEMAND', desired: 0, min: 0, max: 2 },
      ],
      workloads: zonalStatefulSet('db', 2, 'us-east-1b'),
    },
  });
  await e.sim.waitFor(() => readyPods(e.sim, 'default', 'app', 'db').length === 2, 20_000, 'db ready');
}, 60_000);

afterAll(async () => {
  await e?.stop();
});

it('scales out the single-zone group of the pinned pods and reports it; the pods run in zone b again', async () => {
  const victim = e.sim.aws
    .instances()
    .find((i) => i.groupName === 'spot-multi' && i.zone === 'us-east-1b' && i.state === 'running')!;
  expect(victim).toBeDefined();
  e.sim.aws.interruptSpot(victim.instanceId);
  await e.sim.waitFor(
    () => e.reports().some((r) => r.instanceId === victim.instanceId && r.kind === 'spot-interruption'),
    40_000,
    'ITN handled',
  );
  const report = e
    .reports()
    .find((r) => r.instanceId === victim.instanceId && r.kind === 'spot-interruption')!;
  expect(report.replacement).toMatchObject({ action: 'detach', group: 'spot-multi' });
  expect(report.zonal).toEqual([
    expect.objectContaining({ zone: 'us-east-1b', action: 'scale-out', group: 'stateful-b', newDesired: 1 }),
  ]);
  expect(report.actions.join('\n')).toMatch(/zonal scale-out: stateful-b → 1/);
  expect(e.sim.aws.group('stateful-b')!.desiredCapacity).toBe(1);
  expect(e.sim.awsRequests.count('autoscaling', 'SetDesiredCapacity')).toBe(1);

  await e.sim.waitFor(() => readyPods(e.sim, 'default', 'app', 'db').length === 2, 40_000, 'db ready again');
  for (const pod of readyPods(e.sim, 'default', 'app', 'db')) {
    const node = e.sim.store.get('nodes', undefined, pod.spec.nodeName)!;
    expect(node.metadata.labels?.['topology.kubernetes.io/zone']).toBe('us-east-1b');
    expect(pod.spec.nodeName).not.toBe(victim.privateDnsName);
  }
}, 90_000);
