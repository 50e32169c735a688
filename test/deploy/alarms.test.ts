// The packaged template's alarms and the alarm function: every alarm of the on-call runbook exists,
// says what it means and links its README section, notifies the topic and reaches alarmAction;
// CloudWatch may invoke alarmAction only for this account's spotguard alarms; the rule matches
// only spotguard's alarms; alarm names match what the alarm action recognises.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageService, repoRoot } from '../../scripts/package.ts';
import { loadAlarmConfig } from '../../shared/alarms/config.ts';
import type { Resource, Template } from './support/cfn-spec.ts';

let template: Template;
const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const props = (id: string) => template.Resources[id]?.Properties ?? {};
const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
const FN = { 'Fn::GetAtt': ['AlarmActionLambdaFunction', 'Arn'] };

beforeAll(() => {
  const out = mkdtempSync(path.join(tmpdir(), 'spotguard-alarms-'));
  const result = packageService([], out);
  if (result.status !== 0) throw new Error(`osls package failed:\n${result.output}`);
  template = JSON.parse(readFileSync(path.join(out, 'cloudformation-template-update-stack.json'), 'utf8'));
}, 300_000);

/** GitHub's anchor of a Markdown heading. */
const anchor = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replace(/ /g, '-');
const anchors = new Set([...readme.matchAll(/^#{2,4} (.+)$/gm)].map((m) => anchor(m[1]!)));

describe('alarms', () => {
  it('the runbook alarms exist on the metrics spotguard emits', () => {
    const expr = (id: string) => JSON.stringify((props(id).Metrics as unknown[]) ?? []);
    expect(expr('DeadlineMissedAlarm')).toContain('SUM(DeadlineMissed)');
    expect(expr('PodsLeftAtDeadlineAlarm')).toContain('SUM(PodsLeftAtDeadline)');
    expect(expr('LifecycleHookTimedOutAlarm')).toContain('SUM(LifecycleHookTimedOut)');
    expect(expr('InterruptionStormAlarm')).toMatch(/SUM\(SpotInterruptions\).*GROUP BY AutoScalingGroupName/);
    expect(expr('ZoneSkewAlarm')).toContain('MAX(WorkloadZoneSkew)');
  });

  it('every function has an errors alarm and every dead-letter queue a not-empty alarm', () => {
    const alarmed = ofType('AWS::CloudWatch::Alarm').map(([, a]) =>
      JSON.stringify(a.Properties?.Dimensions ?? []),
    );
    for (const [id] of ofType('AWS::Lambda::Function')) {
      expect(
        alarmed.some((d) => d.includes(`"Ref":"${id}"`)),
        id,
      ).toBe(true);
    }
    const dlqs = ofType('AWS::SQS::Queue').filter(([id]) => id.endsWith('Dlq'));
    expect(dlqs.length).toBeGreaterThanOrEqual(3);
    for (const [id] of dlqs)
      expect(
        alarmed.some((d) => d.includes(`["${id}","QueueName"]`)),
        id,
      ).toBe(true);
  });

  it('each description says what it means and links an existing runbook section of the README', () => {
    for (const [id, a] of ofType('AWS::CloudWatch::Alarm')) {
      const d = String(a.Properties?.AlarmDescription ?? '');
      const m = /^(.{20,})\. Runbook: https:\/\/\S+README\.md#([\w-]+)$/.exec(d);
      expect(m, `${id}: ${d}`).not.toBeNull();
      expect(anchors.has(m![2]!), `${id} links #${m![2]}, no such README heading`).toBe(true);
    }
  });

  it('every alarm notifies the topic and reaches alarmAction (its own errors alarm only people)', () => {
    for (const [id, a] of ofType('AWS::CloudWatch::Alarm')) {
      for (const key of ['AlarmActions', 'OKActions']) {
        const actions = a.Properties?.[key] as unknown[];
        expect(actions[0], `${id}.${key}`).toEqual({
          'Fn::If': ['HasAlarmTopic', '', { Ref: 'AWS::NoValue' }],
        });
        if (id === 'AlarmActionErrorsAlarm') expect(actions).toHaveLength(1);
        else expect(actions[1], `${id}.${key}`).toEqual(FN);
      }
    }
  });

  it('alarm names end as the alarm action recognises them', () => {
    const cfg = loadAlarmConfig({});
    expect(String(props('InterruptionStormAlarm').AlarmName).endsWith(cfg.stormAlarmSuffix)).toBe(true);
    expect(String(props('ZoneSkewAlarm').AlarmName).endsWith(cfg.zoneSkewAlarmSuffix)).toBe(true);
  });
});

describe('alarmAction function', () => {
  it('CloudWatch may invoke it only for this account and spotguard-<stage>- alarms', () => {
    const perms = ofType('AWS::Lambda::Permission').filter(
      ([, p]) => p.Properties?.Principal === 'lambda.alarms.cloudwatch.amazonaws.com',
    );
    expect(perms).toHaveLength(1);
    expect(perms[0]![1].Properties).toEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: FN,
      Principal: 'lambda.alarms.cloudwatch.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
      SourceArn: {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
        'Fn::Sub': 'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:spotguard-dev-*',
      },
    });
    // every alarm name is covered by that SourceArn
    for (const [id, a] of ofType('AWS::CloudWatch::Alarm')) {
      expect(String(a.Properties?.AlarmName), id).toMatch(/^spotguard-dev-/);
    }
  });

  it('its EventBridge rule matches only spotguard alarms and dead-letters failures', () => {
    const [, rule] = ofType('AWS::Events::Rule').find(([, r]) =>
      JSON.stringify(r.Properties?.Targets).includes('AlarmActionLambdaFunction'),
    ) as [string, Resource];
    expect(rule.Properties?.EventPattern).toEqual({
      source: ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      resources: [
        {
          prefix: {
            // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
            'Fn::Sub':
              'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:spotguard-dev-',
          },
        },
      ],
    });
    const target = ((rule.Properties?.Targets ?? []) as { DeadLetterConfig?: unknown }[])[0]!;
    expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': ['DirectDlq', 'Arn'] } });
    const fn = props('AlarmActionLambdaFunction');
    expect(fn.Timeout).toBe(900);
    expect(Object.keys((fn.Environment as { Variables: object }).Variables)).toEqual(
      expect.arrayContaining([
        'FALLBACK_MAX_EXTRA_ON_DEMAND',
        'FALLBACK_ON_DEMAND_PERCENTAGE',
        'FALLBACK_ON_DEMAND_BASE',
      ]),
    );
  });
});
