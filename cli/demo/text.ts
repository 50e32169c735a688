// The closing summary as people read it.
import type { DemoSummary, ZoneSkew } from './summary.ts';

const mark = (ok: boolean) => (ok ? '✔' : '✘');

const skewLine = (s: ZoneSkew) =>
  Object.entries(s.perDeployment)
    .map(([name, d]) => `${name} ${Object.values(d.perZone).join('/')}`)
    .join(', ');

export function summaryText(s: DemoSummary): string {
  const lines = [
    '',
    `spotguard demo: ${s.eventsHandled} events handled (${s.awsEvents} AWS events emitted), ${s.wallSeconds} s wall at ×${s.speed}`,
    `  time to cordon       p50 ${s.timeToCordonMs.p50} ms, p99 ${s.timeToCordonMs.p99} ms (${s.timeToCordonMs.n} nodes)`,
    `  pods moved           ${s.podsMoved} from ${s.nodesDrained} nodes`,
    `  ${mark(s.deadlineMisses === 0)} deadline misses     ${s.deadlineMisses}`,
    `  ${mark(s.pdbViolations === 0)} PDB violations      ${s.pdbViolations}`,
    `  ${mark(s.statefulPodsOutOfZone === 0)} stateful pods       ${s.statefulPods - s.statefulPodsOutOfZone} of ${s.statefulPods} running in their volume's zone`,
    `  ${mark(s.hooksCompleted === s.hooksTotal)} lifecycle hooks     ${s.hooksCompleted} of ${s.hooksTotal} completed by spotguard`,
    `  ${mark(s.zoneSkewAtEnd.max <= s.zoneSkewAtEnd.allowed)} zone skew           ${s.zoneSkewBeforeRebalancer.max} before the rebalancer, ${s.zoneSkewAtEnd.max} at the end (maxSkew ${s.zoneSkewAtEnd.allowed}; pods per zone: ${skewLine(s.zoneSkewAtEnd)})`,
    `  on-demand fallback   ${s.features.fallback}`,
    `  AZ rebalancer        ${s.features.rebalancer}`,
    `  ${mark(s.settled && s.failedEvents === 0 && s.deadLetters === 0)} cluster            ${s.settled ? 'settled' : 'NOT settled'}, ${s.failedEvents} failed events, ${s.deadLetters} dead-lettered`,
  ];
  const b = s.baseline as
    | { rows: Array<{ metric: string; spotguard: string; kubectl: string }>; note: string }
    | undefined;
  if (b) {
    lines.push('', '  the same storm, kubectl drain-style handling:');
    const w = Math.max(...b.rows.map((r) => r.metric.length));
    lines.push(`    ${''.padEnd(w)}  ${'spotguard'.padEnd(14)}  kubectl drain`);
    for (const r of b.rows) lines.push(`    ${r.metric.padEnd(w)}  ${r.spotguard.padEnd(14)}  ${r.kubectl}`);
    lines.push(`    ${b.note}`);
  }
  if (s.reportPath) lines.push('', `report: ${s.reportPath}`);
  return `${lines.join('\n')}\n`;
}
