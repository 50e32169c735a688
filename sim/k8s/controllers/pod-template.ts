// Builds a pod from a workload's pod template with the defaults the API server and its admission
// plugins would add (restartPolicy, grace period, scheduler name, DefaultTolerationSeconds, QoS…),
// because controllers write to the store directly, not through the HTTP API.
import type { KObject, ObjectMeta } from '../store.ts';

interface Container {
  name: string;
  image?: string;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  [field: string]: unknown;
}

export function podFromTemplate(
  template: KObject['spec'],
  meta: ObjectMeta,
  extraSpec: object = {},
): KObject {
  const spec = structuredClone(template?.spec ?? {});
  Object.assign(spec, extraSpec);
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.serviceAccountName ??= 'default';
  spec.serviceAccount ??= spec.serviceAccountName;
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  spec.priority ??= 0;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  spec.tolerations = withDefaultTolerations(spec.tolerations ?? []);
  for (const container of spec.containers ?? []) {
    container.imagePullPolicy ??= String(container.image ?? '').endsWith(':latest')
      ? 'Always'
      : 'IfNotPresent';
    container.terminationMessagePath ??= '/dev/termination-log';
    container.terminationMessagePolicy ??= 'File';
    container.resources ??= {};
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...meta,
      labels: { ...(template?.metadata?.labels ?? {}), ...(meta.labels ?? {}) },
      annotations: { ...(template?.metadata?.annotations ?? {}), ...(meta.annotations ?? {}) },
    },
    spec,
    status: { phase: 'Pending', qosClass: qosClassOf(spec.containers ?? []) },
  };
}

/** The DefaultTolerationSeconds admission plugin: 300 s for not-ready / unreachable NoExecute. */
function withDefaultTolerations(tolerations: Record<string, unknown>[]): Record<string, unknown>[] {
  const out = [...tolerations];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (
      !out.some(
        (t) =>
          (t.key === key || (!t.key && t.operator === 'Exists')) && (!t.effect || t.effect === 'NoExecute'),
      )
    ) {
      out.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
    }
  }
  return out;
}

function qosClassOf(containers: Container[]): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  let anySet = false;
  let guaranteed = containers.length > 0;
  for (const container of containers) {
    const requests = container.resources?.requests ?? {};
    const limits = container.resources?.limits ?? {};
    if (Object.keys(requests).length || Object.keys(limits).length) anySet = true;
    for (const resource of ['cpu', 'memory']) {
      const limit = limits[resource];
      const request = requests[resource] ?? limit;
      if (!limit || request !== limit) guaranteed = false;
    }
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
