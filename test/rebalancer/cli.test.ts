// `spotguard rebalance` against the simulator through its kubeconfig: --dry-run prints the plan
// and evicts nothing; a real run evicts the minimum and the table shows before → planned → after.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.ts';
import type { KObject } from '../../sim/k8s/store.ts';
import { simulatorEnvironment } from '../../sim/lambda-bridge.ts';
import { deployment, type Manifest, pdb } from '../e2e/harness.ts';
import { runCli } from '../safety/support.ts';

const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
let sim: Simulator;
let kubeconfig: string;

const web = (): Manifest => {
  const m = deployment('web', 6);
  (m.spec as { template: { spec: Record<string, unknown> } }).template.spec.topologySpreadConstraints = [
    {
      maxSkew: 1,
      topologyKey: 'topology.kubernetes.io/zone',
      whenUnsatisfiable: 'DoNotSchedule',
      labelSelector: { matchLabels: { app: 'web' } },
    },
  ];
  return m;
};
const running = (app: string) =>
  sim.store
    .list('pods', { namespace: 'default' })
    .filter(
      (p: KObject) =>
        p.metadata.labels?.app === app && p.status?.phase === 'Running' && !p.metadata.deletionTimestamp,
    );
const readyNodes = () =>
  sim.store
    .list('nodes')
    .filter((n: KObject) =>
      (n.status?.conditions ?? []).some(
        (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True',
      ),
    );

beforeAll(async () => {
  sim = await startSimulator({
    bootDelayMs: 500,
    podStartMs: 50,
    podTerminationMs: 100,
    scenario: {
      cluster: { name: 'cli-rebalance', region: 'us-east-1', zones: ZONES },
      nodeGroups: [
        { name: 'a', zone: 'us-east-1a', capacityType: 'SPOT', desired: 1, max: 2 },
        { name: 'b', zone: 'us-east-1b', capacityType: 'SPOT', desired: 1, max: 2 },
        { name: 'c', zone: 'us-east-1c', capacityType: 'SPOT', desired: 0, min: 0, max: 2 },
      ],
      workloads: [web(), pdb('web', 'web', { maxUnavailable: 1 })],
    },
  });
  const env = simulatorEnvironment(sim);
  kubeconfig = env.SPOTGUARD_KUBECONFIG!;
  Object.assign(process.env, env, { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' });
  await sim.waitFor(() => running('web').length === 6, 20_000, 'web running in a and b');
  sim.aws.setDesiredCapacity('c', 1);
  await sim.waitFor(() => readyNodes().length === 3, 20_000, 'zone c node Ready');
}, 60_000);

afterAll(async () => {
  await sim?.stop();
});

const run = runCli;

it('--dry-run plans 3/3/0 → 2/2/2 and evicts nothing; the real run makes the 2 moves; again: nothing', async () => {
  const uids = running('web')
    .map((p) => p.metadata.uid)
    .sort();
  const dry = await run(['rebalance', '--dry-run', '--kubeconfig', kubeconfig]);
  expect(dry.code).toBe(0);
  expect(dry.out).toMatch(/default\/Deployment\/web\s+1\s+3\/3\/0\s+2\/2\/2\s+\(dry run\)\s+2/);
  expect(
    running('web')
      .map((p) => p.metadata.uid)
      .sort(),
  ).toEqual(uids);

  const real = await run(['rebalance', '--json', '--kubeconfig', kubeconfig]);
  expect(real.code).toBe(0);
  const report = JSON.parse(real.out);
  expect(report.evictions).toBe(2);
  expect(report.workloads[0].after).toEqual({ 'us-east-1a': 2, 'us-east-1b': 2, 'us-east-1c': 2 });
  expect(report.workloads[0].landed).toEqual(['us-east-1c', 'us-east-1c']);
  expect(real.err).toMatch(/evicted default\/web-/);

  // the cooldown is remembered in the cluster, for the next run (another Lambda container)
  const state = sim.store.get('configmaps', 'spotguard', 'spotguard-rebalancer');
  expect(Object.keys(state?.data ?? {})).toEqual(
    expect.arrayContaining(['w_default_Deployment_web', 'last-run-started']),
  );

  const again = await run(['rebalance', '--kubeconfig', kubeconfig]);
  expect(again.out).toMatch(/0 eviction\(s\)|nothing to do/);
  const bad = await run(['rebalance', '--max-evictions', 'lots', '--kubeconfig', kubeconfig]);
  expect(bad.code).toBe(2);
  expect(bad.err).toMatch(/--max-evictions/);
}, 60_000);
