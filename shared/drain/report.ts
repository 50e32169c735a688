// Human-readable plan and report tables (CLI output, logs).
import { table } from '../format/table.ts';
import type { DrainPlan, DrainReport, PodOutcome } from './types.ts';

export function formatPlan(plan: DrainPlan): string {
  const rows = plan.evictions.map((e, i) => [
    String(i + 1),
    `${e.namespace}/${e.name}`,
    `${e.gracePeriodSeconds}s`,
    String(e.priority),
    e.stateful ? `yes (${e.persistentVolumes.join(',')})` : '',
    e.budget ?? '',
    e.expectedBlocked ? 'expected to wait' : '',
  ]);
  const skipped = plan.skipped.map((s) => [`${s.namespace}/${s.name}`, s.reason, s.detail]);
  return [
    `Plan for node ${plan.node}: ${plan.evictions.length} to evict, ${plan.skipped.length} skipped; terminations done by ${plan.waitUntil}`,
    table(['#', 'POD', 'GRACE', 'PRIORITY', 'STATEFUL', 'PDB', 'BLOCKER'], rows),
    ...(skipped.length > 0 ? ['', table(['SKIPPED', 'REASON', 'WHY'], skipped)] : []),
  ].join('\n');
}

function detailOf(p: PodOutcome): string {
  switch (p.outcome) {
    case 'evicted':
      return `gone after ${p.goneAfterMs} ms${p.volumesReleasedAfterMs !== undefined ? `, volume released ${p.volumesReleasedAfterMs} ms later` : ''}`;
    case 'blocked-by-pdb':
      return p.pdb;
    case 'skipped':
      return p.reason;
    case 'failed':
      return p.error;
    default:
      return '';
  }
}

export function formatReport(report: DrainReport): string {
  if (report.dryRun)
    return `${formatPlan(report.plan)}\n(dry run: nothing changed, ${report.apiRequests} API requests)`;
  const rows = report.pods.map((p) => [`${p.namespace}/${p.name}`, p.outcome, detailOf(p)]);
  const status = report.complete
    ? 'complete'
    : report.deadlineMissed
      ? 'INCOMPLETE (deadline/timeout)'
      : 'INCOMPLETE';
  return [
    table(['POD', 'OUTCOME', 'DETAIL'], rows),
    '',
    `node ${report.node}: drain ${status}${report.joinedExistingDrain ? ' (joined a drain already running)' : ''} in ${report.durationMs} ms, ${report.apiRequests} API requests` +
      (report.cordon
        ? `; cordon acknowledged after ${report.cordon.requests} requests${report.cordon.alreadyCordonedBy ? ` (already cordoned by ${report.cordon.alreadyCordonedBy})` : ''}`
        : ''),
  ].join('\n');
}
