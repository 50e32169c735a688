// A bad day: 20% of Kubernetes API calls fail (10% 429 with Retry-After 1, 5% 500, 5% 503) and
// 10% of AWS calls are throttled, while the real spot-interruption handler drains a node.
// The drain finishes or says what it could not; the cordon and taint are never silently lost;
// no pod is evicted twice; the same event delivered three times at once is one drain.
// The simulator's fault dice are not seeded (sim/index.ts builds its FaultInjector with
// Math.random): the assertions hold for every outcome of the dice.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deploymentWithPdb, type E2E, metricTotal, podsOn, readyPods, startE2E } from '../e2e/harness.ts';

let e: E2E;

beforeAll(async () => {
  e = await startE2E({
    scenario: {
      cluster: { name: 'faults', region: 'us-east-1', zones: ['us-east-1a', 'us-east-1b'] },
      nodeGroups: [
        { name: 'spot-a', zone: 'us-east-1a', capacityType: 'SPOT', desired: 2, max: 5 },
        { name: 'spot-b', zone: 'us-east-1b', capacityType: 'SPOT', desired: 2, max: 5 },
      ],
      workloads: [...deploymentWithPdb('web', 8)],
    },
  });
  await e.sim.waitFor(() => readyPods(e.sim, 'default', 'app', 'web').length === 8, 20_000, 'web ready');
}, 60_000);
afterAll(async () => {
  e?.sim.faults.clear();
  await e?.stop();
});

function badDay(): () => void {
  const undo = [
    e.sim.faults.add({ service: 'k8s', status: 429, retryAfterSeconds: 1, share: 0.1 }),
    e.sim.faults.add({ service: 'k8s', status: 500, share: 0.05 / 0.9 }),
    e.sim.faults.add({ service: 'k8s', status: 503, share: 0.05 / 0.85 }),
    ...['ec2', 'autoscaling', 'eks'].map((service) => e.sim.faults.add({ service, status: 429, share: 0.1 })),
  ];
  return () => {
    for (const u of undo) u();
  };
}

const workloadPods = (node: string) =>
  podsOn(e.sim, node).filter(
    (p) => !p.metadata.ownerReferences?.some((o: { kind: string }) => o.kind === 'DaemonSet'),
  );

it('an ITN delivered three times at once under 20% API faults: one drain, node cordoned and tainted, every pod out once', async () => {
  const target = e.sim.aws
    .instances()
    .filter((i) => i.state === 'running')
    .sort((a, b) => workloadPods(b.privateDnsName).length - workloadPods(a.privateDnsName).length)[0]!;
  const node = target.privateDnsName;
  const before = workloadPods(node).map((p) => p.metadata.uid);
  expect(before.length).toBeGreaterThan(0);
  const evictedBefore = metricTotal(e.emf, 'PodsEvicted');
  const event = {
    version: '0',
    id: 'c1111111-2222-4333-8444-555555555555',
    'detail-type': 'EC2 Spot Instance Interruption Warning',
    source: 'aws.ec2',
    account: '123456789012',
    time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    region: e.sim.region,
    resources: [],
    detail: { 'instance-id': target.instanceId, 'instance-action': 'terminate' },
  };
  const undo = badDay();
  let settled: PromiseSettledResult<unknown>[];
  try {
    settled = await Promise.allSettled([1, 2, 3].map(() => e.bridge.invoke('spot-interruption', event)));
  } finally {
    undo();
  }
  const reports = e.reports().filter((r) => r.dedupKey?.includes(event.id));
  const handled = reports.filter((r) => r.outcome !== 'duplicate');
  // one drain; the other deliveries are duplicates or failed invocations (retried by Lambda) — never a second drain
  expect(handled.length, JSON.stringify(reports.map((r) => r.outcome))).toBeLessThanOrEqual(1);
  const errors = settled
    .filter((s) => s.status === 'rejected')
    .map((s) => String((s as PromiseRejectedResult).reason));
  if (handled.length === 0) {
    // every delivery failed: the failure says why (it goes to the DLQ after Lambda's retries)
    expect(errors.length).toBeGreaterThan(0);
    for (const err of errors) expect(err.length).toBeGreaterThan(0);
    return;
  }
  const report = handled[0]!;
  // cordon and taint are never silently lost: a handled report means both are on the node
  const nodeObj = e.sim.store.get('nodes', undefined, node)!;
  expect(nodeObj.spec.unschedulable).toBe(true);
  expect(nodeObj.spec.taints).toEqual(
    expect.arrayContaining([expect.objectContaining({ key: 'spotguard.io/spot-interruption' })]),
  );
  if (report.drain?.complete) {
    expect(workloadPods(node)).toHaveLength(0);
  } else {
    // an incomplete drain names what it could not do
    expect(JSON.stringify(report.drain)).toMatch(/pod|evict/i);
  }
  // no pod evicted twice: evictions counted across all three deliveries ≤ the pods that were there
  expect(metricTotal(e.emf, 'PodsEvicted') - evictedBefore).toBeLessThanOrEqual(before.length);
}, 120_000);

it('out of order: the state change "terminated" arrives before the ITN → one quiet outcome, no error', async () => {
  const target = e.sim.aws
    .instances()
    .find(
      (i) =>
        i.state === 'running' && !e.sim.store.get('nodes', undefined, i.privateDnsName)?.spec?.unschedulable,
    )!;
  const node = target.privateDnsName;
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const envelope = (detailType: string, id: string, detail: Record<string, unknown>) => ({
    version: '0',
    id,
    'detail-type': detailType,
    source: 'aws.ec2',
    account: '123456789012',
    time: now,
    region: e.sim.region,
    resources: [],
    detail,
  });
  // the instance is already gone: its node is deleted, then the late events arrive
  e.sim.store.delete('nodes', undefined, node);
  e.sim.sqs.sendMessage(
    'spotguard-state-change',
    JSON.stringify(
      envelope('EC2 Instance State-change Notification', 'd1111111-2222-4333-8444-555555555555', {
        'instance-id': target.instanceId,
        state: 'terminated',
      }),
    ),
  );
  const itn = envelope('EC2 Spot Instance Interruption Warning', 'd2111111-2222-4333-8444-555555555555', {
    'instance-id': target.instanceId,
    'instance-action': 'terminate',
  });
  await e.bridge.invoke('spot-interruption', itn);
  await e.sim.waitFor(
    () => e.reports().filter((r) => /d[12]111111/.test(r.dedupKey ?? '')).length >= 2,
    20_000,
    'both handled',
  );
  const reports = e
    .reports()
    .filter((r) => r.instanceId === target.instanceId && /d[12]111111/.test(r.dedupKey ?? ''));
  expect(reports.map((r) => r.outcome)).not.toContain('failed');
  expect(
    e.bridge.invocations.filter((i) => i.error && /d[12]111111-2222/.test(JSON.stringify(i.input))),
  ).toEqual([]);
}, 60_000);

it('the Kubernetes API unavailable: retried, then the event is in the DLQ', async () => {
  const target = e.sim.aws
    .instances()
    .find((i) => i.state === 'running' && e.sim.store.get('nodes', undefined, i.privateDnsName))!;
  const dlqBefore = e.bridge.deadLetters()['spotguard-spot-interruption-dlq'] ?? 0;
  const undo = e.sim.faults.add({ service: 'k8s', status: 503 });
  try {
    // through the event bus, as EventBridge delivers it: the bridge retries like Lambda's async invoke
    e.sim.aws.interruptSpot(target.instanceId);
    await e.sim.waitFor(
      () => (e.bridge.deadLetters()['spotguard-spot-interruption-dlq'] ?? 0) > dlqBefore,
      60_000,
      'event dead-lettered',
    );
  } finally {
    undo();
  }
  const attempts = e.bridge.invocations.filter(
    (i) =>
      i.functionName === 'spot-interruption' &&
      JSON.stringify(i.input).includes(target.instanceId) &&
      i.error,
  );
  expect(attempts.length).toBeGreaterThanOrEqual(2); // Lambda's async retries came first
  // Each attempt fails with the API's 503 as its reason (a concurrent delivery of the same event may
  // be told to come back later instead); the last one, which reaches the DLQ, names the 503.
  for (const a of attempts) expect(a.error).toMatch(/503|unavailable|being handled by another invocation/i);
  expect(attempts.at(-1)!.error).toMatch(/the node could not be looked up .*503/s);
}, 90_000);
