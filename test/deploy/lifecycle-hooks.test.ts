// The lifecycle-hook snippets platform engineers add to their node groups: the CloudFormation one is
// validated against the resource specification, and the Terraform one must say the same thing.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, type Tags } from 'yaml';
import { repoRoot } from '../../scripts/package.ts';
import { type Template, validateTemplate } from './support/cfn-spec.ts';

/** CloudFormation short-form tags (!Ref, !Sub, …) → their long JSON form. */
const cfnTags: Tags = ['Ref', 'Sub', 'GetAtt', 'If', 'Not', 'Equals', 'Join', 'Select', 'Split'].flatMap(
  (name) => {
    const key = name === 'Ref' ? 'Ref' : `Fn::${name}`;
    const toJson = (value: unknown) => ({
      [key]: name === 'GetAtt' && typeof value === 'string' ? value.split('.') : value,
    });
    return [
      { tag: `!${name}`, resolve: (v: string) => toJson(v) },
      {
        tag: `!${name}`,
        collection: 'seq' as const,
        resolve: (v: { toJSON: () => unknown }) => toJson(v.toJSON()),
      },
    ];
  },
);

const cfn = parse(readFileSync(path.join(repoRoot, 'infra/lifecycle-hook.cfn.yml'), 'utf8'), {
  customTags: cfnTags,
}) as Template;
const tf = readFileSync(path.join(repoRoot, 'infra/lifecycle-hook.tf'), 'utf8');

interface Hook {
  name: string;
  transition: string;
  heartbeat: number;
  defaultResult: string;
}

function cfnHooks(): Hook[] {
  return Object.values(cfn.Resources)
    .filter((r) => r.Type === 'AWS::AutoScaling::LifecycleHook')
    .map((r) => {
      const p = r.Properties as Record<string, unknown>;
      const heartbeat = p.HeartbeatTimeout as number | { Ref: string };
      return {
        name: p.LifecycleHookName as string,
        transition: p.LifecycleTransition as string,
        heartbeat:
          typeof heartbeat === 'number'
            ? heartbeat
            : ((cfn.Parameters?.[heartbeat.Ref] as { Default?: number } | undefined)?.Default ?? Number.NaN),
        defaultResult: p.DefaultResult as string,
      };
    });
}

function tfHooks(): Hook[] {
  const variables = new Map(
    [...tf.matchAll(/variable "(\w+)" \{[^}]*?default\s*=\s*"?([^"\n]+)"?/g)].map((m) => [
      m[1]!,
      m[2]!.trim(),
    ]),
  );
  const value = (raw: string) =>
    raw.startsWith('var.') ? variables.get(raw.slice(4)) : raw.replace(/"/g, '');
  return [...tf.matchAll(/resource "aws_autoscaling_lifecycle_hook" "\w+" \{([^}]*)\}/g)].map((m) => {
    const attr = (name: string) => value(new RegExp(`${name}\\s*=\\s*(\\S+)`).exec(m[1]!)?.[1] ?? '') ?? '';
    return {
      name: attr('name'),
      transition: attr('lifecycle_transition'),
      heartbeat: Number(attr('heartbeat_timeout')),
      defaultResult: attr('default_result'),
    };
  });
}

const expected: Hook[] = [
  {
    name: 'spotguard-terminate',
    transition: 'autoscaling:EC2_INSTANCE_TERMINATING',
    heartbeat: 300,
    defaultResult: 'CONTINUE',
  },
  {
    name: 'spotguard-launch',
    transition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
    heartbeat: 600,
    defaultResult: 'ABANDON',
  },
];

describe('infra/lifecycle-hook.cfn.yml', () => {
  it('is a valid template per the CloudFormation resource specification', async () => {
    expect(await validateTemplate(cfn)).toEqual([]);
  });

  it('terminate hook: 300 s heartbeat, CONTINUE; launch hook: ABANDON', () => {
    expect(cfnHooks()).toEqual(expected);
  });
});

describe('infra/lifecycle-hook.tf', () => {
  it('declares the same hooks as the CloudFormation snippet', () => {
    expect(tfHooks()).toEqual(expected);
  });

  it('tags the group with the managed tag, not propagated to instances', () => {
    expect(tf).toMatch(
      /resource "aws_autoscaling_group_tag" "spotguard_managed" \{[\s\S]*key\s*=\s*var\.managed_tag_key[\s\S]*propagate_at_launch = false/,
    );
    expect(tf).toMatch(/variable "managed_tag_key" \{[^}]*default = "spotguard\.io\/managed"/);
  });
});
