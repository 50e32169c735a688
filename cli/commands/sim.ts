// `spotguard sim`: runs the simulated EKS cluster (Kubernetes API, controllers, and the Auto
// Scaling / EC2 / EKS / STS / SQS endpoint) until interrupted, for use with kubectl, the AWS CLI/SDK
// or spotguard itself. Emitted EventBridge events are logged as JSON lines.
import { createWriteStream, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { ioOf, UsageError } from '../io.ts';

interface SimCommandOptions {
  nodes?: number;
  zones?: string;
  region?: string;
  spotShare?: number;
  port?: number;
  awsPort?: number;
  kubeconfigOut?: string;
  scenario?: string;
  eventsOut?: string;
  bootDelay?: number;
  notice?: number;
}

export function registerSimCommand(program: Command): void {
  program
    .command('sim')
    .description('run the simulated EKS cluster and AWS endpoints until Ctrl-C')
    .option(
      '--nodes <n>',
      'number of nodes (default layout: one spot group per zone + on-demand)',
      positiveInt,
    )
    .option('--zones <list>', 'comma-separated availability zones (default: a,b,c of the region)')
    .option('--region <region>', 'AWS region', 'us-east-1')
    .option('--spot-share <fraction>', 'share of nodes on spot, 0..1', fraction)
    .option('--port <port>', 'Kubernetes API port (default: random)', portNumber)
    .option('--aws-port <port>', 'AWS endpoint port (default: random)', portNumber)
    .option('--kubeconfig-out <file>', 'where to write the kubeconfig (default: a temporary file)')
    .option('--scenario <file>', 'scenario YAML (cluster, node groups, workloads, timed events)')
    .option('--events-out <file>', 'append emitted events as JSON lines here instead of stderr')
    .option('--boot-delay <ms>', 'time for a launched instance to join as a Ready node', positiveInt)
    .option('--notice <seconds>', 'spot interruption notice (AWS: 120)', positiveInt)
    .addHelpText(
      'after',
      '\nPrints AWS_ENDPOINT_URL=… and KUBECONFIG=… (source them into a shell), then runs until SIGINT/SIGTERM.',
    )
    .action(async (options: SimCommandOptions, cmd: Command) => {
      const io = ioOf(cmd);
      const { startSimulator } = await import('../../sim/index.ts');
      const zones = options.zones
        ?.split(',')
        .map((z) => z.trim())
        .filter(Boolean);
      if (zones && zones.length === 0) throw new UsageError('--zones: give at least one zone');
      const sim = await startSimulator({
        region: options.region ?? 'us-east-1',
        ...(zones ? { zones } : {}),
        ...(options.nodes !== undefined ? { nodes: options.nodes } : {}),
        ...(options.spotShare !== undefined ? { spotShare: options.spotShare } : {}),
        ...(options.port !== undefined ? { port: options.port } : {}),
        ...(options.awsPort !== undefined ? { awsPort: options.awsPort } : {}),
        ...(options.scenario ? { scenario: options.scenario } : {}),
        ...(options.bootDelay !== undefined ? { bootDelayMs: options.bootDelay } : {}),
        ...(options.notice !== undefined ? { interruptionNoticeMs: options.notice * 1000 } : {}),
        onScenarioError: (error, event) => io.err(`scenario event at ${event.at} failed: ${error.message}\n`),
      });
      const eventsOut = options.eventsOut ? createWriteStream(options.eventsOut, { flags: 'a' }) : undefined;
      sim.events.subscribe((event) => {
        const line = `${JSON.stringify(event)}\n`;
        if (eventsOut) eventsOut.write(line);
        else io.err(line);
      });
      try {
        await waitUntilApiAnswers(sim.k8sUrl);
        const kubeconfigPath =
          options.kubeconfigOut ?? join(await mkdtemp(join(tmpdir(), 'spotguard-sim-')), 'kubeconfig');
        writeFileSync(kubeconfigPath, sim.kubeconfig, { mode: 0o600 });
        io.out(`AWS_ENDPOINT_URL=${sim.awsEndpoint}\n`);
        io.out(`KUBECONFIG=${kubeconfigPath}\n`);
        io.out(`AWS_REGION=${sim.region}\n`);
        io.out(`CLUSTER_NAME=${sim.clusterName}\n`);
        await untilSignal();
      } finally {
        await sim.stop();
        await new Promise<void>((resolve) => (eventsOut ? eventsOut.end(resolve) : resolve()));
      }
    });
}

/** The kubeconfig is written only once the API serves requests, so a watcher of the file can use it at once. */
async function waitUntilApiAnswers(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const response = await fetch(`${url}/version`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`the simulated Kubernetes API at ${url} did not answer within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve(signal);
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

function portNumber(value: string): number {
  const n = positiveInt(value);
  if (n > 65_535) throw new InvalidArgumentError('expected a port number 0..65535');
  return n;
}

function fraction(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('expected a number between 0 and 1');
  return n;
}
