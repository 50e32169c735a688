// Continuations: work spotguard sends back to its own queue when it outlasts one invocation (a
// lifecycle drain, a launch wait). The message is `{"spotguard":"continuation","attempt":n,
// "event":<the domain event>}`; parsing it gives the event back with `attempt` set and a dedupKey
// of its own, so the continuation is not mistaken for a redelivery of the original.
import { z } from 'zod';
import { type EventContext, optional } from './context.ts';
import { check } from './errors.ts';
import { instanceId, isoTime, lifecycleToken, lifecycleTransition, nonEmpty } from './fields.ts';
import type { DomainEvent } from './types.ts';

const base = {
  instanceIds: z.array(instanceId),
  time: isoTime,
  deadline: isoTime.optional(),
  dedupKey: nonEmpty,
  region: z.string().optional(),
  account: z.string().optional(),
};

const lifecycleFields = {
  ...base,
  instanceId,
  autoScalingGroupName: nonEmpty,
  lifecycleHookName: nonEmpty,
  lifecycleActionToken: lifecycleToken,
  transition: lifecycleTransition,
};

// Lifecycle events are checked field by field (the hook is completed from them); other kinds keep
// their kind-specific fields as sent, since they were produced by this parser in the first place.
const ContinuedEventSchema = z.discriminatedUnion('kind', [
  z.looseObject({ kind: z.literal('lifecycle-terminate'), ...lifecycleFields }),
  z.looseObject({ kind: z.literal('lifecycle-launch'), ...lifecycleFields }),
  z.looseObject({
    kind: z.enum([
      'spot-interruption',
      'rebalance-recommendation',
      'state-change',
      'scheduled-change',
      'asg-activity',
    ]),
    ...base,
  }),
]);

export const ContinuationSchema = z.object({
  spotguard: z.literal('continuation'),
  attempt: z.number().int().min(1),
  event: ContinuedEventSchema,
});

const ATTEMPT_SUFFIX = /#attempt=\d+$/;

export function parseContinuation(value: unknown, ctx: EventContext): DomainEvent {
  const { attempt, event } = check(ContinuationSchema, value, ctx.path);
  // Whatever the sender left in (an earlier recordId/envelopes) is replaced by how this one came.
  const { recordId: _recordId, envelopes: _envelopes, attempt: _attempt, ...fields } = event;
  return {
    ...(fields as Omit<DomainEvent, 'envelopes'>),
    attempt,
    dedupKey: `${event.dedupKey.replace(ATTEMPT_SUFFIX, '')}#attempt=${attempt}`,
    envelopes: [...ctx.envelopes, 'direct'],
    ...optional({ recordId: ctx.recordId }),
  } as DomainEvent;
}
