// What the traffic-aware drain needs to know about a doomed node: which ELBv2 target groups hold its
// pods' IPs (ip mode) or its instance (instance mode), with each target's state, and whether the
// group is this cluster's (tag elbv2.k8s.aws/cluster, set by the AWS Load Balancer Controller).
// Target groups come from TargetGroupBinding objects; when they cannot be read (no CRD, no RBAC,
// none found), from every target group tagged for this cluster.
import { CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { type Elbv2, listTargetGroups, type TargetState, tagsOf, targetHealth } from '../aws/elbv2.ts';
import type { KubeClients } from '../k8s/client.ts';

export const CLUSTER_TAG = 'elbv2.k8s.aws/cluster';

export interface ObservedTarget extends TargetState {
  /** "namespace/name" of the node's pod holding this IP (ip mode) */
  pod?: string;
}

export interface ObservedGroup {
  arn: string;
  targetType: string;
  /** "namespace/name" of the TargetGroupBinding naming it, when found that way */
  binding?: string;
  /** value of elbv2.k8s.aws/cluster (undefined: not the controller's) */
  cluster?: string;
  /** this node's targets in the group */
  targets: ObservedTarget[];
}

export interface TrafficObserved {
  source: 'bindings' | 'tags';
  groups: ObservedGroup[];
  notes: string[];
}

export interface ObserveInput {
  clusterName: string;
  instanceId?: string;
  pods: V1Pod[];
}

interface Binding {
  metadata?: { name?: string; namespace?: string };
  spec?: { targetGroupARN?: string; targetType?: string };
}

export async function observeTargets(
  k8s: KubeClients,
  elb: Elbv2,
  input: ObserveInput,
): Promise<TrafficObserved> {
  const notes: string[] = [];
  const bindings = await listBindings(k8s).catch((err: unknown) => {
    notes.push(`TargetGroupBindings not readable (${short(err)}): using target groups tagged ${CLUSTER_TAG}`);
    return [] as Binding[];
  });
  const byArn = new Map<string, Binding>();
  for (const b of bindings) if (b.spec?.targetGroupARN) byArn.set(b.spec.targetGroupARN, b);
  const source = byArn.size > 0 ? 'bindings' : 'tags';
  const groups = await listTargetGroups(elb, source === 'bindings' ? [...byArn.keys()] : undefined);
  const tags =
    groups.length > 0
      ? await tagsOf(
          elb,
          groups.map((g) => g.arn),
        )
      : new Map();
  const candidates = groups.filter(
    (g) => source === 'bindings' || tags.get(g.arn)?.[CLUSTER_TAG] === input.clusterName,
  );

  const podByIp = new Map<string, string>();
  for (const p of input.pods)
    if (p.status?.podIP && !p.spec?.hostNetwork)
      podByIp.set(p.status.podIP, `${p.metadata?.namespace}/${p.metadata?.name}`);

  const observed = await Promise.all(
    candidates.map(async (g): Promise<ObservedGroup> => {
      const binding = byArn.get(g.arn);
      const type = binding?.spec?.targetType ?? g.targetType;
      const all = await targetHealth(elb, g.arn);
      const mine = all
        .filter((t) => (type === 'ip' ? podByIp.has(t.id) : t.id === input.instanceId))
        .map((t) => (type === 'ip' ? { ...t, pod: podByIp.get(t.id)! } : t));
      return {
        arn: g.arn,
        targetType: type,
        ...(binding ? { binding: `${binding.metadata?.namespace}/${binding.metadata?.name}` } : {}),
        ...(tags.get(g.arn)?.[CLUSTER_TAG] !== undefined ? { cluster: tags.get(g.arn)[CLUSTER_TAG] } : {}),
        targets: mine,
      };
    }),
  );
  return { source, groups: observed.filter((g) => g.targets.length > 0), notes };
}

async function listBindings(k8s: KubeClients): Promise<Binding[]> {
  const custom: CustomObjectsApi = k8s.config.makeApiClient(CustomObjectsApi);
  const list = (await custom.listClusterCustomObject({
    group: 'elbv2.k8s.aws',
    version: 'v1beta1',
    plural: 'targetgroupbindings',
  })) as { items?: Binding[] };
  return list.items ?? [];
}

export function short(err: unknown): string {
  const e = err as { name?: string; code?: number | string; message?: string };
  return [e.name, e.code].filter(Boolean).join(' ') || String(e.message ?? err).slice(0, 120);
}
