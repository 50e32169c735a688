import { afterEach, describe, expect, it } from 'vitest';
import { feasibleNodesToFind } from '../../sim/k8s/controllers/scheduler-plugins.ts';
import { buildNodeObject } from '../../sim/k8s/node-factory.ts';
import type { KObject } from '../../sim/k8s/store.ts';
import {
  type Cluster,
  deployment,
  nodeSpec,
  podsOf,
  runningPods,
  startCluster,
  waitFor,
  ZONES,
  zoneOf,
} from './controllers-support.ts';

let cluster: Cluster;
afterEach(() => cluster?.stop());

const scheduledCondition = (
  pod: KObject,
): { status: string; reason?: string; message?: string } | undefined =>
  pod.status?.conditions?.find((c: { type: string }) => c.type === 'PodScheduled');

describe('scheduler', () => {
  it('keeps new pods off a cordoned node', async () => {
    cluster = startCluster(1);
    const { store, nodes } = cluster;
    const cordoned = nodes[0]!;
    store.mutate('nodes', undefined, cordoned, (n) => {
      n.spec.unschedulable = true;
    });
    store.create('deployments', deployment('web', 9));
    const pods = await waitFor('9 running', () => {
      const running = runningPods(store, 'web-');
      return running.length === 9 && running;
    });
    expect(pods.filter((p) => p.spec.nodeName === cordoned)).toHaveLength(0);
  });

  it('honours NoSchedule taints unless the pod tolerates them', async () => {
    cluster = startCluster(1);
    const { store, nodes } = cluster;
    const taint = { key: 'spotguard.io/draining', value: 'true', effect: 'NoSchedule' };
    for (const name of nodes.slice(0, 2)) {
      store.mutate('nodes', undefined, name, (n) => {
        n.spec.taints = [taint];
      });
    }
    store.create('deployments', deployment('plain', 4));
    store.create(
      'deployments',
      deployment('tolerant', 4, {
        tolerations: [{ key: 'spotguard.io/draining', operator: 'Exists', effect: 'NoSchedule' }],
        nodeSelector: { 'kubernetes.io/hostname': nodes[0] },
      }),
    );
    const plain = await waitFor('4 plain running', () => {
      const running = runningPods(store, 'plain-');
      return running.length === 4 && running;
    });
    expect(new Set(plain.map((p) => p.spec.nodeName))).toEqual(new Set([nodes[2]]));
    const tolerant = await waitFor('4 tolerant running', () => {
      const running = runningPods(store, 'tolerant-');
      return running.length === 4 && running;
    });
    expect(new Set(tolerant.map((p) => p.spec.nodeName))).toEqual(new Set([nodes[0]]));
  });

  it('spreads pods evenly over 3 zones with a DoNotSchedule topology spread constraint', async () => {
    cluster = startCluster(2);
    const { store } = cluster;
    store.create(
      'deployments',
      deployment('spread', 9, {
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: 'topology.kubernetes.io/zone',
            whenUnsatisfiable: 'DoNotSchedule',
            labelSelector: { matchLabels: { app: 'spread' } },
          },
        ],
      }),
    );
    const pods = await waitFor('9 running', () => {
      const running = runningPods(store, 'spread-');
      return running.length === 9 && running;
    });
    const perZone = ZONES.map((zone) => pods.filter((p) => zoneOf(store, p.spec.nodeName) === zone).length);
    expect(perZone).toEqual([3, 3, 3]);
  });

  it('refuses to break maxSkew when only one zone has room, and says why', async () => {
    cluster = startCluster(1);
    const { store, nodes } = cluster;
    // only zone a can take pods: the spread constraint still allows just 1 there while b and c have 0
    for (const name of nodes.slice(1)) {
      store.mutate('nodes', undefined, name, (n) => {
        n.spec.unschedulable = true;
      });
    }
    store.create(
      'deployments',
      deployment('skewed', 3, {
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: 'topology.kubernetes.io/zone',
            whenUnsatisfiable: 'DoNotSchedule',
            labelSelector: { matchLabels: { app: 'skewed' } },
          },
        ],
      }),
    );
    const pending = await waitFor('two pods reported unschedulable', () => {
      const p = podsOf(store, 'skewed-').filter((pod) => scheduledCondition(pod)?.reason === 'Unschedulable');
      return p.length === 2 && runningPods(store, 'skewed-').length === 1 && p;
    });
    expect(scheduledCondition(pending[0]!)?.message).toBe(
      "0/3 nodes are available: 1 node(s) didn't match pod topology spread constraints, 2 node(s) were unschedulable. " +
        'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
    );
    const events = store.list('events', {
      namespace: 'default',
      filter: (e) => e.reason === 'FailedScheduling',
    });
    expect(events.length).toBeGreaterThan(0);
    expect(events[0]!.type).toBe('Warning');
    // uncordon: the pending pods get placed, one per remaining zone
    for (const name of nodes.slice(1)) {
      store.mutate('nodes', undefined, name, (n) => {
        n.spec.unschedulable = false;
      });
    }
    const all = await waitFor('3 running', () => {
      const running = runningPods(store, 'skewed-');
      return running.length === 3 && running;
    });
    expect(new Set(all.map((p) => zoneOf(store, p.spec.nodeName)))).toEqual(new Set(ZONES));
  });

  it('counts cpu requests against allocatable and reports Insufficient cpu', async () => {
    cluster = startCluster(1);
    const { store } = cluster;
    // m5.xlarge default: 4 cpu → 3920m allocatable; 1500m pods fit twice per node
    const big = deployment('big', 7, {
      containers: [{ name: 'app', image: 'busybox:1.36', resources: { requests: { cpu: '1500m' } } }],
    });
    store.create('deployments', big);
    const pending = await waitFor('one pod unschedulable', () => {
      const p = podsOf(store, 'big-').filter((pod) => scheduledCondition(pod)?.reason === 'Unschedulable');
      return p.length === 1 && runningPods(store, 'big-').length === 6 && p[0];
    });
    expect(scheduledCondition(pending)?.message).toMatch(
      /^0\/3 nodes are available: 3 Insufficient cpu\. preemption:/,
    );
    // a new node makes room
    const node = buildNodeObject(nodeSpec('us-east-1b'));
    store.create('nodes', node);
    const placed = await waitFor('pending pod scheduled on the new node', () => {
      const pod = store.get('pods', 'default', pending.metadata.name);
      return pod?.spec.nodeName && pod;
    });
    expect(placed.spec.nodeName).toBe(node.metadata.name);
  });

  it('matches required node affinity (In / NotIn / Exists) and nodeSelector', async () => {
    cluster = startCluster(1);
    const { store, nodes } = cluster;
    store.create(
      'deployments',
      deployment('aff', 4, {
        nodeSelector: { 'eks.amazonaws.com/capacityType': 'SPOT' },
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                {
                  matchExpressions: [
                    { key: 'topology.kubernetes.io/zone', operator: 'NotIn', values: ['us-east-1a'] },
                    {
                      key: 'topology.kubernetes.io/zone',
                      operator: 'In',
                      values: ['us-east-1b', 'us-east-1a'],
                    },
                    { key: 'eks.amazonaws.com/nodegroup', operator: 'Exists' },
                  ],
                },
              ],
            },
          },
        },
      }),
    );
    const pods = await waitFor('4 running', () => {
      const running = runningPods(store, 'aff-');
      return running.length === 4 && running;
    });
    expect(new Set(pods.map((p) => p.spec.nodeName))).toEqual(new Set([nodes[1]]));
  });

  it('leaves pods Pending with a clear message when no node matches the selector', async () => {
    cluster = startCluster(1);
    const { store } = cluster;
    store.create(
      'deployments',
      deployment('nowhere', 1, { nodeSelector: { 'eks.amazonaws.com/capacityType': 'ON_DEMAND' } }),
    );
    const pod = await waitFor('unschedulable', () =>
      podsOf(store, 'nowhere-').find((p) => scheduledCondition(p)?.reason === 'Unschedulable'),
    );
    expect(scheduledCondition(pod)?.message).toContain("3 node(s) didn't match Pod's node affinity/selector");
    expect(pod.status.phase).toBe('Pending');
    expect(pod.spec.nodeName).toBeUndefined();
  });

  it('honours required pod anti-affinity per hostname and says why the extra replica waits', async () => {
    cluster = startCluster(1);
    const { store } = cluster;
    store.create(
      'deployments',
      deployment('solo', 4, {
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { labelSelector: { matchLabels: { app: 'solo' } }, topologyKey: 'kubernetes.io/hostname' },
            ],
          },
        },
      }),
    );
    const pending = await waitFor('3 running, 1 unschedulable', () => {
      const p = podsOf(store, 'solo-').filter((pod) => scheduledCondition(pod)?.reason === 'Unschedulable');
      return p.length === 1 && runningPods(store, 'solo-').length === 3 && p[0];
    });
    expect(new Set(runningPods(store, 'solo-').map((p) => p.spec.nodeName)).size).toBe(3);
    expect(scheduledCondition(pending)?.message).toMatch(
      /^0\/3 nodes are available: 3 node\(s\) didn't match pod anti-affinity rules\./,
    );
  });

  it('co-locates pods with required pod affinity on the zone of their target', async () => {
    cluster = startCluster(2);
    const { store } = cluster;
    store.create(
      'deployments',
      deployment('db', 1, { nodeSelector: { 'topology.kubernetes.io/zone': 'us-east-1b' } }),
    );
    await waitFor('db running', () => runningPods(store, 'db-').length === 1);
    store.create(
      'deployments',
      deployment('cache', 4, {
        affinity: {
          podAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'topology.kubernetes.io/zone' },
            ],
          },
        },
      }),
    );
    const cache = await waitFor('4 cache pods running', () => {
      const running = runningPods(store, 'cache-');
      return running.length === 4 && running;
    });
    expect(new Set(cache.map((p) => zoneOf(store, p.spec.nodeName)))).toEqual(new Set(['us-east-1b']));
  });

  it('keeps a new pod away from a node whose running pod repels it (symmetric anti-affinity)', async () => {
    cluster = startCluster(1);
    const { store, nodes } = cluster;
    store.create(
      'deployments',
      deployment('quiet', 1, {
        nodeSelector: { 'kubernetes.io/hostname': nodes[0] },
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { labelSelector: { matchLabels: { noisy: 'true' } }, topologyKey: 'kubernetes.io/hostname' },
            ],
          },
        },
      }),
    );
    await waitFor('quiet running', () => runningPods(store, 'quiet-').length === 1);
    const noisy = deployment('noisy', 6);
    noisy.spec.template.metadata.labels.noisy = 'true';
    store.create('deployments', noisy);
    const pods = await waitFor('6 noisy running', () => {
      const running = runningPods(store, 'noisy-');
      return running.length === 6 && running;
    });
    expect(pods.filter((p) => p.spec.nodeName === nodes[0])).toHaveLength(0);
  });

  it('prefers nodes matching preferred node affinity', async () => {
    cluster = startCluster(2);
    const { store } = cluster;
    store.create(
      'deployments',
      deployment('pref', 4, {
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 100,
                preference: {
                  matchExpressions: [
                    { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['us-east-1c'] },
                  ],
                },
              },
            ],
          },
        },
      }),
    );
    const pods = await waitFor('4 running', () => {
      const running = runningPods(store, 'pref-');
      return running.length === 4 && running;
    });
    expect(new Set(pods.map((p) => zoneOf(store, p.spec.nodeName)))).toEqual(new Set(['us-east-1c']));
  });
});

describe('scheduler scoring', () => {
  it('spreads a Deployment over zones by default even when one zone has a much bigger node', async () => {
    cluster = startCluster(0);
    const { store } = cluster;
    store.create(
      'nodes',
      buildNodeObject(nodeSpec('us-east-1a', { instanceType: 'm5.4xlarge', cpu: '16', memory: '64Gi' })),
    );
    store.create('nodes', buildNodeObject(nodeSpec('us-east-1b')));
    store.create('nodes', buildNodeObject(nodeSpec('us-east-1c')));
    store.create('deployments', deployment('even', 6));
    const pods = await waitFor('6 running', () => {
      const running = runningPods(store, 'even-');
      return running.length === 6 && running;
    });
    const perZone = ZONES.map((zone) => pods.filter((p) => zoneOf(store, p.spec.nodeName) === zone).length);
    expect(perZone).toEqual([2, 2, 2]);
  });

  it('avoids PreferNoSchedule-tainted nodes while an untainted one fits', async () => {
    cluster = startCluster(1);
    const { store, nodes } = cluster;
    for (const name of nodes.slice(0, 2)) {
      store.mutate('nodes', undefined, name, (n) => {
        n.spec.taints = [{ key: 'spotguard.io/draining', value: 'true', effect: 'PreferNoSchedule' }];
      });
    }
    store.create('deployments', deployment('shy', 2));
    const pods = await waitFor('2 running', () => {
      const running = runningPods(store, 'shy-');
      return running.length === 2 && running;
    });
    expect(pods.map((p) => p.spec.nodeName)).toEqual([nodes[2], nodes[2]]);
  });
});

describe('feasibleNodesToFind', () => {
  it('follows kube-scheduler: all nodes below 100, then an adaptive share, never fewer than 100', () => {
    expect(feasibleNodesToFind(6)).toBe(6);
    expect(feasibleNodesToFind(99)).toBe(99);
    expect(feasibleNodesToFind(150)).toBe(100);
    expect(feasibleNodesToFind(500)).toBe(230);
    expect(feasibleNodesToFind(5000)).toBe(500);
  });
});
