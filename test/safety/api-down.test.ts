// Kubernetes API unreachable while a terminate hook arrives: the hook is still completed CONTINUE
// (long before its heartbeat timeout), dedup falls back to memory instead of blocking the handler,
// and after the queue's retries the message sits in the DLQ with the reason as message attributes.
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploymentWithPdb, type E2E, metricTotal, readyPods, startE2E } from '../e2e/harness.ts';

let e: E2E;
const HEARTBEAT_S = 60;

beforeAll(async () => {
  e = await startE2E(
    {
      scenario: {
        cluster: { name: 'api-down', region: 'us-east-1', zones: ['us-east-1a'] },
        nodeGroups: [
          {
            name: 'spot-a',
            zone: 'us-east-1a',
            capacityType: 'SPOT',
            desired: 3,
            // ABANDON by default: a terminated instance proves spotguard said CONTINUE, not the timeout.
            lifecycleHooks: [
              {
                name: 'spotguard-terminate',
                transition: 'terminate',
                heartbeatTimeout: HEARTBEAT_S,
                defaultResult: 'ABANDON',
              },
            ],
          },
        ],
        workloads: deploymentWithPdb('web', 3),
      },
    },
    // Redelivery after 2 s: three receives, then the DLQ (infra/queues.yml: maxReceiveCount 3).
    { visibilityTimeoutSeconds: 2 },
  );
  await e.sim.waitFor(() => readyPods(e.sim, 'default', 'app', 'web').length === 3, 20_000, 'web ready');
}, 60_000);

afterAll(async () => {
  await e?.stop();
});

describe('Kubernetes API down', () => {
  it('completes the terminate hook CONTINUE and dead-letters the event with its reason', async () => {
    const instance = e.sim.aws.instances().find((i) => i.groupName === 'spot-a')!;
    const removeFault = e.sim.faults.add({ service: 'k8s', status: 503 });
    const started = Date.now();
    try {
      e.sim.aws.terminateInGroup(instance.instanceId, false);
      await e.sim.waitFor(
        () => e.sim.aws.instance(instance.instanceId)?.state === 'terminated',
        30_000,
        'instance terminated after CompleteLifecycleAction',
      );
      const terminatedAfterMs = Date.now() - started;
      // Completed by spotguard: the hook would have ABANDONed at 60 s.
      expect(terminatedAfterMs).toBeLessThan(HEARTBEAT_S * 1000);
      expect(e.sim.awsRequests.count('autoscaling', 'CompleteLifecycleAction')).toBeGreaterThanOrEqual(1);
      await e.sim.waitFor(
        () => e.bridge.deadLetters()['spotguard-lifecycle-dlq'] === 1,
        30_000,
        'message dead-lettered',
      );
    } finally {
      removeFault();
    }
    // The idempotency store was not reachable: the handler ran anyway (memory fallback), said so.
    expect(metricTotal(e.emf, 'IdempotencyStoreDegraded')).toBeGreaterThanOrEqual(1);
    const sqs = new SQSClient(e.sim.awsClientConfig());
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: `${e.sim.awsEndpoint}/123456789012/spotguard-lifecycle-dlq`,
        MessageAttributeNames: ['All'],
        MaxNumberOfMessages: 10,
      }),
    );
    expect(out.Messages).toHaveLength(1);
    const message = out.Messages![0]!;
    expect(JSON.parse(message.Body!).detail.EC2InstanceId).toBe(instance.instanceId);
    const reason = message.MessageAttributes?.ErrorMessage?.StringValue ?? '';
    expect(reason).toContain(instance.instanceId);
    expect(reason).toMatch(/503|Service Unavailable|unavailable/i);
    expect(message.MessageAttributes?.ErrorType?.StringValue).toBe('HandlingFailedError');
    expect(message.MessageAttributes?.ApproximateReceiveCount?.StringValue).toBe('3');
  }, 90_000);
});
