// Alarm → plan, pure. Interruption storm ALARM: spot capacity lost in some zones is made up on
// demand (EKS managed node groups: raise the on-demand group covering the zone; self-managed groups
// with a MixedInstancesPolicy: move their distribution to the configured fallback). OK: restore
// exactly what the fallback changed (remembered in a group tag), gradually. Zone skew ALARM: run
// the rebalancer once. Other clusters' groups are never changed; a fallback over the cap is refused.
import type { AlarmEvent } from '../events/types.ts';
import type { Plan, StepBase } from '../plans/steps.ts';
import type { AlarmConfig } from './config.ts';
import { decodeFallback, FALLBACK_TAG, type FallbackRecord } from './fallback-tag.ts';
import type { LostSpot, ObservedGroup } from './observe.ts';

export type AlarmStep =
  | (StepBase & { kind: 'raise-desired'; group: string; from: number; to: number; record: FallbackRecord })
  | (StepBase & { kind: 'set-mixed'; group: string; base: number; pct: number; record: FallbackRecord })
  | (StepBase & { kind: 'restore-desired'; group: string; to: number })
  | (StepBase & { kind: 'restore-mixed'; group: string; base: number; pct: number })
  | (StepBase & { kind: 'rebalance'; alarm: string })
  | (StepBase & { kind: 'announce'; message: string; warning: boolean; metric: string });

export interface AlarmObserved {
  clusterName: string;
  groups: ObservedGroup[];
  /** Spot instances EC2 took back recently. */
  interruptions: LostSpot[];
}

export type AlarmPlan = Plan<AlarmStep> & { refused?: string };

export function alarmKind(name: string, cfg: AlarmConfig): 'storm' | 'zone-skew' | undefined {
  if (name.endsWith(cfg.stormAlarmSuffix)) return 'storm';
  if (name.endsWith(cfg.zoneSkewAlarmSuffix)) return 'zone-skew';
  return undefined;
}

const announce = (id: string, message: string, metric: string, warning = false): AlarmStep => ({
  kind: 'announce',
  id,
  message,
  metric,
  warning,
  why: 'reported as a Kubernetes Event and an EMF metric',
});

function refuse(base: Pick<AlarmPlan, 'target' | 'trigger'>, why: string): AlarmPlan {
  return {
    ...base,
    steps: [announce('refused', `spot fallback refused: ${why}`, 'AlarmActionsRefused', true)],
    refused: why,
  };
}

export function planAlarm(ev: AlarmEvent, o: AlarmObserved, cfg: AlarmConfig): AlarmPlan {
  const kind = alarmKind(ev.alarmName, cfg);
  const base = { target: `alarm/${ev.alarmName}`, trigger: `alarm ${ev.state}` };
  if (!kind) return { ...base, steps: [], nothingBecause: `${ev.alarmName} has no alarm action` };
  if (kind === 'zone-skew') {
    if (ev.state !== 'ALARM')
      return { ...base, steps: [], nothingBecause: `zone skew ${ev.state}: nothing to do` };
    return {
      ...base,
      steps: [
        {
          kind: 'rebalance',
          id: 'rebalance',
          alarm: ev.alarmName,
          why: 'zones are skewed after rebalancing: run the rebalancer once',
        },
        {
          ...announce('report', `zone skew alarm: rebalancer run`, 'RebalancesTriggered'),
          after: ['rebalance'],
        },
      ],
    };
  }
  const ours = o.groups.filter((g) => g.cluster === o.clusterName);
  const named = ev.dimensions?.AutoScalingGroupName;
  if (named) {
    const g = o.groups.find((x) => x.name === named);
    if (g && g.cluster !== o.clusterName)
      return refuse(
        base,
        `group ${named} belongs to ${g.cluster ? `cluster ${g.cluster}` : 'no cluster'}, not ${o.clusterName}`,
      );
  }
  const inEffect = ours.map((g) => ({ g, r: decodeFallback(g.tags[FALLBACK_TAG]) })).filter((x) => x.r);
  const at = ev.stateTime ?? ev.time;
  if (ev.state === 'OK') return planReturn(base, inEffect as { g: ObservedGroup; r: FallbackRecord }[], at);
  if (ev.state !== 'ALARM')
    return { ...base, steps: [], nothingBecause: `storm alarm ${ev.state}: nothing to do` };
  if (inEffect.length > 0) {
    return {
      ...base,
      steps: [],
      nothingBecause: `fallback already in effect since ${inEffect[0]!.r!.at} (${inEffect.map((x) => x.g.name).join(', ')})`,
    };
  }
  return planFallback(base, ev, o, ours, named, at, cfg);
}

function planFallback(
  base: Pick<AlarmPlan, 'target' | 'trigger'>,
  ev: AlarmEvent,
  o: AlarmObserved,
  ours: ObservedGroup[],
  named: string | undefined,
  at: string,
  cfg: AlarmConfig,
): AlarmPlan {
  const steps: AlarmStep[] = [];
  const byName = new Map(o.groups.map((g) => [g.name, g]));
  // ours: the instance's own cluster tag, or a group of ours
  const lost = o.interruptions.filter(
    (l) =>
      (l.cluster ?? byName.get(l.group ?? '')?.cluster) === o.clusterName && (!named || l.group === named),
  );
  const lostByZone = new Map<string, number>();
  const selfManaged = new Map<string, LostSpot[]>();
  for (const l of lost) {
    const g = l.group ? byName.get(l.group) : undefined;
    if (g && !g.managed && g.mixed) selfManaged.set(g.name, [...(selfManaged.get(g.name) ?? []), l]);
    else lostByZone.set(l.zone, (lostByZone.get(l.zone) ?? 0) + 1);
  }
  for (const [name, ls] of selfManaged) {
    // self-managed mixed group: its own distribution moves to on-demand
    const g = byName.get(name)!;
    const mixed = g.mixed!;
    if (mixed.pct >= cfg.fallbackOnDemandPercentage && mixed.base >= cfg.fallbackOnDemandBase) continue;
    const zones = [...new Set(ls.map((l) => l.zone))];
    steps.push({
      kind: 'set-mixed',
      id: `mixed-${name}`,
      group: name,
      base: Math.max(mixed.base, cfg.fallbackOnDemandBase),
      pct: Math.max(mixed.pct, cfg.fallbackOnDemandPercentage),
      record: { type: 'mixed', alarm: ev.alarmName, at, baseBefore: mixed.base, pctBefore: mixed.pct, zones },
      why: `${name} lost ${ls.length} spot instance(s): on-demand ${cfg.fallbackOnDemandPercentage}% above base ${cfg.fallbackOnDemandBase}`,
    });
  }
  const add = new Map<string, { n: number; zones: string[] }>();
  const uncovered: string[] = [];
  for (const [zone, n] of lostByZone) {
    // the on-demand managed group covering the zone most narrowly (a one-zone group lands there)
    const od = ours
      .filter((g) => g.capacity === 'ON_DEMAND' && g.zones.includes(zone))
      .sort((a, b) => a.zones.length - b.zones.length || a.name.localeCompare(b.name))[0];
    if (!od) {
      uncovered.push(zone);
      continue;
    }
    const cur = add.get(od.name) ?? { n: 0, zones: [] };
    add.set(od.name, { n: cur.n + n, zones: [...cur.zones, zone] });
  }
  const total = [...add.values()].reduce((n, x) => n + x.n, 0);
  if (total > cfg.fallbackMaxExtraOnDemand)
    return refuse(
      base,
      `${total} on-demand instance(s) needed, more than the configured cap ${cfg.fallbackMaxExtraOnDemand}`,
    );
  for (const [name, { n, zones }] of add) {
    const g = ours.find((x) => x.name === name)!;
    if (g.desired + n > g.max)
      return refuse(base, `${name} would need desired ${g.desired + n}, above its MaxSize ${g.max}`);
    steps.push({
      kind: 'raise-desired',
      id: `raise-${name}`,
      group: name,
      from: g.desired,
      to: g.desired + n,
      record: { type: 'desired', alarm: ev.alarmName, at, desiredBefore: g.desired, added: n, zones },
      why: `spot capacity lost in ${zones.join(', ')}: ${n} on-demand instance(s) in ${name}`,
    });
  }
  if (steps.length === 0) {
    return {
      ...base,
      steps: [],
      nothingBecause: uncovered.length
        ? `no on-demand group covers ${uncovered.join(', ')}`
        : 'no spot interruptions of this cluster to make up for',
    };
  }
  const ids = steps.map((s) => s.id);
  const note = uncovered.length ? `; no on-demand group covers ${uncovered.join(', ')}` : '';
  steps.push({
    ...announce(
      'report',
      `spot fallback: ${steps.map((s) => s.why).join('; ')}${note}`,
      'SpotFallbacks',
      uncovered.length > 0,
    ),
    after: ids,
  });
  return { ...base, steps };
}

function planReturn(
  base: Pick<AlarmPlan, 'target' | 'trigger'>,
  inEffect: { g: ObservedGroup; r: FallbackRecord }[],
  at: string,
): AlarmPlan {
  // an OK older than the fallback is a late delivery of an earlier transition
  const current = inEffect.filter((x) => Date.parse(x.r.at) <= Date.parse(at));
  if (current.length === 0) {
    return {
      ...base,
      steps: [],
      nothingBecause: inEffect.length
        ? `OK of ${at} is older than the fallback (${inEffect[0]!.r.at})`
        : 'no fallback in effect',
    };
  }
  const steps: AlarmStep[] = current.map(({ g, r }) =>
    r.type === 'desired'
      ? {
          kind: 'restore-desired',
          id: `restore-${g.name}`,
          group: g.name,
          to: r.desiredBefore,
          why: `back to spot: ${g.name} desired to ${r.desiredBefore}, one instance at a time through the terminate hook`,
        }
      : {
          kind: 'restore-mixed',
          id: `restore-${g.name}`,
          group: g.name,
          base: r.baseBefore,
          pct: r.pctBefore,
          why: `back to spot: ${g.name} on-demand base ${r.baseBefore}, ${r.pctBefore}% above base`,
        },
  );
  steps.push({
    ...announce(
      'report',
      `spot fallback returned: ${steps.map((s) => s.why).join('; ')}`,
      'SpotFallbackReturns',
    ),
    after: steps.map((s) => s.id),
  });
  return { ...base, steps };
}
