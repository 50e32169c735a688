// A kubelet player for a real control plane that has no kubelets: registers EKS-like nodes and, for
// the pods bound to them, does what a kubelet would do that the tests can observe:
// - a bound Pending pod becomes Running and Ready after `startMs`;
// - a terminating pod (deletionTimestamp set) is removed after min(its grace period, `termMs`)
//   with a grace-0 delete (uid precondition, so a recreated pod of the same name is left alone).
// It watches pods through a client-node informer (list + watch, restarted after errors).
import {
  CoreV1Api,
  type KubeConfig,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import { buildNodeObject } from '../sim/k8s/node-factory.ts';

export interface KubeletPlayerOptions {
  /** Number of nodes to register (default 6). */
  nodes?: number;
  /** Zone suffixes, round-robin over nodes (default a, b, c). */
  zones?: string[];
  region?: string;
  /** Index of the first node, so two players in one cluster get distinct names (default 0). */
  firstIndex?: number;
  /** Delay from binding to Running/Ready (default 300 ms). */
  startMs?: number;
  /** Upper bound of the termination delay (default 1000 ms). */
  termMs?: number;
  /**
   * Register these nodes instead of eksNode(firstIndex…): for nodes with a given name, instance id
   * and zone (e.g. the instances of the simulator's AWS side). `nodes`, `zones`, `firstIndex` are
   * then unused.
   */
  nodeObjects?: V1Node[];
}

export interface KubeletPlayer {
  /** Names of the registered nodes, in index order. */
  readonly nodeNames: string[];
  /** Stops watching and cancels pending transitions; with deleteNodes, removes the nodes too. */
  stop(opts?: { deleteNodes?: boolean }): Promise<void>;
}

export interface EksNodeOptions {
  zones?: string[];
  region?: string;
}

/**
 * The EKS-like node with index `i`, built by the simulator's own node factory so both sides of the
 * differential suite see the same labels: its zone (round-robin), instance id, name and IP all follow
 * from `i`. Every tenth node is ON_DEMAND, the others SPOT.
 */
export function eksNode(i: number, opts: EksNodeOptions = {}): V1Node {
  const region = opts.region ?? 'us-east-1';
  const zones = opts.zones ?? ['a', 'b', 'c'];
  const zone = `${region}${zones[i % zones.length]}`;
  const capacityType = i % 10 === 9 ? 'ON_DEMAND' : 'SPOT';
  return buildNodeObject({
    name: `ip-10-0-${Math.floor(i / 250)}-${(i % 250) + 4}.ec2.internal`,
    instanceId: `i-${(0x0a000000 + i).toString(16).padStart(17, '0')}`,
    zone,
    region,
    instanceType: 'm7g.2xlarge',
    capacityType,
    nodegroup: `${capacityType === 'SPOT' ? 'spot' : 'on-demand'}-${zone}`,
    cpu: '8',
    memory: '32Gi',
  }) as V1Node;
}

/** Creates the node, or when it exists already, resets its spec and status to the fresh state. */
async function registerNode(core: CoreV1Api, node: V1Node): Promise<void> {
  const name = node.metadata!.name!;
  try {
    await core.createNode({ body: node });
    return;
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
  await core.replaceNode({ name, body: { ...node, metadata: { ...node.metadata } } });
  // status is a subresource: the create above set it, a replace of the main resource does not
  await core.replaceNodeStatus({
    name,
    body: { ...node, metadata: { ...(await core.readNode({ name })).metadata } },
  });
}

function runningStatus(pod: V1Pod, hostIP: string) {
  const now = new Date().toISOString();
  const condition = (type: string) => ({ type, status: 'True', lastTransitionTime: now });
  return {
    status: {
      phase: 'Running',
      startTime: now,
      hostIP,
      podIP: `10.1.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250) + 2}`,
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(condition),
      containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
        name: c.name,
        image: c.image,
        imageID: c.image,
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
      })),
    },
  };
}

/** Registers the nodes and starts playing their kubelets. */
export async function startKubelets(kc: KubeConfig, opts: KubeletPlayerOptions = {}): Promise<KubeletPlayer> {
  const core = kc.makeApiClient(CoreV1Api);
  const count = opts.nodes ?? 6;
  const first = opts.firstIndex ?? 0;
  const startMs = opts.startMs ?? 300;
  const termMs = opts.termMs ?? 1000;
  const nodes = opts.nodeObjects ?? Array.from({ length: count }, (_, k) => eksNode(first + k, opts));
  for (const node of nodes) await registerNode(core, node);
  const hostIPs = new Map(nodes.map((n) => [n.metadata!.name!, n.status!.addresses![0]!.address]));

  const timers = new Set<NodeJS.Timeout>();
  const started = new Set<string>(); // pod uids already scheduled to start
  const terminating = new Set<string>(); // pod uids already scheduled for removal
  let stopped = false;

  const later = (ms: number, action: () => Promise<unknown>) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      // the pod may be gone or changed meanwhile: that is normal, not an error
      if (!stopped) action().catch(() => {});
    }, ms);
    timers.add(timer);
  };

  const onPod = (pod: V1Pod) => {
    const { name, namespace, uid, deletionTimestamp, deletionGracePeriodSeconds } = pod.metadata ?? {};
    const hostIP = hostIPs.get(pod.spec?.nodeName ?? '');
    if (!name || !namespace || !uid || hostIP === undefined) return;
    if (deletionTimestamp) {
      if (terminating.has(uid)) return;
      terminating.add(uid);
      const graceMs = (deletionGracePeriodSeconds ?? 30) * 1000;
      later(Math.min(graceMs, termMs), () =>
        core.deleteNamespacedPod({
          name,
          namespace,
          gracePeriodSeconds: 0,
          body: { gracePeriodSeconds: 0, preconditions: { uid } },
        }),
      );
      return;
    }
    if (pod.status?.phase !== 'Pending' || started.has(uid)) return;
    started.add(uid);
    later(startMs, () =>
      core.patchNamespacedPodStatus(
        { name, namespace, body: runningStatus(pod, hostIP) },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
  };
  const forget = (pod: V1Pod) => {
    const uid = pod.metadata?.uid ?? '';
    started.delete(uid);
    terminating.delete(uid);
  };

  const informer = makeInformer<V1Pod>(kc, '/api/v1/pods', () => core.listPodForAllNamespaces());
  informer.on('add', onPod);
  informer.on('update', onPod);
  informer.on('delete', forget);
  // the informer stops on a watch error: restart it, as a kubelet would reconnect
  informer.on('error', () => {
    if (!stopped) later(500, () => informer.start());
  });
  await informer.start();

  return {
    nodeNames: nodes.map((n) => n.metadata!.name!),
    async stop({ deleteNodes = false } = {}) {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await informer.stop();
      if (deleteNodes) {
        for (const node of nodes) await core.deleteNode({ name: node.metadata!.name! }).catch(() => {});
      }
    },
  };
}
