import { X509Certificate } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LambdaSqsEvent } from '../../sim/aws/sqs.ts';
import { FaultInjector } from '../../sim/faults.ts';
import { type AwsFixture, sdkError, startAwsFixture } from './aws-fixture.ts';

let sim: AwsFixture;
const faults = new FaultInjector();

beforeEach(async () => {
  faults.clear();
  sim = await startAwsFixture({ faults });
});
afterEach(async () => {
  await sim.stop();
});

describe('EKS', () => {
  it('DescribeCluster reports the simulated API endpoint, a CA and ACTIVE', async () => {
    const out = await sim.eks.send(new DescribeClusterCommand({ name: 'test-cluster' }));
    expect(out.cluster).toMatchObject({
      name: 'test-cluster',
      endpoint: 'http://127.0.0.1:6443',
      status: 'ACTIVE',
      version: '1.30',
      arn: 'arn:aws:eks:us-east-1:123456789012:cluster/test-cluster',
    });
    const ca = new X509Certificate(Buffer.from(out.cluster!.certificateAuthority!.data!, 'base64'));
    expect(ca.ca).toBe(true);
    expect(out.cluster!.createdAt).toBeInstanceOf(Date);
    const err = await sdkError(sim.eks.send(new DescribeClusterCommand({ name: 'nope' })));
    expect(err).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
  });
});

describe('STS', () => {
  async function presign(opts: { signedAt?: Date; headers?: Record<string, string> } = {}): Promise<string> {
    const url = new URL(sim.endpoint.url);
    const signer = new SignatureV4({
      service: 'sts',
      region: 'us-east-1',
      sha256: Sha256,
      credentials: { accessKeyId: 'ASIATEST', secretAccessKey: 'secret', sessionToken: 'session' },
    });
    const signed = await signer.presign(
      {
        method: 'GET',
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path: '/',
        query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
        headers: { host: url.host, ...(opts.headers ?? { 'x-k8s-aws-id': 'test-cluster' }) },
      },
      { expiresIn: 60, ...(opts.signedAt ? { signingDate: opts.signedAt } : {}) },
    );
    const query = new URLSearchParams(signed.query as Record<string, string>);
    return `${sim.endpoint.url}/?${query}`;
  }

  it('GetCallerIdentity through the SDK', async () => {
    const out = await sim.sts.send(new GetCallerIdentityCommand({}));
    expect(out.Account).toBe('123456789012');
    expect(out.Arn).toMatch(/^arn:aws:sts::123456789012:assumed-role\//);
  });

  it('accepts a fresh presigned GetCallerIdentity URL (the EKS token scheme)', async () => {
    const response = await fetch(await presign(), { headers: { 'x-k8s-aws-id': 'test-cluster' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<Account>123456789012</Account>');
  });

  it('rejects an URL older than 15 minutes with ExpiredToken and one without x-k8s-aws-id signed', async () => {
    const old = await fetch(await presign({ signedAt: new Date(Date.now() - 16 * 60_000) }));
    expect(old.status).toBe(403);
    expect(await old.text()).toContain('<Code>ExpiredToken</Code>');
    const unsigned = await fetch(await presign({ headers: {} }));
    expect(unsigned.status).toBe(403);
    expect(await unsigned.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    const tampered = new URL(await presign());
    tampered.searchParams.delete('X-Amz-Signature');
    tampered.searchParams.set('X-Amz-Credential', 'ASIATEST/20261121/us-east-1/sts/aws4_request');
    const noSignature = await fetch(tampered);
    expect(noSignature.status).toBe(403);
  });
});

describe('SQS', () => {
  async function createQueues() {
    const dlq = await sim.sqsClient.send(new CreateQueueCommand({ QueueName: 'hooks-dlq' }));
    const queue = await sim.sqsClient.send(
      new CreateQueueCommand({
        QueueName: 'hooks',
        Attributes: {
          VisibilityTimeout: '1',
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: 'arn:aws:sqs:us-east-1:123456789012:hooks-dlq',
            maxReceiveCount: 2,
          }),
        },
      }),
    );
    return { queueUrl: queue.QueueUrl!, dlqUrl: dlq.QueueUrl! };
  }

  it('send, receive (MD5 checked by the SDK), change visibility, delete, attributes', async () => {
    const { queueUrl } = await createQueues();
    expect(queueUrl).toBe(`${sim.endpoint.url}/123456789012/hooks`);
    expect((await sim.sqsClient.send(new GetQueueUrlCommand({ QueueName: 'hooks' }))).QueueUrl).toBe(
      queueUrl,
    );
    const sent = await sim.sqsClient.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"hello":"wörld"}' }),
    );
    expect(sent.MessageId).toBeDefined();
    const received = await sim.sqsClient.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    expect(received.Messages).toHaveLength(1);
    const message = received.Messages![0]!;
    expect(message.Body).toBe('{"hello":"wörld"}');
    expect(message.Attributes?.ApproximateReceiveCount).toBe('1');
    const attrs = await sim.sqsClient.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(attrs.Attributes).toEqual({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '1',
    });
    await sim.sqsClient.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: message.ReceiptHandle!,
        VisibilityTimeout: 0,
      }),
    );
    const again = await sim.sqsClient.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }));
    expect(again.Messages![0]!.MessageId).toBe(message.MessageId);
    await sim.sqsClient.send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: again.Messages![0]!.ReceiptHandle! }),
    );
    const empty = await sim.sqsClient.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }),
    );
    expect(empty.Attributes?.ApproximateNumberOfMessages).toBe('0');
    expect(empty.Attributes?.ApproximateNumberOfMessagesNotVisible).toBe('0');
  });

  it('honours DelaySeconds and long polling', async () => {
    const { queueUrl } = await createQueues();
    await sim.sqsClient.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'later', DelaySeconds: 1 }),
    );
    const immediate = await sim.sqsClient.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }));
    expect(immediate.Messages ?? []).toHaveLength(0);
    const waited = await sim.sqsClient.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 3 }),
    );
    expect(waited.Messages?.[0]?.Body).toBe('later');
  });

  it('answers QueueDoesNotExist for an unknown queue', async () => {
    const err = await sdkError(sim.sqsClient.send(new GetQueueUrlCommand({ QueueName: 'missing' })));
    expect(err.name).toBe('QueueDoesNotExist');
  });

  it('subscribe: Lambda-shaped events; failed items redelivered after the visibility timeout, then to the DLQ', async () => {
    await createQueues();
    const deliveries: LambdaSqsEvent[] = [];
    const unsubscribe = sim.sqs.subscribe('hooks', async (event) => {
      deliveries.push(event);
      const failures = event.Records.filter((r) => r.body === 'poison').map((r) => ({
        itemIdentifier: r.messageId,
      }));
      return { batchItemFailures: failures };
    });
    try {
      sim.sqs.sendMessage('hooks', 'ok');
      sim.sqs.sendMessage('hooks', 'poison');
      await sim.until(
        () => sim.sqs.queue('hooks-dlq')!.messages.length === 1,
        'poison message in the DLQ',
        // three visibility timeouts: generous, so a loaded CI machine does not fail it
        20_000,
      );
      const record = deliveries[0]!.Records[0]!;
      expect(record).toMatchObject({
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:hooks',
        awsRegion: 'us-east-1',
        attributes: { ApproximateReceiveCount: '1' },
      });
      expect(record.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
      const poisonDeliveries = deliveries.flatMap((d) => d.Records).filter((r) => r.body === 'poison');
      expect(poisonDeliveries.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
      expect(deliveries.flatMap((d) => d.Records).filter((r) => r.body === 'ok')).toHaveLength(1);
      expect(sim.sqs.queue('hooks')!.messages).toHaveLength(0);
      expect(sim.sqs.queue('hooks-dlq')!.messages[0]!.body).toBe('poison');
    } finally {
      unsubscribe();
    }
  });
});

describe('AWS_ENDPOINT_URL', () => {
  it('SDK clients created without an endpoint option reach the sim through the standard env var', async () => {
    const before = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = sim.endpoint.url;
    try {
      const { EC2Client } = await import('@aws-sdk/client-ec2');
      const { STSClient } = await import('@aws-sdk/client-sts');
      const credentials = { accessKeyId: 'a', secretAccessKey: 'b' };
      await new EC2Client({ region: 'us-east-1', credentials }).send(new DescribeInstancesCommand({}));
      const me = await new STSClient({ region: 'us-east-1', credentials }).send(
        new GetCallerIdentityCommand({}),
      );
      expect(me.Arn).toBe('arn:aws:iam::123456789012:user/spotguard-sim');
      expect(sim.endpoint.requests.snapshot()).toEqual({
        'ec2:DescribeInstances': 1,
        'sts:GetCallerIdentity': 1,
      });
    } finally {
      if (before === undefined) delete process.env.AWS_ENDPOINT_URL;
      else process.env.AWS_ENDPOINT_URL = before;
    }
  });
});

describe('faults and request counts', () => {
  it('throttles Auto Scaling (Throttling) and EC2 (RequestLimitExceeded) with HTTP 400; counts every request', async () => {
    faults.add({ service: 'autoscaling', verb: 'DescribeAutoScalingGroups', status: 429, count: 1 });
    const throttled = await sdkError(sim.asg.send(new DescribeAutoScalingGroupsCommand({})));
    expect(throttled).toMatchObject({ name: 'Throttling', status: 400 });
    await sim.asg.send(new DescribeAutoScalingGroupsCommand({}));
    faults.add({ service: 'ec2', status: 429, count: 1 });
    const ec2 = await sdkError(sim.ec2.send(new DescribeInstancesCommand({})));
    expect(ec2).toMatchObject({ name: 'RequestLimitExceeded', status: 400 });
    faults.add({ service: 'eks', status: 503, count: 1 });
    const eks = await sdkError(sim.eks.send(new DescribeClusterCommand({ name: 'test-cluster' })));
    expect(eks.status).toBe(503);
    expect(sim.endpoint.requests.snapshot()).toEqual({
      'autoscaling:DescribeAutoScalingGroups': 2,
      'ec2:DescribeInstances': 1,
      'eks:DescribeCluster': 1,
    });
    expect(sim.endpoint.requests.count('autoscaling')).toBe(2);
  });

  it('a timeout fault never answers, so the SDK request times out; latency delays the answer', async () => {
    const { EC2Client } = await import('@aws-sdk/client-ec2');
    const ec2 = new EC2Client({
      ...sim.clientConfig,
      requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true },
    });
    faults.add({ service: 'ec2', verb: 'DescribeInstances', timeout: true, count: 1 });
    const err = await sdkError(ec2.send(new DescribeInstancesCommand({})));
    expect(err.name).toBe('TimeoutError');
    faults.add({ service: 'ec2', latencyMs: 200, count: 1 });
    const started = Date.now();
    await ec2.send(new DescribeInstancesCommand({}));
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('the SDK retries through a throttle with its standard retry strategy', async () => {
    const { AutoScalingClient } = await import('@aws-sdk/client-auto-scaling');
    const retrying = new AutoScalingClient({ ...sim.clientConfig, maxAttempts: 3 });
    faults.add({ service: 'autoscaling', status: 429, count: 2 });
    const out = await retrying.send(new DescribeAutoScalingGroupsCommand({}));
    expect(out.AutoScalingGroups).toEqual([]);
    expect(sim.endpoint.requests.count('autoscaling', 'DescribeAutoScalingGroups')).toBe(3);
  });
});
