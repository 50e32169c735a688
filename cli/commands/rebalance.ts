// `spotguard rebalance`: the AZ rebalancer by hand, against whatever the kubeconfig points at
// (a real cluster or the simulator): the same runRebalancer the Lambda function calls.
import type { Command } from 'commander';
import { loadConfig } from '../../shared/config.ts';
import { kubeClientsFromKubeconfig } from '../../shared/k8s/client.ts';
import { formatRebalanceReport } from '../../shared/rebalancer/report.ts';
import { runRebalancer } from '../../shared/rebalancer/run.ts';
import { EXIT_FAILURE, ioOf, setExitCode, UsageError } from '../io.ts';

interface RebalanceFlags {
  dryRun?: boolean;
  namespace?: string;
  maxEvictions?: string;
  kubeconfig?: string;
  json?: boolean;
}

export function registerRebalanceCommand(program: Command): void {
  program
    .command('rebalance')
    .description('spread pods across zones again: the fewest evictions that bring zone spread within maxSkew')
    .option(
      '--dry-run',
      'print the plan (zone counts before → planned, moves and blockers) and evict nothing',
    )
    .option('--namespace <ns>', 'only workloads in this namespace')
    .option('--max-evictions <n>', 'evictions in this run at most')
    .option('--kubeconfig <path>', 'kubeconfig (default $SPOTGUARD_KUBECONFIG, $KUBECONFIG, ~/.kube/config)')
    .option('--json', 'print the full report as JSON instead of a table')
    .action(async (flags: RebalanceFlags, cmd: Command) => {
      const io = ioOf(cmd);
      let maxEvictions: number | undefined;
      if (flags.maxEvictions !== undefined) {
        maxEvictions = Number(flags.maxEvictions);
        if (!Number.isInteger(maxEvictions) || maxEvictions < 1)
          throw new UsageError(`--max-evictions must be a positive integer, got "${flags.maxEvictions}"`);
      }
      const k8s = kubeClientsFromKubeconfig(
        flags.kubeconfig ?? process.env.SPOTGUARD_KUBECONFIG ?? undefined,
      );
      const report = await runRebalancer(
        { k8s, namespace: loadConfig().namespace, onProgress: (line) => io.err(`${line}\n`) },
        {
          trigger: 'cli',
          dryRun: flags.dryRun ?? false,
          ...(flags.namespace ? { namespaces: [flags.namespace] } : {}),
          ...(maxEvictions ? { maxEvictionsPerRun: maxEvictions } : {}),
        },
      );
      io.out(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatRebalanceReport(report)}\n`);
      if (report.plan && !report.plan.ok) setExitCode(cmd, EXIT_FAILURE);
    });
}
