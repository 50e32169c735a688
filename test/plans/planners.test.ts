// Table tests of the pure planners: what each event kind plans for a given observation.
import type { V1Node } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { GroupInfo } from '../../shared/aws/autoscaling.ts';
import { loadConfig } from '../../shared/config.ts';
import type { DomainEvent } from '../../shared/events/types.ts';
import type { Observed } from '../../shared/observe.ts';
import { ownershipOf } from '../../shared/ownership.ts';
import type { NodePlan } from '../../shared/plans/common.ts';
import type { NodeStep } from '../../shared/plans/node-steps.ts';
import { type NodeEvent, planFor as plan, stepKindsOf } from '../../shared/plans/plan-for.ts';

const config = loadConfig({ REQUEUE_QUEUE_URL: 'http://127.0.0.1:1/q', CLUSTER_NAME: 'prod' });
const now = new Date('2026-01-01T00:00:00Z');
const managedTag = config.managedTag;

function group(p: Partial<GroupInfo> = {}): GroupInfo {
  return {
    name: 'spot-a',
    minSize: 0,
    maxSize: 10,
    desiredCapacity: 2,
    availabilityZones: ['us-east-1a'],
    capacityRebalance: false,
    tags: { [managedTag.key]: managedTag.value },
    instances: [
      { instanceId: 'i-0000000000000001', availabilityZone: 'us-east-1a', lifecycleState: 'InService' },
    ],
    ...p,
  };
}

function node(annotations: Record<string, string> = {}): V1Node {
  return {
    metadata: { name: 'n1', annotations },
    spec: { providerID: 'aws:///us-east-1a/i-0000000000000001' },
  };
}

function observed(p: Partial<Observed> & { instanceTags?: Record<string, string> | null } = {}): Observed {
  const g = 'group' in p ? p.group : group();
  const instanceTags = p.instanceTags === null ? undefined : (p.instanceTags ?? {});
  return {
    now,
    instanceId: 'i-0000000000000001',
    ...(instanceTags
      ? {
          instance: {
            instanceId: 'i-0000000000000001',
            availabilityZone: 'us-east-1a',
            instanceType: 'm6i.large',
            lifecycle: 'spot' as const,
            state: 'running',
            tags: instanceTags,
          },
        }
      : {}),
    nodeName: 'n1',
    node: node(),
    ...(g ? { group: g } : {}),
    ownership: ownershipOf({
      clusterName: 'prod',
      managedTag,
      instanceTags,
      groupTags: g?.tags,
      noGroup: !g,
    }),
    ...p,
  };
}

const meta = {
  instanceIds: ['i-0000000000000001'],
  time: now.toISOString(),
  dedupKey: 'k',
  envelopes: [] as [],
};
const itn = {
  ...meta,
  kind: 'spot-interruption' as const,
  instanceId: 'i-0000000000000001',
  instanceAction: 'terminate' as const,
  deadline: '2026-01-01T00:02:00Z',
} satisfies DomainEvent;
const hook = {
  ...meta,
  instanceId: 'i-0000000000000001',
  autoScalingGroupName: 'spot-a',
  lifecycleHookName: 'drain',
  lifecycleActionToken: '00000000-0000-0000-0000-000000000000',
  transition: 'autoscaling:EC2_INSTANCE_TERMINATING',
};

/** Step kinds each event kind's plans in these tables emitted (undos included). */
const emitted = new Map<NodeEvent['kind'], Set<string>>();

/**
 * planFor, checked on every plan of these tables: a step kind the planner does not declare in
 * stepKindsOf would run a runner (and AWS calls) its function's IAM role does not grant.
 */
function planFor(ev: NodeEvent, o: Observed, c: typeof config): NodePlan {
  const p = plan(ev, o, c);
  const stepKinds = p.steps.flatMap((s) => [s.kind, ...(s.undo ? [(s.undo as NodeStep).kind] : [])]);
  expect(stepKindsOf[ev.kind], `${ev.kind} planned ${stepKinds.join(', ')}`).toEqual(
    expect.arrayContaining(stepKinds),
  );
  const seen = emitted.get(ev.kind) ?? new Set();
  for (const k of stepKinds) seen.add(k);
  emitted.set(ev.kind, seen);
  return p;
}

const kinds = (ev: NodeEvent, o: Observed, c = config) => planFor(ev, o, c).steps.map((s) => s.kind);

describe('spot interruption', () => {
  it('ours (managed tag on the group only): cordon, drain to the deadline, detach', () => {
    const plan = planFor(itn, observed(), config);
    expect(plan.steps.map((s) => s.kind)).toEqual(['cordon', 'drain', 'detach']);
    expect(plan.steps[1]).toMatchObject({ deadline: itn.deadline, after: ['cordon'] });
    expect(plan.deadline).toBe(itn.deadline);
  });
  it('increment mode: desired+1 carries its give-back as undo', () => {
    const plan = planFor(itn, observed(), { ...config, replacementMode: 'increment' });
    const replace = plan.steps.find((s) => s.id === 'replace')!;
    expect(replace).toMatchObject({
      kind: 'increment',
      newDesired: 3,
      undo: { kind: 'give-back', group: 'spot-a' },
    });
  });
  it('an increment left on the node by a crashed run is given back after this drain', () => {
    const o = observed({ node: node({ 'spotguard.io/replacement-requested': 'increment:spot-a' }) });
    const plan = planFor(itn, o, { ...config, replacementMode: 'increment' });
    expect(plan.steps.map((s) => s.kind)).toEqual(['cordon', 'drain', 'give-back']);
    expect(plan.steps[2]!.after).toEqual(['drain']);
  });
  it('another cluster: nothing, reported foreign', () => {
    const plan = planFor(itn, observed({ instanceTags: { 'eks:cluster-name': 'staging' } }), config);
    expect(plan).toMatchObject({ steps: [], outcome: 'foreign' });
  });
  it('ownership unknown (EC2 down, group silent) but the node is ours by providerID: drain, no capacity', () => {
    const o = observed({ instanceTags: null, group: group({ tags: {} }), ec2Error: 'throttled' });
    expect(o.ownership.verdict).toBe('unknown');
    expect(kinds(itn, o)).toEqual(['cordon', 'drain']);
  });
  it('stop: coming back, no replacement', () => {
    const plan = planFor({ ...itn, instanceAction: 'stop' }, observed(), config);
    expect(plan.steps.map((s) => s.kind)).toEqual(['cordon', 'drain']);
    expect(plan.steps[0]).toMatchObject({ comingBack: true });
  });
  it("zonal pods without room: scale out this cluster's single-zone group, decided before any eviction", () => {
    const zonalGroup = group({ name: 'stateful-a', desiredCapacity: 0, instances: [] });
    const o = observed({
      zonal: { zone: 'us-east-1a', pods: ['db/db-0', 'db/db-1'], fitting: 1, groups: [zonalGroup] },
      group: group({ availabilityZones: ['us-east-1a', 'us-east-1b'] }),
    });
    const plan = planFor(itn, o, config);
    expect(plan.steps.find((s) => s.kind === 'scale-out')).toMatchObject({
      group: 'stateful-a',
      newDesired: 1,
    });
  });
  it('no node: not-found', () => {
    const o = observed({ node: undefined, nodeName: undefined, noNodeBecause: 'no node' });
    expect(planFor(itn, o, config)).toMatchObject({ steps: [], outcome: 'not-found' });
  });
});

describe('lifecycle hooks', () => {
  const term = { ...hook, kind: 'lifecycle-terminate' } as const;
  const launch = {
    ...hook,
    kind: 'lifecycle-launch',
    transition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
  } as const;
  it('terminate, ours: drain with heartbeats, re-queue if unfinished, then complete CONTINUE', () => {
    const plan = planFor(term, observed(), config);
    expect(plan.steps.map((s) => s.kind)).toEqual([
      'cordon',
      'drain',
      'heartbeat',
      'requeue',
      'complete-hook',
    ]);
    expect(plan.steps.at(-1)).toMatchObject({ result: 'CONTINUE', unlessRequeued: 'requeue' });
  });
  it("terminate, another cluster's group: the hook is never completed", () => {
    const o = observed({ group: group({ tags: { 'kubernetes.io/cluster/staging': 'owned' } }) });
    expect(planFor(term, o, config)).toMatchObject({ steps: [], outcome: 'foreign' });
  });
  it('terminate, ours, no node: complete CONTINUE at once', () => {
    const o = observed({ node: undefined, nodeName: undefined, noNodeBecause: 'never joined' });
    expect(kinds(term, o)).toEqual(['complete-hook']);
  });
  it('terminate, ownership unknown, node by providerID: drain but leave the hook alone', () => {
    const o = observed({ instanceTags: null, group: undefined, groupError: 'down' });
    expect(o.ownership.verdict).toBe('unknown');
    expect(kinds(term, o)).toEqual(['cordon', 'drain']);
  });
  it('launch, ours, no node yet (not foreign): wait for Ready, ABANDON before the hook times out', () => {
    const o = observed({ node: undefined, nodeName: undefined, hookTimeoutSeconds: 300 });
    const plan = planFor(launch, o, config);
    expect(plan.steps.map((s) => s.kind)).toEqual(['await-node-ready', 'requeue', 'complete-hook']);
    expect(plan.steps[0]).toMatchObject({ until: '2026-01-01T00:04:55.000Z' });
  });
  it("launch of another cluster's instance: never abandoned", () => {
    const o = observed({
      node: undefined,
      nodeName: undefined,
      instanceTags: { 'eks:cluster-name': 'staging' },
    });
    expect(planFor(launch, o, config)).toMatchObject({ steps: [], outcome: 'foreign' });
  });
});

describe('state changes and AWS Health', () => {
  const sc = (state: string, time = now.toISOString()) =>
    ({
      ...meta,
      time,
      kind: 'state-change',
      instanceId: 'i-0000000000000001',
      state,
    }) as unknown as NodeEvent;
  it('a console stop is marked coming-back', () => {
    const plan = planFor(sc('stopping'), observed(), config);
    expect(plan.steps[0]).toMatchObject({ kind: 'cordon', reason: 'instance-stopping', comingBack: true });
  });
  const cordoned = {
    'spotguard.io/cordoned-by': 'spotguard',
    'spotguard.io/cordon-reason': 'instance-stopping',
    'spotguard.io/cordoned-at': '2026-01-01T00:00:00.000Z',
    'spotguard.io/coming-back': 'true',
  };
  it('running after the cordon: uncordon', () => {
    expect(kinds(sc('running', '2026-01-01T00:05:00Z'), observed({ node: node(cordoned) }))).toEqual([
      'uncordon',
    ]);
  });
  it('a stale running event from before the cordon keeps the node cordoned', () => {
    const plan = planFor(sc('running', '2025-12-31T23:59:00Z'), observed({ node: node(cordoned) }), config);
    expect(plan).toMatchObject({ steps: [], outcome: 'ignored' });
    expect(plan.nothingBecause).toMatch(/stale/);
  });
  const health = (statusCode: string, eventTypeCode = 'AWS_EC2_INSTANCE_REBOOT_MAINTENANCE_SCHEDULED') =>
    ({
      ...meta,
      kind: 'scheduled-change',
      instanceId: 'i-0000000000000001',
      eventTypeCode,
      statusCode,
      startTime: '2026-03-01T00:00:00Z',
    }) as unknown as NodeEvent;
  it('a reboot scheduled 2 months ahead: drain with that deadline, coming back', () => {
    const plan = planFor(health('upcoming'), observed(), config);
    expect(plan.steps[1]).toMatchObject({
      kind: 'drain',
      deadline: '2026-03-01T00:00:00Z',
      comingBack: true,
    });
  });
  it('closed: uncordon a node spotguard cordoned for it, never drain again', () => {
    const o = observed({
      node: node({
        'spotguard.io/cordoned-by': 'spotguard',
        'spotguard.io/cordon-reason': 'scheduled-change',
      }),
    });
    expect(kinds(health('closed'), o)).toEqual(['uncordon']);
    expect(kinds(health('closed'), observed())).toEqual([]);
  });
});

describe('rebalance recommendation', () => {
  const rb = { ...meta, kind: 'rebalance-recommendation', instanceId: 'i-0000000000000001' } as const;
  it('cordon policy: cordon with an expiry mark', () => {
    const plan = planFor(rb, observed(), config);
    expect(plan.steps.map((s) => s.kind)).toEqual(['cordon', 'annotate']);
    expect(plan.steps[1]).toMatchObject({
      annotations: { 'spotguard.io/cordon-expires-at': '2026-01-01T01:00:00.000Z' },
    });
  });
  it('replace-then-drain: desired+1 with its give-back, drain only after the replacement is Ready', () => {
    const plan = planFor(rb, observed(), { ...config, rebalancePolicy: 'replace-then-drain' });
    expect(plan.steps.map((s) => s.kind)).toEqual(['increment', 'await-replacement', 'cordon', 'drain']);
    expect(plan.steps[0]!.undo).toMatchObject({ kind: 'give-back', terminateIfDrained: 'drain' });
    expect(plan.steps[3]!.requires).toEqual(['await-replacement']);
  });
  it('replace-then-drain with unknown ownership: cordon only', () => {
    const o = observed({ instanceTags: null, group: group({ tags: {} }) });
    expect(kinds(rb, o, { ...config, rebalancePolicy: 'replace-then-drain' })).toEqual([
      'cordon',
      'annotate',
    ]);
  });
});

// Last: runs after the tables above (vitest runs a file's tests in order).
describe('declared step kinds (stepKindsOf, what the IAM derivation grants from)', () => {
  it('every declared step kind is emitted by some plan of the tables: nothing declared "just in case"', () => {
    for (const [kind, declared] of Object.entries(stepKindsOf)) {
      expect([...(emitted.get(kind as NodeEvent['kind']) ?? [])].sort(), kind).toEqual([...declared].sort());
    }
  });
});
