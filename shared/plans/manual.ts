// On-call's hand tools (drain, uncordon, status) in the plan shape: a pure planner decides —
// safety refusals included — and manual-runners.ts acts. `onManual(event, deps)` is what the
// dispatch calls; a third argument names the caller when the CLI runs it locally.
import type { V1Node } from '@kubernetes/client-node';
import type { ActionDeps, HandleReport } from '../actions/types.ts';
import { spotguardOwns } from '../drain/cordon.ts';
import type { DrainProgress } from '../drain/types.ts';
import type { ManualEvent } from '../events/types.ts';
import { containerNotifier } from '../notify/webhook.ts';
import { executePlan } from './execute.ts';
import { type Caller, verifyCaller } from './manual-identity.ts';
import { manualReport, manualRunners, observeManual } from './manual-runners.ts';
import type { Plan, StepBase } from './steps.ts';

export const MANUAL_REASON_ANNOTATION = 'spotguard.io/manual-reason';
export const REQUESTED_BY_ANNOTATION = 'spotguard.io/requested-by';
/** The taint key suffix of every manual drain: spotguard's fixed set, never the operator's text. */
export const MANUAL_TAINT_REASON = 'manual';

export type ManualStep =
  | (StepBase & { kind: 'record-request'; node: string; annotations: Record<string, string> })
  | (StepBase & { kind: 'node-event'; node: string; reason: string; message: string; warning: boolean })
  | (StepBase & {
      kind: 'drain';
      node: string;
      force: boolean;
      bypassPdb: boolean;
      deleteEmptyDirData: boolean;
      gracePeriodSeconds?: number;
      timeoutSeconds?: number;
    })
  | (StepBase & { kind: 'uncordon'; node: string; anyone: boolean; onlyIfReason?: string })
  | (StepBase & { kind: 'status'; nodes: string[] });

export interface ManualObserved {
  /** The node the request names (undefined: status of every node spotguard works on). */
  nodeName?: string;
  node?: V1Node;
  /** Set when the node's instance is tagged for another cluster. */
  foreignCluster?: string;
  /** Every node: for the cordoned share and the last node of a zone. */
  nodes: V1Node[];
  /** Pods on the node pinned to its zone by a persistent volume. */
  zonalPods: string[];
  caller: Caller;
}

export interface ManualConfig {
  /** Refuse a drain that would leave more than this share of the nodes cordoned (0..1). */
  maxCordonedShare: number;
}

export function manualConfig(env: Record<string, string | undefined> = process.env): ManualConfig {
  const share = Number(env.MANUAL_MAX_CORDONED_SHARE ?? '0.34');
  if (!(share > 0 && share <= 1)) throw new Error('MANUAL_MAX_CORDONED_SHARE must be in (0, 1]');
  return { maxCordonedShare: share };
}

const zoneOf = (n: V1Node) => n.metadata?.labels?.['topology.kubernetes.io/zone'];
const isReady = (n: V1Node) =>
  (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** Why a drain of `node` is refused, or undefined when it is safe (pure). */
export function safetyRefusal(o: ManualObserved, cfg: ManualConfig): string | undefined {
  if (o.foreignCluster) return `node ${o.nodeName} belongs to cluster ${o.foreignCluster}, not this one`;
  const node = o.node!;
  const zone = zoneOf(node);
  const othersInZone = o.nodes.filter(
    (n) => n.metadata?.name !== o.nodeName && zoneOf(n) === zone && !n.spec?.unschedulable && isReady(n),
  );
  if (o.zonalPods.length > 0 && othersInZone.length === 0) {
    return `${o.nodeName} is the last schedulable node in ${zone} and holds pods on zonal volumes (${o.zonalPods.join(', ')}): they would have nowhere to go`;
  }
  const cordoned = o.nodes.filter((n) => n.spec?.unschedulable || n.metadata?.name === o.nodeName).length;
  if (o.nodes.length > 0 && cordoned / o.nodes.length > cfg.maxCordonedShare) {
    return `${cordoned} of ${o.nodes.length} nodes would be cordoned, more than the configured share ${cfg.maxCordonedShare}`;
  }
  return undefined;
}

/** Nodes spotguard has cordoned or is draining: what `status` with no node lists. */
export function nodesSpotguardWorksOn(nodes: V1Node[]): string[] {
  return nodes.filter((n) => spotguardOwns(n)).map((n) => n.metadata?.name ?? '');
}

export type ManualPlan = Plan<ManualStep> & { refused?: string };

export function planManual(ev: ManualEvent, o: ManualObserved, cfg: ManualConfig): ManualPlan {
  const target = o.nodeName ? `node/${o.nodeName}` : 'cluster';
  const base = { target, trigger: `manual ${ev.action}` };
  if (ev.action === 'status') {
    const nodes = o.nodeName ? [o.nodeName] : nodesSpotguardWorksOn(o.nodes);
    return { ...base, steps: [{ kind: 'status', id: 'status', why: 'read now, never cached', nodes }] };
  }
  const node = o.nodeName!;
  if (!o.node) return { ...base, steps: [], nothingBecause: `no node named ${node}` };
  if (ev.action === 'uncordon') {
    if (o.foreignCluster && !ev.overrideSafety) {
      const refused = `node ${node} belongs to cluster ${o.foreignCluster}, not this one`;
      return { ...base, steps: [], nothingBecause: refused, refused };
    }
    const by = `${o.caller.principal}`;
    return {
      ...base,
      steps: [
        {
          kind: 'uncordon',
          id: 'uncordon',
          node,
          anyone: ev.force,
          ...(ev.onlyIfReason ? { onlyIfReason: ev.onlyIfReason } : {}),
          why: ev.force ? 'forced: uncordon whoever cordoned it' : "undo spotguard's cordon and taint only",
        },
        {
          kind: 'node-event',
          id: 'event',
          after: ['uncordon'],
          node,
          reason: 'ManualUncordon',
          message: `uncordon requested by ${by}${ev.reason ? `: ${ev.reason}` : ''}`,
          warning: false,
          why: 'who asked, visible in kubectl describe node',
        },
      ],
    };
  }
  const refusal = safetyRefusal(o, cfg);
  if (refusal && !ev.overrideSafety) return { ...base, steps: [], nothingBecause: refusal, refused: refusal };
  const reason = ev.reason ?? '';
  const loud = ev.bypassPdb ? ' — PodDisruptionBudgets BYPASSED (pods deleted, not evicted)' : '';
  const overridden = refusal ? ` — safety override: ${refusal}` : '';
  return {
    ...base,
    steps: [
      {
        kind: 'record-request',
        id: 'record',
        node,
        annotations: { [MANUAL_REASON_ANNOTATION]: reason, [REQUESTED_BY_ANNOTATION]: o.caller.principal },
        why: 'the reason and who asked, on the node for whoever looks next',
      },
      {
        kind: 'node-event',
        id: 'event',
        node,
        reason: 'ManualDrainRequested',
        message: `drain requested by ${o.caller.principal}: ${reason}${loud}${overridden}`,
        warning: ev.bypassPdb || Boolean(refusal),
        why: 'who asked and why, as a Kubernetes Event',
      },
      {
        kind: 'drain',
        id: 'drain',
        after: ['record', 'event'],
        node,
        force: ev.force,
        bypassPdb: ev.bypassPdb,
        deleteEmptyDirData: ev.deleteEmptyDirData,
        ...(ev.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: ev.gracePeriodSeconds } : {}),
        ...(ev.timeoutSeconds !== undefined ? { timeoutSeconds: ev.timeoutSeconds } : {}),
        why: `cordon + taint ${MANUAL_TAINT_REASON}, evict${ev.bypassPdb ? ' (PDBs bypassed)' : ''}`,
      },
    ],
  };
}

export async function onManual(
  ev: ManualEvent,
  d: ActionDeps,
  caller?: Caller & { onProgress?: (p: DrainProgress) => void },
): Promise<HandleReport> {
  const who: Caller = caller
    ? { principal: caller.principal, verified: caller.verified }
    : await verifyCaller(ev.identityToken, d.config.region, ev.requestedBy);
  const observed = await observeManual(ev, d, who);
  if ('report' in observed) return observed.report;
  const plan = planManual(ev, observed, manualConfig());
  // status only reads: it runs in a dry run too
  const dryRun = ev.action !== 'status' && (d.dryRun || ev.dryRun);
  const runners = manualRunners(d, caller?.onProgress);
  const result = await executePlan(plan, runners, { dryRun, now: d.now });
  const drainStep = plan.steps.find((s) => s.kind === 'drain');
  if (dryRun && drainStep) {
    // the drain engine's own dry run reads only: which pods, in what order, with what grace, blocked by what
    const preview = await runners.drain(
      drainStep,
      { dryRun: true, now: d.now },
      new Map(),
      async () => undefined,
    );
    const rec = result.steps.find((s) => s.id === drainStep.id);
    if (rec) rec.data = preview.data;
  }
  const report = manualReport(ev, plan, result, who);
  if (!dryRun && report.drain) {
    // after the drain, never before it: a slow webhook gets what time is left, at most 2 s
    const notifier = containerNotifier((why) => d.logger.warn(why));
    const missed = report.drain.deadlineMissed;
    notifier.notify({
      kind: missed ? 'deadline-missed' : 'drain',
      title: `manual drain of ${report.nodeName}${missed ? ': DEADLINE MISSED' : ''}`,
      text: `${report.summary}\nreason: ${ev.reason ?? ''}\nrequested by: ${who.principal}`,
      ...(d.config.clusterName ? { cluster: d.config.clusterName } : {}),
    });
    await notifier.flush(Math.min(2000, d.timeLeftMs()));
  }
  return report;
}
