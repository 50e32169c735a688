// The deployable artifact: `osls package` (offline, dummy credentials, network refused) builds the
// CloudFormation template and the function zips; these tests check the template against the
// CloudFormation resource specification and assert the security and delivery properties.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  esbuildOptions,
  networkGuardImport,
  offlineEnv,
  packageService,
  repoRoot,
} from '../../scripts/package.ts';
import { type Resource, type Template, validateTemplate } from './support/cfn-spec.ts';
import {
  actionsOf,
  deriveAll,
  policyStatements,
  resourcesOf,
  type Statement,
  sdkActions,
} from './support/iam.ts';
import { sourceFiles } from './support/k8s-calls.ts';
import { zipEntries } from './support/zip.ts';

const { applicableActions } = createRequire(import.meta.url)('../../infra/iam/roles.cjs');

const FUNCTIONS = {
  spotInterruption: 'functions/spot-interruption/handler.mjs',
  rebalance: 'functions/rebalance/handler.mjs',
  lifecycle: 'functions/lifecycle/handler.mjs',
  stateChange: 'functions/state-change/handler.mjs',
  scheduledChange: 'functions/scheduled-change/handler.mjs',
  manual: 'functions/manual/handler.mjs',
} as const;
type FunctionKey = keyof typeof FUNCTIONS;
const logicalId = (fn: FunctionKey) => `${fn[0]!.toUpperCase()}${fn.slice(1)}LambdaFunction`;

/** The only statements allowed on Resource "*": AWS does not support resource scoping for them. */
const STAR_RESOURCE_EXCEPTIONS = new Set([
  'autoscaling:DescribeAutoScalingGroups',
  'autoscaling:DescribeAutoScalingInstances',
  'autoscaling:DescribeLifecycleHooks',
  'ec2:DescribeInstances',
  'elasticloadbalancing:DescribeTags', // ELBv2 describe calls take no resource-level scoping
  'elasticloadbalancing:DescribeTargetGroups',
  'elasticloadbalancing:DescribeTargetHealth',
  'xray:PutTraceSegments', // only with tracing Active
  'xray:PutTelemetryRecords',
]);
/** Statements osls adds for logs and the SQS triggers: not code-driven. */
const FRAMEWORK_ACTIONS = new Set([
  'logs:CreateLogStream',
  'logs:CreateLogGroup',
  'logs:TagResource',
  'logs:PutLogEvents',
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
]);

const MAX_ZIP_BYTES = 1024 * 1024;

let outDir: string;
let template: Template;
const resources = () => template.Resources;
const ofType = (type: string) => Object.entries(resources()).filter(([, r]) => r.Type === type);
const props = (id: string): Record<string, unknown> => {
  const r = resources()[id];
  if (!r) throw new Error(`template has no resource ${id}`);
  return r.Properties ?? {};
};
const targetsOf = <T = Record<string, unknown>>(rule: Resource) => (rule.Properties?.Targets ?? []) as T[];
const getAttArn = (ref: unknown) =>
  (ref as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];

beforeAll(() => {
  outDir = mkdtempSync(path.join(tmpdir(), 'spotguard-package-'));
  const result = packageService([], outDir);
  if (result.status !== 0) throw new Error(`osls package failed (exit ${result.status}):\n${result.output}`);
  template = JSON.parse(readFileSync(path.join(outDir, 'cloudformation-template-update-stack.json'), 'utf8'));
}, 300_000);

describe('CloudFormation template against the resource specification', () => {
  it('every resource type exists and every property is valid for it', async () => {
    expect(await validateTemplate(template)).toEqual([]);
  });

  it('the validator itself catches a misspelled property, a bad attribute and an unknown type', async () => {
    const broken: Template = structuredClone(template);
    (broken.Resources.LifecycleQueue!.Properties as Record<string, unknown>).VisibilityTimout = 960;
    broken.Resources.Bogus = { Type: 'AWS::SQS::Queu' } as Resource;
    broken.Resources.Ref = {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: { Queues: [{ 'Fn::GetAtt': ['LifecycleQueue', 'Url'] }], PolicyDocument: {} },
    };
    const problems = await validateTemplate(broken);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/LifecycleQueue\.Properties\.VisibilityTimout: unknown property/),
        expect.stringMatching(/Bogus: resource type AWS::SQS::Queu does not exist/),
        expect.stringMatching(/AWS::SQS::Queue has no attribute Url/),
      ]),
    );
  });
});

describe('IAM', () => {
  const allowStatements = () => policyStatements(template).filter((s) => s.statement.Effect === 'Allow');

  it('no Allow statement uses a wildcard action or NotAction', () => {
    const bad = allowStatements().filter(
      ({ statement }) =>
        statement.NotAction !== undefined || actionsOf(statement).some((a) => a.includes('*')),
    );
    expect(
      bad.map((b) => `${b.where}: ${JSON.stringify(b.statement.Action ?? b.statement.NotAction)}`),
    ).toEqual([]);
  });

  it('Resource "*" only for the Describe actions AWS cannot scope', () => {
    const bad = allowStatements()
      .filter(({ statement }) => resourcesOf(statement).includes('*'))
      .filter(({ statement }) => actionsOf(statement).some((a) => !STAR_RESOURCE_EXCEPTIONS.has(a)));
    expect(bad.map((b) => `${b.where}: ${actionsOf(b.statement).join(', ')}`)).toEqual([]);
  });

  it('no Allow to a "*" principal, and no cloudwatch:PutMetricData (metrics go through EMF logs)', () => {
    const all = allowStatements();
    expect(all.filter(({ statement }) => JSON.stringify(statement.Principal ?? '').includes('"*"'))).toEqual(
      [],
    );
    expect(all.flatMap(({ statement }) => actionsOf(statement))).not.toContain('cloudwatch:PutMetricData');
  });

  it('Auto Scaling mutations are limited to groups with the managed tag', () => {
    const mutating = allowStatements().filter(({ statement }) =>
      actionsOf(statement).some((a) => a.startsWith('autoscaling:') && !a.startsWith('autoscaling:Describe')),
    );
    expect(mutating.length).toBeGreaterThan(0);
    for (const { statement } of mutating) {
      expect(statement.Condition).toEqual({
        StringEquals: { 'aws:ResourceTag/spotguard.io/managed': 'spotguard' }, // the clusterName param
      });
      expect(JSON.stringify(statement.Resource)).toContain(':autoScalingGroup:*:autoScalingGroupName/*');
    }
  });

  it('ELBv2 DeregisterTargets only on target groups tagged for this cluster (traffic-aware drains)', () => {
    const deregister = allowStatements().filter(({ statement }) =>
      actionsOf(statement).includes('elasticloadbalancing:DeregisterTargets'),
    );
    // one statement per function role whose drains deregister targets
    expect(deregister.length).toBeGreaterThan(0);
    for (const { statement } of deregister) {
      expect(actionsOf(statement)).toEqual(['elasticloadbalancing:DeregisterTargets']);
      expect(Object.keys((statement.Condition as { StringEquals: object }).StringEquals)).toEqual([
        'aws:ResourceTag/elbv2.k8s.aws/cluster',
      ]);
      expect(JSON.stringify(statement.Resource)).toContain(':targetgroup/*/*');
    }
  });

  it('eks:DescribeCluster only on the configured cluster; sqs:SendMessage only on spotguard queues', () => {
    for (const { statement } of allowStatements()) {
      if (actionsOf(statement).includes('eks:DescribeCluster')) {
        expect(statement.Resource).toEqual({
          // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
          'Fn::Sub': 'arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:cluster/spotguard',
        });
      }
      if (actionsOf(statement).includes('sqs:SendMessage') && !statement.Principal) {
        const queues = resourcesOf(statement).map(getAttArn);
        expect(
          queues.every((q) => ['LifecycleQueue', 'DirectDlq', 'LifecycleDlq', 'EventsDlq'].includes(q ?? '')),
          JSON.stringify(statement),
        ).toBe(true);
      }
    }
  });

  it('each function role grants exactly the AWS calls its own code makes (no more, no less)', async () => {
    const derived = await deriveAll();
    const problems: string[] = [];
    for (const [fn, { route, actions }] of Object.entries(derived)) {
      const roleId = `${route.serverlessName[0]!.toUpperCase()}${route.serverlessName.slice(1)}Role`;
      const granted = new Set(
        policyStatements(template)
          .filter((s) => s.where.startsWith(`${roleId}.`))
          .flatMap(({ statement }) => actionsOf(statement))
          .filter((a) => !FRAMEWORK_ACTIONS.has(a)),
      );
      // the SQS DLQ of async invokes is the framework's need, not the code's
      if (route.delivery === 'direct' && route.detailTypes.length > 0) granted.delete('sqs:SendMessage');
      // SQS record bookkeeping is granted only to functions that have a queue (roles.cjs says why).
      const needed: string[] = applicableActions(route, actions);
      const missing = needed.filter((a) => !granted.has(a));
      const unused = [...granted].filter((a) => !needed.includes(a));
      if (missing.length || unused.length) problems.push(`${fn}: missing ${missing} unused ${unused}`);
    }
    expect(problems).toEqual([]);
  });

  it('every SDK command in the code is reachable from some function, or is dead code (none is)', async () => {
    const files = ['shared', 'functions'].flatMap((d) => sourceFiles(path.join(repoRoot, d)));
    const imported = [...sdkActions(files, repoRoot).keys()];
    const reachable = new Set(Object.values(await deriveAll()).flatMap((d) => d.actions));
    expect(imported.filter((a) => !reachable.has(a))).toEqual([]);
  });
});

describe('queues, rules and dead letters', () => {
  it('the event queues deny sqs:SendMessage to everyone but their rules (and the lifecycle re-queue)', () => {
    const denies = Object.fromEntries(
      ['LifecycleQueue', 'StateChangeQueue', 'ScheduledChangeQueue'].map((q) => {
        const doc = props(`${q}Policy`).PolicyDocument as { Statement: Statement[] };
        return [q, doc.Statement.filter((st) => st.Effect === 'Deny')];
      }),
    );
    for (const [q, statements] of Object.entries(denies)) {
      expect(statements, q).toHaveLength(1);
      expect(statements[0]).toMatchObject({ Principal: '*', Action: 'sqs:SendMessage' });
      expect(Object.keys(statements[0]!.Condition ?? {})).toEqual(['ArnNotEquals']);
    }
    expect(denies.LifecycleQueue![0]!.Condition!.ArnNotEquals!['aws:PrincipalArn']).toEqual({
      'Fn::GetAtt': ['LifecycleRole', 'Arn'],
    });
  });

  const deadLetterQueues = () => {
    const dlqs = new Set<string>();
    for (const [, q] of ofType('AWS::SQS::Queue')) {
      const target = getAttArn(
        (q.Properties?.RedrivePolicy as { deadLetterTargetArn?: unknown })?.deadLetterTargetArn,
      );
      if (target) dlqs.add(target);
    }
    for (const [, rule] of ofType('AWS::Events::Rule')) {
      for (const t of targetsOf<{ DeadLetterConfig?: { Arn: unknown } }>(rule)) {
        const target = getAttArn(t.DeadLetterConfig?.Arn);
        if (target) dlqs.add(target);
      }
    }
    return dlqs;
  };

  it('every queue that is not a DLQ redrives to one; DLQs keep messages 14 days; all are encrypted', () => {
    const dlqs = deadLetterQueues();
    expect([...dlqs].sort()).toEqual(['DirectDlq', 'EventsDlq', 'LifecycleDlq']);
    for (const [id, q] of ofType('AWS::SQS::Queue')) {
      const p = q.Properties ?? {};
      expect(p.SqsManagedSseEnabled, `${id} encryption`).toBe(true);
      if (dlqs.has(id)) {
        expect(p.MessageRetentionPeriod, `${id} retention`).toBe(1_209_600);
      } else {
        const redrive = p.RedrivePolicy as
          | { deadLetterTargetArn: unknown; maxReceiveCount: number }
          | undefined;
        expect(redrive, `${id} has no RedrivePolicy`).toBeDefined();
        expect(dlqs.has(getAttArn(redrive!.deadLetterTargetArn)!), `${id} redrives to a DLQ`).toBe(true);
        expect(redrive!.maxReceiveCount).toBeGreaterThan(1);
      }
    }
  });

  it('every rule target has a RetryPolicy and a DeadLetterConfig', () => {
    for (const [id, rule] of ofType('AWS::Events::Rule')) {
      for (const t of targetsOf(rule)) {
        expect(t.RetryPolicy, `${id} target ${t.Id} RetryPolicy`).toMatchObject({
          MaximumRetryAttempts: expect.any(Number),
          MaximumEventAgeInSeconds: expect.any(Number),
        });
        expect(t.DeadLetterConfig, `${id} target ${t.Id} DeadLetterConfig`).toMatchObject({
          Arn: expect.anything(),
        });
      }
    }
  });

  it('each queue EventBridge writes to allows exactly the rules that target it (aws:SourceArn)', () => {
    const writers = new Map<string, string[]>(); // queue → rule ARNs (as CloudFormation values)
    for (const [id, rule] of ofType('AWS::Events::Rule')) {
      // osls-generated rules (…EventBridgeRule) are referenced by name: infra/queues.yml cannot
      // know osls's logical ids; our own rules by Fn::GetAtt
      const ruleArn = id.endsWith('EventBridgeRule')
        ? {
            'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:rule/${rule.Properties?.Name}`,
          }
        : { 'Fn::GetAtt': [id, 'Arn'] };
      for (const t of targetsOf<{ Arn: unknown; DeadLetterConfig: { Arn: unknown } }>(rule)) {
        for (const q of [getAttArn(t.Arn), getAttArn(t.DeadLetterConfig.Arn)]) {
          if (!q || resources()[q]?.Type !== 'AWS::SQS::Queue') continue;
          writers.set(q, [...(writers.get(q) ?? []), JSON.stringify(ruleArn)]);
        }
      }
    }
    expect(writers.size).toBe(7);
    for (const [queue, rules] of writers) {
      const policy = ofType('AWS::SQS::QueuePolicy').find(([, p]) =>
        ((p.Properties?.Queues ?? []) as unknown[]).some(
          (q) => JSON.stringify(q) === JSON.stringify({ Ref: queue }),
        ),
      );
      expect(policy, `no queue policy for ${queue}`).toBeDefined();
      // the Deny of everyone else is checked by the test above
      const statements = (
        policy![1].Properties!.PolicyDocument as { Statement: Record<string, unknown>[] }
      ).Statement.filter((st) => st.Effect === 'Allow');
      expect(statements).toHaveLength(1);
      const s = statements[0]!;
      expect(s).toMatchObject({
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
      });
      const allowed = [
        (s.Condition as { ArnEquals: Record<string, unknown> }).ArnEquals['aws:SourceArn'],
      ].flat();
      expect(allowed.map((a) => JSON.stringify(a)).sort(), `senders allowed into ${queue}`).toEqual(
        [...rules].sort(),
      );
    }
  });

  it('SQS triggers: visibility timeout exceeds the function timeout, partial batch failures, bounded concurrency', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(4);
    for (const [id, m] of mappings) {
      const p = m.Properties!;
      const queue = props(getAttArn(p.EventSourceArn)!);
      const fn = props(getAttArn(p.FunctionName)!);
      expect(Number(queue.VisibilityTimeout), `${id}: visibility vs timeout`).toBeGreaterThan(
        Number(fn.Timeout),
      );
      expect(p.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      expect((p.ScalingConfig as { MaximumConcurrency: number }).MaximumConcurrency).toBeGreaterThanOrEqual(
        2,
      );
      // the rebalancer's launch queue batches a burst of launches into one run
      if (!id.startsWith('Rebalancer')) expect(Number(p.BatchSize)).toBeLessThanOrEqual(5);
    }
    expect(props('LifecycleEventSourceMappingSQSLifecycleQueue').BatchSize).toBe(1);
  });

  it('event patterns are exactly the ones spotguard handles', () => {
    const pattern = (id: string) => props(id).EventPattern;
    const osls = (name: string) =>
      ofType('AWS::Events::Rule').find(([, r]) => r.Properties?.Name === name)![1].Properties!.EventPattern;
    expect(osls('spotguard-dev-spot-interruption')).toEqual({
      source: ['aws.ec2'],
      'detail-type': ['EC2 Spot Instance Interruption Warning'],
    });
    expect(osls('spotguard-dev-rebalance')).toEqual({
      source: ['aws.ec2'],
      'detail-type': ['EC2 Instance Rebalance Recommendation'],
    });
    expect(pattern('LifecycleRule')).toEqual({
      source: ['aws.autoscaling'],
      'detail-type': ['EC2 Instance-terminate Lifecycle Action', 'EC2 Instance-launch Lifecycle Action'],
      detail: { AutoScalingGroupName: [{ prefix: 'eks-' }] },
    });
    expect(pattern('StateChangeRule')).toEqual({
      source: ['aws.ec2'],
      'detail-type': ['EC2 Instance State-change Notification'],
      detail: { state: ['stopping', 'shutting-down', 'terminated', 'running'] },
    });
    expect(pattern('ScheduledChangeRule')).toEqual({
      source: ['aws.health'],
      'detail-type': ['AWS Health Event'],
      detail: { service: ['EC2'], eventTypeCategory: ['scheduledChange'] },
    });
  });

  it('time-critical direct rules: short event age, async invoke retries and failures to the DLQ', () => {
    for (const fn of ['spotInterruption', 'rebalance'] as const) {
      const conf = props(`${logicalId(fn).replace('Function', '')}EvConf`);
      expect(conf.MaximumRetryAttempts, fn).toBeLessThanOrEqual(2);
      expect(conf.DestinationConfig).toEqual({
        OnFailure: { Destination: { 'Fn::GetAtt': ['DirectDlq', 'Arn'] } },
      });
    }
    const itn = ofType('AWS::Events::Rule').find(
      ([, r]) => r.Properties?.Name === 'spotguard-dev-spot-interruption',
    )!;
    const target = (itn[1].Properties!.Targets as Record<string, unknown>[])[0]!;
    expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 120, MaximumRetryAttempts: 8 });
    expect(props('SpotInterruptionLambdaEvConf').MaximumEventAgeInSeconds).toBe(120);
  });
});

describe('functions', () => {
  it.each(Object.keys(FUNCTIONS) as FunctionKey[])(
    '%s: nodejs24.x on arm64, configured from params',
    (fn) => {
      const p = props(logicalId(fn));
      expect(p.Runtime).toBe('nodejs24.x');
      expect(p.Architectures).toEqual(['arm64']);
      expect(Number(p.Timeout)).toBeLessThanOrEqual(900);
      const env = (p.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env).toMatchObject({
        CLUSTER_NAME: 'spotguard',
        MANAGED_TAG_KEY: 'spotguard.io/managed',
        MANAGED_TAG_VALUE: 'spotguard', // = clusterName: per-install scope
        SPOTGUARD_NAMESPACE: 'spotguard',
        REBALANCE_POLICY: 'cordon',
        REPLACEMENT_MODE: 'detach',
        POD_EVENTS: 'problems',
        POWERTOOLS_SERVICE_NAME: 'spotguard',
        POWERTOOLS_METRICS_NAMESPACE: 'Spotguard',
        LOG_LEVEL: 'INFO',
      });
      for (const key of ['DRAIN_TIMEOUT_SECONDS', 'SAFETY_MARGIN_SECONDS', 'EVICTION_CONCURRENCY'])
        expect(env).toHaveProperty(key);
      if (fn === 'lifecycle') expect(env.REQUEUE_QUEUE_URL).toEqual({ Ref: 'LifecycleQueue' });
      else expect(env).not.toHaveProperty('REQUEUE_QUEUE_URL');
    },
  );

  it('the spot interruption function can finish inside the 2-minute warning plus bookkeeping', () => {
    expect(props('SpotInterruptionLambdaFunction').Timeout).toBe(150);
  });

  it.each(Object.keys(FUNCTIONS) as FunctionKey[])(
    '%s: zip ≤ 1 MB holding only the ESM handler bundle',
    async (fn) => {
      const zip = path.join(outDir, `${fn}.zip`);
      expect(statSync(zip).size, `${fn}.zip size`).toBeLessThanOrEqual(MAX_ZIP_BYTES);
      const entries = (await zipEntries(zip)).filter((e) => !e.name.endsWith('/')); // not directories
      expect(entries.map((e) => e.name)).toEqual([FUNCTIONS[fn]]);
      const head = entries[0]!.text().slice(0, 200);
      expect(head).toContain(
        "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      );
    },
  );

  it('no bundle contains the simulator, the CLI or tests (built as serverless.yml configures esbuild)', async () => {
    const result = await build({
      ...esbuildOptions(),
      entryPoints: Object.values(FUNCTIONS).map((f) => path.join(repoRoot, f.replace(/\.mjs$/, '.ts'))),
      outdir: path.join(outDir, 'metafile-check'),
      write: false,
      metafile: true,
      logLevel: 'error',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((i) => i.startsWith('shared/'))).toBe(true);
    expect(inputs.filter((i) => /^(sim|cli|test|test-real|bench|scripts)\//.test(i))).toEqual([]);
  });

  it('every function has a log group with the retention param, an Errors alarm, and its own role', () => {
    for (const fn of Object.keys(FUNCTIONS) as FunctionKey[]) {
      const name = logicalId(fn).replace('LambdaFunction', '');
      expect(props(`${name}LogGroup`).RetentionInDays).toBe(30);
      expect(props(`${name}ErrorsAlarm`)).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(fn) } }],
      });
      expect(props(logicalId(fn)).Role).toEqual({ 'Fn::GetAtt': [`${name}Role`, 'Arn'] });
    }
    expect(resources().IamRoleLambdaExecution).toBeUndefined();
  });
});

describe('alarms and Kubernetes access', () => {
  it('each DLQ has a not-empty alarm; DeadlineMissed is alarmed from the Spotguard EMF namespace', () => {
    for (const q of ['DirectDlq', 'LifecycleDlq', 'EventsDlq']) {
      expect(props(`${q}MessagesAlarm`)).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [q, 'QueueName'] } }],
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
      });
    }
    const missed = props('DeadlineMissedAlarm');
    expect(missed.Metrics).toEqual([
      expect.objectContaining({ Expression: 'SELECT SUM(DeadlineMissed) FROM "Spotguard"' }),
    ]);
    // the topic, and the alarm function (test/deploy/alarms.test.ts checks that part)
    for (const [id, alarm] of ofType('AWS::CloudWatch::Alarm')) {
      expect(((alarm.Properties?.AlarmActions ?? []) as unknown[])[0], id).toEqual({
        'Fn::If': ['HasAlarmTopic', '', { Ref: 'AWS::NoValue' }],
      });
    }
  });

  it('each function role is an EKS access entry in group spotguard-drainers (on-call entry only with the param)', () => {
    for (const fn of Object.keys(FUNCTIONS) as FunctionKey[]) {
      const role = logicalId(fn).replace('LambdaFunction', 'Role');
      expect(props(`${role}AccessEntry`)).toEqual({
        ClusterName: 'spotguard',
        PrincipalArn: { 'Fn::GetAtt': [role, 'Arn'] },
        Type: 'STANDARD',
        KubernetesGroups: ['spotguard-drainers'],
      });
    }
    expect(resources().OncallAccessEntry?.Condition).toBe('HasOncallRole');
    expect(template.Conditions?.HasOncallRole).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
  });
});

describe('parameters and the offline packaging guard', () => {
  it('non-default params reach the IAM condition, conditions, retention and tracing (osls print)', () => {
    const run = spawnSync(
      process.execPath,
      [
        path.join(repoRoot, 'node_modules/osls/bin/serverless.js'),
        'print',
        '--format',
        'json',
        '--stage',
        'prod',
        '--param=managedTagKey=team.example.com/spot',
        '--param=managedTagValue=yes',
        '--param=alarmTopicArn=arn:aws:sns:eu-west-1:123456789012:oncall',
        '--param=logRetentionDays=90',
        '--param=tracing=Active',
        '--param=lifecycleGroupPrefix=prod-eks-',
      ],
      { cwd: repoRoot, env: offlineEnv(), encoding: 'utf8', timeout: 120_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    const config = JSON.parse(run.stdout);
    const spotPolicy = config.resources.Resources.SpotInterruptionRole.Properties.Policies[0].PolicyDocument;
    expect(
      spotPolicy.Statement.find((s: { Action: string[] }) => s.Action.includes('autoscaling:DetachInstances'))
        .Condition,
    ).toEqual({
      StringEquals: { 'aws:ResourceTag/team.example.com/spot': 'yes' },
    });
    expect(config.provider.logRetentionInDays).toBe(90);
    expect(config.provider.tracing.lambda).toBe('Active');
    expect(config.resources.Conditions.HasAlarmTopic).toEqual({
      'Fn::Not': [{ 'Fn::Equals': ['arn:aws:sns:eu-west-1:123456789012:oncall', ''] }],
    });
    expect(config.resources.Resources.LifecycleRule.Properties.EventPattern.detail).toEqual({
      AutoScalingGroupName: [{ prefix: 'prod-eks-' }],
    });
    expect(config.resources.Resources.LifecycleQueue.Properties.QueueName).toBe('spotguard-prod-lifecycle');
  });

  it('a malformed managed tag key is refused with the param named', () => {
    const run = spawnSync(
      process.execPath,
      [path.join(repoRoot, 'node_modules/osls/bin/serverless.js'), 'print', '--param=managedTagKey=bad key!'],
      { cwd: repoRoot, env: offlineEnv(), encoding: 'utf8', timeout: 120_000 },
    );
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toMatch(/param managedTagKey must be a tag key/);
  });

  it('the guard osls runs under refuses non-loopback connections and DNS', () => {
    const probe = `
      import net from 'node:net';
      import dns from 'node:dns';
      const results = [];
      try { net.connect({ host: '203.0.113.7', port: 443 }); results.push('connected'); } catch (e) { results.push(e.message); }
      try { await dns.promises.lookup('sts.amazonaws.com'); results.push('resolved'); } catch (e) { results.push(e.message); }
      try { await fetch('https://198.51.100.9/'); results.push('fetched'); } catch (e) { results.push(String(e.cause?.message)); }
      const local = net.createServer((c) => c.on('error', () => {}).end()).listen(0, '127.0.0.1');
      await new Promise((r) => local.once('listening', r));
      const s = net.connect({ host: '127.0.0.1', port: local.address().port }).on('error', () => {});
      await new Promise((r) => s.once('connect', r));
      results.push('loopback ok');
      s.end(); local.close();
      console.log(JSON.stringify(results));`;
    const run = spawnSync(
      process.execPath,
      ['--import', networkGuardImport, '--input-type=module', '-e', probe],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([
      expect.stringMatching(/network access refused \(connect 203\.0\.113\.7\)/),
      expect.stringMatching(/network access refused \(dns sts\.amazonaws\.com\)/),
      expect.stringMatching(/network access refused \(connect 198\.51\.100\.9\)/),
      'loopback ok',
    ]);
  });
});
