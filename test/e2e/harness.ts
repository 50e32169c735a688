// End-to-end harness: a simulator, spotguard's real Lambda handlers wired to its events (as
// deployed: direct invokes and SQS queues), and the observations tests assert on — all through real
// clients (client-node, SDK v3) and the simulator's own state.
import type { KubeConfig } from '@kubernetes/client-node';
import type { HandleReport } from '../../shared/actions/types.ts';
import { type KubeClients, kubeClientsFromConfig } from '../../shared/k8s/client.ts';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../sim/index.ts';
import type { KObject } from '../../sim/k8s/store.ts';
import { connectLambdas, type LambdaBridge, type LambdaBridgeOptions } from '../../sim/lambda-bridge.ts';

export interface E2E {
  sim: Simulator;
  bridge: LambdaBridge;
  k8s: KubeClients;
  /** Every EMF metric line the functions printed. */
  emf: Array<Record<string, unknown>>;
  reports(): HandleReport[];
  stop(): Promise<void>;
}

/** Per-call AWS latency: `false` for none; default 20–250 ms, skewed low, seeded (replayable). */
export type AwsLatency = false | { minMs: number; maxMs: number; seed: number };
export const DEFAULT_AWS_LATENCY: AwsLatency = { minMs: 20, maxMs: 250, seed: 0x5eed };

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with the same delays. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every simulated AWS call (Auto Scaling, EC2, EKS, STS, SQS over HTTP) waits as AWS would. */
function addAwsLatency(sim: Simulator, latency: AwsLatency): void {
  if (!latency) return;
  const random = seeded(latency.seed);
  const decide = sim.faults.decide.bind(sim.faults);
  sim.faults.decide = (req) => {
    const d = decide(req);
    if (req.service === 'k8s') return d;
    // Squared uniform: most calls near the floor, a tail towards maxMs (like real API latency).
    const r = random();
    return {
      ...d,
      latencyMs: d.latencyMs + latency.minMs + Math.round(r * r * (latency.maxMs - latency.minMs)),
    };
  };
}

export async function startE2E(
  opts: SimulatorOptions & { awsLatency?: AwsLatency },
  bridgeOpts: LambdaBridgeOptions = {},
): Promise<E2E> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  const { awsLatency = DEFAULT_AWS_LATENCY, ...simOpts } = opts;
  const sim = await startSimulator({
    bootDelayMs: 1500,
    podStartMs: 100,
    podTerminationMs: 300,
    volumeDetachMs: 300,
    interruptionNoticeMs: 20_000,
    ...simOpts,
  });
  addAwsLatency(sim, awsLatency);
  const emf: Array<Record<string, unknown>> = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    // EMF lines are captured for assertions, not echoed (they would drown the test output).
    const kept: string[] = [];
    for (const line of text.split('\n')) {
      if (!line.includes('"_aws"')) {
        kept.push(line);
        continue;
      }
      try {
        emf.push(JSON.parse(line));
      } catch {
        kept.push(line);
      }
    }
    const rest0 = kept.join('\n');
    if (rest0.trim() === '') return true;
    return (write as (...a: unknown[]) => boolean)(rest0, ...rest);
  }) as typeof process.stdout.write;
  const bridge = await connectLambdas(sim, { retryDelayMs: 200, ...bridgeOpts });
  const kc: KubeConfig = sim.kubeConfig();
  return {
    sim,
    bridge,
    k8s: kubeClientsFromConfig(kc),
    emf,
    reports: () =>
      bridge.invocations.flatMap(
        (i) => (i.result as { reports?: HandleReport[] } | undefined)?.reports ?? [],
      ),
    async stop() {
      // Let in-flight invocations finish before the simulator goes away under them.
      await bridge.idle(10_000).catch(() => undefined);
      bridge.stop();
      process.stdout.write = write as typeof process.stdout.write;
      await sim.stop();
    },
  };
}

/** Sum of a metric across every EMF line. */
export function metricTotal(emf: Array<Record<string, unknown>>, name: string): number {
  return emf.reduce((n, line) => n + (typeof line[name] === 'number' ? (line[name] as number) : 0), 0);
}

export const nodeOf = (sim: Simulator, instanceId: string) =>
  sim.aws.instance(instanceId)?.privateDnsName ?? '';

export function podsOn(sim: Simulator, nodeName: string): KObject[] {
  return sim.store.list('pods', { nodeName }).filter((p) => !p.metadata.deletionTimestamp);
}

export function eventsAbout(sim: Simulator, kind: string, name: string): KObject[] {
  return sim.store
    .list('events')
    .filter((e) => e.involvedObject?.kind === kind && e.involvedObject?.name === name);
}

export function readyPods(
  sim: Simulator,
  namespace: string,
  labelKey: string,
  labelValue: string,
): KObject[] {
  return sim.store
    .list('pods', { namespace })
    .filter(
      (p) =>
        p.metadata.labels?.[labelKey] === labelValue &&
        !p.metadata.deletionTimestamp &&
        (p.status?.conditions ?? []).some(
          (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True',
        ),
    );
}

/** A manifest as a scenario's `workloads` takes it. */
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [field: string]: unknown };
  [field: string]: unknown;
};

/** A Deployment of `replicas` nginx pods labelled app=<name>. */
export function deployment(
  name: string,
  replicas: number,
  extra: { namespace?: string; grace?: number } = {},
): Manifest {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: extra.namespace ?? 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: extra.grace ?? 5,
          containers: [{ name: 'app', image: 'public.ecr.aws/nginx/nginx:1.27' }],
        },
      },
    },
  };
}

/** A PodDisruptionBudget over app=<app>, e.g. `{ maxUnavailable: 1 }` or `{ minAvailable: '100%' }`. */
export function pdb(
  name: string,
  app: string,
  budget: Record<string, number | string>,
  namespace = 'default',
): Manifest {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace },
    spec: { ...budget, selector: { matchLabels: { app } } },
  };
}

/** A Deployment with a PDB (maxUnavailable 1), the shape most spot workloads have. */
export function deploymentWithPdb(
  name: string,
  replicas: number,
  extra: { namespace?: string; grace?: number } = {},
): Manifest[] {
  return [deployment(name, replicas, extra), pdb(name, name, { maxUnavailable: 1 }, extra.namespace)];
}

/** A StatefulSet on zonal gp3 volumes (WaitForFirstConsumer), pinned to one zone by nodeSelector. */
export function zonalStatefulSet(name: string, replicas: number, zone: string): Manifest[] {
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name, namespace: 'default' },
      spec: {
        replicas,
        serviceName: name,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            nodeSelector: { 'topology.kubernetes.io/zone': zone },
            terminationGracePeriodSeconds: 5,
            containers: [
              { name: 'db', image: 'postgres:17', volumeMounts: [{ name: 'data', mountPath: '/data' }] },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'data' },
            spec: {
              accessModes: ['ReadWriteOnce'],
              storageClassName: 'gp3',
              resources: { requests: { storage: '10Gi' } },
            },
          },
        ],
      },
    },
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name, namespace: 'default' },
      spec: { maxUnavailable: 1, selector: { matchLabels: { app: name } } },
    },
  ];
}
