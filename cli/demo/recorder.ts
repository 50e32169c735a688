// What the demo watches while the scenario runs: the simulator's store (nodes, pods, PDBs), its
// EventBridge bus (what AWS told spotguard) and the Auto Scaling side (pending lifecycle actions).
// It only observes: everything it reports was done by spotguard's functions or the simulator.
import type { EventBridgeEvent, Simulator } from '../../sim/index.ts';
import type { KObject } from '../../sim/k8s/store.ts';

export type NodeState = 'launching' | 'ready' | 'cordoned' | 'draining' | 'gone';

export interface NodeRow {
  name: string;
  instanceId: string;
  zone: string;
  capacityType: string;
  group: string;
  state: NodeState;
  /** when the node object appeared (0: there at start) */
  seenAt: number;
  /** what AWS said about it (spot ITN, rebalance, scale-in …), first one */
  trigger?: string;
  triggerAt?: number;
  /** spot interruption: when EC2 takes the instance back */
  deadlineAt?: number;
  cordonAt?: number;
  goneAt?: number;
  /** workload pods (not DaemonSet) on the node when it was cordoned, and still there now */
  podsAtCordon: number;
  podsLeft: number;
  /** workload pods still running when the instance shut down (a deadline miss when > 0) */
  podsAtShutdown?: number;
}

export interface TimelineEntry {
  t: number;
  text: string;
  node?: string;
}

export interface Sample {
  t: number;
  /** Running workload pods per zone */
  zonePods: Record<string, number>;
  /** nodes per state */
  states: Record<NodeState, number>;
}

export interface Alarm {
  name: string;
  state: string;
  since: number;
}

const EVENT_LABELS: Record<string, string> = {
  'EC2 Spot Instance Interruption Warning': 'spot interruption',
  'EC2 Instance Rebalance Recommendation': 'rebalance recommendation',
  'EC2 Instance-terminate Lifecycle Action': 'terminate hook',
  'EC2 Instance-launch Lifecycle Action': 'launch hook',
  'EC2 Instance State-change Notification': 'state change',
  'AWS Health Event': 'scheduled change',
};

export const isDaemonPod = (p: KObject) =>
  (p.metadata.ownerReferences ?? []).some((o: { kind: string }) => o.kind === 'DaemonSet');
const isLive = (p: KObject) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded';
const isReady = (obj: KObject) =>
  (obj.status?.conditions ?? []).some(
    (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True',
  );

export class Recorder {
  readonly started = Date.now();
  readonly nodes = new Map<string, NodeRow>();
  readonly timeline: TimelineEntry[] = [];
  readonly samples: Sample[] = [];
  readonly alarms = new Map<string, Alarm>();
  /** PDB name → lowest currentHealthy − desiredHealthy once it had been met */
  readonly pdbFloor = new Map<string, number>();
  rebalancerTicks: number[] = [];
  private stops: Array<() => void> = [];

  private readonly sim: Simulator;

  constructor(sim: Simulator) {
    this.sim = sim;
    for (const node of sim.store.list('nodes')) this.track(node);
    this.stops.push(sim.store.watch('nodes', (e) => this.onNode(e.type, e.object)) || (() => {}));
    this.stops.push(sim.events.subscribe((e) => this.onAwsEvent(e)));
    this.stops.push(
      sim.store.watch('poddisruptionbudgets', (e) => this.onPdb(e.type, e.object)) || (() => {}),
    );
    const timer = setInterval(() => this.sample(), 250);
    this.stops.push(() => clearInterval(timer));
    this.sample();
  }

  now(): number {
    return Date.now() - this.started;
  }

  stop(): void {
    this.sample();
    for (const stop of this.stops) stop();
    this.stops = [];
  }

  log(text: string, node?: string): void {
    this.timeline.push({ t: this.now(), text, ...(node ? { node } : {}) });
  }

  private track(node: KObject): NodeRow {
    const name = node.metadata.name as string;
    let row = this.nodes.get(name);
    if (!row) {
      const labels = node.metadata.labels ?? {};
      const instanceId =
        String(node.spec?.providerID ?? '')
          .split('/')
          .pop() ?? '';
      row = {
        name,
        instanceId,
        zone: labels['topology.kubernetes.io/zone'] ?? '?',
        capacityType: labels['eks.amazonaws.com/capacityType'] ?? '?',
        group: labels['eks.amazonaws.com/nodegroup'] ?? '?',
        state: isReady(node) ? 'ready' : 'launching',
        seenAt: this.now(),
        podsAtCordon: 0,
        podsLeft: 0,
      };
      this.nodes.set(name, row);
    }
    return row;
  }

  private onNode(type: string, node: KObject): void {
    const row = this.track(node);
    if (type === 'DELETED') {
      if (row.state !== 'gone') {
        row.state = 'gone';
        row.goneAt = this.now();
        this.log(`${row.name} gone`, row.name);
      }
      return;
    }
    if (node.spec?.unschedulable && row.cordonAt === undefined) {
      row.cordonAt = this.now();
      row.podsAtCordon = this.workloadPodsOn(row.name).length;
      row.state = 'cordoned';
      this.log(`${row.name} cordoned (${row.podsAtCordon} pods to move)`, row.name);
    } else if (!node.spec?.unschedulable && row.cordonAt !== undefined && row.state !== 'gone') {
      row.state = isReady(node) ? 'ready' : 'launching';
      delete row.cordonAt;
      this.log(`${row.name} uncordoned`, row.name);
    } else if (row.state === 'launching' && isReady(node)) {
      row.state = 'ready';
      if (this.now() > 1000)
        this.log(`${row.name} joined Ready (${row.zone}, ${row.capacityType})`, row.name);
    }
  }

  private onAwsEvent(e: EventBridgeEvent): void {
    const d = e.detail as Record<string, unknown>;
    if (e['detail-type'] === 'CloudWatch Alarm State Change') {
      const name = String(d.alarmName);
      const state = String((d.state as { value: string }).value);
      this.alarms.set(name, { name, state, since: this.now() });
      this.log(`alarm ${name} → ${state}`);
      return;
    }
    if (e['detail-type'] === 'Scheduled Event') {
      this.rebalancerTicks.push(this.now());
      this.log(`schedule tick ${e.resources[0]?.split('/').pop()}`);
      return;
    }
    const id = String(d['instance-id'] ?? d.EC2InstanceId ?? '');
    const row = [...this.nodes.values()].find((r) => r.instanceId === id);
    const label = EVENT_LABELS[e['detail-type']] ?? e['detail-type'];
    if (e['detail-type'] === 'EC2 Instance State-change Notification') {
      if (row && d.state === 'shutting-down' && row.podsAtShutdown === undefined) {
        row.podsAtShutdown = this.workloadPodsOn(row.name).filter(isLive).length;
        this.log(
          `${row.name} instance shutting down${row.podsAtShutdown ? ` with ${row.podsAtShutdown} pods still on it` : ', empty'}`,
          row.name,
        );
      }
      return;
    }
    if (!row || label === 'launch hook') return;
    if (row.trigger === undefined) {
      row.trigger = label;
      row.triggerAt = this.now();
      const instance = this.sim.aws.instance(id);
      if (label === 'spot interruption' && instance?.interruptionAt)
        row.deadlineAt = instance.interruptionAt - this.started;
    }
    this.log(`AWS → ${label} for ${row.name} (${row.zone})`, row.name);
  }

  private onPdb(type: string, pdb: KObject): void {
    const s = pdb.status;
    if (type === 'DELETED' || !s || typeof s.currentHealthy !== 'number' || !(s.desiredHealthy > 0)) return;
    const key = `${pdb.metadata.namespace}/${pdb.metadata.name}`;
    const headroom = s.currentHealthy - s.desiredHealthy;
    if (!this.pdbFloor.has(key)) {
      if (headroom >= 0) this.pdbFloor.set(key, headroom);
      return;
    }
    this.pdbFloor.set(key, Math.min(this.pdbFloor.get(key)!, headroom));
  }

  workloadPodsOn(node: string): KObject[] {
    return this.sim.store.list('pods', { nodeName: node }).filter((p) => !isDaemonPod(p));
  }

  /** Refreshes per-node drain progress and records one sample for the report's charts. */
  sample(): void {
    for (const row of this.nodes.values()) {
      if (row.state === 'gone') continue;
      row.podsLeft = this.workloadPodsOn(row.name).filter(isLive).length;
      if (row.cordonAt !== undefined) row.state = row.trigger ? 'draining' : 'cordoned';
    }
    const zonePods: Record<string, number> = Object.fromEntries(this.sim.zones.map((z) => [z, 0]));
    for (const [zone, n] of this.podsPerZone()) zonePods[zone] = n;
    const states = { launching: 0, ready: 0, cordoned: 0, draining: 0, gone: 0 } as Record<NodeState, number>;
    for (const row of this.nodes.values()) states[row.state]++;
    this.samples.push({ t: this.now(), zonePods, states });
  }

  private podsPerZone(): Map<string, number> {
    const zoneOf = new Map([...this.nodes.values()].map((r) => [r.name, r.zone]));
    const out = new Map<string, number>();
    for (const p of this.sim.store.list('pods')) {
      if (isDaemonPod(p) || !isLive(p) || p.status?.phase !== 'Running') continue;
      const zone = zoneOf.get(p.spec?.nodeName);
      if (zone) out.set(zone, (out.get(zone) ?? 0) + 1);
    }
    return out;
  }
}
