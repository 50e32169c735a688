// Simulated SQS: standard queues with visibility timeouts, delays, long polling and redrive to a
// dead-letter queue, served over the awsJson1_0 protocol (`x-amz-target: AmazonSQS.<Op>`), plus an
// in-process "event source mapping" that delivers Lambda-shaped SQS events to a handler and honours
// partial batch responses (failed items come back after the visibility timeout).
import { createHash, randomUUID } from 'node:crypto';
import { ACCOUNT_ID, AwsError } from './wire.ts';

export interface SqsMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceiveAt?: number;
  receiptHandle?: string;
  messageAttributes?: Record<string, unknown>;
}

export interface SimQueue {
  name: string;
  url: string;
  arn: string;
  attributes: Record<string, string>;
  messages: SqsMessage[];
  createdAt: number;
}

/** The record shape Lambda's SQS event source mapping delivers. */
export interface LambdaSqsRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: {
    ApproximateReceiveCount: string;
    SentTimestamp: string;
    SenderId: string;
    ApproximateFirstReceiveTimestamp: string;
  };
  messageAttributes: Record<string, unknown>;
  md5OfBody: string;
  eventSource: 'aws:sqs';
  eventSourceARN: string;
  awsRegion: string;
}

export interface LambdaSqsEvent {
  Records: LambdaSqsRecord[];
}

export interface SqsBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

// biome-ignore lint/suspicious/noConfusingVoidType: a handler with nothing to report may return nothing
export type SqsEventHandler = (event: LambdaSqsEvent) => Promise<SqsBatchResponse | undefined | void>;

const DEFAULT_ATTRIBUTES: Record<string, string> = {
  VisibilityTimeout: '30',
  DelaySeconds: '0',
  MessageRetentionPeriod: '345600',
  MaximumMessageSize: '262144',
  ReceiveMessageWaitTimeSeconds: '0',
};

const SENDER_ID = 'AIDASIMULATOR0000000';

export class SimSqs {
  readonly region: string;
  private readonly queues = new Map<string, SimQueue>();
  private readonly waiters = new Set<() => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private baseUrl: string;
  private stopped = false;

  constructor(opts: { region: string; baseUrl?: string }) {
    this.region = opts.region;
    this.baseUrl = opts.baseUrl ?? 'http://127.0.0.1';
  }

  /** The endpoint URL is known only once the server listens. */
  setBaseUrl(url: string) {
    this.baseUrl = url.replace(/\/$/, '');
    for (const queue of this.queues.values()) queue.url = this.urlOf(queue.name);
  }

  // ---------------------------------------------------------------- queue operations

  createQueue(name: string, attributes: Record<string, string> = {}): SimQueue {
    if (!/^[A-Za-z0-9_-]{1,80}(\.fifo)?$/.test(name)) {
      throw new AwsError(
        'InvalidParameterValue',
        `Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length: '${name}'`,
      );
    }
    const existing = this.queues.get(name);
    if (existing) {
      const differs = Object.entries(attributes).some(([k, v]) => existing.attributes[k] !== v);
      if (differs)
        throw new AwsError(
          'QueueNameExists',
          `A queue already exists with the same name and a different value for attribute(s)`,
        );
      return existing;
    }
    const queue: SimQueue = {
      name,
      url: this.urlOf(name),
      arn: `arn:aws:sqs:${this.region}:${ACCOUNT_ID}:${name}`,
      attributes: { ...DEFAULT_ATTRIBUTES, ...attributes },
      messages: [],
      createdAt: Date.now(),
    };
    this.validateRedrive(queue.attributes.RedrivePolicy);
    this.queues.set(name, queue);
    return queue;
  }

  queue(name: string): SimQueue | undefined {
    return this.queues.get(name);
  }

  requireQueue(name: string): SimQueue {
    const queue = this.queues.get(name);
    if (!queue) throw new AwsError('QueueDoesNotExist', 'The specified queue does not exist.');
    return queue;
  }

  queueByUrl(url: string): SimQueue {
    const name = url.replace(/\/+$/, '').split('/').pop() ?? '';
    return this.requireQueue(name);
  }

  sendMessage(
    queueName: string,
    body: string,
    opts: { delaySeconds?: number; messageAttributes?: Record<string, unknown> } = {},
  ): SqsMessage {
    const queue = this.requireQueue(queueName);
    const delay = opts.delaySeconds ?? Number(queue.attributes.DelaySeconds);
    if (delay < 0 || delay > 900)
      throw new AwsError('InvalidParameterValue', `DelaySeconds ${delay} must be between 0 and 900`);
    const now = Date.now();
    const message: SqsMessage = {
      messageId: randomUUID(),
      body,
      md5OfBody: md5(body),
      sentAt: now,
      visibleAt: now + delay * 1000,
      receiveCount: 0,
      ...(opts.messageAttributes ? { messageAttributes: opts.messageAttributes } : {}),
    };
    queue.messages.push(message);
    this.wakeAt(message.visibleAt);
    return message;
  }

  /** Receives up to `max` visible messages, making them invisible for the visibility timeout. */
  receive(queueName: string, max = 1, visibilityTimeoutSeconds?: number): SqsMessage[] {
    const queue = this.requireQueue(queueName);
    const visibility = visibilityTimeoutSeconds ?? Number(queue.attributes.VisibilityTimeout);
    const maxReceiveCount = this.maxReceiveCount(queue);
    const now = Date.now();
    const out: SqsMessage[] = [];
    for (const message of [...queue.messages]) {
      if (out.length >= max) break;
      if (message.visibleAt > now) continue;
      if (maxReceiveCount !== undefined && message.receiveCount >= maxReceiveCount) {
        this.moveToDeadLetterQueue(queue, message);
        continue;
      }
      message.receiveCount += 1;
      message.firstReceiveAt ??= now;
      message.receiptHandle = Buffer.from(`${queue.name}:${message.messageId}:${randomUUID()}`).toString(
        'base64',
      );
      message.visibleAt = now + visibility * 1000;
      this.wakeAt(message.visibleAt);
      out.push(message);
    }
    return out;
  }

  /** Long polling: waits up to `waitSeconds` for at least one message. */
  async receiveWaiting(
    queueName: string,
    max: number,
    visibility: number | undefined,
    waitSeconds: number,
  ): Promise<SqsMessage[]> {
    const deadline = Date.now() + waitSeconds * 1000;
    for (;;) {
      const messages = this.receive(queueName, max, visibility);
      const remaining = deadline - Date.now();
      if (messages.length > 0 || remaining <= 0 || this.stopped) return messages;
      await this.nextWake(remaining);
    }
  }

  deleteMessage(queueName: string, receiptHandle: string): void {
    const queue = this.requireQueue(queueName);
    const index = queue.messages.findIndex((m) => m.receiptHandle === receiptHandle);
    if (index >= 0) {
      queue.messages.splice(index, 1);
      return;
    }
    if (!this.isWellFormedHandle(queue, receiptHandle)) {
      throw new AwsError(
        'ReceiptHandleIsInvalid',
        `The input receipt handle "${receiptHandle}" is not a valid receipt handle.`,
      );
    }
    // a stale handle of an already deleted message: SQS answers success
  }

  changeMessageVisibility(queueName: string, receiptHandle: string, visibilityTimeoutSeconds: number): void {
    const queue = this.requireQueue(queueName);
    const message = queue.messages.find((m) => m.receiptHandle === receiptHandle);
    if (!message || message.visibleAt <= Date.now()) {
      throw new AwsError(
        'MessageNotInflight',
        'Message does not exist or is not available for visibility timeout change.',
      );
    }
    if (visibilityTimeoutSeconds < 0 || visibilityTimeoutSeconds > 43_200) {
      throw new AwsError(
        'InvalidParameterValue',
        `VisibilityTimeout ${visibilityTimeoutSeconds} must be between 0 and 43200`,
      );
    }
    message.visibleAt = Date.now() + visibilityTimeoutSeconds * 1000;
    this.wakeAt(message.visibleAt);
  }

  attributes(queueName: string, names: string[] = ['All']): Record<string, string> {
    const queue = this.requireQueue(queueName);
    const now = Date.now();
    const visible = queue.messages.filter((m) => m.visibleAt <= now);
    const inFlight = queue.messages.filter((m) => m.visibleAt > now && m.receiveCount > 0);
    const delayed = queue.messages.filter((m) => m.visibleAt > now && m.receiveCount === 0);
    const all: Record<string, string> = {
      QueueArn: queue.arn,
      ApproximateNumberOfMessages: String(visible.length),
      ApproximateNumberOfMessagesNotVisible: String(inFlight.length),
      ApproximateNumberOfMessagesDelayed: String(delayed.length),
      CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      ...queue.attributes,
    };
    if (names.includes('All')) return all;
    return Object.fromEntries(names.filter((n) => n in all).map((n) => [n, all[n]!]));
  }

  // ---------------------------------------------------------------- event source mapping

  /**
   * Delivers the queue's messages to `handler` as Lambda SQS events, one batch at a time. Items the
   * handler reports in batchItemFailures (or the whole batch, when it throws) stay in the queue and
   * are delivered again after the visibility timeout; after maxReceiveCount receives they go to the
   * queue's dead-letter queue. Returns a function that stops the mapping.
   */
  subscribe(queueName: string, handler: SqsEventHandler, opts: { batchSize?: number } = {}): () => void {
    const queue = this.requireQueue(queueName);
    const batchSize = opts.batchSize ?? 10;
    let active = true;
    const loop = async () => {
      while (active && !this.stopped) {
        const batch = this.receive(queue.name, batchSize);
        if (batch.length === 0) {
          await this.nextWake(60_000);
          continue;
        }
        const failed = await this.invoke(queue, batch, handler);
        for (const message of batch) {
          if (!failed.has(message.messageId)) this.deleteMessage(queue.name, message.receiptHandle!);
        }
      }
    };
    void loop();
    return () => {
      active = false;
      this.wakeAll();
    };
  }

  private async invoke(queue: SimQueue, batch: SqsMessage[], handler: SqsEventHandler): Promise<Set<string>> {
    const event: LambdaSqsEvent = { Records: batch.map((m) => this.lambdaRecord(queue, m)) };
    try {
      const response = await handler(event);
      return new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch {
      return new Set(batch.map((m) => m.messageId));
    }
  }

  private lambdaRecord(queue: SimQueue, m: SqsMessage): LambdaSqsRecord {
    return {
      messageId: m.messageId,
      receiptHandle: m.receiptHandle!,
      body: m.body,
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentAt),
        SenderId: SENDER_ID,
        ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt ?? m.sentAt),
      },
      messageAttributes: m.messageAttributes ?? {},
      md5OfBody: m.md5OfBody,
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: this.region,
    };
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.wakeAll();
  }

  // ---------------------------------------------------------------- internals

  private urlOf(name: string): string {
    return `${this.baseUrl}/${ACCOUNT_ID}/${name}`;
  }

  private maxReceiveCount(queue: SimQueue): number | undefined {
    const policy = queue.attributes.RedrivePolicy;
    return policy ? Number(JSON.parse(policy).maxReceiveCount) : undefined;
  }

  private validateRedrive(policy: string | undefined) {
    if (!policy) return;
    let parsed: { deadLetterTargetArn?: string; maxReceiveCount?: unknown };
    try {
      parsed = JSON.parse(policy);
    } catch {
      throw new AwsError('InvalidAttributeValue', `Invalid value for the parameter RedrivePolicy: not JSON`);
    }
    if (!parsed.deadLetterTargetArn || !(Number(parsed.maxReceiveCount) >= 1)) {
      throw new AwsError(
        'InvalidAttributeValue',
        'Invalid value for the parameter RedrivePolicy: deadLetterTargetArn and maxReceiveCount (>= 1) are required',
      );
    }
  }

  private moveToDeadLetterQueue(queue: SimQueue, message: SqsMessage) {
    const arn: string = JSON.parse(queue.attributes.RedrivePolicy!).deadLetterTargetArn;
    const dlq = this.queues.get(arn.split(':').pop() ?? '');
    queue.messages.splice(queue.messages.indexOf(message), 1);
    if (!dlq) return; // SQS drops nothing silently, but a missing DLQ is a setup error of the caller's scenario
    // the DLQ keeps the message id, body and original send time
    dlq.messages.push({ ...message, visibleAt: Date.now(), receiveCount: 0 });
    delete dlq.messages[dlq.messages.length - 1]!.receiptHandle;
    this.wakeAll();
  }

  private isWellFormedHandle(queue: SimQueue, handle: string): boolean {
    return Buffer.from(handle, 'base64').toString('utf8').startsWith(`${queue.name}:`);
  }

  private wakeAt(at: number) {
    const delay = at - Date.now();
    if (delay <= 0) {
      this.wakeAll();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.wakeAll();
    }, delay);
    this.timers.add(timer);
  }

  private wakeAll() {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  private nextWake(maxMs: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.timers.delete(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, maxMs);
      this.timers.add(timer);
      this.waiters.add(done);
    });
  }
}

export function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

// ---------------------------------------------------------------- awsJson1_0 wire

export const SQS_ACTIONS = [
  'CreateQueue',
  'GetQueueUrl',
  'SendMessage',
  'ReceiveMessage',
  'DeleteMessage',
  'ChangeMessageVisibility',
  'GetQueueAttributes',
] as const;

/** SQS's JSON protocol keeps the old query error codes in `x-amzn-query-error`. */
export const SQS_QUERY_ERROR_CODES: Record<string, string> = {
  QueueDoesNotExist: 'AWS.SimpleQueueService.NonExistentQueue',
  QueueNameExists: 'QueueAlreadyExists',
  MessageNotInflight: 'AWS.SimpleQueueService.MessageNotInflight',
};

// biome-ignore lint/suspicious/noExplicitAny: JSON request bodies
type Json = Record<string, any>;

export async function handleSqs(sqs: SimSqs, action: string, input: Json): Promise<Json> {
  switch (action) {
    case 'CreateQueue':
      return { QueueUrl: sqs.createQueue(requiredString(input, 'QueueName'), input.Attributes ?? {}).url };
    case 'GetQueueUrl':
      return { QueueUrl: sqs.requireQueue(requiredString(input, 'QueueName')).url };
    case 'SendMessage': {
      const queue = sqs.queueByUrl(requiredString(input, 'QueueUrl'));
      const message = sqs.sendMessage(queue.name, requiredString(input, 'MessageBody'), {
        ...(input.DelaySeconds !== undefined ? { delaySeconds: Number(input.DelaySeconds) } : {}),
        ...(input.MessageAttributes ? { messageAttributes: input.MessageAttributes } : {}),
      });
      return { MessageId: message.messageId, MD5OfMessageBody: message.md5OfBody };
    }
    case 'ReceiveMessage': {
      const queue = sqs.queueByUrl(requiredString(input, 'QueueUrl'));
      const max = Number(input.MaxNumberOfMessages ?? 1);
      if (max < 1 || max > 10)
        throw new AwsError('InvalidParameterValue', `MaxNumberOfMessages ${max} must be between 1 and 10`);
      const wait = Number(input.WaitTimeSeconds ?? queue.attributes.ReceiveMessageWaitTimeSeconds);
      const visibility = input.VisibilityTimeout !== undefined ? Number(input.VisibilityTimeout) : undefined;
      const messages = await sqs.receiveWaiting(queue.name, max, visibility, Math.min(wait, 20));
      const wanted: string[] = [
        ...(input.AttributeNames ?? []),
        ...(input.MessageSystemAttributeNames ?? []),
      ];
      return messages.length === 0 ? {} : { Messages: messages.map((m) => wireMessage(m, wanted)) };
    }
    case 'DeleteMessage': {
      const queue = sqs.queueByUrl(requiredString(input, 'QueueUrl'));
      sqs.deleteMessage(queue.name, requiredString(input, 'ReceiptHandle'));
      return {};
    }
    case 'ChangeMessageVisibility': {
      const queue = sqs.queueByUrl(requiredString(input, 'QueueUrl'));
      sqs.changeMessageVisibility(
        queue.name,
        requiredString(input, 'ReceiptHandle'),
        Number(input.VisibilityTimeout),
      );
      return {};
    }
    case 'GetQueueAttributes': {
      const queue = sqs.queueByUrl(requiredString(input, 'QueueUrl'));
      return { Attributes: sqs.attributes(queue.name, input.AttributeNames ?? ['All']) };
    }
    default:
      throw new AwsError('UnsupportedOperation', `The simulator's SQS endpoint does not implement ${action}`);
  }
}

function wireMessage(m: SqsMessage, wanted: string[]): Json {
  const system: Record<string, string> = {
    ApproximateReceiveCount: String(m.receiveCount),
    SentTimestamp: String(m.sentAt),
    SenderId: SENDER_ID,
    ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt ?? m.sentAt),
  };
  const all = wanted.includes('All');
  const attributes = Object.fromEntries(Object.entries(system).filter(([k]) => all || wanted.includes(k)));
  return {
    MessageId: m.messageId,
    ReceiptHandle: m.receiptHandle,
    MD5OfBody: m.md5OfBody,
    Body: m.body,
    ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}),
    ...(m.messageAttributes ? { MessageAttributes: m.messageAttributes } : {}),
  };
}

function requiredString(input: Json, name: string): string {
  const value = input[name];
  if (typeof value !== 'string' || value === '') {
    throw new AwsError('MissingParameter', `The request must contain the parameter ${name}.`);
  }
  return value;
}
