// Cordon path of a spot interruption through processInput (parse → idempotency record → action),
// on the simulator with every Kubernetes and AWS call delayed by LATENCY_MS: when is the
// idempotency record written and when is the node unschedulable, from the call. Shows whether the
// record write is paid before the cordon (it should run alongside the instance → node lookup).
import { Metrics } from '@aws-lambda-powertools/metrics';
import { awsClients } from '../shared/aws/clients.ts';
import { loadConfig } from '../shared/config.ts';
import { kubeClientsFromConfig } from '../shared/k8s/client.ts';
import { createRuntime, processInput } from '../shared/runtime.ts';
import { startSimulator } from '../sim/index.ts';
import { simulatorEnvironment } from '../sim/lambda-bridge.ts';
import { spotWarning } from '../test/safety/support.ts';
import { median } from './support.ts';

const RUNS = Math.max(1, Number(process.env.BENCH_CORDON_RUNS ?? 5));
const LATENCY_MS = 40;

async function sample(): Promise<{ recordMs: number; cordonMs: number }> {
  const sim = await startSimulator({ nodes: 3, podStartMs: 50, podTerminationMs: 50 });
  try {
    sim.store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'spotguard' } });
    const env = simulatorEnvironment(sim);
    Object.assign(process.env, env, { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' });
    sim.faults.add({ latencyMs: LATENCY_MS });
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    const rt = await createRuntime({
      config: loadConfig(process.env),
      k8s: kubeClientsFromConfig(sim.kubeConfig()),
      aws: awsClients({ region: sim.region }),
      logger: quiet,
      metrics: new Metrics({ namespace: 'bench', logger: quiet as never }),
    });
    const instance = sim.aws.instances()[0]!;
    let recordAt = 0;
    let cordonAt = 0;
    const start = performance.now();
    const stop = sim.store.watch('*', (ev) => {
      if (!recordAt && ev.resource === 'configmaps' && ev.object.metadata.name.startsWith('spotguard-idem-'))
        recordAt = performance.now();
      if (
        !cordonAt &&
        ev.resource === 'nodes' &&
        ev.object.metadata.name === instance.privateDnsName &&
        ev.object.spec?.unschedulable
      )
        cordonAt = performance.now();
    });
    await processInput(rt, spotWarning(instance.instanceId, { region: sim.region }), {
      holder: 'bench',
      remainingMs: () => 150_000,
    });
    if (stop) stop();
    return { recordMs: recordAt - start, cordonMs: cordonAt - start };
  } finally {
    await sim.stop();
  }
}

export async function run() {
  const samples: Array<{ recordMs: number; cordonMs: number }> = [];
  for (let i = 0; i < RUNS; i++) {
    const s = await sample();
    samples.push(s);
    process.stderr.write(
      `  run ${i + 1}: record ${s.recordMs.toFixed(0)} ms, cordon ${s.cordonMs.toFixed(0)} ms\n`,
    );
  }
  const fmt = (xs: number[]) => `${median(xs).toFixed(0)} ms (${xs.map((x) => x.toFixed(0)).join(', ')})`;
  return {
    title: 'Cordon path: idempotency record vs cordon',
    markdown: [
      `### Cordon path: idempotency record vs cordon (${LATENCY_MS} ms per Kubernetes/AWS call, ${RUNS} runs)`,
      '',
      '| from processInput called | median (runs) |',
      '|---|---|',
      `| idempotency record stored | ${fmt(samples.map((s) => s.recordMs))} |`,
      `| node unschedulable | ${fmt(samples.map((s) => s.cordonMs))} |`,
    ].join('\n'),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().then((r) => process.stdout.write(`${r.markdown}\n`));
}
