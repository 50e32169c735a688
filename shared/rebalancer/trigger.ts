// What started a rebalancer invocation: the schedule, a (batched) burst of ASG launches, a zone
// skew alarm, or a direct payload. Malformed input is rejected with the field named; input that
// is no reason to run (another alarm, an unrelated event) is an explicit "no run".
import { z } from 'zod';
import { check } from '../events/errors.ts';
import { parse } from '../events/parse.ts';
import { looksScheduled, parseScheduledEvent } from '../events/scheduled.ts';
import type { RebalancerOptions } from './run.ts';

export const RebalancePayloadSchema = z
  .object({
    action: z.literal('rebalance'),
    dryRun: z.boolean().optional(),
    namespace: z.string().min(1).optional(),
    maxEvictions: z.number().int().positive().optional(),
  })
  .strict();

export type Trigger = { run: true; options: RebalancerOptions } | { run: false; because: string };

export function triggerOf(raw: unknown): Trigger {
  if ((raw as { action?: unknown })?.action === 'rebalance') {
    const p = check(RebalancePayloadSchema, raw, '');
    return {
      run: true,
      options: {
        trigger: 'manual',
        dryRun: p.dryRun ?? false,
        ...(p.namespace ? { namespaces: [p.namespace] } : {}),
        ...(p.maxEvictions ? { maxEvictionsPerRun: p.maxEvictions } : {}),
      },
    };
  }
  if (looksScheduled(raw)) {
    parseScheduledEvent(raw);
    return { run: true, options: { trigger: 'schedule' } };
  }
  // SQS batches of launch events (one run for the whole burst), or an alarm delivered directly
  const events = parse(raw);
  const launches = events.filter((e) => e.kind === 'asg-activity' && e.activity === 'launch-successful');
  if (launches.length > 0) {
    const launchedAt = launches
      .map((e) => e.time ?? '')
      .sort()
      .at(-1);
    return { run: true, options: { trigger: 'launch', ...(launchedAt ? { launchedAt } : {}) } };
  }
  const alarm = events.find((e) => e.kind === 'alarm');
  if (alarm && alarm.kind === 'alarm') {
    return alarm.state === 'ALARM'
      ? { run: true, options: { trigger: 'alarm' } }
      : { run: false, because: `alarm ${alarm.alarmName} is ${alarm.state}` };
  }
  return {
    run: false,
    because: `not a rebalancer trigger (${events.map((e) => e.kind).join(', ') || 'empty'})`,
  };
}
