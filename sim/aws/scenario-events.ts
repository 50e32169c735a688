// EventBridge events of the AWS services a scenario drives besides EC2 and Auto Scaling: a CloudWatch
// alarm changing state, and a schedule rule's tick (what starts the AZ rebalancer when deployed).
// Envelopes as AWS sends them (CloudWatch user guide "Alarm events and EventBridge"; EventBridge user
// guide "Scheduled rules").
import type { EventInput } from './events.ts';
import { ACCOUNT_ID } from './wire.ts';

type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** Last state per alarm name, so each change carries its previousState. */
const lastState = new Map<string, { value: AlarmState; timestamp: string }>();

export function alarmStateChange(
  region: string,
  alarm: { name: string; state: AlarmState; reason?: string; dimensions?: Record<string, string> },
  now = new Date(),
): EventInput {
  const arn = `arn:aws:cloudwatch:${region}:${ACCOUNT_ID}:alarm:${alarm.name}`;
  const timestamp = now.toISOString().replace('Z', '+0000');
  const previous = lastState.get(arn) ?? { value: 'OK' as const, timestamp };
  lastState.set(arn, { value: alarm.state, timestamp });
  const reason = alarm.reason ?? `Threshold Crossed: scenario set ${alarm.name} to ${alarm.state}`;
  return {
    source: 'aws.cloudwatch',
    'detail-type': 'CloudWatch Alarm State Change',
    resources: [arn],
    time: now,
    detail: {
      alarmName: alarm.name,
      state: { value: alarm.state, reason, timestamp },
      previousState: { value: previous.value, reason: 'previous state', timestamp: previous.timestamp },
      configuration: {
        metrics: [
          {
            id: 'm1',
            metricStat: {
              metric: {
                namespace: 'spotguard',
                name: 'SpotInterruptions',
                dimensions: alarm.dimensions ?? {},
              },
              period: 60,
              stat: 'Sum',
            },
            returnData: true,
          },
        ],
      },
    },
  };
}

export function scheduledEvent(region: string, rule: string, now = new Date()): EventInput {
  return {
    source: 'aws.events',
    'detail-type': 'Scheduled Event',
    resources: [`arn:aws:events:${region}:${ACCOUNT_ID}:rule/${rule}`],
    time: now,
    detail: {},
  };
}
