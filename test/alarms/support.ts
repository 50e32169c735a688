// Alarm payloads in both delivery forms, as CloudWatch sends them.

import type { EventBus } from '../../sim/aws/events.ts';
import type { E2E } from '../e2e/harness.ts';

export const STORM = 'spotguard-test-interruption-storm';

/** CloudWatch's timestamp form: 2026-11-30T10:15:02.000+0000 */
export const cwTime = (d: Date) => d.toISOString().replace('Z', '+0000');

function alarmData(state: string, at: Date, dimensions?: Record<string, string>) {
  return {
    alarmName: STORM,
    state: { value: state, reason: `test ${state}`, reasonData: '{"version":"1.0"}', timestamp: cwTime(at) },
    previousState: {
      value: state === 'OK' ? 'ALARM' : 'OK',
      reason: 'before',
      timestamp: cwTime(new Date(at.getTime() - 60_000)),
    },
    configuration: {
      description: 'storm',
      metrics: [
        {
          id: 'm1',
          metricStat: {
            metric: {
              namespace: 'Spotguard',
              name: 'SpotInterruptions',
              ...(dimensions ? { dimensions } : {}),
            },
            period: 60,
            stat: 'Sum',
          },
          returnData: true,
        },
      ],
    },
  };
}

/** The direct Lambda alarm action: no EventBridge envelope. */
export function directAlarm(state: string, at: Date, dimensions?: Record<string, string>) {
  return {
    source: 'aws.cloudwatch',
    alarmArn: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${STORM}`,
    accountId: '123456789012',
    time: cwTime(at),
    region: 'us-east-1',
    alarmData: alarmData(state, at, dimensions),
  };
}

/** The EventBridge `CloudWatch Alarm State Change`, emitted on the simulator's bus (the rule routes it). */
export function emitAlarm(e: E2E, state: string, at: Date, dimensions?: Record<string, string>) {
  (e.sim.events as EventBus).emit({
    source: 'aws.cloudwatch',
    'detail-type': 'CloudWatch Alarm State Change',
    resources: [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${STORM}`],
    detail: alarmData(state, at, dimensions),
    time: at,
  });
}
