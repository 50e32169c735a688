import { afterEach, describe, expect, it } from 'vitest';
import { buildNodeObject } from '../../sim/k8s/node-factory.ts';
import type { KObject } from '../../sim/k8s/store.ts';
import {
  type Cluster,
  deletePod,
  deployment,
  nodeSpec,
  podsOf,
  runningPods,
  startCluster,
  waitFor,
} from './controllers-support.ts';

let cluster: Cluster;
afterEach(() => cluster?.stop());

function daemonSet(name: string, podSpec: object = {}): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: 'kube-system' },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: name, image: `602401143452.dkr.ecr.us-east-1.amazonaws.com/${name}:v1` }],
          ...podSpec,
        },
      },
    },
  };
}

describe('DaemonSets, node loss and the kubelet', () => {
  it('runs one DaemonSet pod per node, cordoned ones included, skipping untolerated taints', async () => {
    cluster = startCluster(2);
    const { store, nodes } = cluster;
    store.mutate('nodes', undefined, nodes[0]!, (n) => {
      n.spec.unschedulable = true;
    });
    store.mutate('nodes', undefined, nodes[1]!, (n) => {
      n.spec.taints = [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }];
    });
    store.create('daemonsets', daemonSet('aws-node'));
    const pods = await waitFor('5 daemon pods running', () => {
      const running = runningPods(store, 'aws-node-', 'kube-system');
      return running.length === 5 && running;
    });
    expect(new Set(pods.map((p) => p.spec.nodeName))).toEqual(new Set(nodes.filter((n) => n !== nodes[1])));
    expect(pods[0]!.spec.tolerations).toContainEqual({
      key: 'node.kubernetes.io/unschedulable',
      operator: 'Exists',
      effect: 'NoSchedule',
    });
    expect(pods[0]!.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'DaemonSet', name: 'aws-node' });
    const status = await waitFor('daemonset status', () => {
      const s = store.get('daemonsets', 'kube-system', 'aws-node')?.status;
      return s?.numberReady === 5 && s;
    });
    expect(status).toMatchObject({ desiredNumberScheduled: 5, currentNumberScheduled: 5 });
    // a new node gets its daemon pod
    const fresh = store.create('nodes', buildNodeObject(nodeSpec('us-east-1c'))).metadata.name;
    await waitFor('daemon pod on the new node', () =>
      runningPods(store, 'aws-node-', 'kube-system').some((p) => p.spec.nodeName === fresh),
    );
  });

  it('rolls a DaemonSet template change out node by node', async () => {
    cluster = startCluster(1);
    const { store } = cluster;
    store.create('daemonsets', daemonSet('fluent-bit'));
    await waitFor(
      '3 daemon pods running',
      () => runningPods(store, 'fluent-bit-', 'kube-system').length === 3,
    );
    store.mutate('daemonsets', 'kube-system', 'fluent-bit', (ds) => {
      ds.spec.template.spec.containers[0].image = 'fluent-bit:v2';
      ds.metadata.generation = 2;
    });
    const pods = await waitFor('3 updated daemon pods running', () => {
      const running = runningPods(store, 'fluent-bit-', 'kube-system');
      const all = podsOf(store, 'fluent-bit-', 'kube-system');
      return (
        all.length === 3 &&
        running.length === 3 &&
        running.every((p) => p.spec.containers[0].image === 'fluent-bit:v2') &&
        running
      );
    });
    expect(new Set(pods.map((p) => p.spec.nodeName)).size).toBe(3);
    const status = await waitFor('status updated', () => {
      const s = store.get('daemonsets', 'kube-system', 'fluent-bit')?.status;
      return s?.updatedNumberScheduled === 3 && s.numberReady === 3 && s;
    });
    expect(status).toMatchObject({ desiredNumberScheduled: 3, numberReady: 3, observedGeneration: 2 });
  });

  it('deletes the pods of a deleted node and replaces them elsewhere', async () => {
    cluster = startCluster(1);
    const { store, nodes } = cluster;
    store.create('daemonsets', daemonSet('kube-proxy'));
    store.create('deployments', deployment('web', 6));
    await waitFor('6 web pods running', () => runningPods(store, 'web-').length === 6);
    await waitFor(
      '3 daemon pods running',
      () => runningPods(store, 'kube-proxy-', 'kube-system').length === 3,
    );
    const lost = nodes[0]!;
    const onLost = runningPods(store, 'web-').filter((p) => p.spec.nodeName === lost);
    expect(onLost.length).toBeGreaterThan(0);
    store.delete('nodes', undefined, lost);
    await waitFor('pods of the lost node deleted', () => store.list('pods', { nodeName: lost }).length === 0);
    const after = await waitFor('6 web pods running on the remaining nodes', () => {
      const running = runningPods(store, 'web-');
      return running.length === 6 && running;
    });
    expect(after.every((p) => p.spec.nodeName !== lost)).toBe(true);
    await waitFor(
      '2 daemon pods, none left pending for the lost node',
      () => podsOf(store, 'kube-proxy-', 'kube-system').length === 2,
    );
    const status = await waitFor('daemonset status', () => {
      const s = store.get('daemonsets', 'kube-system', 'kube-proxy')?.status;
      return s?.desiredNumberScheduled === 2 && s;
    });
    expect(status.numberReady).toBe(2);
  });

  it('keeps pods not Ready and terminating pods in place while their node is NotReady', async () => {
    cluster = startCluster(1);
    const { store, nodes } = cluster;
    store.create(
      'deployments',
      deployment('app', 3, { nodeSelector: { 'kubernetes.io/hostname': nodes[0] } }),
    );
    const pods = await waitFor('3 running', () => {
      const running = runningPods(store, 'app-');
      return running.length === 3 && running;
    });
    const setReady = (status: string) =>
      store.mutate('nodes', undefined, nodes[0]!, (n) => {
        n.status.conditions.find((c: { type: string }) => c.type === 'Ready').status = status;
      });
    setReady('Unknown');
    await waitFor('pods marked not Ready', () => runningPods(store, 'app-').length === 0);
    deletePod(store, pods[0]!, 0);
    // the kubelet cannot be reached: the pod stays Terminating
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(store.get('pods', 'default', pods[0]!.metadata.name)?.metadata.deletionTimestamp).toBeTruthy();
    setReady('True');
    await waitFor(
      'terminating pod removed once the node is back',
      () => !store.get('pods', 'default', pods[0]!.metadata.name),
    );
    await waitFor('3 Ready pods again', () => runningPods(store, 'app-').length === 3);
  });

  it('evicts pods that do not tolerate a NoExecute taint and keeps those that do', async () => {
    cluster = startCluster(1);
    const { store, nodes } = cluster;
    const pin = { nodeSelector: { 'kubernetes.io/hostname': nodes[0] } };
    store.create('deployments', deployment('plain', 2));
    store.create(
      'deployments',
      deployment('tolerant', 1, {
        ...pin,
        tolerations: [{ key: 'spotguard.io/draining', operator: 'Exists', effect: 'NoExecute' }],
      }),
    );
    await waitFor(
      'pods running',
      () => runningPods(store, 'plain-').length === 2 && runningPods(store, 'tolerant-').length === 1,
    );
    store.mutate('deployments', 'default', 'plain', (d) => {
      d.spec.replicas = 6;
    });
    const onTarget = await waitFor('some plain pods on the target node', () => {
      const running = runningPods(store, 'plain-');
      return running.length === 6 && running.filter((p) => p.spec.nodeName === nodes[0]);
    });
    expect(onTarget.length).toBeGreaterThan(0);
    store.mutate('nodes', undefined, nodes[0]!, (n) => {
      n.spec.taints = [
        {
          key: 'spotguard.io/draining',
          value: 'true',
          effect: 'NoExecute',
          timeAdded: new Date().toISOString(),
        },
      ];
    });
    const moved = await waitFor('plain pods off the tainted node', () => {
      const running = runningPods(store, 'plain-');
      return running.length === 6 && running.every((p) => p.spec.nodeName !== nodes[0]) && running;
    });
    expect(moved).toHaveLength(6);
    expect(runningPods(store, 'tolerant-')[0]?.spec.nodeName).toBe(nodes[0]);
    const evictions = store.list('events', {
      namespace: 'default',
      filter: (e) => e.reason === 'TaintManagerEviction',
    });
    expect(evictions.map((e) => e.involvedObject.name).sort()).toEqual(
      onTarget.map((p) => p.metadata.name).sort(),
    );
    expect(evictions[0]!.message).toBe(
      `Marking for deletion Pod default/${evictions[0]!.involvedObject.name}`,
    );
  });

  it('taints a NotReady node and evicts pods once their tolerationSeconds run out', async () => {
    cluster = startCluster(1);
    const { store, nodes } = cluster;
    const pin = { nodeSelector: { 'kubernetes.io/hostname': nodes[0] } };
    store.create('deployments', deployment('patient', 1, pin));
    store.create(
      'deployments',
      deployment('impatient', 1, {
        ...pin,
        tolerations: [
          {
            key: 'node.kubernetes.io/not-ready',
            operator: 'Exists',
            effect: 'NoExecute',
            tolerationSeconds: 1,
          },
        ],
      }),
    );
    const [impatient] = await waitFor('both running', () => {
      const running = runningPods(store, 'impatient-');
      return running.length === 1 && runningPods(store, 'patient-').length === 1 && running;
    });
    store.mutate('nodes', undefined, nodes[0]!, (n) => {
      const ready = n.status.conditions.find((c: { type: string }) => c.type === 'Ready');
      Object.assign(ready, {
        status: 'False',
        reason: 'KubeletNotReady',
        message: 'container runtime is down',
      });
    });
    const taints = await waitFor('not-ready taints', () => {
      const t = store.get('nodes', undefined, nodes[0]!)?.spec.taints;
      return t?.length === 2 && t;
    });
    expect(taints.map((t: { key: string; effect: string }) => `${t.key}:${t.effect}`)).toEqual([
      'node.kubernetes.io/not-ready:NoSchedule',
      'node.kubernetes.io/not-ready:NoExecute',
    ]);
    const marked = await waitFor('impatient pod marked for deletion', () => {
      const pod = store.get('pods', 'default', impatient!.metadata.name);
      return pod?.metadata.deletionTimestamp ? pod : undefined;
    });
    expect(marked.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager' }),
    );
    // the default 300 s toleration keeps the other one (not Ready, still bound)
    const patient = podsOf(store, 'patient-');
    expect(patient).toHaveLength(1);
    expect(patient[0]!.metadata.deletionTimestamp).toBeUndefined();
    store.mutate('nodes', undefined, nodes[0]!, (n) => {
      const ready = n.status.conditions.find((c: { type: string }) => c.type === 'Ready');
      Object.assign(ready, {
        status: 'True',
        reason: 'KubeletReady',
        message: 'kubelet is posting ready status',
      });
    });
    await waitFor(
      'taints removed',
      () => store.get('nodes', undefined, nodes[0]!)?.spec.taints === undefined,
    );
  });

  it('leaves mirror pods and finished pods alone', async () => {
    cluster = startCluster(1);
    const { store, nodes } = cluster;
    const mirror = store.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `static-web-${nodes[0]}`,
        namespace: 'kube-system',
        annotations: { 'kubernetes.io/config.mirror': 'abc123', 'kubernetes.io/config.source': 'file' },
      },
      spec: { nodeName: nodes[0], containers: [{ name: 'web', image: 'nginx:1.27' }] },
      status: { phase: 'Pending' },
    });
    const done = store.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'job-done', namespace: 'default' },
      spec: {
        nodeName: nodes[1],
        restartPolicy: 'Never',
        containers: [{ name: 'job', image: 'busybox:1.36' }],
      },
      status: { phase: 'Succeeded' },
    });
    await waitFor(
      'mirror pod running',
      () => store.get('pods', 'kube-system', mirror.metadata.name)?.status.phase === 'Running',
    );
    expect(store.get('pods', 'default', 'job-done')?.status.phase).toBe('Succeeded');
    expect(store.get('pods', 'default', 'job-done')?.metadata.resourceVersion).toBe(
      done.metadata.resourceVersion,
    );
  });
});
