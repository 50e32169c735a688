// The traffic-aware drain planner, table-tested (pure: no I/O).
import { describe, expect, it } from 'vitest';
import type { TrafficObserved } from '../../shared/traffic/observe.ts';
import { ANNOTATION_OFF, type PlanInput, planTrafficDrain } from '../../shared/traffic/plan.ts';

const ARN = (name: string) =>
  `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${name}/0000000000000001`;
const deadline = new Date('2026-12-03T12:02:00Z');

function input(observed: Partial<TrafficObserved>, extra: Partial<PlanInput> = {}): PlanInput {
  return {
    node: 'ip-10-0-1-5.ec2.internal',
    trigger: 'spot-interruption',
    clusterName: 'prod',
    observed: { source: 'bindings', groups: [], notes: [], ...observed },
    pods: new Map([
      ['default/web-1', { graceSeconds: 30 }],
      ['default/web-2', { graceSeconds: 10, annotations: { [ANNOTATION_OFF]: 'false' } }],
    ]),
    deadline,
    marginMs: 10_000,
    ...extra,
  };
}

const ipGroup = (cluster: string | undefined, name = 'web') => ({
  arn: ARN(name),
  targetType: 'ip',
  ...(cluster ? { cluster } : {}),
  targets: [
    { id: '10.0.129.1', port: 8080, state: 'healthy', pod: 'default/web-1' },
    { id: '10.0.129.2', port: 8080, state: 'healthy', pod: 'default/web-2' },
  ],
});

describe('planTrafficDrain', () => {
  it('one deregister step per group of this cluster; a gate per pod released at deadline − grace − margin', () => {
    const { plan, gates } = planTrafficDrain(input({ groups: [ipGroup('prod')] }));
    expect(plan.steps).toEqual([
      expect.objectContaining({
        kind: 'deregister-targets',
        targetGroupArn: ARN('web'),
        targets: [{ id: '10.0.129.1', port: 8080 }],
      }),
    ]);
    // web-2 opted out: neither deregistered nor held
    expect(gates).toEqual([
      expect.objectContaining({
        pod: 'default/web-1',
        targets: [{ id: '10.0.129.1', port: 8080, targetGroupArn: ARN('web') }],
        releaseAt: '2026-12-03T12:01:20.000Z',
      }),
    ]);
    expect(plan.steps.every((s) => !s.after && !s.requires)).toBe(true); // all at once
  });

  it.each([
    ['another cluster', 'other'],
    ['no cluster tag', undefined],
  ])('a group tagged for %s is left alone and noted', (_what, cluster) => {
    const { plan, gates, notes } = planTrafficDrain(input({ groups: [ipGroup(cluster)] }));
    expect(plan.steps).toEqual([]);
    expect(gates).toEqual([]);
    expect(plan.nothingBecause).toMatch(/no target group of this cluster/);
    expect(notes.join()).toMatch(/left alone/);
  });

  it('instance targets are deregistered but hold no pod; no deadline → no release time', () => {
    const group = {
      arn: ARN('inst'),
      targetType: 'instance',
      cluster: 'prod',
      targets: [{ id: 'i-0123456789abcdef0', port: 30080, state: 'healthy' }],
    };
    const { plan, gates } = planTrafficDrain(
      input({ groups: [group, ipGroup('prod')] }, { deadline: undefined }),
    );
    expect(plan.steps.map((s) => s.targetGroupArn)).toEqual([ARN('inst'), ARN('web')]);
    expect(gates.map((g) => g.pod)).toEqual(['default/web-1']);
    expect(gates[0]!.releaseAt).toBeUndefined();
  });

  it('targets already draining are not deregistered again but still hold their pod', () => {
    const group = ipGroup('prod');
    group.targets[0]!.state = 'draining';
    const { plan, gates } = planTrafficDrain(input({ groups: [group] }));
    expect(plan.steps).toEqual([]);
    expect(gates.map((g) => g.pod)).toEqual(['default/web-1']);
  });
});
