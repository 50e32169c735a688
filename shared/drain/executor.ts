// drainNode: cordon first (≤ 2 requests: GET + one PATCH), then observe the node once, plan, take the
// per-node Lease and carry the plan out. A second drain of the same node joins the running one.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { V1Node } from '@kubernetes/client-node';
import { isNotFound } from '../k8s/api-error.ts';
import type { KubeClients } from '../k8s/client.ts';
import { type EvictionVersion, evictionVersion } from '../k8s/eviction.ts';
import { readNode } from '../k8s/nodes.ts';
import { listPdbs } from '../k8s/pdb.ts';
import { listPodsOnNode } from '../k8s/pods.ts';
import { listPersistentVolumeClaims, listPersistentVolumes } from '../k8s/volumes.ts';
import { signalAt } from '../time.ts';
import { adoptTighterDeadline } from './adopt.ts';
import { cordonNode } from './cordon.ts';
import { EventSink } from './events.ts';
import {
  claimDrainLease,
  type DrainResultSummary,
  drainResultOf,
  keepLeaseRenewed,
  type LeaseClaim,
  leaseIsLive,
  readDrainLease,
} from './lease.ts';
import { type ResolvedDrainOptions, resolveOptions, taintKeyFor, waitUntil } from './options.ts';
import { planDrain } from './planner.ts';
import { jittered, RequestMeter, sleep } from './requests.ts';
import { carryOutDrainPlan, leavesPodsBehind } from './run.ts';
import type { CordonResult, DrainOptions, DrainPlan, DrainReport, PodOutcome } from './types.ts';

interface Observed {
  pods: Awaited<ReturnType<typeof listPodsOnNode>>;
  pdbs: Awaited<ReturnType<typeof listPdbs>>;
  pvs: Awaited<ReturnType<typeof listPersistentVolumes>>;
  pvcs: Awaited<ReturnType<typeof listPersistentVolumeClaims>>;
}

export async function drainNode(
  k8s: KubeClients,
  nodeName: string,
  options: DrainOptions,
): Promise<DrainReport> {
  const opts = resolveOptions(options);
  const startedAt = Date.now();
  const meter = new RequestMeter(opts.concurrency);
  const logger = options.logger;
  if (opts.dryRun) return dryRunDrain(k8s, nodeName, opts, meter, startedAt);
  // traffic-aware drain (issue 14): deregistration starts now, beside the cordon
  options.evictionGate?.start(nodeName);

  const { nodeObject, ...cordon } = await cordonNode(k8s, nodeName, opts, meter).catch((err: unknown) => {
    throw isNotFound(err) ? new Error(`cannot drain node "${nodeName}": no such node`) : err;
  });
  options.metrics?.addMetric(
    'TimeToCordonMs',
    MetricUnit.Milliseconds,
    Date.parse(cordon.acknowledgedAt) - startedAt,
  );
  const events = new EventSink(k8s, meter, opts, logger);
  if (cordon.changed) {
    events.node(
      nodeName,
      'Cordon',
      `spotguard cordoned the node and set taint ${taintKeyFor(opts.reason)}:${opts.taintEffect}`,
      'Normal',
      'Cordon',
    );
  }
  options.onProgress?.({
    phase: 'cordoned',
    podsLeft: 0,
    podsTotal: 0,
    blockers: [],
    elapsedMs: Date.now() - startedAt,
  });
  logger?.info('node cordoned', { ...cordon });

  const stop = stopSignal(opts, options.signal, new Date(startedAt));
  const version = await evictionVersion(k8s, () => meter.add());
  const session: Session = { k8s, node: nodeName, nodeObject, version, opts, meter, stop, logger };
  const first = await observeAndPlan(session);
  const base = { node: nodeName, reason: opts.reason, dryRun: false, cordon, startedAt, meter, events };
  if (nothingToDo(first.plan)) {
    const outcome = {
      pods: skippedOutcomes(first.plan),
      volumesReleased: [],
      complete: !leavesPodsBehind(first.plan),
      joined: false,
    };
    return finish(base, first.plan, outcome, opts, options);
  }
  const turn = await takeTurn(session, first);
  if (turn.kind === 'joined') return finish(base, turn.plan, turn.outcome, opts, options);
  const { claim, observed, plan } = turn;

  const lease = keepLeaseRenewed(
    k8s,
    claim.kind === 'acquired' ? claim.lease : undefined,
    meter,
    (what, err) => logger?.warn(what, { node: nodeName, error: String(err) }),
  );
  events.node(nodeName, 'DrainStarted', describePlan(plan, opts));
  options.onProgress?.({
    phase: 'planned',
    podsLeft: plan.evictions.length,
    podsTotal: plan.evictions.length,
    blockers: [],
    elapsedMs: Date.now() - startedAt,
  });
  let result: Awaited<ReturnType<typeof carryOutDrainPlan>> | undefined;
  try {
    result = await carryOutDrainPlan(plan, {
      k8s,
      meter,
      events,
      options: opts,
      evictionVersion: version,
      pdbs: observed.pdbs.pdbs,
      pdbResourceVersion: observed.pdbs.resourceVersion,
      podResourceVersion: observed.pods.resourceVersion,
      stop,
      startedAt,
      onProgress: options.onProgress,
      ...(options.evictionGate ? { evictionGate: options.evictionGate } : {}),
      logger,
    });
  } finally {
    await lease.release({
      complete: result?.complete ?? false,
      finishedAt: new Date().toISOString(),
      holder: opts.holder,
      evicted: result?.evicted ?? 0,
      blocked: result?.blocked ?? {},
      failed: result?.failed ?? 0,
    });
  }
  if (result.complete)
    events.node(nodeName, 'DrainComplete', `spotguard drained the node (${result.evicted} pods evicted)`);
  else events.node(nodeName, 'DrainTimeout', describeLeftovers(result.pods), 'Warning');
  return finish(base, plan, { ...result, joined: false }, opts, options);
}

interface Session {
  k8s: KubeClients;
  node: string;
  nodeObject: V1Node;
  version: EvictionVersion;
  opts: ResolvedDrainOptions;
  meter: RequestMeter;
  stop: AbortSignal;
  logger: DrainOptions['logger'];
}

async function observeAndPlan(s: Session): Promise<{ observed: Observed; plan: DrainPlan }> {
  const observed = await observe(s.k8s, s.node, s.version, s.opts, s.meter);
  return { observed, plan: makePlan(s.nodeObject, observed, s.opts) };
}

type Turn =
  | { kind: 'own'; claim: LeaseClaim | { kind: 'unavailable' }; observed: Observed; plan: DrainPlan }
  | { kind: 'joined'; plan: DrainPlan; outcome: ReturnType<typeof joinedOutcome> };

/**
 * Takes the node's Lease, or — when another live drain holds it — waits for that drain and reports
 * what it left (joined). If the other drain dies instead, takes over and re-plans from the pods
 * still on the node.
 */
async function takeTurn(s: Session, planned: { observed: Observed; plan: DrainPlan }): Promise<Turn> {
  let current = planned;
  let claim = await claimOrProceed(s.k8s, s.node, s.opts, s.meter, s.logger);
  while (claim.kind === 'held') {
    s.logger?.info('another drain holds the node lease: joining it', { node: s.node, holder: claim.holder });
    // With a deadline of our own, the pods are made due by it while the other drain runs.
    const joined = new AbortController();
    const adopting = adoptTighterDeadline(
      s.k8s,
      s.nodeObject,
      s.opts,
      s.version,
      s.meter,
      AbortSignal.any([joined.signal, s.stop]),
    ).catch((err: unknown) => s.logger?.warn('could not adopt the tighter deadline', { error: String(err) }));
    const other = await waitForOtherDrain(s.k8s, s.node, s.meter, s.stop, s.opts.namespace).finally(() =>
      joined.abort(),
    );
    await adopting;
    if (other.kind !== 'expired') {
      const { plan } = await observeAndPlan(s);
      return {
        kind: 'joined',
        plan,
        outcome: joinedOutcome(plan, other.kind === 'finished' ? other.result : undefined),
      };
    }
    claim = await claimOrProceed(s.k8s, s.node, s.opts, s.meter, s.logger);
    if (claim.kind !== 'held') current = await observeAndPlan(s);
  }
  return { kind: 'own', claim, ...current };
}

/**
 * The Lease only keeps two drains of one node apart: when it cannot be taken (namespace missing,
 * RBAC) the drain goes on without it rather than leave a doomed node undrained.
 */
async function claimOrProceed(
  k8s: KubeClients,
  node: string,
  opts: ResolvedDrainOptions,
  meter: RequestMeter,
  logger: DrainOptions['logger'],
): Promise<LeaseClaim | { kind: 'unavailable' }> {
  try {
    return await claimDrainLease(k8s, node, opts.holder, meter, opts.namespace);
  } catch (err) {
    logger?.warn('drain lease unavailable: draining without it', { node, error: String(err) });
    return { kind: 'unavailable' };
  }
}

/** Aborts when terminations must be done (deadline − margin, or start + timeout) or the caller aborts. */
function stopSignal(
  opts: ResolvedDrainOptions,
  callerSignal: AbortSignal | undefined,
  start: Date,
): AbortSignal {
  // signalAt, not AbortSignal.timeout: a Health deadline weeks ahead would overflow the timer and fire now
  const timeout = signalAt(waitUntil(opts, start));
  return callerSignal ? AbortSignal.any([timeout, callerSignal]) : timeout;
}

async function observe(
  k8s: KubeClients,
  node: string,
  version: EvictionVersion,
  opts: ResolvedDrainOptions,
  meter: RequestMeter,
): Promise<Observed> {
  const [pods, pdbs] = await Promise.all([
    meter.call(() => listPodsOnNode(k8s, node), { unbounded: true }),
    opts.evictionMode === 'delete'
      ? { pdbs: [], resourceVersion: '' }
      : meter.call(() => listPdbs(k8s, version), { unbounded: true }),
  ]);
  // PVs and PVCs only matter when some pod mounts a claim: skip two lists otherwise
  const usesClaims = pods.pods.some((p) => p.spec?.volumes?.some((v) => v.persistentVolumeClaim));
  const [pvs, pvcs] = usesClaims
    ? await Promise.all([
        meter.call(() => listPersistentVolumes(k8s), { unbounded: true }),
        meter.call(() => listPersistentVolumeClaims(k8s), { unbounded: true }),
      ])
    : [[], []];
  return { pods, pdbs, pvs, pvcs };
}

function makePlan(node: V1Node, observed: Observed, opts: ResolvedDrainOptions): DrainPlan {
  return planDrain({
    node,
    pods: observed.pods.pods,
    pdbs: observed.pdbs.pdbs,
    pvs: observed.pvs,
    pvcs: observed.pvcs,
    now: new Date(),
    options: opts,
  });
}

const nothingToDo = (plan: DrainPlan) =>
  plan.evictions.length === 0 && !plan.skipped.some((s) => s.reason === 'terminating');

async function dryRunDrain(
  k8s: KubeClients,
  nodeName: string,
  opts: ResolvedDrainOptions,
  meter: RequestMeter,
  startedAt: number,
): Promise<DrainReport> {
  const node = await meter.call(() => readNode(k8s, nodeName));
  const version = await evictionVersion(k8s, () => meter.add());
  const plan = makePlan(node, await observe(k8s, nodeName, version, opts, meter), opts);
  return {
    node: nodeName,
    reason: opts.reason,
    dryRun: true,
    plan,
    pods: skippedOutcomes(plan),
    volumesReleased: [],
    complete: false,
    deadlineMissed: false,
    joinedExistingDrain: false,
    durationMs: Date.now() - startedAt,
    apiRequests: meter.count,
  };
}

type OtherDrain =
  | { kind: 'finished'; result?: DrainResultSummary }
  | { kind: 'expired' }
  | { kind: 'stopped' };

/** Polls the Lease until the other drain releases it, stops renewing it, or we run out of time. */
async function waitForOtherDrain(
  k8s: KubeClients,
  node: string,
  meter: RequestMeter,
  stop: AbortSignal,
  namespace: string,
): Promise<OtherDrain> {
  let delayMs = 250;
  while (!stop.aborted) {
    await sleep(jittered(delayMs), stop);
    delayMs = Math.min(1_000, delayMs * 2);
    const lease = await meter
      .call(() => readDrainLease(k8s, node, meter, namespace), { unbounded: true, retries: 0 })
      .catch(() => undefined);
    if (!lease) continue;
    if (!lease.spec?.holderIdentity) return { kind: 'finished', result: drainResultOf(lease) };
    if (!leaseIsLive(lease, new Date())) return { kind: 'expired' };
  }
  return { kind: 'stopped' };
}

function joinedOutcome(plan: DrainPlan, other: DrainResultSummary | undefined) {
  const pods: PodOutcome[] = plan.evictions.map((e) => {
    const budget = other?.blocked[`${e.namespace}/${e.name}`];
    return budget
      ? { namespace: e.namespace, name: e.name, outcome: 'blocked-by-pdb', pdb: budget }
      : { namespace: e.namespace, name: e.name, outcome: 'still-terminating' };
  });
  const terminating = plan.skipped.filter((s) => s.reason === 'terminating');
  for (const s of terminating)
    pods.push({ namespace: s.namespace, name: s.name, outcome: 'still-terminating' });
  pods.push(...skippedOutcomes(plan));
  const complete = !leavesPodsBehind(plan) && pods.every((p) => p.outcome === 'skipped');
  return { pods, volumesReleased: [], complete, joined: true };
}

function skippedOutcomes(plan: DrainPlan): PodOutcome[] {
  return plan.skipped
    .filter((s) => s.reason !== 'terminating')
    .map((s) => ({
      namespace: s.namespace,
      name: s.name,
      outcome: 'skipped',
      reason: `${s.reason}: ${s.detail}`,
    }));
}

async function finish(
  base: {
    node: string;
    reason: string;
    cordon: CordonResult;
    startedAt: number;
    meter: RequestMeter;
    events: EventSink;
  },
  plan: DrainPlan,
  result: { pods: PodOutcome[]; volumesReleased: string[]; complete: boolean; joined: boolean },
  opts: ResolvedDrainOptions,
  options: DrainOptions,
): Promise<DrainReport> {
  await base.events.flush();
  const durationMs = Date.now() - base.startedAt;
  const deadlineMissed = !result.complete && Date.now() >= Date.parse(plan.waitUntil);
  const evicted = result.pods.filter((p) => p.outcome === 'evicted').length;
  const blocked = result.pods.filter((p) => p.outcome === 'blocked-by-pdb').length;
  options.metrics?.addMetric('DrainDurationMs', MetricUnit.Milliseconds, durationMs);
  options.metrics?.addMetric('PodsEvicted', MetricUnit.Count, evicted);
  options.metrics?.addMetric('PodsBlockedByPdb', MetricUnit.Count, blocked);
  options.metrics?.addMetric('DeadlineMissed', MetricUnit.Count, deadlineMissed ? 1 : 0);
  // how many pods the instance took with it (the PodsLeftAtDeadline alarm)
  const left = result.pods.filter((p) => p.outcome !== 'evicted' && p.outcome !== 'skipped').length;
  options.metrics?.addMetric('PodsLeftAtDeadline', MetricUnit.Count, deadlineMissed ? left : 0);
  options.onProgress?.({
    phase: 'done',
    podsLeft: result.pods.filter((p) => p.outcome !== 'evicted' && p.outcome !== 'skipped').length,
    podsTotal: plan.evictions.length,
    blockers: [],
    elapsedMs: durationMs,
  });
  const report: DrainReport = {
    node: base.node,
    reason: base.reason,
    dryRun: false,
    cordon: base.cordon,
    plan,
    pods: result.pods,
    volumesReleased: result.volumesReleased,
    complete: result.complete,
    deadlineMissed,
    joinedExistingDrain: result.joined,
    durationMs,
    apiRequests: base.meter.count,
    // traffic-aware drain (issue 14)
    ...(options.evictionGate ? { loadBalancers: await options.evictionGate.report() } : {}),
  };
  options.logger?.info('drain finished', {
    node: base.node,
    complete: report.complete,
    evicted,
    blocked,
    durationMs,
    apiRequests: report.apiRequests,
    holder: opts.holder,
  });
  return report;
}

function describePlan(plan: DrainPlan, opts: ResolvedDrainOptions): string {
  const stateful = plan.evictions.filter((e) => e.stateful).length;
  const blocked = plan.evictions.filter((e) => e.expectedBlocked).length;
  return `spotguard draining for ${opts.reason}: ${plan.evictions.length} pods to evict (${stateful} stateful first, ${blocked} expected to wait on a PodDisruptionBudget), ${plan.skipped.length} skipped; done by ${plan.waitUntil}`;
}

function describeLeftovers(pods: PodOutcome[]): string {
  const left = pods.filter((p) => p.outcome !== 'evicted' && p.outcome !== 'skipped');
  const sample = left
    .slice(0, 5)
    .map((p) => `${p.namespace}/${p.name} (${p.outcome})`)
    .join(', ');
  return `spotguard drain stopped with ${left.length} pods left: ${sample}${left.length > 5 ? ', …' : ''}`;
}
