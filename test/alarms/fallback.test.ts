// Interruption storm → spot fallback and its return, end to end: real handlers on the simulator,
// both alarm delivery forms, Auto Scaling state read back from the simulated AWS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandleReport } from '../../shared/actions/types.ts';
import { FALLBACK_TAG } from '../../shared/alarms/fallback-tag.ts';
import { deployment, type E2E, metricTotal, startE2E } from '../e2e/harness.ts';
import { directAlarm, emitAlarm } from './support.ts';

let e: E2E;
const group = (name: string) => e.sim.aws.group(name)!;
const inService = (name: string) =>
  e.sim.aws.instances().filter((i) => i.groupName === name && i.lifecycleState === 'InService');
const alarmReports = () => e.reports().filter((r) => r.kind === 'alarm');
const hook = [
  {
    name: 'spotguard-drain',
    transition: 'terminate' as const,
    heartbeatTimeout: 300,
    defaultResult: 'CONTINUE' as const,
  },
];
const updates = () => e.sim.awsRequests.count('autoscaling', 'UpdateAutoScalingGroup');

beforeAll(async () => {
  e = await startE2E(
    {
      interruptionNoticeMs: 3000,
      scenario: {
        cluster: { name: 'e2e-alarms', region: 'us-east-1', zones: ['us-east-1a', 'us-east-1b'] },
        nodeGroups: [
          {
            name: 'spot-a',
            zone: 'us-east-1a',
            capacityType: 'SPOT',
            desired: 3,
            max: 6,
            capacityRebalance: false,
            lifecycleHooks: hook,
          },
          {
            name: 'od-a',
            zone: 'us-east-1a',
            capacityType: 'ON_DEMAND',
            desired: 1,
            min: 0,
            max: 4,
            lifecycleHooks: hook,
          },
          {
            name: 'od-b',
            zone: 'us-east-1b',
            capacityType: 'ON_DEMAND',
            desired: 1,
            min: 0,
            max: 4,
            lifecycleHooks: hook,
          },
          { name: 'other-od-a', zone: 'us-east-1a', capacityType: 'ON_DEMAND', desired: 1, min: 0, max: 4 },
          {
            name: 'self-mixed',
            zone: 'us-east-1b',
            capacityType: 'SPOT',
            desired: 2,
            max: 4,
            capacityRebalance: false,
          },
        ],
        workloads: [deployment('web', 4)],
      },
    },
    { env: { FALLBACK_MAX_EXTRA_ON_DEMAND: '4' } },
  );
  // another cluster's group in the same account and zone; a self-managed group (no EKS tags)
  const other = group('other-od-a').tags;
  other['eks:cluster-name'] = 'other-cluster';
  delete other['kubernetes.io/cluster/e2e-alarms'];
  other['kubernetes.io/cluster/other-cluster'] = 'owned';
  delete group('self-mixed').tags['eks:nodegroup-name'];
  delete group('self-mixed').tags['eks:cluster-name'];
  // no detach-for-replacement here: the interrupted instance stays in its group, as its ASG tag says
  group('self-mixed').tags['spotguard.io/replacement-mode'] = 'none';
  // two spot instances of zone a are taken back by EC2
  const victims = inService('spot-a').slice(0, 2);
  for (const v of victims) e.sim.aws.interruptSpot(v.instanceId);
  await e.sim.waitFor(
    () => victims.every((v) => v.state === 'terminated'),
    30_000,
    'spot instances terminated',
  );
  await e.bridge.idle(30_000);
}, 90_000);

afterAll(async () => {
  await e?.stop();
});

describe('interruption storm ALARM → on-demand fallback', () => {
  let fallbackAt: Date;
  it('direct alarm action: the on-demand group of the affected zone grows by the capacity lost; others untouched', async () => {
    fallbackAt = new Date();
    const before = updates();
    const result = (await e.bridge.invoke('alarm-action', directAlarm('ALARM', fallbackAt))) as {
      reports: HandleReport[];
    };
    expect(result.reports[0]?.outcome, result.reports[0]?.summary).toBe('handled');
    expect(group('od-a').desiredCapacity).toBe(3);
    expect(group('od-b').desiredCapacity).toBe(1);
    expect(group('other-od-a').desiredCapacity).toBe(1);
    expect(group('od-a').tags[FALLBACK_TAG]).toMatch(/type=desired .*desiredBefore=1 added=2/);
    expect(updates() - before).toBe(1);
    const events = e.sim.store
      .list('events', { namespace: 'spotguard' })
      .filter((ev) => ev.reason === 'SpotFallbacks');
    expect(events.length).toBe(1);
    expect(events[0]!.message).toContain('us-east-1a');
    expect(metricTotal(e.emf, 'SpotFallbacks')).toBe(1);
    // the storm alarm's metric: one EMF line per interruption, per spot group and zone
    const lines = e.emf.filter((l) => typeof l.SpotInterruptions === 'number');
    expect(
      lines.filter((l) => l.AutoScalingGroupName === 'spot-a' && l.AvailabilityZone === 'us-east-1a'),
    ).toHaveLength(2);
    await e.sim.waitFor(() => inService('od-a').length === 3, 30_000, 'on-demand instances in service');
  });

  it('a duplicate ALARM (EventBridge form, later) and a redelivery change nothing', async () => {
    const before = updates();
    emitAlarm(e, 'ALARM', new Date(fallbackAt.getTime() + 30_000));
    await e.bridge.invoke('alarm-action', directAlarm('ALARM', fallbackAt));
    await e.sim.waitFor(() => alarmReports().length >= 3, 20_000, 'duplicates handled');
    await e.bridge.idle(20_000);
    expect(updates() - before).toBe(0);
    expect(group('od-a').desiredCapacity).toBe(3);
    expect(
      alarmReports()
        .slice(1)
        .map((r) => r.outcome)
        .sort(),
    ).toEqual(['duplicate', 'ignored']);
  });

  it('an OK older than the fallback (out of order) changes nothing', async () => {
    const result = (await e.bridge.invoke(
      'alarm-action',
      directAlarm('OK', new Date(fallbackAt.getTime() - 120_000)),
    )) as {
      reports: HandleReport[];
    };
    expect(result.reports[0]?.summary).toMatch(/older than the fallback/);
    expect(group('od-a').desiredCapacity).toBe(3);
  });

  it('OK restores exactly the remembered values and drains the extra nodes through the terminate hook', async () => {
    const odBefore = inService('od-a').map((i) => i.instanceId);
    emitAlarm(e, 'OK', new Date());
    await e.sim.waitFor(
      () => group('od-a').desiredCapacity === 1 && inService('od-a').length === 1,
      90_000,
      'back to 1',
    );
    await e.bridge.idle(60_000);
    expect(group('od-a').tags[FALLBACK_TAG]).toBeUndefined();
    const gone = odBefore.filter((id) => e.sim.aws.instance(id)?.lifecycleState !== 'InService');
    expect(gone).toHaveLength(2);
    // each went through spotguard's lifecycle drain and hook completion, not the hook timeout
    for (const id of gone) {
      const r = e.reports().find((x) => x.kind === 'lifecycle-terminate' && x.instanceId === id);
      expect(r?.lifecycle?.completed, `${id}: ${r?.summary}`).toBe(true);
    }
    expect(
      e.reports().find((r) => r.kind === 'alarm' && r.summary.includes('desired back to 1')),
    ).toBeDefined();
    expect(metricTotal(e.emf, 'SpotFallbackReturns')).toBe(1);
  }, 120_000);
});

describe('refusals', () => {
  it('a fallback above the cap is refused and reported, nothing changed', async () => {
    process.env.FALLBACK_MAX_EXTRA_ON_DEMAND = '1';
    try {
      const before = updates();
      const result = (await e.bridge.invoke('alarm-action', directAlarm('ALARM', new Date()))) as {
        reports: HandleReport[];
      };
      expect(result.reports[0]?.outcome).toBe('refused');
      expect(result.reports[0]?.summary).toMatch(/more than the configured cap 1/);
      expect(updates() - before).toBe(0);
      expect(group('od-a').tags[FALLBACK_TAG]).toBeUndefined();
      const warn = e.sim.store
        .list('events', { namespace: 'spotguard' })
        .filter((ev) => ev.reason === 'AlarmActionsRefused');
      expect(warn.at(-1)?.type).toBe('Warning');
    } finally {
      process.env.FALLBACK_MAX_EXTRA_ON_DEMAND = '4';
    }
  });

  it("an alarm naming another cluster's group is refused; that group is never changed", async () => {
    const result = (await e.bridge.invoke(
      'alarm-action',
      directAlarm('ALARM', new Date(), { AutoScalingGroupName: 'other-od-a' }),
    )) as { reports: HandleReport[] };
    expect(result.reports[0]?.outcome).toBe('refused');
    expect(result.reports[0]?.summary).toMatch(/other-cluster/);
    expect(group('other-od-a').desiredCapacity).toBe(1);
    expect(group('other-od-a').tags[FALLBACK_TAG]).toBeUndefined();
  });
});

describe('self-managed group with a MixedInstancesPolicy', () => {
  it('ALARM moves its distribution to the fallback; OK restores the remembered values', async () => {
    const victim = inService('self-mixed')[0]!;
    e.sim.aws.interruptSpot(victim.instanceId);
    await e.sim.waitFor(() => victim.state === 'terminated', 30_000, 'terminated');
    const at = new Date();
    const dims = { AutoScalingGroupName: 'self-mixed' };
    await e.bridge.invoke('alarm-action', directAlarm('ALARM', at, dims));
    expect(group('self-mixed').onDemandPercentageAboveBaseCapacity).toBe(100);
    expect(group('self-mixed').tags[FALLBACK_TAG]).toMatch(/type=mixed .*baseBefore=0 pctBefore=0/);
    expect(group('od-b').desiredCapacity).toBe(1);
    await e.bridge.invoke('alarm-action', directAlarm('OK', new Date(at.getTime() + 60_000), dims));
    expect(group('self-mixed').onDemandPercentageAboveBaseCapacity).toBe(0);
    expect(group('self-mixed').onDemandBaseCapacity).toBe(0);
    expect(group('self-mixed').tags[FALLBACK_TAG]).toBeUndefined();
  }, 60_000);
});
