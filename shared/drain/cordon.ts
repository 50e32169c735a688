// Cordon + taint in ONE conditional merge patch, and an uncordon that undoes only spotguard's work.
import type { V1Node, V1Taint } from '@kubernetes/client-node';
import { isConflict } from '../k8s/api-error.ts';
import type { KubeClients } from '../k8s/client.ts';
import { mergePatchNode, readNode } from '../k8s/nodes.ts';
import {
  ANNOTATION_COMING_BACK,
  ANNOTATION_CORDON_REASON,
  ANNOTATION_CORDONED_AT,
  ANNOTATION_CORDONED_BY,
  ANNOTATION_PRE_CORDONED,
  LABEL_EXCLUDE_FROM_LB,
  LABEL_PREFIX,
  SPOTGUARD_COMPONENT,
  taintKeyFor,
} from './options.ts';
import { RequestMeter } from './requests.ts';
import type { CordonResult, TaintEffect, UncordonResult } from './types.ts';

/** Set when spotguard added the exclude-from-LB label itself (so uncordon removes only its own). */
export const ANNOTATION_EXCLUDED_FROM_LB = 'spotguard.io/excluded-from-lb';
const MAX_CONFLICT_RETRIES = 5;

export interface CordonOptions {
  reason: string;
  holder: string;
  taintEffect?: TaintEffect;
  excludeFromLoadBalancers?: boolean;
  comingBack?: boolean;
  /**
   * The node as the caller just read it (e.g. while resolving the instance): the first PATCH is
   * built from it instead of a second GET. The patch carries its resourceVersion, so a stale copy
   * costs a 409 and a re-read, never a lost change.
   */
  knownNode?: V1Node;
}

/**
 * The merge patch that cordons and taints `node`, or undefined when it already carries spotguard's
 * cordon for this reason. Taints are a list and a merge patch replaces lists whole, so the patch
 * carries every existing taint plus ours, and the node's resourceVersion so that a concurrent
 * change makes the API server answer 409 instead of losing it.
 */
export function cordonPatch(node: V1Node, opts: CordonOptions, now: Date): object | undefined {
  const meta = node.metadata ?? {};
  const annotations = meta.annotations ?? {};
  const labels = meta.labels ?? {};
  const effect = opts.taintEffect ?? 'NoSchedule';
  const key = taintKeyFor(opts.reason);
  const taints = node.spec?.taints ?? [];
  const ours = spotguardOwns(node);
  const upToDate =
    node.spec?.unschedulable === true &&
    ours &&
    annotations[ANNOTATION_CORDON_REASON] === opts.reason &&
    taints.some((t) => t.key === key && t.effect === effect) &&
    (!opts.comingBack || annotations[ANNOTATION_COMING_BACK] === 'true') &&
    (!opts.excludeFromLoadBalancers || Object.hasOwn(labels, LABEL_EXCLUDE_FROM_LB));
  if (upToDate) return undefined;

  const taint: V1Taint = { key, value: opts.holder.slice(0, 63).replace(/[^A-Za-z0-9._-]/g, '-'), effect };
  if (effect === 'NoExecute') taint.timeAdded = now;
  const newAnnotations: Record<string, string> = {
    [ANNOTATION_CORDONED_BY]: SPOTGUARD_COMPONENT,
    [ANNOTATION_CORDON_REASON]: opts.reason,
    [ANNOTATION_CORDONED_AT]: annotations[ANNOTATION_CORDONED_AT] ?? now.toISOString(),
  };
  // someone else cordoned first: keep their cordon when we uncordon later
  if (node.spec?.unschedulable === true && !ours) newAnnotations[ANNOTATION_PRE_CORDONED] = 'true';
  if (opts.comingBack) newAnnotations[ANNOTATION_COMING_BACK] = 'true';
  const newLabels: Record<string, string> = {};
  if (opts.excludeFromLoadBalancers && !Object.hasOwn(labels, LABEL_EXCLUDE_FROM_LB)) {
    newLabels[LABEL_EXCLUDE_FROM_LB] = 'true';
    newAnnotations[ANNOTATION_EXCLUDED_FROM_LB] = 'true';
  }
  return {
    metadata: {
      resourceVersion: meta.resourceVersion,
      annotations: newAnnotations,
      ...(Object.keys(newLabels).length > 0 ? { labels: newLabels } : {}),
    },
    spec: { unschedulable: true, taints: [...taints.filter((t) => t.key !== key), taint].map(wireTaint) },
  };
}

/** The patch that removes spotguard's cordon, or undefined when there is nothing of ours to undo. */
export function uncordonPatch(
  node: V1Node,
  opts: { onlyIfCordonedBy: 'spotguard' | 'anyone'; reason?: string },
): { patch?: object; leftCordoned: boolean; detail: string } {
  const meta = node.metadata ?? {};
  const annotations = meta.annotations ?? {};
  const ours = spotguardOwns(node);
  const preCordoned = annotations[ANNOTATION_PRE_CORDONED] === 'true';
  if (!ours && opts.onlyIfCordonedBy === 'spotguard') {
    return {
      leftCordoned: node.spec?.unschedulable === true,
      detail: 'not cordoned by spotguard: left as is',
    };
  }
  if (ours && opts.reason && annotations[ANNOTATION_CORDON_REASON] !== opts.reason) {
    return {
      leftCordoned: node.spec?.unschedulable === true,
      detail: `cordoned by spotguard for "${annotations[ANNOTATION_CORDON_REASON]}", not "${opts.reason}": left as is`,
    };
  }
  const taints = node.spec?.taints ?? [];
  const keepCordon = preCordoned && opts.onlyIfCordonedBy === 'spotguard';
  const removeAnnotations = [
    ANNOTATION_CORDONED_BY,
    ANNOTATION_CORDON_REASON,
    ANNOTATION_CORDONED_AT,
    ANNOTATION_COMING_BACK,
    ANNOTATION_PRE_CORDONED,
    ANNOTATION_EXCLUDED_FROM_LB,
  ].filter((a) => Object.hasOwn(annotations, a));
  const removeLbLabel = annotations[ANNOTATION_EXCLUDED_FROM_LB] === 'true';
  const ourTaints = taints.filter((t) => t.key.startsWith(LABEL_PREFIX));
  const uncordon = node.spec?.unschedulable === true && !keepCordon;
  if (removeAnnotations.length === 0 && ourTaints.length === 0 && !uncordon) {
    return { leftCordoned: node.spec?.unschedulable === true, detail: 'nothing to undo' };
  }
  return {
    patch: {
      metadata: {
        resourceVersion: meta.resourceVersion,
        annotations: Object.fromEntries(removeAnnotations.map((a) => [a, null])),
        ...(removeLbLabel ? { labels: { [LABEL_EXCLUDE_FROM_LB]: null } } : {}),
      },
      spec: {
        ...(uncordon ? { unschedulable: false } : {}),
        ...(ourTaints.length > 0
          ? { taints: taints.filter((t) => !t.key.startsWith(LABEL_PREFIX)).map(wireTaint) }
          : {}),
      },
    },
    leftCordoned: keepCordon,
    detail: keepCordon
      ? 'removed spotguard taint and annotations; kept the cordon that was there before spotguard'
      : 'uncordoned',
  };
}

export async function cordonNode(
  k8s: KubeClients,
  nodeName: string,
  opts: CordonOptions,
  meter = new RequestMeter(1),
): Promise<CordonResult & { nodeObject: V1Node }> {
  const before = meter.count;
  for (let attempt = 0; ; attempt++) {
    const known = attempt === 0 && opts.knownNode?.metadata?.name === nodeName ? opts.knownNode : undefined;
    const node = known ?? (await meter.call(() => readNode(k8s, nodeName), { unbounded: true }));
    const preCordonedBy = whoCordoned(node);
    const patch = cordonPatch(node, opts, new Date());
    const base = { node: nodeName, ...(preCordonedBy ? { alreadyCordonedBy: preCordonedBy } : {}) };
    if (!patch) {
      return {
        ...base,
        acknowledgedAt: new Date().toISOString(),
        requests: meter.count - before,
        changed: false,
        nodeObject: node,
      };
    }
    try {
      const patched = await meter.call(() => mergePatchNode(k8s, nodeName, patch), { unbounded: true });
      return {
        ...base,
        acknowledgedAt: new Date().toISOString(),
        requests: meter.count - before,
        changed: true,
        nodeObject: patched,
      };
    } catch (err) {
      if (!isConflict(err) || attempt >= MAX_CONFLICT_RETRIES) throw err;
    }
  }
}

export async function uncordonNode(
  k8s: KubeClients,
  nodeName: string,
  opts: { onlyIfCordonedBy: 'spotguard' | 'anyone'; reason?: string },
  meter = new RequestMeter(1),
): Promise<UncordonResult> {
  for (let attempt = 0; ; attempt++) {
    const node = await meter.call(() => readNode(k8s, nodeName));
    const { patch, leftCordoned, detail } = uncordonPatch(node, opts);
    if (!patch) return { node: nodeName, changed: false, leftCordoned, detail };
    try {
      await meter.call(() => mergePatchNode(k8s, nodeName, patch));
      return { node: nodeName, changed: true, leftCordoned, detail };
    } catch (err) {
      if (!isConflict(err) || attempt >= MAX_CONFLICT_RETRIES) throw err;
    }
  }
}

/** spotguard's cordon is on the node (possibly on top of someone else's). */
export function spotguardOwns(node: V1Node): boolean {
  return node.metadata?.annotations?.[ANNOTATION_CORDONED_BY] === SPOTGUARD_COMPONENT;
}

/** Who cordoned the node before spotguard, if anyone. */
function whoCordoned(node: V1Node): string | undefined {
  const annotations = node.metadata?.annotations ?? {};
  if (annotations[ANNOTATION_PRE_CORDONED] === 'true') return 'unknown (cordoned before spotguard)';
  if (node.spec?.unschedulable !== true || spotguardOwns(node)) return undefined;
  const known = (node.spec?.taints ?? []).find(
    (t) => t.key.startsWith('karpenter.sh/') || t.key.includes('aws-node-termination-handler'),
  );
  return known ? known.key.split('/')[0] : 'unknown (cordoned before spotguard)';
}

/** Taints as wire JSON (client-node models carry Date objects; a merge patch body is sent as-is). */
function wireTaint(t: V1Taint) {
  return {
    key: t.key,
    effect: t.effect,
    ...(t.value !== undefined ? { value: t.value } : {}),
    ...(t.timeAdded ? { timeAdded: new Date(t.timeAdded).toISOString().replace(/\.\d+Z$/, 'Z') } : {}),
  };
}
