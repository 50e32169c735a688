// `spotguard drain | uncordon | status`: the manual action by hand. The flags become the same
// payload the manual Lambda takes (one rule for both, shared/events/manual.ts), run here against
// the kubeconfig's cluster or, with --via-lambda, by the deployed function with your IAM identity.
import { hostname, userInfo } from 'node:os';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { Command } from 'commander';
import type { HandleReport } from '../../shared/actions/types.ts';
import { formatReport } from '../../shared/drain/report.ts';
import type { DrainProgress } from '../../shared/drain/types.ts';
import { parse } from '../../shared/events/parse.ts';
import type { ManualEvent } from '../../shared/events/types.ts';
import { createEksToken } from '../../shared/k8s/eks-token.ts';
import { onManual } from '../../shared/plans/manual.ts';
import { MANUAL_IDENTITY_AUDIENCE } from '../../shared/plans/manual-identity.ts';
import type { ManualStatus } from '../../shared/plans/manual-runners.ts';
import { depsFor } from '../../shared/runtime.ts';
import { type CliIO, EXIT_FAILURE, ioOf, processIO, setExitCode, UsageError } from '../io.ts';
import { cliInvocation, cliRuntime } from '../runtime.ts';

interface Common {
  kubeconfig?: string;
  viaLambda?: boolean;
  function?: string;
  output: string;
  dryRun?: boolean;
  overrideSafety?: boolean;
  requestId?: string;
}
type Report = HandleReport & { principal?: string; manualStatus?: ManualStatus };

function common(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <path>', 'kubeconfig (default $SPOTGUARD_KUBECONFIG, $KUBECONFIG, ~/.kube/config)')
    .option('--via-lambda', 'run it in the deployed manual function, as your IAM identity')
    .option(
      '--function <name>',
      'the manual function (default $SPOTGUARD_MANUAL_FUNCTION or spotguard-dev-manual)',
    )
    .option('--output <table|json>', 'final output', 'table')
    .option('--dry-run', 'say what would be done, change nothing')
    .option(
      '--override-safety',
      'act despite a safety refusal (last node of a zone with zonal volumes, too much cordoned, other cluster)',
    )
    .option('--request-id <id>', 'makes a retry of this request a no-op (otherwise every request runs)');
}

const target = (t: string | undefined) =>
  t === undefined ? {} : /^i-[0-9a-f]{8,17}$/.test(t) ? { instanceId: t } : { node: t };

export function registerDrainCommands(program: Command): void {
  common(
    program
      .command('drain')
      .description('cordon + taint spotguard.io/manual, then evict the pods (PDB-aware, stateful first)')
      .argument('<node>', 'node name or EC2 instance id (i-…)')
      .requiredOption(
        '--reason <text>',
        'why, as you would say it ("INC-4711: disk pressure"): on the node, in the Event and the report',
      )
      .option('--timeout <duration>', 'how long to wait for pods to go (e.g. 90s, 5m; default 10m)')
      .option('--grace-period <seconds>', "override every pod's terminationGracePeriodSeconds")
      .option('--force', 'also evict pods no controller would recreate')
      .option('--delete-emptydir-data [bool]', 'evict pods using emptyDir (default true)', parseBool, true)
      .option('--bypass-pdb', 'DELETE pods instead of evicting: ignores PodDisruptionBudgets'),
  ).action(async (t: string, f: Common & Record<string, unknown>, cmd: Command) => {
    if (f.bypassPdb)
      ioOf(cmd).err(
        paint(
          ioOf(cmd),
          'red',
          'WARNING: --bypass-pdb deletes pods without asking their PodDisruptionBudgets: availability is not protected\n',
        ),
      );
    await runManual(cmd, f, {
      action: 'drain',
      ...target(t),
      reason: f.reason,
      force: f.force === true,
      deleteEmptyDirData: f.deleteEmptydirData,
      bypassPdb: f.bypassPdb === true,
      ...(f.timeout
        ? { timeoutSeconds: Math.max(1, Math.round(parseDuration(String(f.timeout)) / 1000)) }
        : {}),
      ...(f.gracePeriod !== undefined ? { gracePeriodSeconds: parseCount(String(f.gracePeriod)) } : {}),
    });
  });

  common(
    program
      .command('uncordon')
      .description("undo spotguard's cordon and taint; a cordon someone else set is kept unless --force")
      .argument('<node>', 'node name or EC2 instance id (i-…)')
      .option('--reason <text>', 'why (recorded in the Event)')
      .option('--only-if-reason <reason>', 'only if spotguard cordoned it for exactly this reason')
      .option('--force', 'make the node schedulable whoever cordoned it (like kubectl uncordon)'),
  ).action(async (t: string, f: Common & Record<string, unknown>, cmd: Command) => {
    await runManual(cmd, f, {
      action: 'uncordon',
      ...target(t),
      force: f.force === true,
      ...(f.reason ? { reason: f.reason } : {}),
      ...(f.onlyIfReason ? { onlyIfReason: f.onlyIfReason } : {}),
    });
  });

  common(
    program
      .command('status')
      .description(
        'every node spotguard is working on or cordoned (or one node): reason, age, pods left, PDBs blocking, hooks pending, fallbacks',
      )
      .argument('[node]', 'node name or EC2 instance id (i-…)'),
  ).action(async (t: string | undefined, f: Common, cmd: Command) => {
    await runManual(cmd, f, { action: 'status', ...target(t) });
  });
}

async function runManual(cmd: Command, f: Common, fields: Record<string, unknown>): Promise<void> {
  const io = ioOf(cmd);
  if (f.output !== 'table' && f.output !== 'json')
    throw new UsageError(`--output: "${f.output}" is not table or json`);
  const payload = {
    spotguard: 'manual',
    ...fields,
    dryRun: f.dryRun === true,
    overrideSafety: f.overrideSafety === true,
    requestedBy: `${userInfo().username}@${hostname()}`,
    ...(f.requestId ? { requestId: f.requestId } : {}),
  };
  // the same parser the Lambda uses: a payload the function would refuse is refused here
  const event = parse(payload)[0] as ManualEvent;
  const report = f.viaLambda ? await viaLambda(io, f, payload) : await locally(io, f, event);
  io.out(f.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : `${table(io, report)}\n`);
  if (!['handled'].includes(report.outcome)) setExitCode(cmd, EXIT_FAILURE);
}

async function locally(io: CliIO, f: Common, event: ManualEvent): Promise<Report> {
  const rt = await cliRuntime({ io, ...(f.kubeconfig ? { kubeconfig: f.kubeconfig } : {}) });
  const principal = `local user ${userInfo().username}@${hostname()} (kubeconfig credentials)`;
  return (await onManual(event, depsFor(rt, cliInvocation(false)), {
    principal,
    verified: false,
    onProgress: progressPrinter((line) => io.err(line)),
  })) as Report;
}

async function viaLambda(io: CliIO, f: Common, payload: Record<string, unknown>): Promise<Report> {
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const credentials = defaultProvider();
  const stsEndpoint = process.env.AWS_ENDPOINT_URL_STS ?? process.env.AWS_ENDPOINT_URL;
  // proves who we are to the function (it replays this presigned GetCallerIdentity against STS)
  const { token } = await createEksToken({
    clusterName: MANUAL_IDENTITY_AUDIENCE,
    region,
    credentials,
    ...(stsEndpoint ? { stsEndpoint } : {}),
  });
  const name = f.function ?? process.env.SPOTGUARD_MANUAL_FUNCTION ?? 'spotguard-dev-manual';
  const started = Date.now();
  const ticker = setInterval(
    () => io.err(`[${((Date.now() - started) / 1000).toFixed(0)}s] waiting for ${name}…\n`),
    5000,
  );
  try {
    const out = await new LambdaClient({ region, credentials }).send(
      new InvokeCommand({
        FunctionName: name,
        Payload: Buffer.from(JSON.stringify({ ...payload, identityToken: token })),
      }),
    );
    const body = JSON.parse(Buffer.from(out.Payload ?? []).toString('utf8') || 'null');
    if (out.FunctionError) throw new Error(`${name} failed: ${body?.errorMessage ?? JSON.stringify(body)}`);
    return (body as { reports: Report[] }).reports[0]!;
  } finally {
    clearInterval(ticker);
  }
}

const COLORS = { red: 31, green: 32, yellow: 33, bold: 1 } as const;
function paint(io: CliIO, color: keyof typeof COLORS, text: string): string {
  const tty = io === processIO && process.stderr.isTTY && !process.env.NO_COLOR;
  return tty ? `\u001b[${COLORS[color]}m${text}\u001b[0m` : text;
}

function table(io: CliIO, r: Report): string {
  const color = r.outcome === 'handled' ? 'green' : r.outcome === 'refused' ? 'yellow' : 'red';
  const lines = [paint(io, color, `${r.outcome.toUpperCase()}: ${r.summary}`)];
  if (r.drain) lines.push(formatReport(r.drain));
  if (r.principal) lines.push(`requested by: ${r.principal}`);
  const s = r.manualStatus;
  if (s) {
    const rows = [['NODE', 'REASON', 'AGE', 'PODS LEFT', 'PDBS BLOCKING', 'REQUESTED BY']];
    for (const n of s.nodes) {
      rows.push([
        n.node,
        n.manualReason ?? n.cordonReason ?? (n.exists ? '-' : 'no such node'),
        n.ageSeconds !== undefined ? `${n.ageSeconds}s` : '-',
        String(n.podsToEvict),
        n.pdbsBlocking.join(',') || '-',
        n.requestedBy ?? '-',
      ]);
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
    lines.push(
      ...rows.map((row) =>
        row
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      ),
    );
    lines.push(
      `hooks pending: ${s.hooksPending.map((h) => `${h.instanceId} (${h.group} ${h.state})`).join(', ') || 'none'}`,
    );
    lines.push(
      `fallbacks in effect: ${s.fallbacks.map((x) => `${x.group}: ${x.value}`).join('; ') || 'none'}`,
    );
  }
  return lines.join('\n');
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

function parseCount(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`--grace-period: "${text}" is not a whole number of seconds`);
  return n;
}

function parseBool(text: string | undefined): boolean {
  if (text === undefined || text === 'true') return true;
  if (text === 'false') return false;
  throw new UsageError(`expected true or false, got "${text}"`);
}
