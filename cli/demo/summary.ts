// The closing numbers of a demo run, from what the recorder saw, the handlers' reports and the
// cluster as it ended. `--output json` prints this object as the last line of stdout.
import type { HandleReport } from '../../shared/actions/types.ts';
import type { Simulator } from '../../sim/index.ts';
import type { KObject } from '../../sim/k8s/store.ts';
import { isDaemonPod, type Recorder } from './recorder.ts';

export interface ZoneSkew {
  /** the largest (max − min) Running pods per zone over the zone-spread Deployments */
  max: number;
  /** the smallest maxSkew their constraints allow */
  allowed: number;
  perDeployment: Record<string, { skew: number; maxSkew: number; perZone: Record<string, number> }>;
}

export interface DemoSummary {
  eventsHandled: number;
  awsEvents: number;
  timeToCordonMs: { p50: number; p99: number; n: number };
  podsMoved: number;
  nodesDrained: number;
  deadlineMisses: number;
  pdbViolations: number;
  statefulPods: number;
  statefulPodsOutOfZone: number;
  hooksCompleted: number;
  hooksTotal: number;
  deadLetters: number;
  failedEvents: number;
  zoneSkewBeforeRebalancer: ZoneSkew;
  zoneSkewAtEnd: ZoneSkew;
  maxZoneSkew: number;
  settled: boolean;
  features: Record<string, 'ran' | 'not available in this build' | 'not in scenario'>;
  baseline?: unknown;
  wallSeconds: number;
  speed: number;
  seed: number;
  reportPath?: string;
}

/** Nearest-rank percentile. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function reportsOf(results: unknown[]): HandleReport[] {
  const out: HandleReport[] = [];
  for (const result of results) {
    const reports = (result as { reports?: HandleReport[] } | undefined)?.reports;
    if (reports) out.push(...reports);
  }
  return out;
}

const isRunning = (p: KObject) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running';

/** Zone skew of every Deployment that spreads over zones (topologySpreadConstraints on the zone key). */
export function zoneSkew(sim: Simulator): ZoneSkew {
  const nodeZone = new Map(
    sim.store
      .list('nodes')
      .map((n) => [n.metadata.name, n.metadata.labels?.['topology.kubernetes.io/zone'] as string]),
  );
  const perDeployment: ZoneSkew['perDeployment'] = {};
  for (const d of sim.store.list('deployments')) {
    const spread = (d.spec?.template?.spec?.topologySpreadConstraints ?? []).filter(
      (c: { topologyKey: string }) => c.topologyKey === 'topology.kubernetes.io/zone',
    );
    if (spread.length === 0) continue;
    const labels: Record<string, string> = d.spec.selector?.matchLabels ?? {};
    const perZone: Record<string, number> = Object.fromEntries(sim.zones.map((z) => [z, 0]));
    for (const p of sim.store.list('pods', { namespace: d.metadata.namespace })) {
      if (!isRunning(p) || !Object.entries(labels).every(([k, v]) => p.metadata.labels?.[k] === v)) continue;
      const zone = nodeZone.get(p.spec?.nodeName);
      if (zone) perZone[zone] = (perZone[zone] ?? 0) + 1;
    }
    const counts = Object.values(perZone);
    perDeployment[`${d.metadata.namespace}/${d.metadata.name}`] = {
      skew: Math.max(...counts) - Math.min(...counts),
      maxSkew: Math.min(...spread.map((c: { maxSkew: number }) => c.maxSkew)),
      perZone,
    };
  }
  const all = Object.values(perDeployment);
  return {
    max: Math.max(0, ...all.map((x) => x.skew)),
    allowed: all.length ? Math.min(...all.map((x) => x.maxSkew)) : 0,
    perDeployment,
  };
}

/** StatefulSet pods whose node is not in the zone of their volumes (or that are not running). */
export function statefulPlacement(sim: Simulator): { total: number; outOfZone: string[] } {
  const outOfZone: string[] = [];
  let total = 0;
  for (const pod of sim.store.list('pods')) {
    if (!(pod.metadata.ownerReferences ?? []).some((o: { kind: string }) => o.kind === 'StatefulSet'))
      continue;
    total++;
    const node = pod.spec?.nodeName ? sim.store.get('nodes', undefined, pod.spec.nodeName) : undefined;
    const nodeZone = node?.metadata.labels?.['topology.kubernetes.io/zone'];
    for (const v of pod.spec?.volumes ?? []) {
      const claim = v.persistentVolumeClaim?.claimName;
      const pvc = claim ? sim.store.get('persistentvolumeclaims', pod.metadata.namespace, claim) : undefined;
      const pv = pvc?.spec?.volumeName
        ? sim.store.get('persistentvolumes', undefined, pvc.spec.volumeName)
        : undefined;
      const terms = pv?.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? [];
      const zones: string[] = terms.flatMap(
        (t: { matchExpressions?: Array<{ key: string; values: string[] }> }) =>
          (t.matchExpressions ?? []).filter((e) => e.key.endsWith('/zone')).flatMap((e) => e.values),
      );
      if (zones.length && (!isRunning(pod) || !nodeZone || !zones.includes(nodeZone)))
        outOfZone.push(`${pod.metadata.namespace}/${pod.metadata.name}`);
    }
  }
  return { total, outOfZone };
}

export function summarize(
  sim: Simulator,
  recorder: Recorder,
  reports: HandleReport[],
  x: Pick<
    DemoSummary,
    'features' | 'deadLetters' | 'settled' | 'speed' | 'seed' | 'zoneSkewBeforeRebalancer'
  >,
): DemoSummary {
  const rows = [...recorder.nodes.values()];
  const cordonTimes = rows
    .filter((r) => r.triggerAt !== undefined && r.cordonAt !== undefined && r.cordonAt >= r.triggerAt)
    .map((r) => r.cordonAt! - r.triggerAt!);
  const drains = reports.filter((r) => r.drain && !r.drain.joinedExistingDrain);
  const hooks = reports.filter((r) => r.lifecycle);
  const stateful = statefulPlacement(sim);
  const end = zoneSkew(sim);
  return {
    eventsHandled: reports.filter((r) => r.outcome !== 'ignored').length,
    awsEvents: sim.events.emitted().length,
    timeToCordonMs: {
      p50: Math.round(percentile(cordonTimes, 50)),
      p99: Math.round(percentile(cordonTimes, 99)),
      n: cordonTimes.length,
    },
    podsMoved: drains.reduce((n, r) => n + r.drain!.pods.filter((p) => p.outcome === 'evicted').length, 0),
    nodesDrained: drains.filter((r) => r.drain!.pods.some((p) => p.outcome === 'evicted')).length,
    deadlineMisses: new Set([
      ...rows.filter((r) => (r.podsAtShutdown ?? 0) > 0).map((r) => r.name),
      ...drains.filter((r) => r.drain!.deadlineMissed).map((r) => r.drain!.node),
    ]).size,
    pdbViolations: [...recorder.pdbFloor.values()].filter((v) => v < 0).length,
    statefulPods: stateful.total,
    statefulPodsOutOfZone: stateful.outOfZone.length,
    hooksCompleted: hooks.filter((r) => r.lifecycle!.completed).length,
    hooksTotal: hooks.length,
    deadLetters: x.deadLetters,
    failedEvents: reports.filter((r) => r.outcome === 'failed').length,
    zoneSkewBeforeRebalancer: x.zoneSkewBeforeRebalancer,
    zoneSkewAtEnd: end,
    maxZoneSkew: end.max,
    settled: x.settled,
    features: x.features,
    wallSeconds: Math.round(recorder.now() / 100) / 10,
    speed: x.speed,
    seed: x.seed,
  };
}

export { isDaemonPod };
