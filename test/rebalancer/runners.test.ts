// The rebalancer's runner against the simulator's eviction API: a PDB that refuses (it changed
// since the plan) is reported once and not retried; and the trigger/handler input rules.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeClientsFromConfig } from '../../shared/k8s/client.ts';
import { handleRebalancerInput } from '../../shared/rebalancer/lambda.ts';
import { rebalanceWorkload } from '../../shared/rebalancer/runners.ts';
import { triggerOf } from '../../shared/rebalancer/trigger.ts';
import type { WorkloadPlan } from '../../shared/rebalancer/types.ts';
import { type Simulator, startSimulator } from '../../sim/index.ts';
import type { KObject } from '../../sim/k8s/store.ts';
import { deployment, pdb } from '../e2e/harness.ts';

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({
    nodes: 2,
    podStartMs: 50,
    podTerminationMs: 100,
    scenario: { workloads: [deployment('web', 2), pdb('web-all', 'web', { minAvailable: '100%' })] },
  });
  await sim.waitFor(() => running().length === 2, 15_000, 'web running');
}, 30_000);

afterAll(async () => {
  await sim?.stop();
});

const running = () =>
  sim.store
    .list('pods', { namespace: 'default' })
    .filter((p: KObject) => p.metadata.labels?.app === 'web' && p.status?.phase === 'Running');

it('a PDB refusal at eviction time is reported once and not retried', async () => {
  const k8s = kubeClientsFromConfig(sim.kubeConfig());
  const rs = sim.store.list('replicasets', { namespace: 'default' })[0]!;
  const [a, b] = running();
  const move = (p: KObject) => ({
    namespace: 'default',
    name: p.metadata.name,
    uid: p.metadata.uid ?? '',
    node: p.spec.nodeName,
    fromZone: 'x',
    toZone: 'y',
    toNode: 'n',
    gracePeriodSeconds: 1,
  });
  // planned when the budget still allowed it (budgets: [] — the runner does not pre-check)
  const plan: WorkloadPlan = {
    workload: 'default/Deployment/web',
    constraints: [],
    moves: [move(a!), move(b!)],
    blocked: [],
    skewBefore: 2,
    budgets: [],
  };
  const before = sim.kubeRequests.byKey();
  const out = await rebalanceWorkload(
    {
      k8s,
      namespace: 'spotguard',
      replicaSetOwners: new Map([[`default/${rs.metadata.name}`, 'Deployment/web']]),
      cooldownMs: 0,
      waitMs: 2000,
      pollMs: 100,
    },
    plan,
  );
  const evictions = Object.entries(sim.kubeRequests.byKey())
    .filter(([k]) => k.includes('eviction'))
    .reduce((n, [k, v]) => n + v - (before[k] ?? 0), 0);
  expect(evictions).toBe(1);
  expect(out.evicted).toEqual([]);
  expect(out.blocked).toHaveLength(1);
  expect(out.blocked[0]).toMatch(/refused by PodDisruptionBudget web-all/);
  expect(
    running()
      .map((p) => p.metadata.uid)
      .sort(),
  ).toEqual([a!.metadata.uid, b!.metadata.uid].sort());
});

describe('triggerOf / handleRebalancerInput', () => {
  const launch = (id: string, time: string) => ({
    messageId: id,
    eventSource: 'aws:sqs',
    body: JSON.stringify({
      version: '0',
      id,
      'detail-type': 'EC2 Instance Launch Successful',
      source: 'aws.autoscaling',
      account: '123456789012',
      time,
      region: 'us-east-1',
      resources: [],
      detail: { AutoScalingGroupName: 'spot-c', EC2InstanceId: 'i-0123456789abcdef0' },
    }),
    attributes: {
      ApproximateReceiveCount: '1',
      ApproximateFirstReceiveTimestamp: '1767225600000',
      SenderId: 'AIDAEXAMPLE',
      SentTimestamp: '1767225600000',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:spotguard-rebalancer',
    awsRegion: 'us-east-1',
    receiptHandle: id,
  });

  it('a burst of launches in one SQS batch is one run (newest launch time); a bad record is a batch item failure', async () => {
    const runs: unknown[] = [];
    const bad = { ...launch('m3', '2026-01-01T00:00:03Z'), body: '{"source":"aws.autoscaling"' };
    const result = await handleRebalancerInput(
      { Records: [launch('m1', '2026-01-01T00:00:01Z'), launch('m2', '2026-01-01T00:00:05Z'), bad] },
      async (options) => {
        runs.push(options);
        return { trigger: options.trigger, dryRun: false, workloads: [], evictions: 0 };
      },
    );
    expect(runs).toEqual([{ trigger: 'launch', launchedAt: '2026-01-01T00:00:05.000Z' }]);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm3' }]);
  });

  it('schedule and manual payloads run; malformed ones are rejected naming the field', () => {
    const ev = {
      version: '0',
      id: '1',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: '2026-01-01T00:00:00Z',
      region: 'us-east-1',
      resources: [],
      detail: {},
    };
    expect(triggerOf(ev)).toEqual({ run: true, options: { trigger: 'schedule' } });
    expect(triggerOf({ action: 'rebalance', dryRun: true, namespace: 'shop' })).toMatchObject({
      run: true,
      options: { trigger: 'manual', dryRun: true, namespaces: ['shop'] },
    });
    expect(() => triggerOf({ ...ev, time: 'yesterday' })).toThrow(/time/);
    expect(() => triggerOf({ action: 'rebalance', maxEvictions: -1 })).toThrow(/maxEvictions/);
  });
});
