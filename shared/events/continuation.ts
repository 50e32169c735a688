// Continuations: work spotguard sends back to its own queue when it outlasts one invocation (a
// lifecycle drain, a launch wait). The message is `{"spotguard":"continuation","attempt":n,
// "event":<the domain event>}`; parsing it gives the event back with `attempt` set and a dedupKey
// of its own, so the continuation is not mistaken for a redelivery of the original.
import { z } from 'zod';
import { type EventContext, optional } from './context.ts';
import { check } from './errors.ts';
import {
  boundedName,
  boundedText,
  instanceId,
  isoTime,
  lifecycleToken,
  lifecycleTransition,
} from './fields.ts';
import type { DomainEvent } from './types.ts';

/** The most continuations one piece of work may take (one per Lambda run: 15 min × 1000). */
export const MAX_CONTINUATION_ATTEMPT = 1000;

// Every kind is checked field by field: a continuation is a message on a queue, so anyone who can
// send to the queue can forge one. Fields the schema does not name are dropped (z.object strips),
// so a forged `force` or `nodeName` never reaches an action. A new field carried across
// continuations has to be added here.
const base = {
  instanceIds: z.array(instanceId).max(50),
  time: isoTime,
  deadline: isoTime.optional(),
  dedupKey: boundedText(512).pipe(z.string().min(1)),
  region: boundedText(64).optional(),
  account: boundedText(64).optional(),
};

const lifecycleFields = {
  ...base,
  instanceId,
  autoScalingGroupName: boundedName,
  lifecycleHookName: boundedName,
  lifecycleActionToken: lifecycleToken,
  transition: lifecycleTransition,
  origin: boundedText(64).optional(),
  destination: boundedText(64).optional(),
  notificationMetadata: z.string().max(1023).optional(),
};

const ContinuedEventSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('lifecycle-terminate'), ...lifecycleFields }),
  z.object({ kind: z.literal('lifecycle-launch'), ...lifecycleFields }),
  z.object({
    kind: z.literal('spot-interruption'),
    ...base,
    instanceId,
    instanceAction: z.enum(['terminate', 'stop', 'hibernate']),
    deadline: isoTime,
  }),
  z.object({ kind: z.literal('rebalance-recommendation'), ...base, instanceId }),
  z.object({
    kind: z.literal('state-change'),
    ...base,
    instanceId,
    state: z.enum(['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated']),
  }),
  z.object({
    kind: z.literal('scheduled-change'),
    ...base,
    instanceId,
    eventTypeCode: boundedName,
    startTime: isoTime.optional(),
    endTime: isoTime.optional(),
  }),
  z.object({
    kind: z.literal('asg-activity'),
    ...base,
    instanceId: z.union([instanceId, z.literal('')]),
    autoScalingGroupName: boundedName,
    activity: z.enum([
      'launch-successful',
      'launch-unsuccessful',
      'terminate-successful',
      'terminate-unsuccessful',
    ]),
    availabilityZone: boundedText(64).optional(),
  }),
]);

export const ContinuationSchema = z.object({
  spotguard: z.literal('continuation'),
  attempt: z.number().int().min(1).max(MAX_CONTINUATION_ATTEMPT),
  event: ContinuedEventSchema,
});

const ATTEMPT_SUFFIX = /#attempt=\d+$/;

export function parseContinuation(value: unknown, ctx: EventContext): DomainEvent {
  const { attempt, event } = check(ContinuationSchema, value, ctx.path);
  // recordId, envelopes and attempt are not in the schema: they are set from how this one came.
  return {
    ...(optional(event) as Omit<DomainEvent, 'envelopes'>),
    attempt,
    dedupKey: `${event.dedupKey.replace(ATTEMPT_SUFFIX, '')}#attempt=${attempt}`,
    envelopes: [...ctx.envelopes, 'direct'],
    ...optional({ recordId: ctx.recordId }),
  } as DomainEvent;
}
