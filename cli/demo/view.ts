// The live view: what the recorder sees, as one snapshot (viewModel), drawn in place with ink
// (liveView) or, without a terminal (--no-tty, CI), as plain lines (plainLines).
import { Box, render, Text } from 'ink';
import { createElement as h, type ReactNode, useEffect, useState } from 'react';
import type { Simulator } from '../../sim/index.ts';
import type { NodeRow, Recorder } from './recorder.ts';

export interface ViewExtras {
  title: string;
  speed: number;
  hooksCompleted: () => number;
  features: Record<string, string>;
}

export interface ViewModel {
  t: number;
  zones: Array<{
    zone: string;
    ready: number;
    draining: number;
    launching: number;
    gone: number;
    pods: number;
  }>;
  nodes: Record<string, NodeRow[]>;
  hooksPending: number;
  hooksCompleted: number;
  pdbWaits: string[];
  alarms: string[];
  /** on-demand instances in service / desired: the fallback shows here */
  onDemand: string;
  recent: string[];
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

export function viewModel(sim: Simulator, rec: Recorder, x: ViewExtras): ViewModel {
  const rows = [...rec.nodes.values()];
  const last = rec.samples.at(-1);
  const cordoned = new Set(
    rows.filter((r) => r.cordonAt !== undefined && r.state !== 'gone').map((r) => r.name),
  );
  const pdbWaits = sim.store
    .list('poddisruptionbudgets')
    .filter((pdb) => pdb.status?.disruptionsAllowed === 0)
    .filter((pdb) => {
      const sel: Record<string, string> = pdb.spec?.selector?.matchLabels ?? {};
      return sim.store
        .list('pods', { namespace: pdb.metadata.namespace })
        .some(
          (p) =>
            cordoned.has(p.spec?.nodeName) &&
            !p.metadata.deletionTimestamp &&
            Object.entries(sel).every(([k, v]) => p.metadata.labels?.[k] === v),
        );
    })
    .map((pdb) => `${pdb.metadata.namespace}/${pdb.metadata.name}`);
  const nodes: Record<string, NodeRow[]> = Object.fromEntries(sim.zones.map((z) => [z, []]));
  // a node gone for a while leaves the list (the zone's count keeps it)
  for (const r of rows.filter((r) => r.goneAt === undefined || rec.now() - r.goneAt < 3000)) {
    nodes[r.zone] ??= [];
    nodes[r.zone]!.push(r);
  }
  return {
    t: rec.now(),
    zones: sim.zones.map((zone) => {
      const inZone = rows.filter((r) => r.zone === zone);
      const count = (s: NodeRow['state'][]) => inZone.filter((r) => s.includes(r.state)).length;
      return {
        zone,
        ready: count(['ready']),
        draining: count(['cordoned', 'draining']),
        launching: count(['launching']),
        gone: count(['gone']),
        pods: last?.zonePods[zone] ?? 0,
      };
    }),
    nodes,
    hooksPending: sim.aws.pendingActions().length,
    hooksCompleted: x.hooksCompleted(),
    pdbWaits,
    onDemand: onDemandCapacity(sim),
    alarms: [...rec.alarms.values()].map((a) => `${a.name} ${a.state} since t+${secs(a.since)}`),
    recent: rec.timeline.slice(-8).map((e) => `t+${secs(e.t).padStart(6)}  ${e.text}`),
  };
}

function onDemandCapacity(sim: Simulator): string {
  let inService = 0;
  let desired = 0;
  for (const g of sim.aws.groups()) {
    const instances = sim.aws.groupInstances(g);
    if (!instances.some((i) => i.capacityType === 'ON_DEMAND')) continue;
    desired += g.desiredCapacity;
    inService += instances.filter(
      (i) => i.capacityType === 'ON_DEMAND' && i.lifecycleState === 'InService',
    ).length;
  }
  return `${inService} in service (desired ${desired})`;
}

export function nodeCell(r: NodeRow, now: number): string {
  const short = r.name.replace('.ec2.internal', '');
  const kind = r.capacityType === 'SPOT' ? 'spot' : 'od  ';
  let state: string = r.state;
  if (r.state === 'ready' && r.trigger) state = 'notice';
  if (r.state === 'draining' || r.state === 'cordoned')
    state = `${r.podsLeft === 0 ? 'drained' : r.state} ${r.podsAtCordon - r.podsLeft}/${r.podsAtCordon}`;
  if (r.deadlineAt !== undefined && r.state !== 'gone')
    state += ` (${Math.max(0, Math.ceil((r.deadlineAt - now) / 1000))}s left)`;
  return `${short.padEnd(15)} ${kind} ${state}`;
}

const stateColor: Record<string, string> = {
  ready: 'green',
  launching: 'cyan',
  cordoned: 'yellow',
  draining: 'yellow',
  gone: 'gray',
};

function App(props: { snapshot: () => ViewModel; x: ViewExtras }): ReactNode {
  const [m, setM] = useState(props.snapshot());
  useEffect(() => {
    const timer = setInterval(() => setM(props.snapshot()), 200);
    return () => clearInterval(timer);
  }, [props.snapshot]);
  const { x } = props;
  return h(
    Box,
    { flexDirection: 'column' },
    h(Text, { bold: true }, `${x.title}  t+${secs(m.t)}  (time ×${x.speed})`),
    h(
      Box,
      { marginTop: 1 },
      ...m.zones.map((z) =>
        h(
          Box,
          { key: z.zone, flexDirection: 'column', width: 48 },
          h(Text, { bold: true, underline: true }, `${z.zone}  pods ${z.pods}`),
          h(
            Text,
            { dimColor: true },
            `ready ${z.ready}  draining ${z.draining}  launching ${z.launching}  gone ${z.gone}`,
          ),
          ...(m.nodes[z.zone] ?? []).map((r) =>
            h(Text, { key: r.name, color: stateColor[r.state] ?? 'white' }, nodeCell(r, m.t)),
          ),
        ),
      ),
    ),
    h(
      Box,
      { marginTop: 1, flexDirection: 'column' },
      h(
        Text,
        null,
        `lifecycle hooks: ${m.hooksPending} pending, ${m.hooksCompleted} completed    PDB waits: ${m.pdbWaits.length ? m.pdbWaits.join(', ') : 'none'}`,
      ),
      h(Text, null, `alarms: ${m.alarms.length ? m.alarms.join('; ') : 'none'}`),
      h(
        Text,
        null,
        `on-demand: ${m.onDemand}; fallback ${x.features.fallback}    AZ rebalancer: ${x.features.rebalancer}`,
      ),
    ),
    h(
      Box,
      { marginTop: 1, flexDirection: 'column' },
      ...m.recent.map((line, i) => h(Text, { key: String(i), dimColor: i < m.recent.length - 3 }, line)),
    ),
  );
}

/** Draws the view in place until the returned stop() is called. */
export function liveView(snapshot: () => ViewModel, x: ViewExtras): () => void {
  const instance = render(h(App, { snapshot, x }), { stdout: process.stderr, patchConsole: false });
  return () => {
    instance.rerender(h(App, { snapshot, x }));
    instance.unmount();
  };
}

/** Plain lines for CI: every timeline entry as it happens, and a status line every few seconds. */
export function plainLines(rec: Recorder, snapshot: () => ViewModel, write: (s: string) => void): () => void {
  let printed = 0;
  let lastStatus = 0;
  const tick = () => {
    for (; printed < rec.timeline.length; printed++) {
      const e = rec.timeline[printed]!;
      write(`t+${secs(e.t).padStart(6)}  ${e.text}\n`);
    }
    if (rec.now() - lastStatus >= 5000) {
      lastStatus = rec.now();
      const m = snapshot();
      const zones = m.zones
        .map(
          (z) =>
            `${z.zone}: ${z.pods} pods, ${z.ready} ready/${z.draining} draining/${z.launching} launching`,
        )
        .join(' | ');
      write(
        `t+${secs(m.t).padStart(6)}  status  ${zones} | hooks ${m.hooksPending} pending ${m.hooksCompleted} done | PDB waits ${m.pdbWaits.length} | on-demand ${m.onDemand}\n`,
      );
    }
  };
  const timer = setInterval(tick, 250);
  return () => {
    clearInterval(timer);
    tick();
  };
}
