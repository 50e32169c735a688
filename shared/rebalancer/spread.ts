// The pod's own placement rules beyond the zone constraint being balanced: required pod
// anti-affinity (hostname or zone) and DoNotSchedule hostname spread, counted with the
// replacements already planned in this run.
import type { V1LabelSelector, V1Node, V1Pod } from '@kubernetes/client-node';
import { selectorMatches } from '../drain/selectors.ts';
import type { Room } from './fit.ts';
import { ZONE_KEY } from './types.ts';

export interface AntiAffinity {
  /** Pods placed now (not terminating). */
  pods: V1Pod[];
  nodes: Map<string, V1Node>;
  /** Replacements planned so far: they count where they will land. */
  arrivals: Array<{ pod: V1Pod; node: string; zone: string }>;
}

const HOSTNAME_KEY = 'kubernetes.io/hostname';

function withLabelKeys(pod: V1Pod, selector: V1LabelSelector | undefined, keys: string[] | undefined) {
  const extra = Object.fromEntries(
    (keys ?? []).flatMap((k) =>
      pod.metadata?.labels?.[k] !== undefined ? [[k, pod.metadata.labels[k]!]] : [],
    ),
  );
  return { ...(selector ?? {}), matchLabels: { ...(selector?.matchLabels ?? {}), ...extra } };
}

/** (node, zone) of every pod that would match `selector` in `namespace` once the planned moves are done. */
function placements(anti: AntiAffinity, namespace: string, selector: V1LabelSelector, self: V1Pod) {
  const moved = new Set(anti.arrivals.map((a) => a.pod.metadata?.uid));
  moved.add(self.metadata?.uid);
  const out: Array<{ node: string; zone: string }> = [];
  for (const p of anti.pods) {
    if (
      moved.has(p.metadata?.uid) ||
      p.metadata?.namespace !== namespace ||
      !selectorMatches(selector, p.metadata?.labels)
    )
      continue;
    const node = p.spec?.nodeName ?? '';
    out.push({ node, zone: anti.nodes.get(node)?.metadata?.labels?.[ZONE_KEY] ?? '' });
  }
  for (const a of anti.arrivals) {
    if (a.pod.metadata?.namespace === namespace && selectorMatches(selector, a.pod.metadata?.labels))
      out.push({ node: a.node, zone: a.zone });
  }
  return out;
}

export function antiAffinityAllows(pod: V1Pod, room: Room, anti: AntiAffinity): boolean {
  const ns = pod.metadata?.namespace ?? '';
  for (const term of pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ??
    []) {
    if (term.topologyKey !== HOSTNAME_KEY && term.topologyKey !== ZONE_KEY) continue;
    const selector = withLabelKeys(pod, term.labelSelector, term.matchLabelKeys);
    const others = placements(anti, ns, selector, pod);
    if (others.some((o) => (term.topologyKey === HOSTNAME_KEY ? o.node === room.name : o.zone === room.zone)))
      return false;
  }
  for (const c of pod.spec?.topologySpreadConstraints ?? []) {
    if (c.topologyKey !== HOSTNAME_KEY || c.whenUnsatisfiable !== 'DoNotSchedule') continue;
    const selector = withLabelKeys(pod, c.labelSelector, c.matchLabelKeys);
    const perNode = new Map<string, number>();
    for (const [name, node] of anti.nodes)
      if (node.metadata?.labels?.[HOSTNAME_KEY] !== undefined || name) perNode.set(name, 0);
    for (const o of placements(anti, ns, selector, pod)) perNode.set(o.node, (perNode.get(o.node) ?? 0) + 1);
    const min = Math.min(...perNode.values());
    if ((perNode.get(room.name) ?? 0) + 1 - min > c.maxSkew) return false;
  }
  return true;
}
