// The rebalancer's planner, table-tested on cluster states: no server needed for decisions.
import { describe, expect, it } from 'vitest';
import { minimumEvictions } from '../../shared/rebalancer/minimum.ts';
import { planRebalance } from '../../shared/rebalancer/planner.ts';
import { config, node, observed, pdb, pod, spreadPods, zoneNodes, zoneSpread } from './fixtures.ts';

const zones = ['a', 'b', 'c'];
const web = (layout: Record<string, number>, o = {}) =>
  spreadPods('web', layout, 3, { spread: [zoneSpread('web', 1)], ...o });
const plannedCounts = (plan: ReturnType<typeof planRebalance>, i = 0) =>
  plan.workloads[0]!.constraints[i]!.planned;

describe('planRebalance', () => {
  it('does nothing when every constraint is within maxSkew', () => {
    const plan = planRebalance(
      'test',
      observed({ nodes: zoneNodes(zones, 3), pods: web({ a: 4, b: 4, c: 3 }) }),
      config(),
    );
    expect(plan.steps).toEqual([]);
    expect(plan.nothingBecause).toMatch(/within maxSkew/);
    expect(plan.workloads[0]!.skewBefore).toBe(1);
  });

  it('9/3/0 with maxSkew 1: exactly the minimum number of moves, into zones with room', () => {
    const plan = planRebalance(
      'test',
      observed({ nodes: zoneNodes(zones, 3), pods: web({ a: 9, b: 3, c: 0 }) }),
      config(),
    );
    const moves = plan.workloads[0]!.moves;
    expect(minimumEvictions([9, 3, 0], 1)).toBe(5);
    expect(moves).toHaveLength(5);
    expect(moves.every((m) => m.fromZone === 'a' && m.toZone !== 'a')).toBe(true);
    expect(plannedCounts(plan)).toEqual({ a: 4, b: 4, c: 4 });
    expect(plan.steps.map((s) => s.kind)).toEqual(['rebalance-workload', 'remember-moves']);
  });

  it('moves only pods that fit: a full zone c takes one pod, the rest stays and is reported', () => {
    // zone c: one node with room for a single 100m pod; b nodes are full too
    const nodes = [
      ...zoneNodes(['a'], 3),
      ...zoneNodes(['b'], 3, { cpu: '300m' }),
      node('c-0', 'c', { cpu: '150m' }),
    ];
    const plan = planRebalance('test', observed({ nodes, pods: web({ a: 9, b: 3, c: 0 }) }), config());
    const w = plan.workloads[0]!;
    expect(w.moves.filter((m) => m.toZone === 'c')).toHaveLength(1);
    expect(w.moves.every((m) => m.toZone === 'c')).toBe(true);
    expect(w.blocked.join('\n')).toMatch(/no Ready schedulable node/);
  });

  it('never targets a NotReady, cordoned or draining node', () => {
    const nodes = [
      ...zoneNodes(['a', 'b'], 3),
      node('c-0', 'c', { ready: false }),
      node('c-1', 'c', { unschedulable: true }),
      node('c-2', 'c', { taints: [{ key: 'spotguard.io/spot-interruption', effect: 'NoSchedule' }] }),
    ];
    const plan = planRebalance('test', observed({ nodes, pods: web({ a: 9, b: 3 }) }), config());
    expect(plan.workloads[0]!.moves.some((m) => m.toZone === 'c')).toBe(false);
  });

  it('satisfies two constraints of one workload together (not one after the other)', () => {
    // web 4/4/0 spread by app=web (maxSkew 1) and by tier=front (maxSkew 2), which also counts api's 2 pods in a.
    const spread = [
      zoneSpread('web', 1),
      { ...zoneSpread('web', 2), labelSelector: { matchLabels: { tier: 'front' } } },
    ];
    const pods = [
      ...spreadPods('web', { a: 4, b: 4, c: 0 }, 3, { spread, labels: { tier: 'front' } }),
      ...spreadPods('api', { a: 2 }, 3, {
        labels: { tier: 'front' },
        annotations: { 'spotguard.io/rebalance': 'false' },
      }),
    ];
    const plan = planRebalance('test', observed({ nodes: zoneNodes(zones, 3), pods }), config());
    const w = plan.workloads.find((x) => x.workload === 'default/Deployment/web')!;
    expect(w.moves).toHaveLength(3);
    expect(w.constraints[0]!.planned).toEqual({ a: 2, b: 3, c: 3 });
    expect(w.constraints[1]!.planned).toEqual({ a: 4, b: 3, c: 3 });
    expect(w.constraints.every((c) => c.plannedSkew <= c.maxSkew)).toBe(true);
  });

  it('never moves pods on zonal volumes', () => {
    const pods = spreadPods('db', { a: 5, b: 1, c: 0 }, 3, {
      kind: 'StatefulSet',
      spread: [zoneSpread('db', 1)],
    }).map((p, i) => {
      p.spec!.volumes = [{ name: 'data', persistentVolumeClaim: { claimName: `data-db-${i}` } }];
      return p;
    });
    const zonalClaims = new Map(pods.map((_, i) => [`default/data-db-${i}`, i < 5 ? 'a' : 'b']));
    const plan = planRebalance('test', observed({ nodes: zoneNodes(zones, 3), pods, zonalClaims }), config());
    expect(plan.steps).toEqual([]);
    expect(plan.workloads[0]!.blocked).toEqual(['6 pod(s) never moved: zonal volume']);
  });

  it('reports a PDB that allows no disruption once for the workload, and plans no eviction', () => {
    const plan = planRebalance(
      'test',
      observed({ nodes: zoneNodes(zones, 3), pods: web({ a: 9, b: 3 }), pdbs: [pdb('web', 'web', 0)] }),
      config(),
    );
    expect(plan.steps).toEqual([]);
    expect(plan.workloads[0]!.blocked).toEqual(['PodDisruptionBudget web allows no disruption now']);
  });

  it('keeps pods annotated spotguard.io/rebalance: "false", DaemonSet and unowned pods where they are', () => {
    const pods = [
      ...web({ a: 3 }, { annotations: { 'spotguard.io/rebalance': 'false' } }),
      ...spreadPods('agent', { a: 3 }, 3, { kind: 'DaemonSet', spread: [zoneSpread('agent', 1)] }),
    ];
    const plan = planRebalance('test', observed({ nodes: zoneNodes(zones, 3), pods }), config());
    expect(plan.steps).toEqual([]);
    expect(plan.workloads.flatMap((w) => w.blocked)).toContain(
      '3 pod(s) never moved: annotated spotguard.io/rebalance: "false"',
    );
  });

  it('waits out the cooldown of a workload it moved recently', () => {
    const o = observed({
      nodes: zoneNodes(zones, 3),
      pods: web({ a: 9, b: 3 }),
      lastMoved: { 'default/Deployment/web': '2026-01-01T11:55:00Z' },
    });
    expect(planRebalance('test', o, config()).steps).toEqual([]);
    expect(planRebalance('test', o, config({ cooldownMs: 60_000 })).steps).toHaveLength(2);
  });

  it('does not run while pods are Pending or a drain is in progress', () => {
    const pending = pod('web', '');
    pending.status = { phase: 'Pending' };
    const pods = [...web({ a: 9, b: 3 }), pending];
    expect(
      planRebalance('test', observed({ nodes: zoneNodes(zones, 3), pods }), config()).nothingBecause,
    ).toMatch(/Pending/);
    const draining = observed({ nodes: zoneNodes(zones, 3), pods: web({ a: 9 }), drainsInProgress: ['a-0'] });
    expect(planRebalance('test', draining, config()).nothingBecause).toMatch(/drain is in progress/);
  });

  it('respects the per-workload and per-run limits', () => {
    const pods = [
      ...web({ a: 9, b: 3 }),
      ...spreadPods('api', { a: 9, b: 3 }, 3, { spread: [zoneSpread('api', 1)] }),
    ];
    const plan = planRebalance(
      'test',
      observed({ nodes: zoneNodes(zones, 3), pods }),
      config({ maxEvictionsPerWorkload: 2, maxEvictionsPerRun: 3 }),
    );
    const counts = plan.workloads.map((w) => w.moves.length).sort();
    expect(counts).toEqual([1, 2]);
  });

  it('leaves workloads without a constraint alone unless a default maxSkew is configured', () => {
    const pods = spreadPods('plain', { a: 6, b: 0, c: 0 }, 3);
    expect(planRebalance('test', observed({ nodes: zoneNodes(zones, 3), pods }), config()).workloads).toEqual(
      [],
    );
    const plan = planRebalance(
      'test',
      observed({ nodes: zoneNodes(zones, 3), pods }),
      config({ defaultMaxSkew: 1 }),
    );
    expect(plan.workloads[0]!.moves).toHaveLength(4);
  });

  it('honours minDomains: with fewer zones than minDomains the minimum counts as 0', () => {
    // two zones, minDomains 3: every zone must hold ≤ maxSkew (2) — 2/2 is fine, 3/1 is not
    const spread = [zoneSpread('web', 2, { minDomains: 3 })];
    const nodes = zoneNodes(['a', 'b'], 2);
    expect(
      planRebalance(
        'test',
        observed({ nodes, pods: spreadPods('web', { a: 2, b: 2 }, 2, { spread }) }),
        config(),
      ).steps,
    ).toEqual([]);
    const plan = planRebalance(
      'test',
      observed({ nodes, pods: spreadPods('web', { a: 3, b: 1 }, 2, { spread }) }),
      config(),
    );
    expect(plan.workloads[0]!.moves).toHaveLength(1);
    expect(plannedCounts(plan)).toEqual({ a: 2, b: 2 });
  });
});

describe('minimumEvictions', () => {
  it.each([
    [[9, 3, 0], 1, 5],
    [[4, 4, 3], 1, 0],
    [[10, 0], 1, 5],
    [[10, 0], 2, 4],
    [[6, 0, 0], 1, 4],
  ])('%j maxSkew %i → %i', (counts, skew, want) => {
    expect(minimumEvictions(counts, skew)).toBe(want);
  });
});
