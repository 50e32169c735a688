// Shared set-up for the AWS-side tests: a store, the AWS endpoint, and SDK v3 clients pointed at it.
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import type { EventBridgeEvent } from '../../sim/aws/events.ts';
import { type SimAwsSide, type SimAwsSideOptions, startAwsSide } from '../../sim/aws/index.ts';
import { Store } from '../../sim/k8s/store.ts';

export const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

export interface AwsFixture extends SimAwsSide {
  store: Store;
  asg: AutoScalingClient;
  ec2: EC2Client;
  eks: EKSClient;
  sts: STSClient;
  sqsClient: SQSClient;
  received: EventBridgeEvent[];
  clientConfig: {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  };
  /** Polls until `pred` holds (fails with `what` after timeoutMs). */
  until(pred: () => boolean, what: string, timeoutMs?: number): Promise<void>;
}

export async function startAwsFixture(opts: Partial<SimAwsSideOptions> = {}): Promise<AwsFixture> {
  const store = new Store();
  const side = await startAwsSide({
    store,
    clusterName: 'test-cluster',
    region: 'us-east-1',
    zones: ZONES,
    k8sUrl: () => 'http://127.0.0.1:6443',
    bootDelayMs: 50,
    stateChangeMs: 10,
    interruptionNoticeMs: 300,
    ...opts,
  });
  const clientConfig = {
    endpoint: side.endpoint.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'ASIATESTKEY', secretAccessKey: 'secret', sessionToken: 'token' },
    maxAttempts: 1,
  };
  const received: EventBridgeEvent[] = [];
  side.events.subscribe((e) => {
    received.push(e);
  });
  return {
    ...side,
    store,
    asg: new AutoScalingClient(clientConfig),
    ec2: new EC2Client(clientConfig),
    eks: new EKSClient(clientConfig),
    sts: new STSClient(clientConfig),
    sqsClient: new SQSClient(clientConfig),
    received,
    clientConfig,
    until: (pred, what, timeoutMs = 5_000) => until(pred, what, timeoutMs),
  };
}

export async function until(pred: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Error name/code of a rejected SDK call. */
export async function sdkError(
  call: Promise<unknown>,
): Promise<{ name: string; message: string; status?: number }> {
  try {
    await call;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}
