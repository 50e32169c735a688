// Traffic benchmark (issue 14): a Deployment behind an ip-mode target group (10 pods over 5 spot
// nodes, 100 req/s through the target group), one spot interruption on a node holding 2 of its pods,
// then a storm of 3 at once. Failed requests with spotguard's traffic-aware drain vs the same drain
// without deregistration (cordon + evict at once: what NTH and kubectl drain do), each on a fresh
// simulator in the same run.
// Time runs 10× faster on the ELBv2 side and in the notice: 1 ELBv2 "second" = 100 ms, the 2-minute
// notice = 12 s; deregistration delay 30 "s", propagation 15 "s", health checks 10 "s".

import { elbv2Client } from '../shared/aws/elbv2.ts';
import { drainNode } from '../shared/drain/executor.ts';
import { kubeClientsFromConfig } from '../shared/k8s/client.ts';
import { TrafficDrain } from '../shared/traffic/session.ts';
import { type Simulator, startSimulator } from '../sim/index.ts';
import { TrafficPlayer } from '../sim/traffic/player.ts';
import { binding, createTargetGroup, webWorkload } from '../test/traffic/fixtures.ts';

const NOTICE_MS = 12_000;
const RATE = 100;

type Mode = 'spotguard' | 'baseline';

interface Phase {
  sent: number;
  failed: number;
  byReason: Record<string, number>;
  cutShort: number;
  /** targets the controller registered again while held (spotguard deregistered them again) */
  reregistered: number;
  drainMs: number;
}

export async function run() {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  const results: Record<Mode, { single: Phase; storm: Phase }> = {} as never;
  for (const mode of ['baseline', 'spotguard'] as const) results[mode] = await runMode(mode);
  const row = (mode: Mode, phase: 'single' | 'storm') => {
    const p = results[mode][phase];
    const reasons = Object.entries(p.byReason)
      .map(([r, n]) => `${r} ${n}`)
      .join(', ');
    return `| ${mode === 'spotguard' ? 'spotguard (deregister first)' : 'same drain, no deregistration'} | ${phase === 'single' ? '1 ITN (2 pods)' : 'storm of 3 ITNs'} | ${p.sent} | **${p.failed}** | ${reasons || '—'} | ${p.cutShort} | ${p.reregistered} | ${(p.drainMs / 1000).toFixed(1)} s |`;
  };
  const markdown = [
    `Deployment of 10 pods (2 per node, no preStop, grace 5 s) behind an ip-mode target group bound by a TargetGroupBinding; the simulated AWS Load Balancer Controller registers Ready pod IPs and deregisters an endpoint when it goes away (after eviction), reacting in 500 ms. ${RATE} req/s round-robin over routable targets. ELBv2 time is 10× faster: deregistration delay 30 s, propagation 15 s, health checks 10 s; the spot notice is 12 s (120 s at that scale). Each mode runs on a fresh simulator; both in the same process run.`,
    '',
    '| drain | event | requests | failed | failures by reason | pods cut short by the deadline | targets re-registered by the controller while held | drain time (longest) |',
    '|---|---|---|---|---|---|---|---|',
    row('baseline', 'single'),
    row('spotguard', 'single'),
    row('baseline', 'storm'),
    row('spotguard', 'storm'),
    '',
    `Goal: 0 failed requests with spotguard. Result: ${results.spotguard.single.failed + results.spotguard.storm.failed} failed with spotguard against ${results.baseline.single.failed + results.baseline.storm.failed} without deregistration.`,
    '',
    'Why the baseline fails: the pod stops accepting connections at eviction (SIGTERM, no preStop), while the controller only deregisters once the endpoint is gone and the load balancer keeps routing until the deregistration has propagated. spotguard deregisters at the notice, beside the cordon, and evicts each pod once its targets have left `draining`.',
    '',
    "Pods cut short: the controller registers a still-Ready endpoint again whenever the Service's endpoints change (replacement pods coming up in a storm), which restarts its draining; spotguard deregisters it again, and a pod whose draining then cannot end before deadline − grace − margin is evicted at that point. A request can only fail then if the load balancer still routes to it, i.e. if the propagation lag outlasts the time left.",
  ].join('\n');
  return { title: 'Traffic-aware drains (load balancer targets)', markdown };
}

async function runMode(mode: Mode) {
  const sim = await startSimulator({
    clusterName: 'bench-traffic',
    scenario: {
      cluster: { name: 'bench-traffic', region: 'us-east-1', zones: ['us-east-1a'] },
      nodeGroups: [{ name: 'spot-a', zone: 'us-east-1a', capacityType: 'SPOT', desired: 5, max: 12 }],
      workloads: [],
    },
    bootDelayMs: 2_000,
    podStartMs: 300,
    podTerminationMs: 1_000,
    interruptionNoticeMs: NOTICE_MS,
    elbTimings: { secondMs: 100, healthyAfterSeconds: 10, propagationSeconds: 15 },
    lbControllerReactionMs: 500,
  });
  try {
    await sim.waitFor(() => sim.store.list('nodes').length === 5, 20_000, 'nodes');
    const arn = await createTargetGroup(sim, 'k8s-default-web', { delaySeconds: 30 });
    sim.applyManifests([...webWorkload(10), binding('web', 'web', arn, 'ip')]);
    await sim.waitFor(
      () => sim.elbv2.health(arn).filter((h) => h.state === 'healthy').length === 10,
      30_000,
      'targets healthy',
    );
    const player = new TrafficPlayer(sim.elbv2, sim.serving, { ratePerSecond: RATE, groups: [arn] });
    player.start();
    const nodes = nodesByWebPods(sim);
    const single = await phase(sim, player, mode, [nodes.find((n) => webPods(sim, n) === 2) ?? nodes[0]!]);
    await sim.waitFor(() => readyNodes(sim) >= 5, 30_000, 'replacement nodes');
    await sim.waitFor(
      () => sim.elbv2.health(arn).filter((h) => h.state === 'healthy').length >= 10,
      30_000,
      'targets healthy again',
    );
    const storm = await phase(sim, player, mode, nodesByWebPods(sim).slice(0, 3));
    player.stop();
    return { single, storm };
  } finally {
    await sim.stop();
  }
}

async function phase(sim: Simulator, player: TrafficPlayer, mode: Mode, nodes: string[]): Promise<Phase> {
  player.reset();
  const k8s = kubeClientsFromConfig(sim.kubeConfig());
  const elb = elbv2Client({ ...sim.awsClientConfig(), maxAttempts: 3 });
  const started = Date.now();
  const reports = await Promise.all(
    nodes.map((node) => {
      const instance = sim.aws.instanceByNodeName(node)!;
      sim.aws.interruptSpot(instance.instanceId);
      const deadline = new Date(instance.interruptionAt!);
      return drainNode(k8s, node, {
        reason: 'spot-interruption',
        deadline,
        safetyMarginMs: 1_000,
        holder: `bench-${mode}`,
        ...(mode === 'spotguard'
          ? {
              evictionGate: new TrafficDrain({
                k8s,
                elb,
                clusterName: sim.clusterName,
                trigger: 'spot-interruption',
                deadline,
                marginMs: 1_000,
                pollMs: 500,
                holder: `bench-${mode}`,
              }),
            }
          : {}),
      });
    }),
  );
  const drainMs = Date.now() - started;
  // until the instances are gone and the load balancer has settled
  await sim.waitFor(
    () => nodes.every((n) => !sim.store.get('nodes', undefined, n)),
    30_000,
    'instances gone',
  );
  await new Promise((r) => setTimeout(r, 2_000));
  const { sent, failed, byReason } = player.stats;
  const cutShort = reports.reduce(
    (n, r) => n + (r.loadBalancers?.pods.filter((p) => p.cutShortByDeadline).length ?? 0),
    0,
  );
  const reregistered = reports.reduce(
    (n, r) => n + (r.loadBalancers?.notes.filter((x) => x.includes('registered again')).length ?? 0),
    0,
  );
  return {
    sent,
    failed,
    byReason: { ...byReason } as Record<string, number>,
    cutShort,
    reregistered,
    drainMs,
  };
}

const webPods = (sim: Simulator, node: string) =>
  sim.store
    .list('pods', { nodeName: node })
    .filter((p) => p.metadata.labels?.app === 'web' && !p.metadata.deletionTimestamp).length;

function nodesByWebPods(sim: Simulator): string[] {
  return sim.store
    .list('nodes')
    .filter((n) => !n.spec?.unschedulable)
    .map((n) => n.metadata.name)
    .sort((a, b) => webPods(sim, b) - webPods(sim, a));
}

const readyNodes = (sim: Simulator) =>
  sim.store
    .list('nodes')
    .filter((n) =>
      (n.status?.conditions ?? []).some(
        (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True',
      ),
    ).length;
