// Runtime for CLI commands: the same createRuntime the Lambda functions use, with Kubernetes from a
// kubeconfig, AWS from the default chain (AWS_ENDPOINT_URL reaches the simulator), logs on stderr
// and metrics kept off stdout.
import { Metrics } from '@aws-lambda-powertools/metrics';
import { loadConfig } from '../shared/config.ts';
import { kubeClientsFromKubeconfig } from '../shared/k8s/client.ts';
import { createRuntime, type InvocationContext, type Runtime } from '../shared/runtime.ts';
import type { CliIO } from './io.ts';

export function stderrLogger(io: CliIO, verbose: boolean) {
  const write =
    (level: string) =>
    (message: string, ...extra: unknown[]) => {
      if (!verbose && (level === 'debug' || level === 'info')) return;
      const details = extra.length ? ` ${extra.map((e) => JSON.stringify(e)).join(' ')}` : '';
      io.err(`[${level}] ${message}${details}\n`);
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

export async function cliRuntime(opts: {
  kubeconfig?: string;
  io: CliIO;
  verbose?: boolean;
}): Promise<Runtime> {
  const env = { ...process.env };
  // The CLI talks to whatever the kubeconfig points at; a region is still needed for the SDK.
  env.AWS_REGION ??= env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const config = loadConfig(env);
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  return createRuntime({
    config,
    k8s: kubeClientsFromKubeconfig(opts.kubeconfig ?? env.SPOTGUARD_KUBECONFIG ?? env.KUBECONFIG),
    logger: stderrLogger(opts.io, opts.verbose ?? false),
    metrics: new Metrics({ namespace: 'Spotguard', serviceName: 'spotguard-cli', logger: quiet as never }),
  });
}

export function cliInvocation(dryRun: boolean): InvocationContext {
  return { holder: `cli-${process.pid}`, remainingMs: () => Number.POSITIVE_INFINITY, dryRun };
}
