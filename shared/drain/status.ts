// `spotguard status <node>`: what spotguard did to a node and what a drain would still do.
import { isNotFound } from '../k8s/api-error.ts';
import type { KubeClients } from '../k8s/client.ts';
import { readNode } from '../k8s/nodes.ts';
import { listPdbs } from '../k8s/pdb.ts';
import { listPodsOnNode } from '../k8s/pods.ts';
import { spotguardOwns } from './cordon.ts';
import { drainResultOf, leaseIsLive, readDrainLease } from './lease.ts';
import {
  ANNOTATION_COMING_BACK,
  ANNOTATION_CORDON_REASON,
  ANNOTATION_CORDONED_AT,
  ANNOTATION_CORDONED_BY,
  ANNOTATION_PRE_CORDONED,
  LABEL_PREFIX,
} from './options.ts';
import { planDrain } from './planner.ts';
import { RequestMeter } from './requests.ts';
import type { DrainStatus } from './types.ts';

export async function nodeDrainStatus(k8s: KubeClients, nodeName: string): Promise<DrainStatus> {
  const meter = new RequestMeter(4);
  let node: Awaited<ReturnType<typeof readNode>>;
  try {
    node = await meter.call(() => readNode(k8s, nodeName));
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return {
      node: nodeName,
      exists: false,
      unschedulable: false,
      preCordoned: false,
      comingBack: false,
      spotguardTaints: [],
      podsToEvict: 0,
      podsSkipped: 0,
    };
  }
  const [{ pods }, { pdbs }, lease] = await Promise.all([
    meter.call(() => listPodsOnNode(k8s, nodeName)),
    meter.call(() => listPdbs(k8s)).catch(() => ({ pdbs: [] })),
    readDrainLease(k8s, nodeName, meter).catch(() => undefined),
  ]);
  const plan = planDrain({ node, pods, pdbs, pvs: [], pvcs: [], now: new Date(), options: {} });
  const annotations = node.metadata?.annotations ?? {};
  const result = lease ? drainResultOf(lease) : undefined;
  return {
    node: nodeName,
    exists: true,
    unschedulable: node.spec?.unschedulable === true,
    ...(spotguardOwns(node) ? { cordonedBy: annotations[ANNOTATION_CORDONED_BY] } : {}),
    ...(annotations[ANNOTATION_CORDON_REASON] ? { cordonReason: annotations[ANNOTATION_CORDON_REASON] } : {}),
    ...(annotations[ANNOTATION_CORDONED_AT] ? { cordonedAt: annotations[ANNOTATION_CORDONED_AT] } : {}),
    preCordoned: annotations[ANNOTATION_PRE_CORDONED] === 'true',
    comingBack: annotations[ANNOTATION_COMING_BACK] === 'true',
    spotguardTaints: (node.spec?.taints ?? [])
      .filter((t) => t.key.startsWith(LABEL_PREFIX))
      .map((t) => `${t.key}:${t.effect}`),
    ...(lease
      ? {
          lease: {
            ...(lease.spec?.holderIdentity ? { holder: lease.spec.holderIdentity } : {}),
            ...(lease.spec?.renewTime ? { renewTime: new Date(lease.spec.renewTime).toISOString() } : {}),
            expired: !leaseIsLive(lease, new Date()),
            ...(result ? { outcome: result.complete ? 'complete' : 'incomplete' } : {}),
          },
        }
      : {}),
    podsToEvict: plan.evictions.length,
    podsSkipped: plan.skipped.length,
  };
}
