// The alarm action: observe → plan → execute → report. Called by the dispatch for `alarm` events.
import type { ActionDeps, HandleReport } from '../actions/types.ts';
import type { AlarmEvent } from '../events/types.ts';
import { containerNotifier } from '../notify/webhook.ts';
import { executePlan } from '../plans/execute.ts';
import { loadAlarmConfig } from './config.ts';
import { describeAllGroups, recentSpotInterruptions } from './observe.ts';
import { alarmKind, planAlarm } from './planner.ts';
import { alarmRunners, type Rebalancer } from './runners.ts';

export type { Rebalancer } from './runners.ts';

export async function onAlarm(ev: AlarmEvent, d: ActionDeps, rebalancer?: Rebalancer): Promise<HandleReport> {
  const cfg = loadAlarmConfig();
  const base = { kind: ev.kind, dedupKey: ev.dedupKey };
  if (!d.config.clusterName) {
    return {
      ...base,
      outcome: 'failed',
      summary: 'CLUSTER_NAME is not set: cannot tell our groups from others',
      actions: [],
    };
  }
  const storm = alarmKind(ev.alarmName, cfg) === 'storm';
  const [groups, interruptions] = await Promise.all([
    describeAllGroups(d.aws.autoScaling),
    storm && ev.state === 'ALARM' ? recentSpotInterruptions(d.aws.ec2) : Promise.resolve([]),
  ]);
  const plan = planAlarm(ev, { clusterName: d.config.clusterName, groups, interruptions }, cfg);
  const result = await executePlan(
    plan,
    alarmRunners({
      autoScaling: d.aws.autoScaling,
      k8s: d.k8s,
      namespace: d.config.namespace,
      metrics: d.metrics,
      holder: d.holder,
      timeLeftMs: d.timeLeftMs,
      returnStepTimeoutMs: cfg.returnStepTimeoutMs,
      ...(rebalancer ? { rebalancer } : {}),
    }),
    { dryRun: d.dryRun, now: d.now },
  );
  const announced = plan.steps.find((s) => s.kind === 'announce');
  if (announced && !d.dryRun) {
    const notifier = containerNotifier((why) => d.logger.warn(why));
    const kind = plan.refused ? 'refused' : ev.state === 'OK' ? 'return' : 'fallback';
    notifier.notify({
      kind,
      title: `${ev.alarmName} ${ev.state}`,
      text: announced.kind === 'announce' ? announced.message : '',
      cluster: d.config.clusterName,
    });
    await notifier.flush(Math.min(2000, d.timeLeftMs()));
  }
  const outcome = plan.refused
    ? 'refused'
    : plan.steps.length === 0
      ? 'ignored'
      : result.ok
        ? 'handled'
        : 'failed';
  const summary = plan.refused
    ? `${plan.target}: refused: ${plan.refused}`
    : plan.steps.length === 0
      ? `${plan.target}: ${plan.nothingBecause}`
      : `${plan.target}: ${result.steps.map((s) => s.detail).join('; ')}`;
  return {
    ...base,
    outcome,
    summary,
    actions: result.steps.filter((s) => s.status === 'done').map((s) => s.detail),
    plan: result,
  } as HandleReport;
}
