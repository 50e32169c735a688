// A small interruption storm through the real handlers: 30 ITNs on 60 nodes within 5 s, each in its
// own container (a fresh module instance of the packaged spotInterruption bundle: own clients,
// token, DescribeCluster, idempotency store), against the simulator with kube-apiserver's
// max-in-flight limits and AWS throttling on. What the product guarantees, not how fast.
import { beforeAll, expect, it } from 'vitest';
import { runStorm, type StormResult } from '../../bench/storm-harness.ts';

let storm: StormResult;

beforeAll(async () => {
  storm = await runStorm({
    nodes: 60,
    deployments: 8,
    statefulPerZone: 3,
    itns: 30,
    spreadMs: 5_000,
    hosts: 2,
  });
}, 240_000);

it('handles every ITN: no invocation fails', () => {
  expect(storm.nodes).toHaveLength(30);
  expect(storm.nodes.filter((n) => n.error).map((n) => n.error)).toEqual([]);
  expect(storm.nodes.filter((n) => n.outcome !== 'handled').map((n) => `${n.node}: ${n.outcome}`)).toEqual(
    [],
  );
});

it('cordons every interrupted node, before its deadline', () => {
  for (const n of storm.nodes) {
    expect(n.cordonAt, n.node).toBeDefined();
    expect(n.cordonAt!, n.node).toBeLessThan(n.deadlineAt);
  }
});

it("removes every evictable pod of every interrupted node before that node's deadline", () => {
  const evictable = storm.nodes.reduce((a, n) => a + n.evictable, 0);
  expect(evictable).toBeGreaterThan(30 * 8);
  for (const n of storm.nodes) expect(n.goneBeforeDeadline, n.node).toBe(n.evictable);
});

it('each container made its own set-up calls: one DescribeCluster and one DescribeInstances per ITN at least', () => {
  expect(storm.awsByAction['eks:DescribeCluster']).toBeGreaterThanOrEqual(30);
  expect(storm.awsByAction['ec2:DescribeInstances']).toBeGreaterThanOrEqual(30);
  expect(storm.kubeRequestsByKey['patch nodes']).toBeGreaterThanOrEqual(30);
});
