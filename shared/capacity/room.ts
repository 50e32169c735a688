// Is there room for the pods pinned to a zone once their node is gone? By resource requests against
// allocatable (and the pod slots), not by counting pods. Pure: table-tested.
import type { V1Node, V1Pod } from '@kubernetes/client-node';

export interface Resources {
  cpuMilli: number;
  memoryBytes: number;
}

const SUFFIX: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  m: 1e-3,
};

/** A Kubernetes quantity ("250m", "1.5", "512Mi", "1G") as a plain number (cores, bytes). */
export function parseQuantity(q: string | undefined): number {
  if (!q) return 0;
  const m = /^([0-9.]+)([A-Za-z]*)$/.exec(q.trim());
  if (!m) return 0;
  const n = Number(m[1]);
  const unit = m[2] ?? '';
  return unit === '' ? n : n * (SUFFIX[unit] ?? 1);
}

export function requestsOf(pod: V1Pod): Resources {
  let cpu = 0;
  let mem = 0;
  for (const c of pod.spec?.containers ?? []) {
    cpu += parseQuantity(c.resources?.requests?.cpu) * 1000;
    mem += parseQuantity(c.resources?.requests?.memory);
  }
  return { cpuMilli: Math.round(cpu), memoryBytes: mem };
}

function takesPods(node: V1Node): boolean {
  if (node.spec?.unschedulable) return false;
  if ((node.spec?.taints ?? []).some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute'))
    return false;
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

const running = (p: V1Pod) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';

/**
 * How many of `pods` (in order) fit on `nodes` given what already runs there (first fit, largest
 * first). A node that is cordoned, tainted NoSchedule/NoExecute or not Ready takes none.
 */
export function podsThatFit(pods: V1Pod[], nodes: { node: V1Node; pods: V1Pod[] }[]): number {
  const free = nodes
    .filter((n) => takesPods(n.node))
    .map(({ node, pods: on }) => {
      const alloc = node.status?.allocatable ?? {};
      const used = on.filter(running).map(requestsOf);
      return {
        cpu: parseQuantity(alloc.cpu ?? '0') * 1000 - used.reduce((s, r) => s + r.cpuMilli, 0),
        mem: parseQuantity(alloc.memory ?? '0') - used.reduce((s, r) => s + r.memoryBytes, 0),
        slots: Number(alloc.pods ?? 110) - on.filter(running).length,
      };
    });
  const wanted = pods
    .map(requestsOf)
    .sort((a, b) => b.cpuMilli - a.cpuMilli || b.memoryBytes - a.memoryBytes);
  let fit = 0;
  for (const r of wanted) {
    const n = free.find((f) => f.cpu >= r.cpuMilli && f.mem >= r.memoryBytes && f.slots >= 1);
    if (!n) continue;
    n.cpu -= r.cpuMilli;
    n.mem -= r.memoryBytes;
    n.slots -= 1;
    fit++;
  }
  return fit;
}
