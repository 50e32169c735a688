// Differential: the TargetGroupBinding resource (elbv2.k8s.aws/v1beta1) the simulator serves vs the
// real 1.20 API server with the AWS Load Balancer Controller's CRD installed (a permissive schema:
// the served shape, not the controller's validation, is what spotguard relies on). spotguard lists
// bindings cluster-wide with CustomObjectsApi (shared/traffic/observe.ts).
import { ApiextensionsV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, connectRealCluster, DEFAULT_CLUSTER, startSimCluster } from './clusters.ts';
import * as scenario from './scenarios.ts';

let sim: Cluster;
let real: Cluster;
const RUN_ID = Date.now().toString(36);
const NS = `tgb-${RUN_ID}`;
const GVR = { group: 'elbv2.k8s.aws', version: 'v1beta1', plural: 'targetgroupbindings' };
const ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/k8s-web/0000000000000001';

beforeAll(async () => {
  if (process.env.REAL_K8S_CRDS !== '1') return;
  [sim, real] = await Promise.all([
    startSimCluster({ ...DEFAULT_CLUSTER, nodes: 1, firstIndex: 90 }),
    connectRealCluster({ ...DEFAULT_CLUSTER, nodes: 1, firstIndex: 90 }),
  ]);
  await installCrd(real);
  for (const c of [sim, real]) await c.core.createNamespace({ body: { metadata: { name: NS } } });
});

afterAll(async () => {
  await Promise.all([sim, real].map((c) => c && scenario.deleteNamespaces(c, `tgb-${RUN_ID}`)));
  await Promise.all([sim?.stop(), real?.stop()]);
}, 90_000);

async function installCrd(c: Cluster) {
  const ext = c.kc.makeApiClient(ApiextensionsV1Api);
  await ext
    .createCustomResourceDefinition({
      body: {
        metadata: { name: 'targetgroupbindings.elbv2.k8s.aws' },
        spec: {
          group: 'elbv2.k8s.aws',
          scope: 'Namespaced',
          names: {
            plural: 'targetgroupbindings',
            singular: 'targetgroupbinding',
            kind: 'TargetGroupBinding',
            listKind: 'TargetGroupBindingList',
            categories: ['all'],
          },
          versions: [
            {
              name: 'v1beta1',
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } },
            },
          ],
        },
      },
    })
    .catch((err: { code?: number }) => {
      if (err.code !== 409) throw err;
    });
  for (let i = 0; i < 50; i++) {
    const crd = await ext.readCustomResourceDefinition({ name: 'targetgroupbindings.elbv2.k8s.aws' });
    if (crd.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True')) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('CRD not established');
}

async function createAndList(c: Cluster) {
  const custom = c.kc.makeApiClient(CustomObjectsApi);
  const created = (await custom.createNamespacedCustomObject({
    ...GVR,
    namespace: NS,
    body: {
      apiVersion: 'elbv2.k8s.aws/v1beta1',
      kind: 'TargetGroupBinding',
      metadata: { name: 'web' },
      spec: { serviceRef: { name: 'web', port: 80 }, targetGroupARN: ARN, targetType: 'ip' },
    },
  })) as { apiVersion: string; kind: string; spec: unknown };
  const list = (await custom.listClusterCustomObject(GVR)) as {
    apiVersion: string;
    kind: string;
    items: { metadata: { name: string; namespace: string }; spec: unknown }[];
  };
  const missing = await custom
    .getNamespacedCustomObject({ ...GVR, namespace: NS, name: 'nope' })
    .then(() => 200)
    .catch((err: { code?: number }) => err.code);
  return {
    created: { apiVersion: created.apiVersion, kind: created.kind, spec: created.spec },
    list: {
      apiVersion: list.apiVersion,
      kind: list.kind,
      items: list.items.filter((i) => i.metadata.namespace === NS).map((i) => [i.metadata.name, i.spec]),
    },
    missing,
  };
}

// Opt-in (REAL_K8S_CRDS=1): the 1.20 kube-apiserver built on the development machine died with
// "fatal error: fault" (SIGSEGV in the watch cacher) right after this CRD was created, and the
// suites share one control plane — a crash here would fail every file that runs after it.
describe.skipIf(process.env.REAL_K8S_CRDS !== '1')('TargetGroupBinding (elbv2.k8s.aws/v1beta1)', () => {
  it('create, cluster-wide list and a missing object: shapes and status codes agree', async () => {
    const [s, r] = await Promise.all([createAndList(sim), createAndList(real)]);
    expect(r.list.kind).toBe('TargetGroupBindingList');
    expect(s, 'simulator (received) vs real kube-apiserver 1.20 (expected)').toEqual(r);
  });
});
