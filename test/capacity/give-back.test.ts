// Every desired+1 is given back on every exit path: replace-then-drain whose replacement never gets
// Ready in the invocation lowers desired again (it stayed +1 forever before), and clears its mark.
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ActionDeps } from '../../shared/actions/types.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import type { RebalanceRecommendationEvent } from '../../shared/events/types.ts';
import { kubeClientsFromConfig } from '../../shared/k8s/client.ts';
import { handleEvent } from '../../shared/plans/dispatch.ts';
import { NodeResolver } from '../../shared/resolve/node-resolver.ts';
import { type Simulator, startSimulator } from '../../sim/index.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ nodes: 2, podStartMs: 50, podTerminationMs: 100 });
}, 30_000);
afterAll(async () => {
  await sim?.stop();
});

it('replace-then-drain: replacement not Ready in time → drain not run, desired back, mark cleared', async () => {
  const inst = sim.aws.instances().find((i) => i.state === 'running')!;
  const group = sim.aws.group(inst.groupName!)!;
  const desiredBefore = group.desiredCapacity;
  const aws = createAwsClients(sim.awsClientConfig());
  const k8s = kubeClientsFromConfig(sim.kubeConfig());
  const config = {
    ...loadConfig({ CLUSTER_NAME: sim.clusterName }),
    rebalancePolicy: 'replace-then-drain' as const,
  };
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const deps: ActionDeps = {
    config,
    k8s,
    aws,
    resolver: new NodeResolver({ ec2: aws.ec2, core: k8s.core }, { clusterName: sim.clusterName }),
    logger: quiet,
    metrics: new Metrics({ namespace: 't', serviceName: 't', logger: quiet as never }),
    holder: 'test',
    timeLeftMs: () => 5_000, // too little to wait for a replacement
    now: () => new Date(),
    dryRun: false,
  };
  const ev: RebalanceRecommendationEvent = {
    kind: 'rebalance-recommendation',
    instanceId: inst.instanceId,
    instanceIds: [inst.instanceId],
    time: new Date().toISOString(),
    dedupKey: 'rb-1',
    envelopes: ['direct'],
  };
  // groups in the default fleet may use Capacity Rebalancing (then the group does make-before-break)
  group.capacityRebalance = false;
  const report = await handleEvent(ev, deps);
  const status = Object.fromEntries((report.plan?.steps ?? []).map((s) => [s.id, s.status]));
  expect(status).toEqual({
    replace: 'done',
    'await-replacement': 'failed',
    cordon: 'done',
    drain: 'cancelled',
  });
  expect(report.plan?.undone.map((u) => [u.kind, u.status])).toEqual([['give-back', 'done']]);
  expect(sim.awsRequests.count('autoscaling', 'SetDesiredCapacity')).toBe(2);
  expect(sim.aws.group(group.name)!.desiredCapacity).toBe(desiredBefore);
  const node = sim.store.get('nodes', undefined, inst.privateDnsName)!;
  expect(node.metadata.annotations?.['spotguard.io/replacement-requested']).toBeUndefined();
  expect(node.spec.unschedulable).toBe(true); // cordoned: the interruption or the group finishes it
}, 30_000);
