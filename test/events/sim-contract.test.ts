// Contract with the simulator: every EventBridge event the simulated AWS fleet emits (launches,
// hooks, Spot warnings, rebalance, Health maintenance, state changes) parses into domain events.
// If the simulator and the parser drift apart, this fails before an end-to-end scenario does.
import { afterEach, describe, expect, it } from 'vitest';
import { parse, parseBatch } from '../../shared/events/parse.ts';
import type { EventKind } from '../../shared/events/types.ts';
import { SimAws } from '../../sim/aws/cloud.ts';
import { type EventBridgeEvent, EventBus } from '../../sim/aws/events.ts';
import { Store } from '../../sim/k8s/store.ts';

let cloud: SimAws | undefined;
afterEach(() => cloud?.stop());

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

describe('events emitted by the simulated AWS fleet', () => {
  it('all parse, directly and wrapped in SQS records, into the expected kinds', async () => {
    const bus = new EventBus('eu-west-1');
    cloud = new SimAws({
      store: new Store(),
      events: bus,
      clusterName: 'sim',
      region: 'eu-west-1',
      zones: ['eu-west-1a', 'eu-west-1b'],
      bootDelayMs: 1,
      stateChangeMs: 1,
      interruptionNoticeMs: 60_000,
    });
    // One group whose instances wait on a launch hook, one whose instances go in service and
    // then hit the terminate hook when the Spot warning arrives.
    cloud.createGroup({
      name: 'spot-launching',
      zones: ['eu-west-1b'],
      capacityType: 'SPOT',
      desired: 1,
      hooks: [{ name: 'spotguard-launch', transition: 'autoscaling:EC2_INSTANCE_LAUNCHING' }],
    });
    cloud.createGroup({
      name: 'spot-a',
      zones: ['eu-west-1a'],
      capacityType: 'SPOT',
      desired: 2,
      hooks: [{ name: 'spotguard-terminate', transition: 'autoscaling:EC2_INSTANCE_TERMINATING' }],
    });
    const running = () =>
      cloud?.groupInstances(cloud.requireGroup('spot-a')).filter((i) => i.state === 'running') ?? [];
    await until(() => running().length >= 2, 'two running instances in spot-a');
    const [first, second] = running();
    cloud.recommendRebalance(first!.instanceId);
    cloud.interruptSpot(first!.instanceId);
    cloud.scheduleMaintenance([second!.instanceId], new Date(Date.now() + 3_600_000), { act: false });

    const emitted: readonly EventBridgeEvent[] = bus.emitted();
    const kinds = new Set<EventKind>();
    for (const event of emitted) {
      const events = parse(event);
      for (const e of events) kinds.add(e.kind);
      const [item] = parseBatch({
        Records: [{ messageId: event.id, eventSource: 'aws:sqs', body: JSON.stringify(event) }],
      });
      expect(item && 'events' in item && item.events.map((e) => e.dedupKey)).toEqual(
        events.map((e) => e.dedupKey),
      );
    }
    // The events this test triggers itself; hooks and state changes depend on the fleet's timing.
    expect([...kinds]).toEqual(
      expect.arrayContaining(['rebalance-recommendation', 'scheduled-change', 'spot-interruption']),
    );
    expect(kinds.has('ignored')).toBe(false);
  });
});
