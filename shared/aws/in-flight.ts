// A received SQS record stays invisible for the queue's whole visibility timeout (lifecycle queue:
// 960 s, more than the function timeout as Lambda requires). A handler that dies mid-drain would
// then be retried long after its terminate hook (heartbeat 300 s) took its default result. So while
// a record is handled its visibility is kept at a short window and renewed: a crash makes it
// visible again within IN_FLIGHT_WINDOW_S, well inside the hook's heartbeat timeout.
// Needs sqs:GetQueueUrl and sqs:ChangeMessageVisibility on the source queues.
import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';

export const IN_FLIGHT_WINDOW_S = 60;

const queues = new Map<string, Promise<{ url: string; windowS: number }>>();

function queueOf(sqs: SQSClient, arn: string) {
  let q = queues.get(arn);
  if (!q) {
    q = (async () => {
      const parts = arn.split(':');
      const { QueueUrl } = await sqs.send(
        new GetQueueUrlCommand({ QueueName: parts[5], QueueOwnerAWSAccountId: parts[4] }),
      );
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['VisibilityTimeout'] }),
      );
      // Never longer than the queue's own timeout (a short-timeout queue keeps its pace).
      const windowS = Math.min(
        IN_FLIGHT_WINDOW_S,
        Number(Attributes?.VisibilityTimeout ?? IN_FLIGHT_WINDOW_S),
      );
      return { url: QueueUrl!, windowS };
    })();
    q.catch(() => queues.delete(arn));
    queues.set(arn, q);
  }
  return q;
}

/** Keeps `record` in flight for a short renewed window until `stop()`. Never throws. */
export function keepInFlight(
  sqs: SQSClient,
  record: SQSRecord,
  onError: (err: unknown) => void,
): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const extend = async () => {
    const { url, windowS } = await queueOf(sqs, record.eventSourceARN);
    if (stopped) return windowS;
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: windowS,
      }),
    );
    return windowS;
  };
  extend().then((windowS) => {
    if (stopped) return;
    timer = setInterval(() => extend().catch(onError), (windowS * 1000) / 3);
    timer.unref();
  }, onError);
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
