// The AZ rebalancer end to end on the simulator: zone c loses its spot nodes (interruptions
// handled by spotguard's real handlers), pods pile into a and b, capacity returns in c → after
// the rebalancer function runs, every zone-spread Deployment is within maxSkew, the StatefulSet
// on zonal volumes has not moved, no PDB was violated, and a second run evicts nothing.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RebalancerReport } from '../../shared/rebalancer/run.ts';
import type { KObject } from '../../sim/k8s/store.ts';
import {
  deployment,
  type E2E,
  type Manifest,
  pdb,
  readyPods,
  startE2E,
  zonalStatefulSet,
} from '../e2e/harness.ts';

const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
let e: E2E;

function spread(m: Manifest, maxSkew: number): Manifest {
  const spec = m.spec as { template: { spec: Record<string, unknown> } };
  spec.template.spec.topologySpreadConstraints = [
    {
      maxSkew,
      topologyKey: 'topology.kubernetes.io/zone',
      whenUnsatisfiable: 'DoNotSchedule',
      labelSelector: { matchLabels: { app: m.metadata.name } },
    },
  ];
  return m;
}

const zoneOfNode = (name: string) =>
  e.sim.store.get('nodes', undefined, name)?.metadata.labels?.['topology.kubernetes.io/zone'];
function zoneCounts(app: string): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(ZONES.map((z) => [z, 0]));
  for (const p of readyPods(e.sim, 'default', 'app', app)) counts[zoneOfNode(p.spec.nodeName) ?? '?']! += 1;
  return counts;
}
const skew = (c: Record<string, number>) => Math.max(...Object.values(c)) - Math.min(...Object.values(c));
const nodesIn = (zone: string, ready = true) =>
  e.sim.store
    .list('nodes')
    .filter((n: KObject) => n.metadata.labels?.['topology.kubernetes.io/zone'] === zone)
    .filter(
      (n: KObject) =>
        !ready ||
        (n.status?.conditions ?? []).some(
          (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True',
        ),
    );
const scheduled = (raw: string) => ({
  version: '0',
  id: raw,
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:123456789012:rule/spotguard-dev-rebalancer-schedule'],
  detail: {},
});

beforeAll(async () => {
  e = await startE2E(
    {
      scenario: {
        cluster: { name: 'e2e-rebalancer', region: 'us-east-1', zones: ZONES },
        nodeGroups: [
          { name: 'spot-a', zone: 'us-east-1a', capacityType: 'SPOT', desired: 2, max: 4 },
          { name: 'spot-b', zone: 'us-east-1b', capacityType: 'SPOT', desired: 2, max: 4 },
          {
            name: 'spot-c',
            zone: 'us-east-1c',
            capacityType: 'SPOT',
            desired: 2,
            min: 0,
            max: 4,
            capacityRebalance: false,
          },
        ],
        workloads: [
          spread(deployment('web', 9), 1),
          pdb('web', 'web', { maxUnavailable: 1 }),
          spread(deployment('api', 6), 1),
          pdb('api', 'api', { maxUnavailable: 1 }),
          ...zonalStatefulSet('db', 2, 'us-east-1a'),
        ],
      },
    },
    { env: { REPLACEMENT_MODE: 'none' } },
  );
  await e.sim.waitFor(
    () =>
      readyPods(e.sim, 'default', 'app', 'web').length === 9 &&
      readyPods(e.sim, 'default', 'app', 'db').length === 2,
    30_000,
    'workloads ready',
  );
}, 90_000);

afterAll(async () => {
  await e?.stop();
});

it('zone c lost and back: the rebalancer spreads web and api again, db stays, PDBs hold, a second run evicts nothing', async () => {
  expect(skew(zoneCounts('web'))).toBeLessThanOrEqual(1);
  // Zone c loses its spot capacity: ITNs (spotguard drains), then the group has none to give.
  const victims = e.sim.aws.instances().filter((i) => i.groupName === 'spot-c' && i.state === 'running');
  expect(victims).toHaveLength(2);
  for (const v of victims) e.sim.aws.interruptSpot(v.instanceId);
  await e.sim.waitFor(
    () =>
      victims.every((v) =>
        e.reports().some((r) => r.instanceId === v.instanceId && r.kind === 'spot-interruption'),
      ),
    40_000,
    'ITNs handled',
  );
  e.sim.aws.setDesiredCapacity('spot-c', 0);
  await e.sim.waitFor(() => nodesIn('us-east-1c', false).length === 0, 40_000, 'zone c nodes gone');
  await e.sim.waitFor(
    () =>
      readyPods(e.sim, 'default', 'app', 'web').length === 9 &&
      readyPods(e.sim, 'default', 'app', 'api').length === 6,
    40_000,
    'pods rescheduled into a and b',
  );
  expect(zoneCounts('web')['us-east-1c']).toBe(0);
  const dbBefore = readyPods(e.sim, 'default', 'app', 'db')
    .map((p) => p.metadata.uid)
    .sort();

  // Capacity returns in c (the launches also reach the rebalancer's queue).
  e.sim.aws.setDesiredCapacity('spot-c', 2);
  await e.sim.waitFor(() => nodesIn('us-east-1c').length === 2, 40_000, 'zone c nodes Ready');
  await e.bridge.idle(60_000);

  // Sample availability while the rebalancer runs: a PDB of maxUnavailable 1 means ≥ n−1 Ready.
  let minWeb = 9;
  let minApi = 6;
  const sampler = setInterval(() => {
    minWeb = Math.min(minWeb, readyPods(e.sim, 'default', 'app', 'web').length);
    minApi = Math.min(minApi, readyPods(e.sim, 'default', 'app', 'api').length);
  }, 20);
  const first = (await e.bridge.invoke('rebalancer', scheduled('run-1'))) as { report?: RebalancerReport };
  clearInterval(sampler);
  const launchRuns = e.bridge.invocations
    .filter((i) => i.functionName === 'rebalancer' && i.delivery === 'sqs')
    .map((i) => (i.result as { report?: RebalancerReport })?.report?.evictions ?? 0);
  const evicted = (first.report?.evictions ?? 0) + launchRuns.reduce((a, b) => a + b, 0);
  // web 4/5/0 → 3/3/3 and api 3/3/0 → 2/2/2: 3 + 2 evictions, the minimum
  expect(evicted).toBe(5);

  await e.sim.waitFor(
    () =>
      readyPods(e.sim, 'default', 'app', 'web').length === 9 &&
      readyPods(e.sim, 'default', 'app', 'api').length === 6,
    30_000,
    'replacements ready',
  );
  for (const app of ['web', 'api']) {
    const counts = zoneCounts(app);
    expect(skew(counts), `${app} ${JSON.stringify(counts)}`).toBeLessThanOrEqual(1);
  }
  expect(minWeb).toBeGreaterThanOrEqual(8);
  expect(minApi).toBeGreaterThanOrEqual(5);
  expect(
    readyPods(e.sim, 'default', 'app', 'db')
      .map((p) => p.metadata.uid)
      .sort(),
  ).toEqual(dbBefore);
  const web = first.report?.workloads.find((w) => w.workload === 'default/Deployment/web');
  if (web && web.made > 0) {
    expect(web.landedBack).toBe(0);
    expect(web.after?.['us-east-1c']).toBeGreaterThan(0);
  }

  // the skew metric an alarm can watch: one EMF line per workload, with its Workload dimension
  const skewLines = e.emf.filter((l) => typeof l.WorkloadZoneSkew === 'number');
  const webSkews = skewLines
    .filter((l) => l.Workload === 'default/Deployment/web')
    .map((l) => l.WorkloadZoneSkew);
  expect(Math.max(...(webSkews as number[]))).toBe(5); // 4/5/0 once zone c was back

  const second = (await e.bridge.invoke('rebalancer', scheduled('run-2'))) as { report?: RebalancerReport };
  expect(second.report?.evictions).toBe(0);
  // nothing is evicted once balanced — not even past the cooldown
  const third = (await e.bridge.invoke('rebalancer', { action: 'rebalance', dryRun: true })) as {
    report?: RebalancerReport;
  };
  expect(third.report?.workloads.reduce((n, w) => n + w.planned, 0)).toBe(0);
}, 240_000);
