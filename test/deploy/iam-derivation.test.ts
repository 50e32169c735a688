// The IAM side of "grant exactly what the code calls": the derivation of IAM actions from AWS SDK
// v3 imports (template.test.ts compares its result with the function role).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sdkActions } from './support/iam.ts';

function sample(source: string): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'spotguard-iam-'));
  writeFileSync(path.join(dir, 'sample.ts'), source);
  return [...sdkActions([path.join(dir, 'sample.ts')], dir).keys()].sort();
}

describe('IAM actions derived from AWS SDK v3 imports', () => {
  it('named, aliased and namespace imports; types and clients are not actions', () => {
    const source = [
      'import {',
      '  DescribeInstancesCommand,',
      '  DetachInstancesCommand as Detach,',
      '  type EC2Client,',
      '  type DescribeInstancesCommandOutput,',
      "} from '@aws-sdk/client-ec2';",
      "import * as sqs from '@aws-sdk/client-sqs';",
      "import { AutoScalingClient, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';",
      'await client.send(new sqs.SendMessageCommand({ QueueUrl, MessageBody }));',
    ].join('\n');
    expect(sample(source)).toEqual([
      'autoscaling:CompleteLifecycleAction',
      'ec2:DescribeInstances',
      'ec2:DetachInstances',
      'sqs:SendMessage',
    ]);
  });

  it('STS GetCallerIdentity needs no permission; an unknown client is an error naming it', () => {
    expect(sample("import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';")).toEqual([]);
    expect(() => sample("import { PutItemCommand } from '@aws-sdk/client-dynamodb';")).toThrow(
      /no IAM prefix known for @aws-sdk\/client-dynamodb/,
    );
  });
});
