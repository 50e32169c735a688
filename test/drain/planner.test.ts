import type {
  V1Node,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
  V1PodDisruptionBudget,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { planDrain } from '../../shared/drain/planner.ts';
import { selectorMatches } from '../../shared/drain/selectors.ts';

const NOW = new Date('2026-11-21T10:00:00.000Z');
const node: V1Node = { metadata: { name: 'ip-10-0-1-1' } };
const rsOwner = [
  { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'rs-1', controller: true },
];

interface PodSpecLite {
  name: string;
  ns?: string;
  labels?: Record<string, string>;
  grace?: number;
  priority?: number;
  claims?: string[];
  owner?: 'ReplicaSet' | 'DaemonSet' | 'none';
  phase?: string;
  annotations?: Record<string, string>;
  deleting?: boolean;
  emptyDir?: boolean;
}

function pod(p: PodSpecLite): V1Pod {
  const ownerReferences =
    p.owner === 'none'
      ? undefined
      : p.owner === 'DaemonSet'
        ? [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'node-agent', uid: 'ds-1', controller: true }]
        : rsOwner;
  const volumes = [
    ...(p.claims ?? []).map((claimName) => ({ name: claimName, persistentVolumeClaim: { claimName } })),
    ...(p.emptyDir ? [{ name: 'scratch', emptyDir: {} }] : []),
  ];
  return {
    metadata: {
      name: p.name,
      namespace: p.ns ?? 'default',
      uid: `uid-${p.name}`,
      labels: p.labels ?? {},
      annotations: p.annotations,
      ownerReferences,
      deletionTimestamp: p.deleting ? NOW : undefined,
    },
    spec: {
      nodeName: 'ip-10-0-1-1',
      containers: [{ name: 'c' }],
      terminationGracePeriodSeconds: p.grace,
      priority: p.priority,
      volumes,
    },
    status: { phase: p.phase ?? 'Running' },
  };
}

function pdb(
  name: string,
  matchLabels: Record<string, string>,
  disruptionsAllowed: number,
): V1PodDisruptionBudget {
  return {
    metadata: { name, namespace: 'default' },
    spec: { selector: { matchLabels }, maxUnavailable: 1 },
    status: { disruptionsAllowed, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 },
  };
}

function ebsVolume(pvName: string, claim: string, zoneKey = 'topology.kubernetes.io/zone') {
  const pv: V1PersistentVolume = {
    metadata: { name: pvName },
    spec: {
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: zoneKey, operator: 'In', values: ['us-east-1a'] }] },
          ],
        },
      },
    },
  };
  const pvc: V1PersistentVolumeClaim = {
    metadata: { name: claim, namespace: 'default' },
    spec: { volumeName: pvName },
  };
  return { pv, pvc };
}

const plan = (pods: V1Pod[], extra: Partial<Parameters<typeof planDrain>[0]> = {}) =>
  planDrain({ node, pods, pdbs: [], pvs: [], pvcs: [], now: NOW, options: {}, ...extra });

describe('planDrain: which pods', () => {
  it.each([
    [
      'mirror pod',
      pod({ name: 'kube-proxy', annotations: { 'kubernetes.io/config.mirror': 'abc' } }),
      'mirror-pod',
    ],
    ['DaemonSet pod', pod({ name: 'agent', owner: 'DaemonSet' }), 'daemonset'],
    ['Succeeded pod', pod({ name: 'job-1', phase: 'Succeeded' }), 'finished'],
    ['Failed pod', pod({ name: 'job-2', phase: 'Failed' }), 'finished'],
    ['terminating pod', pod({ name: 'going', deleting: true }), 'terminating'],
    ['bare pod without force', pod({ name: 'bare', owner: 'none' }), 'unmanaged'],
    ['spotguard itself', pod({ name: 'sg', labels: { 'app.kubernetes.io/name': 'spotguard' } }), 'spotguard'],
  ])('skips a %s with a reason', (_label, p, reason) => {
    const result = plan([p]);
    expect(result.evictions).toEqual([]);
    expect(result.skipped).toEqual([
      expect.objectContaining({ name: p.metadata!.name, reason, detail: expect.any(String) }),
    ]);
  });

  it('evicts bare pods only with force', () => {
    const bare = pod({ name: 'bare', owner: 'none' });
    expect(plan([bare]).evictions).toHaveLength(0);
    expect(plan([bare], { options: { force: true } }).evictions.map((e) => e.name)).toEqual(['bare']);
  });

  it('evicts emptyDir pods by default and skips them when deleteEmptyDirData is false', () => {
    const cache = pod({ name: 'cache', emptyDir: true });
    expect(plan([cache]).evictions.map((e) => e.name)).toEqual(['cache']);
    const result = plan([cache], { options: { deleteEmptyDirData: false } });
    expect(result.evictions).toHaveLength(0);
    expect(result.skipped[0]?.reason).toBe('local-storage');
  });
});

describe('planDrain: order', () => {
  it('puts pods on zonal EBS volumes first, then priority desc, then longest grace', () => {
    const a = ebsVolume('pv-a', 'data-db-0');
    const b = ebsVolume('pv-b', 'data-legacy-0', 'topology.ebs.csi.aws.com/zone');
    const pods = [
      pod({ name: 'web-low', priority: 0, grace: 30 }),
      pod({ name: 'web-high', priority: 1000, grace: 5 }),
      pod({ name: 'web-high-slow', priority: 1000, grace: 60 }),
      pod({ name: 'db-0', priority: 0, grace: 10, claims: ['data-db-0'] }),
      pod({ name: 'legacy-0', priority: 0, grace: 20, claims: ['data-legacy-0'] }),
    ];
    const result = plan(pods, { pvs: [a.pv, b.pv], pvcs: [a.pvc, b.pvc] });
    expect(result.evictions.map((e) => e.name)).toEqual([
      'legacy-0',
      'db-0',
      'web-high-slow',
      'web-high',
      'web-low',
    ]);
    expect(result.evictions[1]).toMatchObject({ stateful: true, persistentVolumes: ['pv-a'] });
    expect(result.evictions[2]).toMatchObject({ stateful: false, persistentVolumes: [] });
  });

  it('does not treat a PVC bound to a PV without zone affinity as stateful', () => {
    const pv: V1PersistentVolume = { metadata: { name: 'pv-nfs' }, spec: {} };
    const pvc: V1PersistentVolumeClaim = {
      metadata: { name: 'shared', namespace: 'default' },
      spec: { volumeName: 'pv-nfs' },
    };
    const result = plan([pod({ name: 'reader', claims: ['shared'] })], { pvs: [pv], pvcs: [pvc] });
    expect(result.evictions[0]?.stateful).toBe(false);
  });
});

describe('planDrain: grace', () => {
  const pods = [pod({ name: 'slow', grace: 90 }), pod({ name: 'quick', grace: 5 }), pod({ name: 'default' })];
  const graces = (result: ReturnType<typeof plan>) =>
    Object.fromEntries(result.evictions.map((e) => [e.name, e.gracePeriodSeconds]));

  it.each([
    ['no deadline: own grace (default 30)', {}, { slow: 90, quick: 5, default: 30 }],
    ['override replaces own grace', { gracePeriodSeconds: 12 }, { slow: 12, quick: 12, default: 12 }],
    [
      'deadline in 2 min, 10 s margin: capped at 110 s',
      { deadline: new Date(NOW.getTime() + 120_000) },
      { slow: 90, quick: 5, default: 30 },
    ],
    [
      'deadline in 40 s, 10 s margin: capped at 30 s',
      { deadline: new Date(NOW.getTime() + 40_000) },
      { slow: 30, quick: 5, default: 30 },
    ],
    [
      'deadline in 15 s with 5 s margin: capped at 10 s',
      { deadline: new Date(NOW.getTime() + 15_000), safetyMarginMs: 5_000 },
      { slow: 10, quick: 5, default: 10 },
    ],
    [
      'deadline already passed: 1 s, never 0 (a force-delete) unless forced',
      { deadline: new Date(NOW.getTime() - 5_000) },
      { slow: 1, quick: 1, default: 1 },
    ],
    [
      'deadline already passed and forced: 0',
      { deadline: new Date(NOW.getTime() - 5_000), force: true },
      { slow: 0, quick: 0, default: 0 },
    ],
  ])('%s', (_label, options, expected) => {
    expect(graces(plan(pods, { options }))).toEqual(expected);
  });

  it('reports when terminations must be done by', () => {
    const deadline = new Date(NOW.getTime() + 120_000);
    expect(plan(pods, { options: { deadline } }).waitUntil).toBe('2026-11-21T10:01:50.000Z');
    expect(plan(pods, { options: { timeoutMs: 60_000 } }).waitUntil).toBe('2026-11-21T10:01:00.000Z');
  });
});

describe('planDrain: budgets', () => {
  it('groups pods by budget and expects the ones beyond disruptionsAllowed to be blocked', () => {
    const pods = [
      pod({ name: 'web-1', labels: { app: 'web' } }),
      pod({ name: 'web-2', labels: { app: 'web' } }),
      pod({ name: 'web-3', labels: { app: 'web' } }),
      pod({ name: 'api-1', labels: { app: 'api' } }),
      pod({ name: 'solo', labels: { app: 'solo' } }),
    ];
    const pdbs = [pdb('web', { app: 'web' }, 1), pdb('api', { app: 'api' }, 0)];
    const result = plan(pods, { pdbs });
    expect(result.budgets).toEqual([
      { budget: 'default/api', disruptionsAllowed: 0, pods: ['default/api-1'], expectedBlocked: 1 },
      {
        budget: 'default/web',
        disruptionsAllowed: 1,
        pods: ['default/web-1', 'default/web-2', 'default/web-3'],
        expectedBlocked: 2,
      },
    ]);
    const blocked = result.evictions.filter((e) => e.expectedBlocked).map((e) => e.name);
    expect(blocked).toEqual(['api-1', 'web-2', 'web-3']);
    expect(result.evictions.find((e) => e.name === 'solo')?.budget).toBeUndefined();
  });

  it('ignores budgets of other namespaces and flags pods under two budgets', () => {
    const other = { ...pdb('web', { app: 'web' }, 0), metadata: { name: 'web', namespace: 'other' } };
    const pods = [pod({ name: 'web-1', labels: { app: 'web', tier: 'front' } })];
    expect(plan(pods, { pdbs: [other] }).evictions[0]?.budget).toBeUndefined();
    const both = plan(pods, { pdbs: [pdb('a', { app: 'web' }, 5), pdb('b', { tier: 'front' }, 5)] });
    expect(both.evictions[0]).toMatchObject({
      budget: 'default/a',
      multipleBudgets: true,
      expectedBlocked: true,
    });
  });
});

describe('selectorMatches', () => {
  const labels = { app: 'web', tier: 'front' };
  it.each([
    [{}, true],
    [undefined, false],
    [{ matchLabels: { app: 'web' } }, true],
    [{ matchLabels: { app: 'api' } }, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, false],
    [{ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, false],
    [{ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, true],
  ])('%j → %s', (selector, expected) => {
    expect(selectorMatches(selector, labels)).toBe(expected);
  });
});
