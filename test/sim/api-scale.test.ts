// The API at the size the benchmarks use (500 nodes, 15,000 pods): answers stay correct, and a
// node's pods come from the Store's spec.nodeName index, never from a scan of every pod.
import { CoreV1Api, KubeConfig, PolicyV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeApi, kubeconfigYaml, startKubeApi } from '../../sim/k8s/api/server.ts';
import { type KObject, type ListOptions, Store } from '../../sim/k8s/store.ts';
import { node, pdb, pod, settle } from './api-support.ts';

/** A Store that remembers how pods were listed (the API must ask for the node index). */
class RecordingStore extends Store {
  readonly podLists: ListOptions[] = [];
  override list(resource: string, opts: ListOptions = {}): KObject[] {
    if (resource === 'pods') this.podLists.push(opts);
    return super.list(resource, opts);
  }
}

const NODES = 500;
const PODS = 15_000;
const NAMESPACES = 30;

let store: RecordingStore;
let api: KubeApi;
let core: CoreV1Api;

beforeAll(async () => {
  store = new RecordingStore();
  api = await startKubeApi({ store, port: 0 });
  for (let n = 0; n < NODES; n++)
    store.create('nodes', node(`ip-10-1-${Math.floor(n / 250)}-${n % 250}.ec2.internal`));
  for (let ns = 0; ns < NAMESPACES; ns++) {
    store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `team-${ns}` } });
    store.create(
      'poddisruptionbudgets',
      pdb('web', { minAvailable: 10, matchLabels: { app: 'web' } }, `team-${ns}`),
    );
  }
  for (let i = 0; i < PODS; i++) {
    const n = i % NODES;
    store.create(
      'pods',
      pod(`web-${i}`, {
        namespace: `team-${i % NAMESPACES}`,
        node: `ip-10-1-${Math.floor(n / 250)}-${n % 250}.ec2.internal`,
        labels: { app: 'web' },
      }),
    );
  }
  await settle();
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(api.url));
  core = kc.makeApiClient(CoreV1Api);
});
afterAll(() => api.stop());

describe('500 nodes, 15,000 pods', () => {
  it("lists one node's pods through the spec.nodeName index", async () => {
    store.podLists.length = 0;
    const list = await core.listPodForAllNamespaces({
      fieldSelector: 'spec.nodeName=ip-10-1-0-7.ec2.internal,status.phase!=Succeeded,status.phase!=Failed',
    });
    expect(list.items).toHaveLength(PODS / NODES);
    expect(list.items.every((p) => p.spec?.nodeName === 'ip-10-1-0-7.ec2.internal')).toBe(true);
    // cluster-wide pod lists (no namespace) the request caused: only the index lookup, no full scan
    // (per-namespace lists come from the PDB status updater)
    expect(store.podLists.filter((o) => o.namespace === undefined)).toEqual([
      { nodeName: 'ip-10-1-0-7.ec2.internal' },
    ]);
  });

  it('pages through every pod with limit/continue without losing or repeating one', async () => {
    const seen = new Set<string>();
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await core.listPodForAllNamespaces({
        limit: 4000,
        ...(token ? { _continue: token } : {}),
      });
      for (const p of page.items) seen.add(`${p.metadata?.namespace}/${p.metadata?.name}`);
      token = page.metadata?._continue;
      pages++;
    } while (token);
    expect(pages).toBe(4);
    expect(seen.size).toBe(PODS);
  });

  it("keeps every budget's status current", async () => {
    const policy = (() => {
      const kc = new KubeConfig();
      kc.loadFromString(kubeconfigYaml(api.url));
      return kc.makeApiClient(PolicyV1Api);
    })();
    const all = await policy.listPodDisruptionBudgetForAllNamespaces();
    expect(all.items).toHaveLength(NAMESPACES);
    for (const budget of all.items) {
      expect(budget.status).toMatchObject({
        expectedPods: 500,
        currentHealthy: 500,
        desiredHealthy: 10,
        disruptionsAllowed: 490,
      });
    }
  });
});
