import { runStorm } from './storm-harness.ts';

const r = await runStorm({
  nodes: Number(process.argv[2] ?? 60),
  deployments: Number(process.argv[4] ?? 8),
  statefulPerZone: 3,
  itns: Number(process.argv[3] ?? 30),
  spreadMs: 5000,
  hosts: 2,
});
const c = r.nodes.map((o) => (o.cordonAt ? o.cordonAt - o.eventAt : Infinity)).sort((a, b) => a - b);
console.log(
  JSON.stringify(
    {
      setup: r.setupMs,
      imp: r.importMs.slice(0, 3),
      cordon: c,
      errors: r.nodes
        .filter((o) => o.error)
        .map((o) => o.error)
        .slice(0, 5),
      outcomes: r.nodes.map((o) => o.outcome).slice(0, 3),
      gone: r.nodes.map((o) => `${o.goneBeforeDeadline}/${o.evictable}`).slice(0, 5),
      end: r.nodes.map((o) => o.endedAt! - o.eventAt).sort((a, b) => a - b),
      k: r.kubeRequests,
      peak: r.peakInflight,
      rej: r.rejected429,
      aws: r.awsByAction,
      thr: r.awsThrottled,
    },
    null,
    0,
  ),
);
process.exit(0);
