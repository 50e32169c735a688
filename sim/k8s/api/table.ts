// `as=Table` output (meta.k8s.io/v1 Table), so `kubectl get` prints the server's columns like it does
// against a real cluster. Columns follow kubernetes pkg/printers/internalversion/printers.go.
import type { KObject } from '../store.ts';
import type { ResourceType } from './resources.ts';

interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

type Cell = string | number;

interface Printer {
  columns: Column[];
  cells(obj: KObject, now: number): Cell[];
}

const col = (name: string, type: string, description: string, priority = 0, format = ''): Column => ({
  name,
  type,
  format,
  description,
  priority,
});

const NAME = col(
  'Name',
  'string',
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  0,
  'name',
);
const AGE = col(
  'Age',
  'string',
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
);

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

const age = (obj: KObject, now: number) =>
  obj.metadata.creationTimestamp
    ? humanDuration(now - Date.parse(obj.metadata.creationTimestamp))
    : '<unknown>';

const intOrStr = (v: unknown) => (v === undefined || v === null ? 'N/A' : String(v));

// biome-ignore lint/suspicious/noExplicitAny: container statuses are open-ended wire JSON
type Any = any;

function podStatusReason(pod: KObject): string {
  let reason: string = pod.status?.reason ?? pod.status?.phase ?? 'Unknown';
  for (const cs of (pod.status?.containerStatuses ?? []) as Any[]) {
    const waiting = cs.state?.waiting?.reason;
    const terminated = cs.state?.terminated?.reason;
    if (waiting) reason = waiting;
    else if (terminated) reason = terminated;
  }
  if (pod.metadata.deletionTimestamp && pod.status?.reason !== 'NodeLost') reason = 'Terminating';
  return reason;
}

const POD: Printer = {
  columns: [
    NAME,
    col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'string', 'The aggregate status of the containers in this pod.'),
    col(
      'Restarts',
      'string',
      'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
    ),
    AGE,
    col(
      'IP',
      'string',
      'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
      1,
    ),
    col(
      'Node',
      'string',
      'NodeName is a request to schedule this pod onto a specific node. If it is non-empty, the scheduler simply schedules this pod onto that node, assuming that it fits resource requirements.',
      1,
    ),
    col(
      'Nominated Node',
      'string',
      'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.',
      1,
    ),
    col(
      'Readiness Gates',
      'string',
      'If specified, all readiness gates will be evaluated for pod readiness.',
      1,
    ),
  ],
  cells(pod, now) {
    const statuses: Any[] = pod.status?.containerStatuses ?? [];
    const total = (pod.spec?.containers ?? []).length;
    const ready = statuses.filter((s) => s.ready).length;
    const restarts = statuses.reduce((sum, s) => sum + (s.restartCount ?? 0), 0);
    const gates: Any[] = pod.spec?.readinessGates ?? [];
    return [
      pod.metadata.name,
      `${ready}/${total}`,
      podStatusReason(pod),
      String(restarts),
      age(pod, now),
      pod.status?.podIP ?? '<none>',
      pod.spec?.nodeName ?? '<none>',
      pod.status?.nominatedNodeName ?? '<none>',
      gates.length === 0 ? '<none>' : `0/${gates.length}`,
    ];
  },
};

function nodeRoles(node: KObject): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node.metadata.labels ?? {})) {
    if (key.startsWith('node-role.kubernetes.io/')) roles.add(key.slice('node-role.kubernetes.io/'.length));
    else if (key === 'kubernetes.io/role' && value) roles.add(value);
  }
  return roles.size === 0 ? '<none>' : [...roles].sort().join(',');
}

function nodeStatus(node: KObject): string {
  const ready = (node.status?.conditions ?? []).find((c: Any) => c.type === 'Ready');
  const parts = [
    ready
      ? ready.status === 'True'
        ? 'Ready'
        : ready.status === 'False'
          ? 'NotReady'
          : 'Unknown'
      : 'Unknown',
  ];
  if (node.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

const address = (node: KObject, type: string) =>
  (node.status?.addresses ?? []).find((a: Any) => a.type === type)?.address ?? '<none>';

const NODE: Printer = {
  columns: [
    NAME,
    col('Status', 'string', 'The status of the node'),
    col('Roles', 'string', 'The roles of the node'),
    AGE,
    col('Version', 'string', 'Kubelet Version reported by the node.'),
    col(
      'Internal-IP',
      'string',
      'List of addresses reachable to the node. Queried from cloud provider, if available.',
      1,
    ),
    col(
      'External-IP',
      'string',
      'List of addresses reachable to the node. Queried from cloud provider, if available.',
      1,
    ),
    col(
      'OS-Image',
      'string',
      'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
      1,
    ),
    col(
      'Kernel-Version',
      'string',
      "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
      1,
    ),
    col(
      'Container-Runtime',
      'string',
      'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
      1,
    ),
  ],
  cells(node, now) {
    const info = node.status?.nodeInfo ?? {};
    return [
      node.metadata.name,
      nodeStatus(node),
      nodeRoles(node),
      age(node, now),
      info.kubeletVersion ?? '',
      address(node, 'InternalIP'),
      address(node, 'ExternalIP'),
      info.osImage ?? '<unknown>',
      info.kernelVersion ?? '<unknown>',
      info.containerRuntimeVersion ?? '<unknown>',
    ];
  },
};

const PDB: Printer = {
  columns: [
    NAME,
    col(
      'Min Available',
      'string',
      'The minimum number of pods that must be available simultaneously.  This can be either an integer or a string specifying a percentage, e.g. "28%".',
    ),
    col(
      'Max Unavailable',
      'string',
      'The maximum number of pods that may be unavailable simultaneously.  This can be either an integer or a string specifying a percentage, e.g. "28%".',
    ),
    col('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'),
    AGE,
  ],
  cells(pdb, now) {
    return [
      pdb.metadata.name,
      intOrStr(pdb.spec?.minAvailable),
      intOrStr(pdb.spec?.maxUnavailable),
      pdb.status?.disruptionsAllowed ?? 0,
      age(pdb, now),
    ];
  },
};

const DEPLOYMENT: Printer = {
  columns: [
    NAME,
    col('Ready', 'string', 'Number of the pod with ready state'),
    col(
      'Up-to-date',
      'string',
      'Total number of non-terminated pods targeted by this deployment that have the desired template spec.',
    ),
    col(
      'Available',
      'string',
      'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.',
    ),
    AGE,
  ],
  cells(d, now) {
    const s = d.status ?? {};
    return [
      d.metadata.name,
      `${s.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`,
      s.updatedReplicas ?? 0,
      s.availableReplicas ?? 0,
      age(d, now),
    ];
  },
};

const since = (ts: string | undefined, now: number) =>
  ts ? humanDuration(now - Date.parse(ts)) : '<unknown>';

const EVENT: Printer = {
  columns: [
    col('Last Seen', 'string', 'Time when last occurrence of this event was observed'),
    col('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future.'),
    col(
      'Reason',
      'string',
      "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    col('Object', 'string', 'The object that this event is about.'),
    col('Subobject', 'string', 'The subobject that this event is about.', 1),
    col('Source', 'string', 'The component reporting this event.', 1),
    col('Message', 'string', 'A human-readable description of the status of this operation.'),
    col('First Seen', 'string', 'The time at which the event was first recorded.', 1),
    col('Count', 'integer', 'The number of times this event has occurred.', 1),
    col('Name', 'string', NAME.description, 1, 'name'),
  ],
  cells(e, now) {
    const first = since(e.firstTimestamp ?? e.eventTime, now);
    const last = e.series
      ? since(e.series.lastObservedTime, now)
      : e.lastTimestamp
        ? since(e.lastTimestamp, now)
        : first;
    const count = e.series ? e.series.count : e.count || 1;
    const kind = String(e.involvedObject?.kind ?? '').toLowerCase();
    const target = e.involvedObject?.name ? `${kind}/${e.involvedObject.name}` : kind;
    const source = [e.source?.component ?? e.reportingComponent, e.source?.host ?? e.reportingInstance]
      .filter(Boolean)
      .join(', ');
    return [
      last,
      e.type ?? '',
      e.reason ?? '',
      target,
      e.involvedObject?.fieldPath ?? '',
      source,
      String(e.message ?? '').trim(),
      first,
      count,
      e.metadata.name,
    ];
  },
};

const REPLICASET: Printer = {
  columns: [
    NAME,
    col('Desired', 'integer', 'Number of desired pods.'),
    col('Current', 'integer', 'Number of actual pods being run.'),
    col('Ready', 'integer', 'The number of ready pods.'),
    AGE,
  ],
  cells: (rs, now) => [
    rs.metadata.name,
    rs.spec?.replicas ?? 1,
    rs.status?.replicas ?? 0,
    rs.status?.readyReplicas ?? 0,
    age(rs, now),
  ],
};

const STATEFULSET: Printer = {
  columns: [NAME, col('Ready', 'string', 'Number of the pod with ready state'), AGE],
  cells: (s, now) => [
    s.metadata.name,
    `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 1}`,
    age(s, now),
  ],
};

const DAEMONSET: Printer = {
  columns: [
    NAME,
    col('Desired', 'integer', 'The total number of nodes that should be running the daemon pod.'),
    col(
      'Current',
      'integer',
      'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.',
    ),
    col(
      'Ready',
      'integer',
      'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.',
    ),
    col('Up-to-date', 'integer', 'The total number of nodes that are running updated daemon pod.'),
    col(
      'Available',
      'integer',
      'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.',
    ),
    col(
      'Node Selector',
      'string',
      'NodeSelector is a selector which must be true for the pod to fit on a node.',
    ),
    AGE,
  ],
  cells(ds, now) {
    const s = ds.status ?? {};
    const selector = Object.entries(ds.spec?.template?.spec?.nodeSelector ?? {}).map(([k, v]) => `${k}=${v}`);
    return [
      ds.metadata.name,
      s.desiredNumberScheduled ?? 0,
      s.currentNumberScheduled ?? 0,
      s.numberReady ?? 0,
      s.updatedNumberScheduled ?? 0,
      s.numberAvailable ?? 0,
      selector.length ? selector.join(',') : '<none>',
      age(ds, now),
    ];
  },
};

const NAMESPACE: Printer = {
  columns: [NAME, col('Status', 'string', 'The status of the namespace'), AGE],
  cells: (ns, now) => [ns.metadata.name, ns.status?.phase ?? 'Active', age(ns, now)],
};

const LEASE: Printer = {
  columns: [NAME, col('Holder', 'string', 'The holder of the lease'), AGE],
  cells: (lease, now) => [lease.metadata.name, lease.spec?.holderIdentity ?? '', age(lease, now)],
};

const GENERIC: Printer = {
  columns: [NAME, AGE],
  cells: (obj, now) => [obj.metadata.name, age(obj, now)],
};

const PRINTERS: Record<string, Printer> = {
  pods: POD,
  nodes: NODE,
  poddisruptionbudgets: PDB,
  deployments: DEPLOYMENT,
  events: EVENT,
  replicasets: REPLICASET,
  statefulsets: STATEFULSET,
  daemonsets: DAEMONSET,
  namespaces: NAMESPACE,
  leases: LEASE,
};

export type IncludeObject = 'None' | 'Metadata' | 'Object';

function rowObject(obj: KObject, include: IncludeObject, wire: (o: KObject) => KObject): KObject | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return wire(obj);
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export function toTable(
  type: ResourceType,
  objects: KObject[],
  opts: {
    resourceVersion: string;
    continueToken?: string;
    include: IncludeObject;
    wire: (o: KObject) => KObject;
  },
): KObject {
  const printer = PRINTERS[type.resource] ?? GENERIC;
  const now = Date.now();
  const metadata: Record<string, string> = { resourceVersion: opts.resourceVersion };
  if (opts.continueToken) metadata.continue = opts.continueToken;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: metadata as unknown as KObject['metadata'],
    columnDefinitions: printer.columns,
    rows: objects.map((obj) => {
      const row: { cells: Cell[]; object?: KObject } = { cells: printer.cells(obj, now) };
      const object = rowObject(obj, opts.include, opts.wire);
      if (object) row.object = object;
      return row;
    }),
  };
}
