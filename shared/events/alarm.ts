// CloudWatch alarm state changes, in both forms AWS delivers them: the EventBridge
// `CloudWatch Alarm State Change` event (eventbridge.ts registers it and calls alarmFields) and
// the direct Lambda alarm action — CloudWatch invokes the function asynchronously with
// `{source, alarmArn, accountId, time, region, alarmData: {alarmName, state, previousState,
// configuration}}`, no EventBridge envelope, `state.reasonData` a JSON string and timestamps like
// `2026-11-30T10:15:02.000+0000`.
import { z } from 'zod';
import { type EventContext, optional } from './context.ts';
import { check } from './errors.ts';
import { boundedName, boundedText } from './fields.ts';
import type { AlarmEvent } from './types.ts';

const alarmState = z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']);

/** CloudWatch's `+0000` offsets (no colon) as well as ISO 8601; normalised to toISOString(). */
export const alarmTime = z
  .string()
  .max(40)
  .refine((s) => !Number.isNaN(Date.parse(withColonOffset(s))), {
    error: 'expected a time like 2026-11-30T10:15:02.000+0000',
  })
  .transform((s) => new Date(withColonOffset(s)).toISOString());

function withColonOffset(s: string): string {
  return s.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
}

const StateSchema = z.object({
  value: alarmState,
  reason: boundedText(4096).optional(),
  reasonData: z.string().max(16384).optional(),
  timestamp: alarmTime.optional(),
});

const MetricSchema = z.object({
  id: z.string().optional(),
  expression: z.string().max(4096).optional(),
  metricStat: z
    .object({
      metric: z.object({
        namespace: z.string().optional(),
        name: z.string().optional(),
        dimensions: z.record(z.string(), z.string()).optional(),
      }),
    })
    .optional(),
});

export const AlarmDataSchema = z.object({
  alarmName: boundedName,
  state: StateSchema,
  previousState: StateSchema.optional(),
  configuration: z
    .object({ metrics: z.array(MetricSchema).max(20).optional() })
    .loose()
    .optional(),
});

const AlarmActionSchema = z.object({
  source: z.literal('aws.cloudwatch'),
  alarmArn: z.string().startsWith('arn:'),
  accountId: z.string().regex(/^\d{12}$/),
  time: alarmTime,
  region: z.string().min(1),
  alarmData: AlarmDataSchema,
});

/** The fields both forms share, from the alarm data (EventBridge `detail` or direct `alarmData`). */
export function alarmFields(d: z.output<typeof AlarmDataSchema>) {
  const dimensions: Record<string, string> = {};
  for (const m of d.configuration?.metrics ?? []) Object.assign(dimensions, m.metricStat?.metric.dimensions);
  return {
    kind: 'alarm' as const,
    instanceIds: [],
    alarmName: d.alarmName,
    state: d.state.value,
    dimensions,
    ...optional({
      previousState: d.previousState?.value,
      reason: d.state.reason,
      stateTime: d.state.timestamp,
    }),
  };
}

export function parseAlarmAction(value: unknown, ctx: EventContext): AlarmEvent {
  const a = check(AlarmActionSchema, value, ctx.path);
  const fields = alarmFields(a.alarmData);
  return {
    ...fields,
    alarmArn: a.alarmArn,
    time: a.time,
    region: a.region,
    account: a.accountId,
    // the same transition delivered twice (retries) has the same key
    dedupKey: `alarm:${a.alarmData.alarmName}:${fields.state}:${fields.stateTime ?? a.time}`,
    envelopes: [...ctx.envelopes, 'direct'],
    ...optional({ recordId: ctx.recordId }),
  };
}
