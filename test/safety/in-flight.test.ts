// A record being handled is kept in flight for a short renewed window (60 s), not the queue's
// whole visibility timeout (here 905 s, as function timeout + 5): had the handler died now, the
// terminate hook (heartbeat 300 s) would be retried inside its heartbeat timeout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IN_FLIGHT_WINDOW_S } from '../../shared/aws/in-flight.ts';
import { deployment, type E2E, pdb, readyPods, startE2E } from '../e2e/harness.ts';

let e: E2E;
const HEARTBEAT_S = 300;

beforeAll(async () => {
  e = await startE2E({
    // Replacements take 4 s to be Ready, one eviction at a time: a drain of several seconds.
    podStartMs: 4000,
    scenario: {
      cluster: { name: 'in-flight', region: 'us-east-1', zones: ['us-east-1a'] },
      nodeGroups: [
        {
          name: 'spot-a',
          zone: 'us-east-1a',
          capacityType: 'SPOT',
          desired: 2,
          lifecycleHooks: [
            { name: 'spotguard-terminate', transition: 'terminate', heartbeatTimeout: HEARTBEAT_S },
          ],
        },
      ],
      workloads: [deployment('web', 4), pdb('web', 'web', { maxUnavailable: 1 })],
    },
  });
  await e.sim.waitFor(() => readyPods(e.sim, 'default', 'app', 'web').length === 4, 30_000, 'web ready');
}, 60_000);

afterAll(async () => {
  await e?.stop();
});

describe('records in flight', () => {
  it('stay invisible only for the short renewed window while the drain runs', async () => {
    const queue = e.sim.sqs.requireQueue('spotguard-lifecycle');
    expect(Number(queue.attributes.VisibilityTimeout)).toBeGreaterThan(HEARTBEAT_S);
    const inst = e.sim.aws
      .instances()
      .find((i) => e.sim.store.list('pods', { nodeName: i.privateDnsName }).length > 1)!;
    e.sim.aws.terminateInGroup(inst.instanceId, false);
    // Wait until the handler is on it (the node is cordoned), then look at the message.
    await e.sim.waitFor(
      () => e.sim.store.get('nodes', undefined, inst.privateDnsName)?.spec.unschedulable === true,
      20_000,
      'drain started',
    );
    await new Promise((r) => setTimeout(r, 1500));
    const inFlight = queue.messages.filter((m) => m.visibleAt > Date.now());
    expect(inFlight).toHaveLength(1);
    const invisibleForS = (inFlight[0]!.visibleAt - Date.now()) / 1000;
    expect(invisibleForS).toBeLessThanOrEqual(IN_FLIGHT_WINDOW_S);
    expect(invisibleForS).toBeLessThan(HEARTBEAT_S);
    await e.sim.waitFor(
      () => e.sim.aws.instance(inst.instanceId)?.state === 'terminated',
      60_000,
      'terminated',
    );
  }, 90_000);
});
