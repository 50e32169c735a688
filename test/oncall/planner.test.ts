// planManual as a table: pure inputs (nodes, zonal pods, caller) → steps, refusals, reasons.
import type { V1Node } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parse } from '../../shared/events/parse.ts';
import type { ManualEvent } from '../../shared/events/types.ts';
import { type ManualObserved, planManual } from '../../shared/plans/manual.ts';

const n = (name: string, zone: string, extra: Partial<V1Node['spec']> = {}, annotations = {}): V1Node => ({
  metadata: { name, labels: { 'topology.kubernetes.io/zone': zone }, annotations },
  spec: { ...extra },
  status: { conditions: [{ type: 'Ready', status: 'True' }] },
});
const ev = (p: Record<string, unknown>) => parse({ spotguard: 'manual', ...p })[0] as ManualEvent;
const nodes = [
  n('a1', 'a'),
  n('a2', 'a'),
  n('b1', 'b'),
  n('b2', 'b'),
  n('c1', 'c', { unschedulable: true }, { 'spotguard.io/cordoned-by': 'spotguard' }),
];
const obs = (name: string, p: Partial<ManualObserved> = {}): ManualObserved => ({
  nodeName: name,
  node: nodes.find((x) => x.metadata?.name === name)!,
  nodes,
  zonalPods: [],
  caller: { principal: 'arn:aws:sts::1:assumed-role/oncall/alice', verified: true },
  ...p,
});
const cfg = { maxCordonedShare: 0.5 };
const kinds = (p: ReturnType<typeof planManual>) => p.steps.map((s) => s.kind);

describe('planManual', () => {
  it('drain: reason and requester recorded, an Event, then the drain with the fixed taint reason', () => {
    const p = planManual(ev({ action: 'drain', node: 'a1', reason: 'INC-1: disk' }), obs('a1'), cfg);
    expect(kinds(p)).toEqual(['record-request', 'node-event', 'drain']);
    expect(p.steps[0]).toMatchObject({
      annotations: {
        'spotguard.io/manual-reason': 'INC-1: disk',
        'spotguard.io/requested-by': 'arn:aws:sts::1:assumed-role/oncall/alice',
      },
    });
    expect(p.steps[2]).toMatchObject({ why: 'cordon + taint manual, evict' });
  });

  it('refusals, each overridable: other cluster, last node of a zone with zonal pods, cordoned share', () => {
    expect(
      planManual(ev({ action: 'drain', node: 'a1', reason: 'x' }), obs('a1', { foreignCluster: 'c2' }), cfg)
        .refused,
    ).toMatch(/cluster c2/);
    const lonely = obs('b1', {
      nodes: nodes.filter((x) => x.metadata?.name !== 'b2'),
      zonalPods: ['default/db-0'],
    });
    expect(planManual(ev({ action: 'drain', node: 'b1', reason: 'x' }), lonely, cfg).refused).toMatch(
      /last schedulable node in b .*db-0/,
    );
    const tight = { maxCordonedShare: 0.3 };
    expect(planManual(ev({ action: 'drain', node: 'a1', reason: 'x' }), obs('a1'), tight).refused).toMatch(
      /2 of 5/,
    );
    const forced = planManual(
      ev({ action: 'drain', node: 'a1', reason: 'x', overrideSafety: true }),
      obs('a1'),
      tight,
    );
    expect(forced.refused).toBeUndefined();
    expect(forced.steps[1]).toMatchObject({
      kind: 'node-event',
      warning: true,
      message: expect.stringMatching(/safety override/),
    });
  });

  it('uncordon: spotguard’s cordon only unless forced; a reason filter only when asked', () => {
    expect(
      planManual(ev({ action: 'uncordon', node: 'c1', reason: 'resolved' }), obs('c1'), cfg).steps[0],
    ).toEqual(expect.objectContaining({ kind: 'uncordon', anyone: false }));
    expect(
      planManual(ev({ action: 'uncordon', node: 'c1', reason: 'resolved' }), obs('c1'), cfg).steps[0],
    ).not.toHaveProperty('onlyIfReason');
    expect(
      planManual(ev({ action: 'uncordon', node: 'c1', onlyIfReason: 'manual', force: true }), obs('c1'), cfg)
        .steps[0],
    ).toMatchObject({ anyone: true, onlyIfReason: 'manual' });
  });

  it('status: one node, or every node spotguard cordoned', () => {
    expect(
      planManual(
        ev({ action: 'status' }),
        { ...obs('a1'), nodeName: undefined, node: undefined } as ManualObserved,
        cfg,
      ).steps[0],
    ).toMatchObject({ kind: 'status', nodes: ['c1'] });
    expect(planManual(ev({ action: 'status', node: 'a1' }), obs('a1'), cfg).steps[0]).toMatchObject({
      nodes: ['a1'],
    });
  });

  it('a node that does not exist: nothing to do, said why', () => {
    expect(
      planManual(ev({ action: 'drain', node: 'zz', reason: 'x' }), obs('zz', { node: undefined }), cfg)
        .nothingBecause,
    ).toBe('no node named zz');
  });
});
