// EventBridge Scheduler / rule `schedule` events ("Scheduled Event" from aws.events): the
// envelope only, the detail is always {}. Used by the AZ rebalancer's timer.
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { z } from 'zod';
import { check } from './errors.ts';
import { isoTime } from './fields.ts';

export const ScheduledEventSchema = EventBridgeSchema.extend({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
  time: isoTime,
});
export type ScheduledEvent = z.output<typeof ScheduledEventSchema>;

/** Shaped like a scheduled event (source + detail-type): then it must be a valid one. */
export const looksScheduled = (raw: unknown): boolean =>
  (raw as { source?: unknown })?.source === 'aws.events' &&
  (raw as Record<string, unknown>)?.['detail-type'] === 'Scheduled Event';

export function parseScheduledEvent(raw: unknown): ScheduledEvent {
  return check(ScheduledEventSchema, raw, '');
}
