// A terminate-hook drain that outlasts one Lambda run: the function re-queues itself to the
// lifecycle queue, heartbeats keep the hook alive, and a later invocation finishes the drain and
// completes the action — once.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deployment, type E2E, pdb, podsOn, readyPods, startE2E } from './harness.ts';

let e: E2E;

beforeAll(async () => {
  e = await startE2E(
    {
      scenario: {
        cluster: { name: 'e2e-continue', region: 'us-east-1', zones: ['us-east-1a'] },
        nodeGroups: [
          {
            name: 'od-a',
            zone: 'us-east-1a',
            capacityType: 'ON_DEMAND',
            desired: 3,
            max: 5,
            lifecycleHooks: [
              {
                name: 'spotguard-drain',
                transition: 'terminate',
                heartbeatTimeout: 6,
                defaultResult: 'ABANDON',
              },
            ],
          },
        ],
        workloads: [
          deployment('web', 3),
          // Blocks every eviction until the test removes it.
          pdb('web-freeze', 'web', { minAvailable: '100%' }),
        ],
      },
    },
    // The lifecycle function gets 900 s × 0.01 = 9 s per run (1 s kept in reserve).
    { timeoutScale: 0.01, visibilityTimeoutSeconds: 30, env: { LAMBDA_RESERVE_MS: '1000' } },
  );
  await e.sim.waitFor(() => readyPods(e.sim, 'default', 'app', 'web').length === 3, 15_000, 'web ready');
}, 60_000);

afterAll(async () => {
  await e?.stop();
});

it('re-queues the drain, heartbeats meanwhile, and completes CONTINUE once in a later invocation', async () => {
  const inst = e.sim.aws.instances().find((i) => podsOn(e.sim, i.privateDnsName).length > 0)!;
  e.sim.aws.terminateInGroup(inst.instanceId, true);
  await e.sim.waitFor(
    () => e.reports().some((r) => r.instanceId === inst.instanceId && r.outcome === 'continued'),
    30_000,
    'first run re-queued',
  );
  const first = e.reports().find((r) => r.instanceId === inst.instanceId && r.outcome === 'continued')!;
  // the first run did not complete the hook: its complete step was skipped for the continuation
  expect(first.lifecycle).toMatchObject({ completed: false });
  expect(first.plan?.steps.find((s) => s.kind === 'complete-hook')?.status).toBe('skipped');
  expect(e.sim.awsRequests.count('autoscaling', 'CompleteLifecycleAction')).toBe(0);
  expect(first.drain?.complete).toBe(false);
  // Still waiting on the hook (heartbeats), not defaulted to ABANDON after its 6 s timeout.
  expect(e.sim.aws.instance(inst.instanceId)!.lifecycleState).toBe('Terminating:Wait');

  e.sim.store.delete('poddisruptionbudgets', 'default', 'web-freeze');
  await e.sim.waitFor(
    () => e.reports().some((r) => r.instanceId === inst.instanceId && r.lifecycle?.completed),
    40_000,
    'completed by a continuation',
  );
  const last = e.reports().find((r) => r.instanceId === inst.instanceId && r.lifecycle?.completed)!;
  expect(last.dedupKey).toMatch(/#attempt=\d+$/);
  expect(last.lifecycle).toMatchObject({ result: 'CONTINUE', completed: true });
  expect(last.drain?.complete).toBe(true);
  expect(e.sim.awsRequests.count('autoscaling', 'CompleteLifecycleAction')).toBe(1);
  expect(e.sim.awsRequests.count('autoscaling', 'RecordLifecycleActionHeartbeat')).toBeGreaterThanOrEqual(1);
  await e.sim.waitFor(
    () => e.sim.aws.instance(inst.instanceId)?.state === 'terminated',
    15_000,
    'terminated',
  );
}, 120_000);
