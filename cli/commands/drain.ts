// `spotguard drain | uncordon | status`: the drain engine by hand, against whatever the kubeconfig
// points at (a real cluster or the simulator).
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { cordonNode, drainNode, nodeDrainStatus, uncordonNode } from '../../shared/drain/index.ts';
import { formatReport } from '../../shared/drain/report.ts';
import type { DrainProgress } from '../../shared/drain/types.ts';
import { type KubeClients, kubeClientsFromKubeconfig } from '../../shared/k8s/client.ts';
import { listNodes } from '../../shared/k8s/nodes.ts';
import { instanceIdFromProviderId } from '../../shared/resolve/node-resolver.ts';
import { EXIT_FAILURE, ioOf, setExitCode, UsageError } from '../io.ts';

interface DrainFlags {
  reason: string;
  dryRun?: boolean;
  timeout?: string;
  deadline?: string;
  gracePeriod?: string;
  force?: boolean;
  deleteEmptydirData: boolean;
  mode?: string;
  podEvents?: string;
  cordonOnly?: boolean;
  json?: boolean;
  kubeconfig?: string;
}

export function registerDrainCommands(program: Command): void {
  program
    .command('drain')
    .description('cordon + taint the node in one request, then evict its pods (PDB-aware, stateful first)')
    .argument('<node>', 'node name or EC2 instance id (i-…)')
    .requiredOption('--reason <reason>', 'why: becomes the taint spotguard.io/<reason> (e.g. maintenance)')
    .option('--dry-run', 'print the plan (order, grace, expected PDB blockers) and change nothing')
    .option('--timeout <duration>', 'how long to wait for pods to go (e.g. 90s, 5m; default 10m)')
    .option('--deadline <iso-time>', 'the instance is gone at this time: grace periods are capped to fit')
    .option('--grace-period <seconds>', "override every pod's terminationGracePeriodSeconds")
    .option('--force', 'also evict pods no controller would recreate')
    .option('--delete-emptydir-data [bool]', 'evict pods using emptyDir (default true)', parseBool, true)
    .option('--mode <evict|delete>', "'delete' bypasses PodDisruptionBudgets", 'evict')
    .option('--pod-events <problems|all>', 'Kubernetes Events per pod', 'problems')
    .option('--cordon-only', 'cordon and taint, evict nothing')
    .option('--json', 'print the full report as JSON instead of a table')
    .option('--kubeconfig <path>', 'kubeconfig (default $SPOTGUARD_KUBECONFIG, $KUBECONFIG, ~/.kube/config)')
    .action(async (target: string, flags: DrainFlags, cmd: Command) => {
      const io = ioOf(cmd);
      const k8s = clientsFor(flags.kubeconfig);
      const node = await resolveNode(k8s, target);
      const holder = `cli-${hostname()}-${process.pid}`;
      if (flags.cordonOnly) {
        const result = await cordonNode(k8s, node, { reason: flags.reason, holder });
        io.out(
          flags.json
            ? `${JSON.stringify(result, null, 2)}\n`
            : `node ${node} cordoned (${result.changed ? 'changed' : 'already cordoned'})\n`,
        );
        return;
      }
      const report = await drainNode(k8s, node, {
        reason: flags.reason,
        holder,
        dryRun: flags.dryRun ?? false,
        ...(flags.timeout ? { timeoutMs: parseDuration(flags.timeout) } : {}),
        ...(flags.deadline ? { deadline: parseTime(flags.deadline) } : {}),
        ...(flags.gracePeriod !== undefined
          ? { gracePeriodSeconds: parseCount(flags.gracePeriod, '--grace-period') }
          : {}),
        force: flags.force ?? false,
        deleteEmptyDirData: flags.deleteEmptydirData,
        evictionMode: oneOf(flags.mode ?? 'evict', ['evict', 'delete'] as const, '--mode'),
        podEvents: oneOf(flags.podEvents ?? 'problems', ['problems', 'all'] as const, '--pod-events'),
        onProgress: progressPrinter((line) => io.err(line)),
      });
      io.out(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
      if (!report.dryRun && !report.complete) setExitCode(cmd, EXIT_FAILURE);
    });

  program
    .command('uncordon')
    .description("undo spotguard's cordon: its taints and annotations; keeps a cordon someone else set first")
    .argument('<node>', 'node name or EC2 instance id (i-…)')
    .option('--reason <reason>', 'only if spotguard cordoned it for this reason')
    .option(
      '--any',
      'also make the node schedulable when it was cordoned before spotguard (like kubectl uncordon)',
    )
    .option('--kubeconfig <path>', 'kubeconfig')
    .action(
      async (
        target: string,
        flags: { reason?: string; any?: boolean; kubeconfig?: string },
        cmd: Command,
      ) => {
        const k8s = clientsFor(flags.kubeconfig);
        const node = await resolveNode(k8s, target);
        const result = await uncordonNode(k8s, node, {
          onlyIfCordonedBy: flags.any ? 'anyone' : 'spotguard',
          ...(flags.reason ? { reason: flags.reason } : {}),
        });
        ioOf(cmd).out(
          `node ${node}: ${result.detail}${result.leftCordoned ? ' (still unschedulable)' : ''}\n`,
        );
      },
    );

  program
    .command('status')
    .description(
      'what spotguard did to a node (cordon, taints, drain lease) and what a drain would still evict',
    )
    .argument('<node>', 'node name or EC2 instance id (i-…)')
    .option('--kubeconfig <path>', 'kubeconfig')
    .action(async (target: string, flags: { kubeconfig?: string }, cmd: Command) => {
      const k8s = clientsFor(flags.kubeconfig);
      const node = await resolveNode(k8s, target);
      ioOf(cmd).out(`${JSON.stringify(await nodeDrainStatus(k8s, node), null, 2)}\n`);
    });
}

function clientsFor(kubeconfig: string | undefined): KubeClients {
  const path = kubeconfig ?? process.env.SPOTGUARD_KUBECONFIG ?? undefined;
  return kubeClientsFromKubeconfig(path);
}

/** An instance id is matched against the nodes' providerID (aws:///<az>/<id>): no EC2 call needed. */
async function resolveNode(k8s: KubeClients, target: string): Promise<string> {
  if (!/^i-[0-9a-f]{8,17}$/.test(target)) return target;
  const node = (await listNodes(k8s)).find((n) => instanceIdFromProviderId(n.spec?.providerID) === target);
  if (!node?.metadata?.name) throw new UsageError(`no node has providerID ending in ${target}`);
  return node.metadata.name;
}

/** Prints a line when something worth seeing changed: pods left, budgets blocking. */
export function progressPrinter(write: (line: string) => void): (p: DrainProgress) => void {
  let last = '';
  let lastAt = 0;
  return (p) => {
    const blockers = p.blockers.map((b) => `${b.budget} (${b.waiting})`).join(', ');
    const line = `[${(p.elapsedMs / 1000).toFixed(1)}s] ${p.phase}: ${p.podsLeft}/${p.podsTotal} pods left${blockers ? `; blocked by ${blockers}` : ''}`;
    const key = `${p.phase}|${p.podsLeft}|${blockers}`;
    const now = Date.now();
    if (key === last || (p.phase === 'waiting' && now - lastAt < 250 && p.podsLeft > 0)) return;
    last = key;
    lastAt = now;
    write(`${line}\n`);
  };
}

export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`--timeout: "${text}" is not a duration (e.g. 90s, 5m, 1h)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(match[1]) * unit);
}

function parseTime(text: string): Date {
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new UsageError(`--deadline: "${text}" is not an ISO 8601 time`);
  return date;
}

function parseCount(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`${flag}: "${text}" is not a whole number of seconds`);
  return n;
}

function parseBool(text: string | undefined): boolean {
  if (text === undefined || text === 'true') return true;
  if (text === 'false') return false;
  throw new UsageError(`expected true or false, got "${text}"`);
}

function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${flag}: "${value}" is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}
