// The HTML report of a demo run: one self-contained file (chart.js's UMD build inlined, the run's
// data as JSON), so it opens with no network. Timelines per node and per AZ, the summary and the
// kubectl-drain comparison.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { NodeRow, Recorder } from './recorder.ts';
import type { DemoSummary } from './summary.ts';

const require = createRequire(import.meta.url);

function chartJs(): string {
  // the package's exports name only its module entry points; the UMD build sits beside them in dist/
  return readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
}

/** `</script>` inside inlined code or data would end the script element early. */
const scriptSafe = (text: string) => text.replaceAll('</script', '<\\/script');

const esc = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

export function writeReport(path: string, rec: Recorder, summary: DemoSummary, title: string): void {
  const end = rec.now();
  const rows = [...rec.nodes.values()].filter((r) => r.trigger || r.cordonAt !== undefined || r.seenAt > 0);
  const data = {
    zones: Object.keys(rec.samples[0]?.zonePods ?? {}),
    samples: rec.samples.map((s) => ({ t: s.t / 1000, zonePods: s.zonePods, states: s.states })),
    nodes: rows.map((r) => nodeBars(r, end)),
    end: end / 1000,
  };
  const summaryRows: Array<[string, string]> = [
    ['events handled', String(summary.eventsHandled)],
    ['time to cordon p50 / p99', `${summary.timeToCordonMs.p50} ms / ${summary.timeToCordonMs.p99} ms`],
    ['pods moved', `${summary.podsMoved} from ${summary.nodesDrained} nodes`],
    ['deadline misses', String(summary.deadlineMisses)],
    ['PDB violations', String(summary.pdbViolations)],
    [
      'stateful pods in their volume’s zone',
      `${summary.statefulPods - summary.statefulPodsOutOfZone} of ${summary.statefulPods}`,
    ],
    ['lifecycle hooks completed', `${summary.hooksCompleted} of ${summary.hooksTotal}`],
    [
      'zone skew before rebalancer → end',
      `${summary.zoneSkewBeforeRebalancer.max} → ${summary.zoneSkewAtEnd.max} (maxSkew ${summary.zoneSkewAtEnd.allowed})`,
    ],
    ...Object.entries(summary.features).map(([k, v]) => [k, v] as [string, string]),
  ];
  const baseline = summary.baseline as
    | { rows: Array<{ metric: string; spotguard: string; kubectl: string }>; note: string }
    | undefined;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
 body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1340px}
 h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:22px 0 8px}
 table{border-collapse:collapse} td,th{border:1px solid #ddd;padding:3px 10px;text-align:left}
 .grid{display:grid;grid-template-columns:1fr 1fr;gap:18px} .muted{color:#777}
 pre{font-size:12px;background:#f6f6f6;padding:8px;max-height:260px;overflow:auto}
</style></head><body>
<h1>${esc(title)}</h1>
<div class="muted">speed ×${summary.speed}, seed ${summary.seed}, ${summary.wallSeconds} s wall; times are seconds of this run (scenario time ÷ ${summary.speed})</div>
<div class="grid">
 <div><h2>Summary</h2><table>${summaryRows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table></div>
 <div><h2>Same storm, kubectl drain-style handling</h2>${
   baseline
     ? `<table><tr><th></th><th>spotguard</th><th>kubectl drain</th></tr>${baseline.rows
         .map(
           (r) => `<tr><th>${esc(r.metric)}</th><td>${esc(r.spotguard)}</td><td>${esc(r.kubectl)}</td></tr>`,
         )
         .join('')}</table><p class="muted">${esc(baseline.note)}</p>`
     : '<p class="muted">not run</p>'
 }</div>
</div>
<h2>Running pods per AZ</h2><canvas id="zones" height="90"></canvas>
<h2>Nodes by state</h2><canvas id="states" height="70"></canvas>
<h2>Timeline per node (nodes that were hit, or launched)</h2><canvas id="nodes" height="${40 + rows.length * 16}"></canvas>
<h2>Event log</h2><pre>${esc(rec.timeline.map((e) => `t+${(e.t / 1000).toFixed(1).padStart(6)}s  ${e.text}`).join('\n'))}</pre>
<script>${scriptSafe(chartJs())}</script>
<script>
const data = ${scriptSafe(JSON.stringify(data))};
const colors = ['#1f77b4','#ff7f0e','#2ca02c','#d62728','#9467bd'];
Chart.defaults.animation = false;
new Chart(document.getElementById('zones'), {type:'line', data:{datasets: data.zones.map((z,i)=>({label:z, borderColor:colors[i], pointRadius:0, stepped:true,
  data: data.samples.map(s=>({x:s.t, y:s.zonePods[z]}))}))}, options:{scales:{x:{type:'linear', title:{display:true,text:'s'}}, y:{beginAtZero:true}}}});
const stateColors = {ready:'#2ca02c', cordoned:'#ffbf00', draining:'#ff7f0e', launching:'#17becf', gone:'#aaaaaa'};
new Chart(document.getElementById('states'), {type:'line', data:{datasets: Object.keys(stateColors).map(k=>({label:k, fill:true, backgroundColor:stateColors[k], borderColor:stateColors[k], pointRadius:0, stepped:true,
  data: data.samples.map(s=>({x:s.t, y:s.states[k]}))}))}, options:{scales:{x:{type:'linear'}, y:{stacked:true, beginAtZero:true}}}});
const phases = [['running','#2ca02c'],['notice → cordon','#d62728'],['cordoned / draining','#ff7f0e'],['launching','#17becf']];
new Chart(document.getElementById('nodes'), {type:'bar', data:{labels: data.nodes.map(n=>n.label),
  datasets: phases.map(([p,c])=>({label:p, backgroundColor:c, data: data.nodes.map(n=>n.bars[p] ?? null), grouped:false, barPercentage:0.8}))},
  options:{indexAxis:'y', scales:{x:{type:'linear', min:0, max:data.end, title:{display:true,text:'s'}}}, plugins:{tooltip:{callbacks:{afterLabel:(c)=>data.nodes[c.dataIndex].note}}}}});
</script>
</body></html>
`;
  writeFileSync(path, html);
}

function nodeBars(r: NodeRow, endMs: number) {
  const s = (ms: number) => ms / 1000;
  const end = r.goneAt ?? endMs;
  const bars: Record<string, [number, number]> = {};
  const readyFrom = r.seenAt;
  if (r.seenAt > 0) bars.launching = [s(r.seenAt), s(r.seenAt) + 0.01];
  const runningUntil = r.triggerAt ?? r.cordonAt ?? end;
  bars.running = [s(readyFrom), s(runningUntil)];
  if (r.triggerAt !== undefined && r.cordonAt !== undefined && r.cordonAt >= r.triggerAt)
    bars['notice → cordon'] = [s(r.triggerAt), s(r.cordonAt)];
  if (r.cordonAt !== undefined) bars['cordoned / draining'] = [s(r.cordonAt), s(end)];
  return {
    label: `${r.name.replace('.ec2.internal', '')} ${r.zone.slice(-2)} ${r.capacityType === 'SPOT' ? 'spot' : 'od'}`,
    bars,
    note: [
      r.trigger ? `${r.trigger} at ${s(r.triggerAt ?? 0).toFixed(1)} s` : 'launched',
      r.deadlineAt !== undefined ? `EC2 deadline ${s(r.deadlineAt).toFixed(1)} s` : '',
      r.cordonAt !== undefined ? `${r.podsAtCordon} pods moved` : '',
      r.goneAt !== undefined ? `gone at ${s(r.goneAt).toFixed(1)} s` : '',
    ]
      .filter(Boolean)
      .join('; '),
  };
}
