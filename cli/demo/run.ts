// One demo run: the simulator with the scenario (time compressed by `speed`), spotguard's real
// handlers behind the simulated EventBridge (sim/lambda-bridge.ts), the recorder and the view; then
// the summary, the kubectl-drain comparison and the HTML report.
import { basename } from 'node:path';
import { routeFor, routes } from '../../shared/routes.ts';
import { type EventBridgeEvent, startSimulator } from '../../sim/index.ts';
import { connectLambdas, type LambdaBridge } from '../../sim/lambda-bridge.ts';
import { expandEvents, loadScenario, type Scenario } from '../../sim/scenario.ts';
import { Recorder } from './recorder.ts';
import { writeReport } from './report.ts';
import { type DemoSummary, reportsOf, summarize, type ZoneSkew, zoneSkew } from './summary.ts';
import { summaryText } from './text.ts';
import { liveView, plainLines, type ViewExtras, viewModel } from './view.ts';

export interface DemoRun {
  scenario: string;
  speed: number;
  seed: number;
  live: boolean;
  reportPath: string;
  baseline: boolean;
  timeoutMs: number;
  out: (s: string) => void;
  err: (s: string) => void;
}

/** Simulated delays in scenario time (divided by the speed): what a real EKS cluster takes, shortened. */
export const SCENARIO_TIMINGS = {
  bootDelayMs: 16_000,
  podStartMs: 2_000,
  podTerminationMs: 8_000,
  volumeDetachMs: 6_000,
  interruptionNoticeMs: 120_000,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The optional functions, found by their routes in shared/routes.ts: the storm alarm's on-demand
 * fallback (functions/alarm-action) and the AZ rebalancer (functions/rebalancer).
 */
const OPTIONAL = { fallback: 'alarm-action', rebalancer: 'rebalancer' } as const;
const STEP_OF = { fallback: 'alarm', rebalancer: 'rebalancer' } as const;

export function features(scenario: Scenario): DemoSummary['features'] {
  const out: DemoSummary['features'] = {};
  for (const [feature, fn] of Object.entries(OPTIONAL) as Array<[keyof typeof OPTIONAL, string]>) {
    const present = scenario.events.some((e) => e[STEP_OF[feature]] !== undefined);
    const available = routes.some((r) => r.functionName === fn);
    out[feature] = !present ? 'not in scenario' : available ? 'ran' : 'not available in this build';
  }
  return out;
}

/**
 * Targets that EventBridge invokes directly rather than through a routed rule: the rebalancer's
 * schedule rule (its `Scheduled Event`), and the alarm action when its route lists no EventBridge
 * pattern. Routed events already reach their function through the bridge.
 */
function directTargets(bridge: LambdaBridge, rec: Recorder): (e: EventBridgeEvent) => void {
  const has = (fn: string) => routes.some((r) => r.functionName === fn);
  return (e) => {
    let fn: string | undefined;
    if (e['detail-type'] === 'Scheduled Event' && has(OPTIONAL.rebalancer)) fn = OPTIONAL.rebalancer;
    if (e.source === 'aws.cloudwatch' && has(OPTIONAL.fallback) && !routeFor(e.source, e['detail-type']))
      fn = OPTIONAL.fallback;
    if (!fn) return;
    bridge.invoke(fn, e).then(
      (result) => rec.log(`${fn}: ${describeResult(result)}`),
      (error: Error) => rec.log(`${fn} failed: ${error.message}`),
    );
  };
}

const describeResult = (result: unknown): string => {
  const r = result as
    | { because?: string; report?: { nothingBecause?: string; evictions?: number; summary?: string } }
    | undefined;
  if (r?.because) return `no run (${r.because})`;
  if (r?.report?.nothingBecause) return `nothing to move (${r.report.nothingBecause})`;
  if (typeof r?.report?.evictions === 'number') return `${r.report.evictions} pods moved to even the zones`;
  return r?.report?.summary ?? 'ran';
};

const allPodsReady = (sim: Awaited<ReturnType<typeof startSimulator>>) =>
  sim.store.count('pods') > 0 &&
  sim.store
    .list('pods')
    .every((p) =>
      (p.status?.conditions ?? []).some(
        (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True',
      ),
    );

export async function runDemo(o: DemoRun): Promise<DemoSummary> {
  const scenario = loadScenario(o.scenario);
  const feats = features(scenario);
  const scaled = Object.fromEntries(
    Object.entries(SCENARIO_TIMINGS).map(([k, v]) => [k, Math.round(v / o.speed)]),
  ) as typeof SCENARIO_TIMINGS;
  const sim = await startSimulator({
    scenario,
    speed: o.speed,
    seed: o.seed,
    ...scaled,
    holdScenario: true,
    onScenarioError: (error, event) => recorder.log(`scenario event at ${event.at} failed: ${error.message}`),
  });
  const recorder = new Recorder(sim);
  let skewBefore: ZoneSkew | undefined;
  const unsubscribe = sim.events.subscribe((e) => {
    if (e['detail-type'] === 'Scheduled Event' && !skewBefore) skewBefore = zoneSkew(sim);
  });
  try {
    // spotguard's own reserve before the spot deadline (SAFETY_MARGIN_SECONDS, 10 s) is compressed with the rest
    const bridge = await connectLambdas(sim, {
      retryDelayMs: 500,
      // a message a handler gave back is redelivered after the visibility timeout: compressed too
      // (as deployed it is minutes; a stuck-looking demo otherwise), still well above a drain's length
      visibilityTimeoutSeconds: Math.max(10, Math.round(150 / o.speed)),
      env: { SAFETY_MARGIN_SECONDS: String(Math.max(1, Math.round(10 / o.speed))) },
    });
    const stopDirect = sim.events.subscribe(directTargets(bridge, recorder));
    const hooksCompleted = () =>
      reportsOf(bridge.invocations.map((i) => i.result)).filter((r) => r.lifecycle?.completed).length;
    const extras: ViewExtras = {
      title: `spotguard demo — ${basename(o.scenario)}`,
      speed: o.speed,
      hooksCompleted,
      features: feats,
    };
    const snapshot = () => viewModel(sim, recorder, extras);
    recorder.log(
      `simulator up: ${sim.store.count('nodes')} nodes in ${sim.zones.length} zones; ` +
        `spot notice ${(scaled.interruptionNoticeMs / 1000).toFixed(0)} s (120 s ÷ ${o.speed})`,
    );
    const stopView = o.live ? liveView(snapshot, extras) : plainLines(recorder, snapshot, o.err);
    try {
      // the story starts once the cluster runs: every workload pod Ready (StatefulSets start in order)
      await sim.waitFor(() => allPodsReady(sim), o.timeoutMs, 'the workloads to start');
      recorder.log(`workloads Ready: ${sim.store.count('pods')} pods; the scenario starts`);
      sim.startScenario();
      const planned = expandEvents(scenario.events, { seed: o.seed, speed: o.speed });
      await sleep((planned.at(-1)?.atMs ?? 0) + 500);
      const idle = () =>
        bridge.idle(o.timeoutMs).then(
          () => true,
          (error: Error) => {
            recorder.log(error.message);
            for (const i of bridge.invocations.filter((i) => i.error))
              recorder.log(`${i.functionName} (${i.delivery}) failed: ${i.error}`);
            return false;
          },
        );
      const quiet = await idle();
      // every interrupted instance gone, every hook resolved, every pod Running again
      const settled = quiet && (await settle(sim, recorder, o.timeoutMs)) && (await idle());
      recorder.log(settled ? 'cluster settled' : 'cluster did NOT settle');
      recorder.stop();
      stopView();
      const deadLetters = Object.values(bridge.deadLetters()).reduce((a, b) => a + b, 0);
      stopDirect();
      bridge.stop();
      const reports = reportsOf(bridge.invocations.map((i) => i.result));
      const summary = summarize(sim, recorder, reports, {
        features: feats,
        deadLetters,
        settled,
        speed: o.speed,
        seed: o.seed,
        zoneSkewBeforeRebalancer: skewBefore ?? zoneSkew(sim),
      });
      if (o.baseline) {
        const { runKubectlBaseline } = await import('./baseline.ts');
        summary.baseline = await runKubectlBaseline(scenario, { ...o, scaled }, summary, o.err);
      }
      writeReport(o.reportPath, recorder, summary, extras.title);
      summary.reportPath = o.reportPath;
      o.out(summaryText(summary));
      return summary;
    } catch (error) {
      stopView();
      throw error;
    }
  } finally {
    unsubscribe();
    recorder.stop();
    await sim.stop();
  }
}

/** What still keeps the cluster from settling ('' when settled). */
export function unsettled(sim: Awaited<ReturnType<typeof startSimulator>>, rec: Recorder): string {
  const now = rec.now();
  const waiting = [...rec.nodes.values()].filter(
    (r) => r.deadlineAt !== undefined && r.state !== 'gone' && r.deadlineAt + 2000 > now,
  );
  if (waiting.length) return `${waiting.length} interrupted nodes before their deadline`;
  const hooks = sim.aws.pendingActions();
  if (hooks.length)
    return `lifecycle actions pending: ${hooks.map((a) => `${a.hookName} ${a.instanceId}`).join(', ')}`;
  const moving = sim.aws.instances().filter((i) => i.state === 'pending' || i.state === 'shutting-down');
  if (moving.length) return `instances ${moving.map((i) => `${i.instanceId} ${i.state}`).join(', ')}`;
  const notReady = sim.store
    .list('pods')
    .filter(
      (p) =>
        p.metadata.deletionTimestamp ||
        !(p.status?.conditions ?? []).some(
          (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True',
        ),
    );
  if (notReady.length)
    return `pods not Ready: ${notReady
      .slice(0, 5)
      .map(
        (p) =>
          `${p.metadata.namespace}/${p.metadata.name} (${p.status?.phase ?? '?'}${p.spec?.nodeName ? ` on ${p.spec.nodeName}` : ', unscheduled'})`,
      )
      .join(', ')}`;
  return '';
}

async function settle(sim: Awaited<ReturnType<typeof startSimulator>>, rec: Recorder, timeoutMs: number) {
  try {
    await sim.waitFor(() => unsettled(sim, rec) === '', timeoutMs, 'the cluster to settle');
    return true;
  } catch {
    rec.log(`not settled after ${timeoutMs / 1000} s: ${unsettled(sim, rec)}`);
    return false;
  }
}
