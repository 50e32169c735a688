// planAlarm as a table: pure inputs (groups, lost spot instances, config) → steps or a reason.
import { describe, expect, it } from 'vitest';
import { loadAlarmConfig } from '../../shared/alarms/config.ts';
import { encodeFallback, FALLBACK_TAG } from '../../shared/alarms/fallback-tag.ts';
import type { ObservedGroup } from '../../shared/alarms/observe.ts';
import { type AlarmObserved, planAlarm } from '../../shared/alarms/planner.ts';
import type { AlarmEvent } from '../../shared/events/types.ts';

const cfg = loadAlarmConfig({ FALLBACK_MAX_EXTRA_ON_DEMAND: '3' });
const T0 = '2026-11-30T10:15:02.000Z';
const g = (name: string, p: Partial<ObservedGroup>): ObservedGroup => ({
  name,
  cluster: 'c1',
  managed: true,
  capacity: 'SPOT',
  zones: ['a'],
  min: 0,
  max: 6,
  desired: 2,
  tags: {},
  instances: [],
  ...p,
});
const ev = (state: AlarmEvent['state'], p: Partial<AlarmEvent> = {}): AlarmEvent => ({
  kind: 'alarm',
  alarmName: 'sg-prod-interruption-storm',
  state,
  stateTime: T0,
  instanceIds: [],
  time: T0,
  dedupKey: 'k',
  envelopes: ['direct'],
  ...p,
});
const base: AlarmObserved = {
  clusterName: 'c1',
  groups: [
    g('spot-a', {}),
    g('spot-b', { zones: ['b'] }),
    g('od-ab', { capacity: 'ON_DEMAND', zones: ['a', 'b'], desired: 1 }),
    g('od-a', { capacity: 'ON_DEMAND', zones: ['a'], desired: 1 }),
    g('theirs-od-a', { capacity: 'ON_DEMAND', cluster: 'c2', desired: 1 }),
    g('mixed', { managed: false, capacity: 'MIXED', mixed: { base: 1, pct: 20 }, zones: ['b'] }),
  ],
  interruptions: [
    { instanceId: 'i-1', zone: 'a', group: 'spot-a' },
    { instanceId: 'i-2', zone: 'a', cluster: 'c1' },
    { instanceId: 'i-3', zone: 'a', cluster: 'c2' },
  ],
};
const kinds = (p: ReturnType<typeof planAlarm>) =>
  p.steps.map((s) => `${s.kind}:${'group' in s ? s.group : ''}`);

describe('planAlarm', () => {
  it('ALARM: the narrowest on-demand group of the zone grows by this cluster’s losses only', () => {
    const p = planAlarm(ev('ALARM'), base, cfg);
    expect(kinds(p)).toEqual(['raise-desired:od-a', 'announce:']);
    expect(p.steps[0]).toMatchObject({
      from: 1,
      to: 3,
      record: { desiredBefore: 1, added: 2, zones: ['a'] },
    });
  });

  it('a self-managed mixed group moves its own distribution, keeping a higher base', () => {
    const p = planAlarm(
      ev('ALARM'),
      { ...base, interruptions: [{ instanceId: 'i-9', zone: 'b', group: 'mixed' }] },
      cfg,
    );
    expect(p.steps[0]).toMatchObject({
      kind: 'set-mixed',
      group: 'mixed',
      base: 1,
      pct: 100,
      record: { baseBefore: 1, pctBefore: 20 },
    });
  });

  it('refusals: over the cap, over MaxSize, a group of another cluster', () => {
    const many = Array.from({ length: 4 }, (_, i) => ({ instanceId: `i-${i}`, zone: 'a', cluster: 'c1' }));
    expect(planAlarm(ev('ALARM'), { ...base, interruptions: many }, cfg).refused).toMatch(/cap 3/);
    const small = base.groups.map((x) => (x.name === 'od-a' ? { ...x, max: 2 } : x));
    expect(planAlarm(ev('ALARM'), { ...base, groups: small }, cfg).refused).toMatch(/MaxSize 2/);
    const named = ev('ALARM', { dimensions: { AutoScalingGroupName: 'theirs-od-a' } });
    expect(planAlarm(named, base, cfg).refused).toMatch(/cluster c2/);
  });

  it('one change: a fallback in effect is not applied again; OK older than it is ignored; OK restores it', () => {
    const rec = encodeFallback({
      type: 'desired',
      alarm: 'x',
      at: T0,
      desiredBefore: 1,
      added: 2,
      zones: ['a'],
    });
    const withTag = {
      ...base,
      groups: base.groups.map((x) =>
        x.name === 'od-a' ? { ...x, desired: 3, tags: { [FALLBACK_TAG]: rec } } : x,
      ),
    };
    expect(planAlarm(ev('ALARM'), withTag, cfg).nothingBecause).toMatch(/already in effect/);
    expect(
      planAlarm(ev('OK', { stateTime: '2026-11-30T10:00:00.000Z' }), withTag, cfg).nothingBecause,
    ).toMatch(/older/);
    const ok = planAlarm(ev('OK', { stateTime: '2026-11-30T11:00:00.000Z' }), withTag, cfg);
    expect(ok.steps[0]).toMatchObject({ kind: 'restore-desired', group: 'od-a', to: 1 });
    expect(planAlarm(ev('OK'), base, cfg).nothingBecause).toBe('no fallback in effect');
  });

  it('zone skew ALARM runs the rebalancer once; other alarms and states do nothing', () => {
    expect(kinds(planAlarm(ev('ALARM', { alarmName: 'sg-prod-zone-skew' }), base, cfg))).toEqual([
      'rebalance:',
      'announce:',
    ]);
    expect(planAlarm(ev('OK', { alarmName: 'sg-prod-zone-skew' }), base, cfg).steps).toEqual([]);
    expect(planAlarm(ev('ALARM', { alarmName: 'sg-prod-deadline-missed' }), base, cfg).steps).toEqual([]);
    expect(planAlarm(ev('INSUFFICIENT_DATA'), base, cfg).steps).toEqual([]);
  });
});
