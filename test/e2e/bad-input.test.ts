// Bad input at the Lambda boundary: rejected with an error naming the field, nothing done, and
// nothing lost (SQS records fail individually and end in the DLQ; direct invokes fail → Lambda retries).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type E2E, startE2E } from './harness.ts';

let e: E2E;

beforeAll(async () => {
  e = await startE2E({ nodes: 3 }, { visibilityTimeoutSeconds: 1 });
  await e.sim.waitFor(() => e.sim.store.count('nodes') === 3, 10_000, 'nodes');
}, 60_000);
afterAll(async () => {
  await e?.stop();
});

const malformedItn = {
  version: '0',
  id: '11111111-2222-4333-8444-555555555555',
  'detail-type': 'EC2 Spot Instance Interruption Warning',
  source: 'aws.ec2',
  account: '123456789012',
  time: '2026-11-21T05:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail: { 'instance-id': 'i-0123456789abcdef0', 'instance-action': 'reboot' },
};

it('a malformed direct event fails with an error naming the field and changes nothing', async () => {
  await expect(e.bridge.invoke('spot-interruption', malformedItn)).rejects.toThrow(/detail\.instance-action/);
  // Only reads could have happened (none expected): no node was patched, nothing evicted.
  const patches = Object.entries(e.sim.kubeRequests.byKey()).filter(([k]) =>
    /^(patch|create|delete|update)/.test(k),
  );
  expect(patches.filter(([k]) => /nodes|eviction/.test(k))).toEqual([]);
  // Lambda's async retries would fail the same way, then the event lands in the function's DLQ.
  expect(e.bridge.invocations.at(-1)!.error).toMatch(/expected one of terminate\|stop\|hibernate/);
});

it('a malformed SQS record fails alone, is redelivered, then dead-lettered; the good one is handled', async () => {
  const node = e.sim.aws.instances()[0]!;
  const good = {
    version: '0',
    id: '21111111-2222-4333-8444-555555555555',
    'detail-type': 'EC2 Instance State-change Notification',
    source: 'aws.ec2',
    account: '123456789012',
    time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    region: 'us-east-1',
    resources: [],
    detail: { 'instance-id': node.instanceId, state: 'pending' },
  };
  e.sim.sqs.sendMessage('spotguard-state-change', JSON.stringify(good));
  e.sim.sqs.sendMessage(
    'spotguard-state-change',
    '{"detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2"',
  );
  await e.sim.waitFor(
    () => e.bridge.deadLetters()['spotguard-state-change-dlq'] === 1,
    60_000,
    'bad record dead-lettered',
  );
  const failures = e.bridge.invocations
    .filter((i) => i.functionName === 'state-change')
    .flatMap((i) => (i.result as { batchItemFailures?: unknown[] } | undefined)?.batchItemFailures ?? []);
  // maxReceiveCount 3: two redeliveries, then spotguard itself moves it to the DLQ with the reason.
  expect(failures.length).toBeGreaterThanOrEqual(2);
  const [dead] = e.sim.sqs.receive('spotguard-state-change-dlq', 1);
  const attrs = dead!.messageAttributes as Record<string, { StringValue?: string }>;
  expect(attrs.ErrorMessage?.StringValue).toMatch(/JSON/i);
  expect(attrs.ApproximateReceiveCount?.StringValue).toBe('3');
  expect(
    e
      .reports()
      .some((r) => r.kind === 'state-change' && r.instanceId === node.instanceId && r.outcome === 'ignored'),
  ).toBe(true);
}, 90_000);
