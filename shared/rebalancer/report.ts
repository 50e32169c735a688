// The rebalancer's report as a table for people (CLI, logs): per workload, zone counts before →
// planned → after, moves planned / made / blocked and why.
import { table } from '../format/table.ts';
import type { RebalancerReport } from './run.ts';

const counts = (c: Record<string, number> | undefined) =>
  c
    ? Object.entries(c)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([, n]) => n)
        .join('/')
    : '-';

export function formatRebalanceReport(report: RebalancerReport): string {
  const zones = [
    ...new Set(report.workloads.flatMap((w) => w.constraints.flatMap((c) => Object.keys(c.before)))),
  ].sort();
  const rows = report.workloads.map((w) => {
    const c = w.constraints[0];
    return [
      w.workload,
      c ? `${c.maxSkew}` : '-',
      counts(c?.before),
      counts(c?.planned),
      report.dryRun ? '(dry run)' : counts(w.after),
      String(w.planned),
      report.dryRun ? '-' : String(w.made),
      w.blocked.join('; '),
    ];
  });
  const head = `rebalance (${report.trigger}${report.dryRun ? ', dry run' : ''}): zones ${zones.join('/') || '-'}`;
  const tail = report.nothingBecause
    ? `nothing to do: ${report.nothingBecause}`
    : `${report.evictions} eviction(s)${report.dryRun ? ' (none made: dry run)' : ''}`;
  return [
    head,
    table(['WORKLOAD', 'MAXSKEW', 'BEFORE', 'PLANNED', 'AFTER', 'PLANNED MOVES', 'MADE', 'BLOCKED'], rows),
    '',
    tail,
  ].join('\n');
}
