// The last failed receive of an SQS record goes to the queue's DLQ with the reason attached. SQS's
// own redrive moves a message unchanged (no reason anywhere but the logs), so on the receive that
// would be the last (ApproximateReceiveCount = maxReceiveCount) spotguard sends it there itself,
// with the error as message attributes, and lets the original be deleted.
// Needs sqs:GetQueueUrl + sqs:GetQueueAttributes on the source queue, sqs:SendMessage on its DLQ.
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';

const queueNameOf = (arn: string) => arn.split(':').pop() ?? '';
const accountOf = (arn: string) => arn.split(':')[4];

async function urlOf(sqs: SQSClient, arn: string): Promise<string> {
  const out = await sqs.send(
    new GetQueueUrlCommand({ QueueName: queueNameOf(arn), QueueOwnerAWSAccountId: accountOf(arn) }),
  );
  if (!out.QueueUrl) throw new Error(`no URL for queue ${arn}`);
  return out.QueueUrl;
}

/** True when the record was this receive's last chance and is now in the DLQ with its reason. */
export async function deadLetterWithReason(
  sqs: SQSClient,
  record: SQSRecord,
  error: unknown,
): Promise<boolean> {
  const received = Number(record.attributes.ApproximateReceiveCount);
  const source = await urlOf(sqs, record.eventSourceARN);
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: source, AttributeNames: ['RedrivePolicy'] }),
  );
  if (!Attributes?.RedrivePolicy) return false;
  const policy = JSON.parse(Attributes.RedrivePolicy) as {
    deadLetterTargetArn?: string;
    maxReceiveCount?: unknown;
  };
  if (!policy.deadLetterTargetArn || !(received >= Number(policy.maxReceiveCount))) return false;
  const text = (v: string) => ({ DataType: 'String', StringValue: v.slice(0, 4096) || '-' });
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: await urlOf(sqs, policy.deadLetterTargetArn),
      MessageBody: record.body,
      MessageAttributes: {
        ErrorMessage: text(error instanceof Error ? error.message : String(error)),
        ErrorType: text(error instanceof Error ? error.name : 'Error'),
        SourceQueueArn: text(record.eventSourceARN),
        SourceMessageId: text(record.messageId),
        ApproximateReceiveCount: { DataType: 'Number', StringValue: String(received) },
      },
    }),
  );
  return true;
}
