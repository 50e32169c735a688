// IAM helpers for the template tests: collect policy statements from a CloudFormation template and
// derive the IAM actions the code needs from the AWS SDK v3 commands it imports.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Route } from '../../../shared/routes.ts';
import type { Template } from './cfn-spec.ts';

export interface DerivedRole {
  route: Route;
  /** Event kinds the function accepts (shared/events/routing.ts). */
  kinds: string[];
  /** IAM actions of the SDK commands reachable from its handler for those kinds. */
  actions: string[];
}

const derive = createRequire(import.meta.url)('../../../infra/iam/derive.cjs') as {
  deriveAll(): Promise<Record<string, DerivedRole>>;
};

/** Per function: the IAM actions its code makes (infra/iam/derive.cjs, also used at packaging). */
export const deriveAll = (): Promise<Record<string, DerivedRole>> => derive.deriveAll();

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export interface LocatedStatement {
  where: string;
  statement: Statement;
}

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Every statement of every identity and resource policy in the template, with where it is. */
export function policyStatements(template: Template): LocatedStatement[] {
  const out: LocatedStatement[] = [];
  const add = (where: string, doc: unknown) => {
    const statements = (doc as { Statement?: Statement | Statement[] } | undefined)?.Statement;
    list(statements).forEach((statement, i) => {
      out.push({ where: `${where}.Statement[${i}]`, statement });
    });
  };
  for (const [id, r] of Object.entries(template.Resources)) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::IAM::Role') {
      list(p.Policies as { PolicyDocument: unknown }[]).forEach((pol, i) => {
        add(`${id}.Policies[${i}]`, pol.PolicyDocument);
      });
    }
    if (
      [
        'AWS::IAM::Policy',
        'AWS::IAM::ManagedPolicy',
        'AWS::SQS::QueuePolicy',
        'AWS::S3::BucketPolicy',
        'AWS::SNS::TopicPolicy',
      ].includes(r.Type)
    ) {
      add(id, p.PolicyDocument);
    }
  }
  return out;
}

export const actionsOf = (s: Statement): string[] => list(s.Action);
export const resourcesOf = (s: Statement): unknown[] => list(s.Resource);

/** `@aws-sdk/client-auto-scaling` → `autoscaling` (the IAM service prefix). */
const IAM_PREFIX: Record<string, string> = {
  'auto-scaling': 'autoscaling',
  ec2: 'ec2',
  'elastic-load-balancing-v2': 'elasticloadbalancing',
  eks: 'eks',
  sqs: 'sqs',
  sts: 'sts',
};

/** STS GetCallerIdentity (the EKS token is a presigned one) needs no IAM permission. */
const NEEDS_NO_PERMISSION = new Set(['sts:GetCallerIdentity']);

/** IAM actions for every `XxxCommand` the given files import from an AWS SDK v3 client. */
export function sdkActions(files: string[], root: string): Map<string, string[]> {
  const actions = new Map<string, string[]>();
  const add = (file: string, client: string, command: string) => {
    const prefix = IAM_PREFIX[client];
    if (!prefix)
      throw new Error(`${path.relative(root, file)}: no IAM prefix known for @aws-sdk/client-${client}`);
    const action = `${prefix}:${command}`;
    if (!NEEDS_NO_PERMISSION.has(action))
      actions.set(action, [...(actions.get(action) ?? []), path.relative(root, file)]);
  };
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    // import { DescribeInstancesCommand, DetachInstancesCommand as Detach, type EC2Client } from '@aws-sdk/client-ec2'
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/client-([\w-]+)'/g)) {
      for (const spec of m[1]!.split(',')) {
        const name = /^\s*(\w+)Command(?:\s+as\s+\w+)?\s*$/.exec(spec)?.[1]; // not types, not clients
        if (name) add(file, m[2]!, name);
      }
    }
    // import * as ec2 from '@aws-sdk/client-ec2' … new ec2.DescribeInstancesCommand(…)
    for (const m of text.matchAll(/import\s*\*\s*as\s+(\w+)\s+from\s*'@aws-sdk\/client-([\w-]+)'/g)) {
      for (const use of text.matchAll(new RegExp(`\\b${m[1]}\\.(\\w+)Command\\b`, 'g')))
        add(file, m[2]!, use[1]!);
    }
  }
  return actions;
}
