// Issue 7: the spot interruption handler end to end with the REAL control plane on the Kubernetes
// side and the simulator's AWS endpoint on the AWS side. The simulator provides the fleet (instances,
// Auto Scaling groups, tags) and the EventBridge ITN; its own Kubernetes side is not used. Real 1.20
// nodes are registered under the instances' private DNS names with providerID aws:///<zone>/<id>,
// and the event goes through processInput (parse → idempotency ConfigMaps → action), exactly the
// Lambda functions' code path. 1.20 serves policy/v1beta1 only: the eviction fallback is exercised.
// Run with `npm run test:real-k8s -- interruption` (DEBUG_DRAIN=1 prints the handler's log).
//
// Known on 1.20: Node events in namespace `default` with eventTime are refused (422); the drain logs
// that and goes on, so nothing here asserts on Node events.
import { Logger } from '@aws-lambda-powertools/logger';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  makeInformer,
  PolicyApi,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandleReport } from '../shared/actions/types.ts';
import { awsClients } from '../shared/aws/clients.ts';
import { loadConfig } from '../shared/config.ts';
import { kubeClientsFromConfig } from '../shared/k8s/client.ts';
import { evictionVersion } from '../shared/k8s/eviction.ts';
import { createRuntime, processInput, type Runtime } from '../shared/runtime.ts';
import { type EventBridgeEvent, type Simulator, startSimulator } from '../sim/index.ts';
import { buildNodeObject } from '../sim/k8s/node-factory.ts';
import type { Cluster } from './clusters.ts';
import { type KubeletPlayer, startKubelets } from './kubelets.ts';
import {
  createDaemonSet,
  createDeployment,
  createNamespace,
  createPdb,
  deleteNamespaces,
  isReady,
  listPods,
  type PdbStatus,
  readPdbStatus,
  readyPods,
  settledPdbStatus,
  waitFor,
} from './scenarios.ts';

const ITN = 'EC2 Spot Instance Interruption Warning';
const TAINT = 'spotguard.io/spot-interruption';
const IDEMPOTENCY_LABEL = 'spotguard.io/idempotency-record';
const SPOTGUARD_NS = 'spotguard';
// unique per run, so a long-lived development cluster can run the file again
const NS = `itn-${Date.now().toString(36)}`;
const REPLICAS = 4;
const PDB_MIN_HEALTHY = REPLICAS - 1; // maxUnavailable 1

let sim: Simulator;
let kubelets: KubeletPlayer | undefined;
let real: Cluster;
let rt: Runtime;
let createdSpotguardNs = false;
const events: EventBridgeEvent[] = [];
let unsubscribe: (() => void) | undefined;

function realCluster(): Cluster {
  const path = process.env.REAL_K8S_KUBECONFIG;
  if (!path) {
    throw new Error('REAL_K8S_KUBECONFIG is not set: run this suite through `npm run test:real-k8s`');
  }
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return {
    name: 'real',
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    objects: KubernetesObjectApi.makeApiClient(kc),
    nodeNames: [],
    kubeconfigPath: path,
    stop: async () => {},
  };
}

beforeAll(async () => {
  real = realCluster();
  sim = await startSimulator({ nodes: 3, clusterName: 'real-itn' });
  unsubscribe = sim.events.subscribe((event) => {
    events.push(event);
  });

  // the real nodes ARE the simulator's instances: same name, instance id and zone
  const instances = sim.aws.instances().filter((i) => i.state === 'running');
  const nodes = instances.map(
    (i) =>
      buildNodeObject({
        name: i.privateDnsName,
        instanceId: i.instanceId,
        zone: i.zone,
        region: sim.region,
        instanceType: i.instanceType,
        capacityType: i.capacityType,
        nodegroup: i.nodegroup,
        cpu: '8',
        memory: '32Gi',
      }) as V1Node,
  );
  kubelets = await startKubelets(real.kc, { nodeObjects: nodes, startMs: 1000, termMs: 1000 });
  (real as { nodeNames: string[] }).nodeNames = kubelets.nodeNames;

  try {
    await createNamespace(real, SPOTGUARD_NS);
    createdSpotguardNs = true;
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
  await createNamespace(real, NS);
  await createDeployment(real, NS, 'web', REPLICAS);
  await createDaemonSet(real, NS, 'agent');
  await readyPods(real, NS, 'web', REPLICAS);
  await readyPods(real, NS, 'agent', nodes.length);
  await createPdb(real, NS, 'web-pdb', 'web', { maxUnavailable: 1 });
  await settledPdbStatus(real, NS, 'web-pdb', REPLICAS);

  rt = await createRuntime({
    config: loadConfig({ ...process.env, CLUSTER_NAME: sim.clusterName, AWS_REGION: sim.region }),
    k8s: kubeClientsFromConfig(real.kc),
    aws: awsClients(sim.awsClientConfig()),
    logger: new Logger({
      serviceName: 'real-itn',
      logLevel: process.env.DEBUG_DRAIN ? 'DEBUG' : 'ERROR',
    }),
  });
}, 120_000);

afterAll(async () => {
  unsubscribe?.();
  if (real) {
    await deleteNamespaces(real, NS).catch((err) => console.error('cleanup:', err));
    if (createdSpotguardNs) {
      await real.core.deleteNamespace({ name: SPOTGUARD_NS }).catch(() => {});
      // gone before the next file creates it again (a terminating namespace refuses new objects)
      await waitFor(
        `namespace ${SPOTGUARD_NS} to be gone`,
        () =>
          real.core.readNamespace({ name: SPOTGUARD_NS }).then(
            () => true,
            () => false,
          ),
        (exists) => !exists,
        60_000,
      ).catch((err) => console.error('cleanup:', err));
    } else {
      // the namespace was there before: remove only the idempotency records this file wrote
      await real.core
        .deleteCollectionNamespacedConfigMap({
          namespace: SPOTGUARD_NS,
          labelSelector: `${IDEMPOTENCY_LABEL}=true`,
        })
        .catch(() => {});
    }
  }
  await kubelets?.stop({ deleteNodes: true });
  await sim?.stop();
}, 120_000);

const ownedByDaemonSet = (p: V1Pod) =>
  (p.metadata?.ownerReferences ?? []).some((o) => o.kind === 'DaemonSet');

/** Watches the Deployment's pods and PDB status while `run` runs; reports the lowest counts seen. */
async function watchingBudget<T>(run: () => Promise<T>) {
  let minReadyPods = Number.POSITIVE_INFINITY;
  let watchEvents = 0;
  const informer = makeInformer<V1Pod>(
    real.kc,
    `/api/v1/namespaces/${NS}/pods`,
    () => real.core.listNamespacedPod({ namespace: NS, labelSelector: 'app=web' }),
    'app=web',
  );
  const observe = () => {
    minReadyPods = Math.min(minReadyPods, informer.list().filter(isReady).length);
  };
  // the initial list arrives as one add per pod: count from the synced cache on, not during it
  let synced = false;
  const onEvent = () => {
    if (!synced) return;
    watchEvents++;
    observe();
  };
  informer.on('add', onEvent);
  informer.on('update', onEvent);
  informer.on('delete', onEvent);
  await informer.start();
  synced = true;
  observe();

  const pdbSamples: PdbStatus[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      pdbSamples.push(await readPdbStatus(real, NS, 'web-pdb'));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    return {
      result: await run(),
      pdbSamples,
      minReadyPods: () => minReadyPods,
      watchEvents: () => watchEvents,
    };
  } finally {
    polling = false;
    await poller;
    await informer.stop();
  }
}

describe('spot interruption warning on the real control plane (AWS side: simulator)', () => {
  let target: { instanceId: string; node: string; webPods: string[] };
  let itn: EventBridgeEvent;
  let report: HandleReport;
  let watched: Awaited<ReturnType<typeof watchingBudget<HandleReport>>>;
  let recordsBefore: number;

  beforeAll(async () => {
    // the instance whose real node holds the most pods of the Deployment
    const web = await listPods(real, NS, 'web');
    const byNode = (node: string) =>
      web.filter((p) => p.spec?.nodeName === node).map((p) => p.metadata!.name!);
    const candidates = sim.aws
      .instances()
      .filter((i) => i.state === 'running' && i.capacityType === 'SPOT')
      .map((i) => ({ instanceId: i.instanceId, node: i.privateDnsName, webPods: byNode(i.privateDnsName) }))
      .sort((a, b) => b.webPods.length - a.webPods.length);
    target = candidates[0]!;
    recordsBefore = (
      await real.core.listNamespacedConfigMap({
        namespace: SPOTGUARD_NS,
        labelSelector: `${IDEMPOTENCY_LABEL}=true`,
      })
    ).items.length;

    sim.aws.interruptSpot(target.instanceId);
    itn = await waitFor(
      `the ITN for ${target.instanceId}`,
      async () =>
        events.find((e) => e['detail-type'] === ITN && e.detail?.['instance-id'] === target.instanceId),
      (e) => e !== undefined,
      10_000,
    ).then((e) => e!);
    watched = await watchingBudget(async () => {
      const result = await processInput(rt, itn, { holder: 'real-k8s', remainingMs: () => 120_000 });
      return result.reports[0]!;
    });
    report = watched.result;
    if (process.env.DEBUG_DRAIN) console.log(JSON.stringify(report, null, 2));
  }, 150_000);

  it('the real 1.20 server serves policy/v1beta1 only, and spotguard picked it for evictions', async () => {
    const group = await real.kc.makeApiClient(PolicyApi).getAPIGroup();
    expect(group.versions.map((v) => v.groupVersion)).toEqual(['policy/v1beta1']);
    expect(await evictionVersion(rt.k8s)).toBe('policy/v1beta1');
  });

  it('the ITN resolves to the real node and is handled', () => {
    expect(target.webPods.length).toBeGreaterThanOrEqual(1);
    expect(report).toMatchObject({
      kind: 'spot-interruption',
      instanceId: target.instanceId,
      nodeName: target.node,
      outcome: 'handled',
    });
    expect(report.drain).toMatchObject({ complete: true, deadlineMissed: false });
  });

  it('the real node is cordoned and tainted spotguard.io/spot-interruption', async () => {
    const node = await real.core.readNode({ name: target.node });
    expect(node.spec?.unschedulable).toBe(true);
    expect(node.spec?.taints ?? []).toEqual(
      expect.arrayContaining([expect.objectContaining({ key: TAINT, effect: 'NoSchedule' })]),
    );
    expect(node.metadata?.annotations?.['spotguard.io/cordoned-by']).toBeTruthy();
  });

  it("the Deployment's pods on the node were evicted; only the DaemonSet pod is left there", async () => {
    const evicted = report
      .drain!.pods.filter((p) => p.namespace === NS && p.outcome === 'evicted')
      .map((p) => p.name)
      .sort();
    expect(evicted).toEqual([...target.webPods].sort());
    const skipped = report.drain!.pods.filter((p) => p.namespace === NS && p.outcome === 'skipped');
    expect(skipped.map((p) => p.name)).toEqual([expect.stringMatching(/^agent-/)]);
    const left = (await real.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${target.node}` }))
      .items;
    expect(left.filter((p) => !ownedByDaemonSet(p))).toEqual([]);
  });

  it("the Deployment's pods are Ready again, on the other nodes", async () => {
    const web = await readyPods(real, NS, 'web', REPLICAS);
    expect(web.filter((p) => p.spec?.nodeName === target.node)).toEqual([]);
  });

  it('the PDB was never below its minimum during the drain (pod watch and PDB status)', () => {
    // evictions, deletions and replacements were seen as they happened
    expect(watched.watchEvents()).toBeGreaterThan(target.webPods.length);
    expect(watched.minReadyPods()).toBeGreaterThanOrEqual(PDB_MIN_HEALTHY);
    const observed = watched.pdbSamples.filter((s) => s.desiredHealthy !== undefined);
    expect(observed.length).toBeGreaterThan(0);
    for (const s of observed) {
      expect(s.desiredHealthy).toBe(PDB_MIN_HEALTHY);
      expect(s.currentHealthy!).toBeGreaterThanOrEqual(PDB_MIN_HEALTHY);
    }
  });

  it('the replacement was decided on the simulated AWS side', () => {
    const instance = sim.aws.instance(target.instanceId)!;
    const group = sim.aws.group(`spot-${instance.zone}`)!;
    const replacement = report.replacement!;
    expect(replacement).toBeDefined();
    if (group.capacityRebalance) {
      // the default fleet's spot groups replace on the notice themselves: no second replacement
      expect(replacement.action).toBe('none');
      expect(replacement.reason).toMatch(/Terminating|Capacity Rebalancing/);
    } else {
      expect(replacement).toMatchObject({ action: 'detach', group: group.name });
      expect(group.instanceIds.has(target.instanceId)).toBe(false);
    }
  });

  it('a redelivery of the same event is a duplicate: recorded in ConfigMaps on the real cluster, no second drain', async () => {
    const records = await real.core.listNamespacedConfigMap({
      namespace: SPOTGUARD_NS,
      labelSelector: `${IDEMPOTENCY_LABEL}=true`,
    });
    expect(records.items.length).toBe(recordsBefore + 1);
    const webBefore = (await listPods(real, NS, 'web')).map((p) => p.metadata!.uid).sort();

    const again = await processInput(rt, itn, { holder: 'real-k8s-redelivery', remainingMs: () => 120_000 });
    expect(again.reports).toHaveLength(1);
    expect(again.reports[0]!.outcome).toBe('duplicate');
    expect(again.reports[0]!.dedupKey).toBe(report.dedupKey);
    // nothing evicted the second time: the same pods, all still there
    expect((await listPods(real, NS, 'web')).map((p) => p.metadata!.uid).sort()).toEqual(webBefore);
  });
});
