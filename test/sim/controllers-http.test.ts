// The controllers behind the real API server, driven by real clients: @kubernetes/client-node and
// kubectl (rollout status, drain) see pods come up, move and come back like on a cluster.
import { AppsV1Api, CoreV1Api, type V1Deployment } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { type Controllers, startControllers } from '../../sim/k8s/controllers/index.ts';
import { buildNodeObject } from '../../sim/k8s/node-factory.ts';
import { startTestCluster, type TestCluster } from './api-support.ts';
import { deployment, FAST, nodeSpec, ZONES } from './controllers-support.ts';

let cluster: TestCluster | undefined;
let controllers: Controllers | undefined;
afterEach(async () => {
  controllers?.stop();
  await cluster?.stop();
});

async function startWithNodes(perZone: number) {
  cluster = await startTestCluster();
  const nodes: string[] = [];
  for (const zone of ZONES) {
    for (let i = 0; i < perZone; i++) {
      nodes.push(cluster.store.create('nodes', buildNodeObject(nodeSpec(zone))).metadata.name);
    }
  }
  controllers = startControllers(cluster.store, FAST);
  return {
    ...cluster,
    nodes,
    core: cluster.kc.makeApiClient(CoreV1Api),
    apps: cluster.kc.makeApiClient(AppsV1Api),
  };
}

describe('controllers through the HTTP API', () => {
  it('a Deployment created with client-node becomes 3 Running pods that kubectl rollout status accepts', async () => {
    const { core, apps, kubectl } = await startWithNodes(1);
    await apps.createNamespacedDeployment({
      namespace: 'default',
      body: deployment('web', 3) as V1Deployment,
    });
    const pods = await waitForAsync('3 running pods over HTTP', async () => {
      const list = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' });
      const running = list.items.filter((p) => p.status?.phase === 'Running');
      return running.length === 3 && running;
    });
    expect(
      pods.every((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')),
    ).toBe(true);
    const rollout = await kubectl('rollout', 'status', 'deployment/web', '--timeout=20s');
    expect(rollout.stderr).toBe('');
    expect(rollout.stdout).toContain('deployment "web" successfully rolled out');
    const events = await core.listNamespacedEvent({
      namespace: 'default',
      fieldSelector: 'reason=Scheduled',
    });
    expect(events.items.length).toBe(3);
  });

  it('kubectl scale and kubectl rollout restart roll the Deployment to new pods', async () => {
    const { core, apps, kubectl } = await startWithNodes(1);
    await apps.createNamespacedDeployment({
      namespace: 'default',
      body: deployment('api', 2) as V1Deployment,
    });
    expect((await kubectl('rollout', 'status', 'deployment/api', '--timeout=20s')).code).toBe(0);
    const scaled = await kubectl('scale', 'deployment/api', '--replicas=4');
    expect(scaled.code, scaled.stderr).toBe(0);
    const restarted = await kubectl('rollout', 'restart', 'deployment/api');
    expect(restarted.code, restarted.stderr).toBe(0);
    const rollout = await kubectl('rollout', 'status', 'deployment/api', '--timeout=20s');
    expect(rollout.code, rollout.stderr).toBe(0);
    const pods = await waitForAsync('4 restarted pods and nothing else', async () => {
      const items = (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=api' })).items;
      const restartedPods = items.filter(
        (p) =>
          p.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'] && p.status?.phase === 'Running',
      );
      return items.length === 4 && restartedPods.length === 4 && restartedPods;
    });
    expect(new Set(pods.map((p) => p.metadata?.labels?.['pod-template-hash'])).size).toBe(1);
    const sets = (await apps.listNamespacedReplicaSet({ namespace: 'default' })).items;
    expect(sets.map((rs) => rs.spec?.replicas).sort()).toEqual([0, 4]);
  });

  it('kubectl drain evicts a node empty; the pods come back Running elsewhere, the DaemonSet pod stays', async () => {
    const { core, apps, kubectl, nodes } = await startWithNodes(1);
    await apps.createNamespacedDeployment({
      namespace: 'default',
      body: deployment('shop', 6) as V1Deployment,
    });
    await apps.createNamespacedDaemonSet({
      namespace: 'kube-system',
      body: {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'aws-node', namespace: 'kube-system' },
        spec: {
          selector: { matchLabels: { app: 'aws-node' } },
          template: {
            metadata: { labels: { app: 'aws-node' } },
            spec: { containers: [{ name: 'aws-node', image: 'amazon-k8s-cni:v1.19.2' }] },
          },
        },
      },
    });
    const running = async (namespace: string, selector: string) =>
      (await core.listNamespacedPod({ namespace, labelSelector: selector })).items.filter(
        (p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp,
      );
    await waitForAsync('6 shop + 3 daemon pods', async () => {
      return (
        (await running('default', 'app=shop')).length === 6 &&
        (await running('kube-system', 'app=aws-node')).length === 3
      );
    });
    const target = nodes[0]!;
    const drain = await kubectl('drain', target, '--ignore-daemonsets', '--timeout=30s');
    expect(drain.code, drain.stderr).toBe(0);
    expect(drain.stdout).toContain(`node/${target} drained`);
    const node = await core.readNode({ name: target });
    expect(node.spec?.unschedulable).toBe(true);
    const shop = await waitForAsync('6 shop pods running off the drained node', async () => {
      const pods = await running('default', 'app=shop');
      return pods.length === 6 && pods;
    });
    expect(shop.some((p) => p.spec?.nodeName === target)).toBe(false);
    const daemons = await running('kube-system', 'app=aws-node');
    expect(daemons.some((p) => p.spec?.nodeName === target)).toBe(true);
  });
});

async function waitForAsync<T>(
  what: string,
  probe: () => Promise<T | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
