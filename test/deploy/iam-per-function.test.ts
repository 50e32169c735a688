// Per-function IAM derived from the code (infra/iam/derive.cjs): the event kinds a route accepts
// decide which actions are reachable, so each function's role holds only its own calls.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { routes } from '../../shared/routes.ts';
import { deriveAll } from './support/iam.ts';

const require = createRequire(import.meta.url);
const { reachableActions, cutCases, cutRunners, stepKindsFor } = require('../../infra/iam/derive.cjs');
const { statementsFor, manualInvokers } = require('../../infra/iam/roles.cjs');

const MUTATIONS = [
  'autoscaling:CompleteLifecycleAction',
  'autoscaling:RecordLifecycleActionHeartbeat',
  'autoscaling:DetachInstances',
  'autoscaling:SetDesiredCapacity',
  'autoscaling:TerminateInstanceInAutoScalingGroup',
];

describe('derived roles', async () => {
  const derived = await deriveAll();
  const actionsOf = (fn: string) => derived[fn]!.actions;

  it('one derivation per route', () => {
    expect(Object.keys(derived).sort()).toEqual(routes.map((r) => r.functionName).sort());
  });

  it('only the lifecycle function completes and heartbeats hooks', () => {
    for (const [fn, d] of Object.entries(derived)) {
      const has = d.actions.includes('autoscaling:CompleteLifecycleAction');
      expect(has, fn).toBe(fn === 'lifecycle');
      expect(d.actions.includes('autoscaling:RecordLifecycleActionHeartbeat'), fn).toBe(fn === 'lifecycle');
    }
  });

  it('manual, state-change and scheduled-change cannot change Auto Scaling at all (their planners emit no capacity step)', () => {
    for (const fn of ['manual', 'state-change', 'scheduled-change']) {
      expect(
        actionsOf(fn).filter((a) => MUTATIONS.includes(a)),
        fn,
      ).toEqual([]);
    }
  });

  it('DescribeAutoScalingInstances only for manual status (hooks pending); every function finds its cluster', () => {
    for (const [fn, d] of Object.entries(derived)) {
      if (fn === 'manual') expect(d.actions).toContain('autoscaling:DescribeAutoScalingInstances');
      else expect(d.actions, fn).not.toContain('autoscaling:DescribeAutoScalingInstances');
      expect(d.actions, fn).toContain('eks:DescribeCluster');
    }
  });

  it('the capacity mutations follow the step kinds: spot interruption detaches, desired+1 gives back (terminate)', () => {
    expect(actionsOf('spot-interruption')).toEqual(
      expect.arrayContaining([
        'autoscaling:DetachInstances',
        'autoscaling:SetDesiredCapacity',
        'autoscaling:TerminateInstanceInAutoScalingGroup',
      ]),
    );
    expect(actionsOf('lifecycle').filter((a) => MUTATIONS.slice(2).includes(a))).toEqual([]);
  });

  it('is driven by the accepted kinds: the manual handler that also took lifecycle events would need hook calls', async () => {
    const widened = await reachableActions('manual', ['manual', 'lifecycle-terminate']);
    expect(widened).toContain('autoscaling:CompleteLifecycleAction');
    expect(actionsOf('manual')).not.toContain('autoscaling:CompleteLifecycleAction');
  });
});

describe('sources cut to a route', () => {
  const source = [
    "import { onA, onB } from './a.ts';",
    "import { onC } from './c.ts';",
    'switch (event.kind) {',
    "  case 'a': return onA(event, d);",
    "  case 'b':\n    return onB(event, d);",
    "  case 'c':\n  case 'd':\n    return onC(event, d);",
    '}',
  ].join('\n');

  it('keeps only the case clauses of the accepted kinds, and of a shared clause the accepted labels', () => {
    const cut = cutCases(source, ['a', 'd'], 'x.ts');
    expect(cut).toContain("case 'a': return onA(event, d);");
    expect(cut).toContain("case 'd': return onC(event, d);");
    expect(cut).not.toMatch(/onB\(|case 'b'|case 'c'/);
  });

  it('refuses a source it cannot read, naming the file and the case', () => {
    expect(() => cutCases('export const handleEvent = table[event.kind];', ['a'], 'd.ts')).toThrow(
      /d\.ts: no `case/,
    );
    expect(() => cutCases(`${source}\ncase 'e': { return onE(); }`, ['a'], 'd.ts')).toThrow(
      /d\.ts: case 'e'/,
    );
  });

  const runners = [
    'export const nodeRunners: RunnerMap<NodeStep, NodeContext> = {',
    '  cordon: runCordon,',
    "  'give-back': runGiveBack,",
    '  replace: runReplace,',
    '};',
  ].join('\n');

  it('keeps the runners of the step kinds the route can emit; a declared kind without a runner is an error', () => {
    const cut = cutRunners(runners, ['cordon', 'give-back']);
    expect(cut).toContain("'give-back': runGiveBack,");
    expect(cut).not.toContain('runReplace');
    expect(() => cutRunners(runners, ['drain'])).toThrow(/no runner for step kind\(s\) drain/);
    expect(() => cutRunners(runners.replace('cordon: runCordon,', '...more,'), [])).toThrow(/\.\.\.more/);
  });

  it("a route's step kinds are those its kinds' planners declare", () => {
    const declared = { x: ['cordon', 'drain'], y: ['drain', 'replace'] };
    expect(stepKindsFor(['ignored', 'x', 'y'], declared)).toEqual(['cordon', 'drain', 'replace']);
  });
});

describe('role statements', () => {
  const ctx = {
    service: 'spotguard',
    stage: 'dev',
    clusterName: 'prod',
    managedTag: { StringEquals: { 'aws:ResourceTag/k': 'v' } },
  };
  const lifecycle = routes.find((r) => r.functionName === 'lifecycle')!;
  const spot = routes.find((r) => r.functionName === 'spot-interruption')!;

  it('scope each action: own queue (and its DLQ) for re-queues, the managed tag for group changes, own log group', () => {
    const st = statementsFor(lifecycle, ['sqs:SendMessage', 'autoscaling:CompleteLifecycleAction'], ctx);
    expect(st).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: ['sqs:SendMessage'],
          Resource: [{ 'Fn::GetAtt': ['LifecycleQueue', 'Arn'] }, { 'Fn::GetAtt': ['LifecycleDlq', 'Arn'] }],
        }),
        expect.objectContaining({
          Action: ['autoscaling:CompleteLifecycleAction'],
          Condition: ctx.managedTag,
        }),
        expect.objectContaining({
          Sid: 'OwnLogGroup',
          Resource: {
            'Fn::Sub':
              // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
              'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/spotguard-dev-lifecycle:*',
          },
        }),
        expect.objectContaining({ Sid: 'OwnQueue' }),
      ]),
    );
    expect(st.find((s: { Sid: string }) => s.Sid === 'AsyncInvokeFailures')).toBeUndefined();
    expect(
      statementsFor(spot, [], ctx).find((s: { Sid: string }) => s.Sid === 'AsyncInvokeFailures'),
    ).toBeDefined();
  });

  it('an action with no known scope fails the packaging, naming it', () => {
    expect(() => statementsFor(spot, ['ec2:TerminateInstances'], ctx)).toThrow(/ec2:TerminateInstances/);
  });

  it('manualInvokerArns takes IAM ARNs and account ids only', () => {
    expect(manualInvokers('')).toEqual([]);
    expect(manualInvokers('arn:aws:iam::123456789012:role/oncall, 210987654321')).toEqual([
      'arn:aws:iam::123456789012:role/oncall',
      '210987654321',
    ]);
    expect(() => manualInvokers('*')).toThrow(/not an IAM principal/);
    expect(() => manualInvokers('events.amazonaws.com')).toThrow(/not an IAM principal/);
  });
});
