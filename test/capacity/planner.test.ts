import { describe, expect, it } from 'vitest';
import type { GroupInfo } from '../../shared/aws/autoscaling.ts';
import { planReplacement, planZonalCapacity } from '../../shared/capacity/planner.ts';

function group(over: Partial<GroupInfo> = {}): GroupInfo {
  return {
    name: 'spot-b',
    minSize: 0,
    maxSize: 5,
    desiredCapacity: 2,
    availabilityZones: ['us-east-1b'],
    capacityRebalance: false,
    tags: {},
    instances: [
      { instanceId: 'i-0000000000000000a', availabilityZone: 'us-east-1b', lifecycleState: 'InService' },
      { instanceId: 'i-0000000000000000b', availabilityZone: 'us-east-1b', lifecycleState: 'InService' },
    ],
    ...over,
  };
}
const victim = 'i-0000000000000000a';

describe('planReplacement', () => {
  it.each([
    ['detach mode, member InService', { mode: 'detach' as const, group: group() }, 'detach'],
    ['increment mode below max', { mode: 'increment' as const, group: group() }, 'increment'],
    [
      'increment mode at max size',
      { mode: 'increment' as const, group: group({ desiredCapacity: 5 }) },
      'none',
    ],
    ['mode none', { mode: 'none' as const, group: group() }, 'none'],
    ['no group (standalone or detached)', { mode: 'detach' as const, group: undefined }, 'none'],
    [
      'already left the group',
      { mode: 'detach' as const, group: group({ instances: group().instances.slice(1) }) },
      'none',
    ],
    [
      'instance Terminating:Wait',
      {
        mode: 'detach' as const,
        group: group({
          instances: [
            { instanceId: victim, availabilityZone: 'us-east-1b', lifecycleState: 'Terminating:Wait' },
          ],
        }),
      },
      'none',
    ],
    [
      'Capacity Rebalancing already launched one',
      {
        mode: 'detach' as const,
        group: group({
          capacityRebalance: true,
          instances: [
            ...group().instances,
            { instanceId: 'i-0000000000000000c', availabilityZone: 'us-east-1b', lifecycleState: 'Pending' },
          ],
        }),
      },
      'none',
    ],
    [
      'Capacity Rebalancing on, nothing launched yet',
      { mode: 'detach' as const, group: group({ capacityRebalance: true }) },
      'detach',
    ],
  ])('%s → %s', (_name, input, action) => {
    const plan = planReplacement({ instanceId: victim, alreadyRequested: false, ...input });
    expect(plan.action).toBe(action);
    expect(plan.reason.length).toBeGreaterThan(5);
  });

  it('never asks twice for the same instance', () => {
    expect(
      planReplacement({ instanceId: victim, group: group(), mode: 'increment', alreadyRequested: true })
        .action,
    ).toBe('none');
  });

  it('increment raises desired by exactly one', () => {
    expect(
      planReplacement({ instanceId: victim, group: group(), mode: 'increment', alreadyRequested: false }),
    ).toMatchObject({
      newDesired: 3,
      group: 'spot-b',
    });
  });
});

describe('planZonalCapacity', () => {
  const groups = [
    group({ name: 'spot-a', availabilityZones: ['us-east-1a'] }),
    group({ name: 'spot-b', availabilityZones: ['us-east-1b'] }),
    group({ name: 'multi', availabilityZones: ['us-east-1a', 'us-east-1b'] }),
  ];
  const need = [{ zone: 'us-east-1b', pods: ['default/db-0', 'default/db-1'] }];

  it('does nothing when the zone has room for every pinned pod', () => {
    const out = planZonalCapacity({
      needs: need,
      nodesWithRoom: new Map([['us-east-1b', 2]]),
      groups,
      replacement: { action: 'none', reason: '' },
    });
    expect(out).toEqual([expect.objectContaining({ action: 'none', zone: 'us-east-1b' })]);
  });

  it('scales out when the zone has room for only some of the pinned pods', () => {
    const out = planZonalCapacity({
      needs: need,
      nodesWithRoom: new Map([['us-east-1b', 1]]),
      groups,
      replacement: { action: 'none', reason: '' },
    });
    expect(out).toEqual([expect.objectContaining({ action: 'scale-out', group: 'spot-b' })]);
  });

  it('counts a replacement that already goes to a single-zone group of that zone', () => {
    const out = planZonalCapacity({
      needs: need,
      nodesWithRoom: new Map(),
      groups,
      replacement: { action: 'detach', group: 'spot-b', reason: '' },
    });
    expect(out[0]).toMatchObject({ action: 'none' });
  });

  it('scales out the single-zone group (never the multi-AZ one) when the zone has no room', () => {
    const out = planZonalCapacity({
      needs: need,
      nodesWithRoom: new Map(),
      groups,
      replacement: { action: 'detach', group: 'multi', reason: '' },
    });
    expect(out[0]).toMatchObject({ action: 'scale-out', group: 'spot-b', newDesired: 3 });
  });

  it('reports unresolved when the zone has no single-zone group or it is at max', () => {
    const atMax = planZonalCapacity({
      needs: need,
      nodesWithRoom: new Map(),
      groups: [group({ name: 'spot-b', availabilityZones: ['us-east-1b'], desiredCapacity: 5 })],
      replacement: { action: 'none', reason: '' },
    });
    expect(atMax[0]).toMatchObject({ action: 'unresolved' });
    const none = planZonalCapacity({
      needs: need,
      nodesWithRoom: new Map(),
      groups: [groups[2]!],
      replacement: { action: 'none', reason: '' },
    });
    expect(none[0]).toMatchObject({ action: 'unresolved' });
    expect((none[0] as { reason: string }).reason).toMatch(
      /no Auto Scaling group launches only into us-east-1b/,
    );
  });

  it('skips zones without pinned pods', () => {
    expect(
      planZonalCapacity({
        needs: [{ zone: 'us-east-1b', pods: [] }],
        nodesWithRoom: new Map(),
        groups,
        replacement: { action: 'none', reason: '' },
      }),
    ).toEqual([]);
  });
});
