// The scenario steps the demo story needs (storm, alarm, rebalancer, setDesired): validation, the
// seeded expansion of storms and time compression, and what the simulator emits for them.
import { describe, expect, it } from 'vitest';
import { startSimulator } from '../../sim/index.ts';
import { expandEvents, loadScenario, parseScenario } from '../../sim/scenario.ts';

const STORM = { at: '20s', storm: { group: 'spot-a', count: 5, over: '10s' } };

describe('expandEvents', () => {
  it('turns a storm into one interruption per instance inside its window, the same for the same seed', () => {
    const [event] = parseScenario({ events: [STORM] }).events;
    const a = expandEvents([event!], { seed: 7 });
    expect(a).toHaveLength(5);
    for (const { atMs, event } of a) {
      expect(atMs).toBeGreaterThanOrEqual(20_000);
      expect(atMs).toBeLessThan(30_000);
      expect(event.interrupt).toEqual({ group: 'spot-a', action: 'terminate' });
    }
    expect(expandEvents([event!], { seed: 7 })).toEqual(a);
    expect(expandEvents([event!], { seed: 8 }).map((e) => e.atMs)).not.toEqual(a.map((e) => e.atMs));
  });

  it('divides every time by the speed and sorts by time', () => {
    const events = parseScenario({
      events: [
        { at: '2m', rebalancer: {} },
        { at: '40s', alarm: { name: 'storm', state: 'ALARM' } },
      ],
    }).events;
    expect(expandEvents(events, { speed: 4 }).map((e) => e.atMs)).toEqual([10_000, 30_000]);
  });

  it('rejects a step with two kinds, naming the choices', () => {
    expect(() =>
      parseScenario({ events: [{ at: '1s', rebalancer: {}, setDesired: { group: 'g', desired: 1 } }] }),
    ).toThrow(/exactly one of .*storm, alarm, rebalancer, setDesired/);
  });
});

it('the demo scenario parses: 30 nodes over 3 zones, 90% spot', () => {
  const s = loadScenario(new URL('../../sim/scenarios/spot-storm.yaml', import.meta.url).pathname);
  const groups = s.nodeGroups ?? [];
  const total = groups.reduce((n, g) => n + g.desired, 0);
  const spot = groups.filter((g) => g.capacityType === 'SPOT').reduce((n, g) => n + g.desired, 0);
  expect(total).toBe(30);
  expect(spot / total).toBe(0.9);
  expect(s.cluster.zones).toHaveLength(3);
});

it('alarm and rebalancer steps put their EventBridge events on the bus, setDesired resizes the group', async () => {
  const sim = await startSimulator({
    nodes: 3,
    scenario: {
      events: [
        {
          at: '50ms',
          alarm: { name: 'storm-a', state: 'ALARM', dimensions: { AvailabilityZone: 'us-east-1a' } },
        },
        { at: '60ms', alarm: { name: 'storm-a', state: 'OK' } },
        { at: '70ms', rebalancer: { rule: 'spotguard-rebalancer' } },
        { at: '80ms', setDesired: { group: 'on-demand', desired: 2 } },
      ],
    },
  });
  try {
    await sim.waitFor(() => sim.events.emitted().some((e) => e['detail-type'] === 'Scheduled Event'), 5000);
    const alarms = sim.events.emitted().filter((e) => e.source === 'aws.cloudwatch');
    expect(alarms.map((e) => e['detail-type'])).toEqual([
      'CloudWatch Alarm State Change',
      'CloudWatch Alarm State Change',
    ]);
    expect(alarms[0]!.resources).toEqual(['arn:aws:cloudwatch:us-east-1:123456789012:alarm:storm-a']);
    expect(
      alarms.map((e) => [
        (e.detail.state as { value: string }).value,
        (e.detail.previousState as { value: string }).value,
      ]),
    ).toEqual([
      ['ALARM', 'OK'],
      ['OK', 'ALARM'],
    ]);
    const tick = sim.events.emitted().find((e) => e['detail-type'] === 'Scheduled Event')!;
    expect(tick.source).toBe('aws.events');
    expect(tick.resources).toEqual(['arn:aws:events:us-east-1:123456789012:rule/spotguard-rebalancer']);
    await sim.waitFor(() => sim.aws.requireGroup('on-demand').desiredCapacity === 2, 5000, 'desired 2');
  } finally {
    await sim.stop();
  }
});
