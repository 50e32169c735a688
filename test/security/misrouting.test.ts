// A function acts only on the event kinds its route subscribes to (shared/routes.ts): a manual drain
// sent to another function, or an ITN sent to the manual one, is rejected as misrouted — nothing
// patched, nothing evicted — and an SQS-fed one ends in the DLQ.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from '../../shared/events/parse.ts';
import { acceptedKinds, checkRouted, MisroutedEventError } from '../../shared/events/routing.ts';
import { routes } from '../../shared/routes.ts';
import { type E2E, nodeOf, startE2E } from '../e2e/harness.ts';

describe('route table → accepted kinds (pure)', () => {
  it('every route says what its events become; only the manual function takes manual payloads', () => {
    for (const route of routes) {
      const kinds = acceptedKinds(route);
      expect(kinds).toContain('ignored');
      expect(kinds.includes('manual')).toBe(route.functionName === 'manual');
    }
  });

  it('a continuation of a lifecycle event is misrouted on the scheduled-change function', () => {
    const [event] = parse({
      spotguard: 'continuation',
      attempt: 1,
      event: {
        kind: 'lifecycle-terminate',
        instanceIds: ['i-0a1b2c3d4e5f60718'],
        instanceId: 'i-0a1b2c3d4e5f60718',
        autoScalingGroupName: 'g',
        lifecycleHookName: 'h',
        lifecycleActionToken: 'b7d0c6a2-3f1e-4c9a-8e5d-2a4b6c8d0e1f',
        transition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        time: '2026-11-21T10:00:00Z',
        dedupKey: 'k',
      },
    });
    const scheduled = routes.find((r) => r.functionName === 'scheduled-change')!;
    const lifecycle = routes.find((r) => r.functionName === 'lifecycle')!;
    expect(() => checkRouted(scheduled, [event!])).toThrow(MisroutedEventError);
    expect(checkRouted(lifecycle, [event!])).toEqual([event]);
  });
});

describe('misrouted events at the Lambda boundary (simulator)', () => {
  let e: E2E;
  beforeAll(async () => {
    e = await startE2E({ nodes: 2 }, { visibilityTimeoutSeconds: 1 });
    await e.sim.waitFor(() => e.sim.store.count('nodes') === 2, 10_000, 'nodes');
  }, 60_000);
  afterAll(async () => {
    await e?.stop();
  });

  const writes = () =>
    Object.entries(e.sim.kubeRequests.byKey()).filter(
      ([k]) => /^(patch|create|delete|update)/.test(k) && /nodes|eviction|pods/.test(k),
    );

  it('a manual drain invoked on the spot-interruption function is rejected, the node untouched', async () => {
    const node = nodeOf(e.sim, e.sim.aws.instances()[0]!.instanceId);
    const drain = { spotguard: 'manual', action: 'drain', node, reason: 'forged' };
    await expect(e.bridge.invoke('spot-interruption', drain)).rejects.toThrow(/misrouted/);
    expect(writes()).toEqual([]);
    expect(e.sim.store.get('nodes', undefined, node)?.spec?.unschedulable).not.toBe(true);
  });

  it('an ITN invoked on the manual function is rejected', async () => {
    const instanceId = e.sim.aws.instances()[1]!.instanceId;
    const itn = {
      version: '0',
      id: '31111111-2222-4333-8444-555555555555',
      'detail-type': 'EC2 Spot Instance Interruption Warning',
      source: 'aws.ec2',
      account: '123456789012',
      time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      region: 'us-east-1',
      resources: [],
      detail: { 'instance-id': instanceId, 'instance-action': 'terminate' },
    };
    await expect(e.bridge.invoke('manual', itn)).rejects.toThrow(/misrouted: function manual/);
    expect(writes()).toEqual([]);
  });

  it('a manual drain on the state-change queue fails its record (redelivered, then the DLQ), not handled', async () => {
    const node = nodeOf(e.sim, e.sim.aws.instances()[0]!.instanceId);
    const drain = { spotguard: 'manual', action: 'drain', node, reason: 'forged' };
    e.sim.sqs.sendMessage('spotguard-state-change', JSON.stringify(drain));
    const failed = () =>
      e.bridge.invocations
        .filter((i) => i.functionName === 'state-change')
        .flatMap((i) => (i.result as { batchItemFailures?: unknown[] } | undefined)?.batchItemFailures ?? []);
    // The queue's redrive policy (maxReceiveCount) moves a record that keeps failing to the DLQ;
    // bad-input.test.ts follows one there. Here: it fails, and nothing is done.
    await e.sim.waitFor(() => failed().length >= 2, 30_000, 'misrouted record failed twice');
    expect(writes()).toEqual([]);
    expect(e.reports().some((r) => r.kind === 'manual')).toBe(false);
  }, 40_000);
});
