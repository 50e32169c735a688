// I/O for the manual plan: what it observes once, the runner per step, and the report.
import { DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import type { V1Node, V1PodDisruptionBudget } from '@kubernetes/client-node';
import { drainOptions } from '../actions/drain-options.ts';
import type { ActionDeps } from '../actions/types.ts';
import { type HandleReport, type Outcome, report } from '../actions/types.ts';
import { FALLBACK_TAG } from '../alarms/fallback-tag.ts';
import { describeClusterGroups } from '../alarms/observe.ts';
import { describeInstances } from '../aws/instances.ts';
import { zonalPodsOnNode } from '../capacity/zonal.ts';
import { drainNode, nodeDrainStatus, uncordonNode } from '../drain/index.ts';
import type { DrainProgress, DrainReport, DrainStatus, UncordonResult } from '../drain/types.ts';
import type { ManualEvent } from '../events/types.ts';
import { annotateNode } from '../k8s/annotate.ts';
import { isNotFound } from '../k8s/api-error.ts';
import { createEvent } from '../k8s/events.ts';
import { listNodes, readNode } from '../k8s/nodes.ts';
import { listPdbs } from '../k8s/pdb.ts';
import { listPodsOnNode } from '../k8s/pods.ts';
import { foreignCluster, instanceIdFromProviderId } from '../resolve/node-resolver.ts';
import type { RunnerMap } from './execute.ts';
import {
  MANUAL_REASON_ANNOTATION,
  MANUAL_TAINT_REASON,
  type ManualObserved,
  type ManualPlan,
  type ManualStep,
} from './manual.ts';
import type { Caller } from './manual-identity.ts';
import { drainSummary } from './runners/node.ts';
import type { PlanReport } from './steps.ts';

export interface NodeStatus extends DrainStatus {
  manualReason?: string;
  requestedBy?: string;
  ageSeconds?: number;
  pdbsBlocking: string[];
}

export interface ManualStatus {
  nodes: NodeStatus[];
  hooksPending: { instanceId: string; group: string; state: string }[];
  fallbacks: { group: string; value: string }[];
}

export async function observeManual(
  ev: ManualEvent,
  d: ActionDeps,
  caller: Caller,
): Promise<ManualObserved | { report: HandleReport }> {
  const base = {
    kind: ev.kind,
    dedupKey: ev.dedupKey,
    ...(ev.instanceId ? { instanceId: ev.instanceId } : {}),
  };
  let nodeName = ev.nodeName;
  if (!nodeName && ev.instanceId) {
    const r = await d.resolver.resolve(ev.instanceId);
    if (r.status !== 'found') return { report: report(base, 'not-found', `${ev.instanceId}: ${r.reason}`) };
    nodeName = r.nodeName;
  }
  const nodes = await listNodes(d.k8s);
  const node = nodes.find((n) => n.metadata?.name === nodeName);
  const observed: ManualObserved = {
    nodes,
    zonalPods: [],
    caller,
    ...(nodeName ? { nodeName } : {}),
    ...(node ? { node } : {}),
  };
  if (!node || ev.action === 'status') return observed;
  const instanceId = instanceIdFromProviderId(node.spec?.providerID);
  if (instanceId && d.config.clusterName) {
    const instance = (await describeInstances(d.aws.ec2, [instanceId])).get(instanceId);
    const foreign = instance ? foreignCluster(instance, d.config.clusterName) : undefined;
    if (foreign) observed.foreignCluster = foreign;
  }
  if (ev.action === 'drain') observed.zonalPods = await zonalPodsOnNode(d.k8s, nodeName!);
  return observed;
}

export function manualRunners(d: ActionDeps, onProgress?: (p: DrainProgress) => void): RunnerMap<ManualStep> {
  return {
    'record-request': async (s) => {
      await annotateNode(d.k8s, s.node, s.annotations);
      return { status: 'done', detail: `recorded reason and requester on ${s.node}` };
    },
    'node-event': async (s) => {
      await createEvent(d.k8s, {
        target: { kind: 'Node', name: s.node },
        reason: s.reason,
        message: s.message,
        type: s.warning ? 'Warning' : 'Normal',
        action: 'Manual',
        component: 'spotguard',
        instance: d.holder,
      });
      return { status: 'done', detail: `event ${s.reason}` };
    },
    drain: async (s, ctx) => {
      const drain = await drainNode(
        d.k8s,
        s.node,
        drainOptions(ctx.dryRun ? { ...d, dryRun: true } : d, {
          reason: MANUAL_TAINT_REASON,
          ...(onProgress ? { onProgress } : {}),
          force: s.force,
          deleteEmptyDirData: s.deleteEmptyDirData,
          ...(s.bypassPdb ? { evictionMode: 'delete' as const } : {}),
          ...(s.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: s.gracePeriodSeconds } : {}),
          ...(s.timeoutSeconds !== undefined ? { timeoutMs: s.timeoutSeconds * 1000 } : {}),
        }),
      );
      return {
        status: drain.complete || drain.dryRun ? 'done' : 'failed',
        detail: drainSummary(drain),
        data: drain,
      };
    },
    uncordon: async (s) => {
      const result = await uncordonNode(d.k8s, s.node, {
        onlyIfCordonedBy: s.anyone ? 'anyone' : 'spotguard',
        ...(s.onlyIfReason ? { reason: s.onlyIfReason } : {}),
      });
      if (result.changed) {
        await annotateNode(d.k8s, s.node, { [MANUAL_REASON_ANNOTATION]: null });
      }
      return { status: 'done', detail: result.detail, data: result };
    },
    status: async (s) => ({
      status: 'done',
      detail: `${s.nodes.length} node(s)`,
      data: await readStatus(d, s.nodes),
    }),
  };
}

async function readStatus(d: ActionDeps, names: string[]): Promise<ManualStatus> {
  const { pdbs } = await listPdbs(d.k8s).catch(() => ({ pdbs: [] as V1PodDisruptionBudget[] }));
  const nodes = await Promise.all(names.map((n) => nodeStatus(d, n, pdbs)));
  const groups = d.config.clusterName
    ? await describeClusterGroups(d.aws.autoScaling, d.config.clusterName).catch(() => [])
    : [];
  const hooks = await d.aws.autoScaling
    .send(new DescribeAutoScalingInstancesCommand({}))
    .then((o) => o.AutoScalingInstances ?? [])
    .catch(() => []);
  const ours = new Set(groups.map((g) => g.name));
  return {
    nodes,
    hooksPending: hooks
      .filter((i) => ours.has(i.AutoScalingGroupName ?? '') && /:Wait$/.test(i.LifecycleState ?? ''))
      .map((i) => ({
        instanceId: i.InstanceId ?? '',
        group: i.AutoScalingGroupName ?? '',
        state: i.LifecycleState ?? '',
      })),
    fallbacks: groups
      .filter((g) => g.tags[FALLBACK_TAG])
      .map((g) => ({ group: g.name, value: g.tags[FALLBACK_TAG]! })),
  };
}

async function nodeStatus(d: ActionDeps, name: string, pdbs: V1PodDisruptionBudget[]): Promise<NodeStatus> {
  const status = await nodeDrainStatus(d.k8s, name);
  if (!status.exists) return { ...status, pdbsBlocking: [] };
  const [node, { pods }] = await Promise.all([
    readNode(d.k8s, name).catch((e) => (isNotFound(e) ? undefined : Promise.reject(e))),
    listPodsOnNode(d.k8s, name),
  ]);
  const a = (node as V1Node | undefined)?.metadata?.annotations ?? {};
  const blocking = pdbs.filter((p) => {
    if ((p.status?.disruptionsAllowed ?? 1) > 0) return false;
    const sel = p.spec?.selector?.matchLabels ?? {};
    return pods.some(
      (pod) =>
        pod.metadata?.namespace === p.metadata?.namespace &&
        Object.entries(sel).every(([k, v]) => pod.metadata?.labels?.[k] === v),
    );
  });
  return {
    ...status,
    ...(a[MANUAL_REASON_ANNOTATION] ? { manualReason: a[MANUAL_REASON_ANNOTATION] } : {}),
    ...(a['spotguard.io/requested-by'] ? { requestedBy: a['spotguard.io/requested-by'] } : {}),
    ...(status.cordonedAt
      ? { ageSeconds: Math.round((Date.now() - Date.parse(status.cordonedAt)) / 1000) }
      : {}),
    pdbsBlocking: blocking.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`),
  };
}

export function manualReport(
  ev: ManualEvent,
  plan: ManualPlan,
  result: PlanReport,
  caller: Caller,
): HandleReport & {
  plan: PlanReport;
  principal: string;
  manualStatus?: ManualStatus;
} {
  const base = {
    kind: ev.kind,
    dedupKey: ev.dedupKey,
    ...(ev.instanceId ? { instanceId: ev.instanceId } : {}),
    ...(plan.target.startsWith('node/') ? { nodeName: plan.target.slice(5) } : {}),
  };
  const step = (id: string) => result.steps.find((s) => s.id === id);
  const drain = step('drain')?.data as DrainReport | undefined;
  const uncordon = step('uncordon')?.data as UncordonResult | undefined;
  const status = step('status')?.data as ManualStatus | undefined;
  let outcome: Outcome = result.ok ? 'handled' : 'failed';
  let summary = `${plan.target}: ${result.steps.map((s) => s.detail).join('; ')}`;
  if (plan.refused) {
    outcome = 'refused';
    summary = `${plan.target}: refused: ${plan.refused} (overrideSafety to insist)`;
  } else if (plan.steps.length === 0) {
    outcome = 'not-found';
    summary = `${plan.target}: ${plan.nothingBecause}`;
  } else if (result.dryRun) {
    summary = `${plan.target}: dry run, would: ${plan.steps.map((s) => s.why).join('; ')}`;
  }
  return {
    ...report(base, outcome, summary),
    actions: result.steps.filter((s) => s.status === 'done').map((s) => s.detail),
    ...(drain ? { drain } : {}),
    ...(uncordon ? { uncordon } : {}),
    ...(status ? { manualStatus: status } : {}),
    plan: result,
    principal: caller.principal,
  };
}
