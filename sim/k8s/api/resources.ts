// The resource types the simulated API server serves: what discovery advertises and what the
// generic handlers need (kind, scope, store key, field selectors, subresources).

export interface SubresourceType {
  name: string; // 'status', 'eviction', 'binding'
  kind: string;
  group?: string; // set when the subresource's kind lives in another group (pods/eviction → policy)
  version?: string;
  verbs: string[];
}

export interface ResourceType {
  group: string; // '' = core
  versions: string[]; // served versions, preferred first
  resource: string; // plural
  singular: string;
  kind: string;
  namespaced: boolean;
  /** key of the objects in the Store (shared by versions and by groups that alias one resource) */
  storeKey: string;
  shortNames?: string[];
  categories?: string[];
  subresources: SubresourceType[];
  /** field selector labels besides metadata.name / metadata.namespace */
  fields: string[];
  /** has a status subresource: PUT/PATCH on the main resource keep the stored status */
  hasStatus: boolean;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const status = (kind: string): SubresourceType => ({
  name: 'status',
  kind,
  verbs: ['get', 'patch', 'update'],
});
const scale: SubresourceType = {
  name: 'scale',
  kind: 'Scale',
  group: 'autoscaling',
  version: 'v1',
  verbs: ['get', 'patch', 'update'],
};

interface Spec {
  group?: string;
  versions?: string[];
  resource: string;
  kind: string;
  namespaced?: boolean;
  shortNames?: string[];
  categories?: string[];
  storeKey?: string;
  withStatus?: boolean;
  extraSubresources?: SubresourceType[];
  fields?: string[];
}

function define(spec: Spec): ResourceType {
  const subresources = [...(spec.withStatus ? [status(spec.kind)] : []), ...(spec.extraSubresources ?? [])];
  const type: ResourceType = {
    group: spec.group ?? '',
    versions: spec.versions ?? ['v1'],
    resource: spec.resource,
    singular: spec.kind.toLowerCase(),
    kind: spec.kind,
    namespaced: spec.namespaced ?? true,
    storeKey: spec.storeKey ?? spec.resource,
    subresources,
    fields: spec.fields ?? [],
    hasStatus: spec.withStatus ?? false,
  };
  if (spec.shortNames) type.shortNames = spec.shortNames;
  if (spec.categories) type.categories = spec.categories;
  return type;
}

const POD_FIELDS = [
  'spec.nodeName',
  'spec.restartPolicy',
  'spec.schedulerName',
  'spec.serviceAccountName',
  'spec.hostNetwork',
  'status.phase',
  'status.podIP',
  'status.nominatedNodeName',
];

const EVENT_FIELDS = [
  'involvedObject.kind',
  'involvedObject.namespace',
  'involvedObject.name',
  'involvedObject.uid',
  'involvedObject.apiVersion',
  'involvedObject.resourceVersion',
  'involvedObject.fieldPath',
  'reason',
  'reportingComponent',
  'source',
  'type',
];

export const RESOURCES: ResourceType[] = [
  define({
    resource: 'pods',
    kind: 'Pod',
    shortNames: ['po'],
    categories: ['all'],
    withStatus: true,
    fields: POD_FIELDS,
    extraSubresources: [
      { name: 'binding', kind: 'Binding', verbs: ['create'] },
      { name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
    ],
  }),
  define({
    resource: 'nodes',
    kind: 'Node',
    namespaced: false,
    shortNames: ['no'],
    withStatus: true,
    fields: ['spec.unschedulable'],
  }),
  define({
    resource: 'namespaces',
    kind: 'Namespace',
    namespaced: false,
    shortNames: ['ns'],
    withStatus: true,
  }),
  define({ resource: 'events', kind: 'Event', shortNames: ['ev'], fields: EVENT_FIELDS }),
  define({
    resource: 'persistentvolumes',
    kind: 'PersistentVolume',
    namespaced: false,
    shortNames: ['pv'],
    withStatus: true,
  }),
  define({
    resource: 'persistentvolumeclaims',
    kind: 'PersistentVolumeClaim',
    shortNames: ['pvc'],
    withStatus: true,
  }),
  define({
    resource: 'services',
    kind: 'Service',
    shortNames: ['svc'],
    categories: ['all'],
    withStatus: true,
  }),
  define({ resource: 'configmaps', kind: 'ConfigMap', shortNames: ['cm'] }),
  define({ resource: 'secrets', kind: 'Secret' }),
  define({ resource: 'serviceaccounts', kind: 'ServiceAccount', shortNames: ['sa'] }),
  define({ resource: 'endpoints', kind: 'Endpoints', shortNames: ['ep'] }),
  define({
    resource: 'replicationcontrollers',
    kind: 'ReplicationController',
    shortNames: ['rc'],
    categories: ['all'],
    withStatus: true,
    extraSubresources: [scale],
  }),
  define({
    group: 'apps',
    resource: 'deployments',
    kind: 'Deployment',
    extraSubresources: [scale],
    shortNames: ['deploy'],
    categories: ['all'],
    withStatus: true,
  }),
  define({
    group: 'apps',
    resource: 'replicasets',
    kind: 'ReplicaSet',
    extraSubresources: [scale],
    shortNames: ['rs'],
    categories: ['all'],
    withStatus: true,
  }),
  define({
    group: 'apps',
    resource: 'statefulsets',
    kind: 'StatefulSet',
    extraSubresources: [scale],
    shortNames: ['sts'],
    categories: ['all'],
    withStatus: true,
  }),
  define({
    group: 'apps',
    resource: 'daemonsets',
    kind: 'DaemonSet',
    shortNames: ['ds'],
    categories: ['all'],
    withStatus: true,
  }),
  define({ group: 'apps', resource: 'controllerrevisions', kind: 'ControllerRevision' }),
  define({ group: 'batch', resource: 'jobs', kind: 'Job', categories: ['all'], withStatus: true }),
  define({
    group: 'batch',
    resource: 'cronjobs',
    kind: 'CronJob',
    shortNames: ['cj'],
    categories: ['all'],
    withStatus: true,
  }),
  define({
    group: 'policy',
    versions: ['v1', 'v1beta1'],
    resource: 'poddisruptionbudgets',
    kind: 'PodDisruptionBudget',
    shortNames: ['pdb'],
    withStatus: true,
  }),
  define({ group: 'coordination.k8s.io', resource: 'leases', kind: 'Lease' }),
  // CRD of the AWS Load Balancer Controller (sim/k8s/controllers/lb-controller.ts acts on it)
  define({
    group: 'elbv2.k8s.aws',
    versions: ['v1beta1'],
    resource: 'targetgroupbindings',
    kind: 'TargetGroupBinding',
    categories: ['all'],
    withStatus: true,
  }),
  define({
    group: 'storage.k8s.io',
    resource: 'volumeattachments',
    kind: 'VolumeAttachment',
    namespaced: false,
    withStatus: true,
  }),
  define({
    group: 'storage.k8s.io',
    resource: 'storageclasses',
    kind: 'StorageClass',
    namespaced: false,
    shortNames: ['sc'],
  }),
  define({
    group: 'events.k8s.io',
    resource: 'events',
    kind: 'Event',
    shortNames: ['ev'],
    fields: EVENT_FIELDS,
  }),
  define({
    group: 'scheduling.k8s.io',
    resource: 'priorityclasses',
    kind: 'PriorityClass',
    namespaced: false,
    shortNames: ['pc'],
  }),
  // RBAC objects are stored and served (infra/rbac.yaml applies); the simulator does not authorize by them
  define({
    group: 'rbac.authorization.k8s.io',
    resource: 'clusterroles',
    kind: 'ClusterRole',
    namespaced: false,
  }),
  define({
    group: 'rbac.authorization.k8s.io',
    resource: 'clusterrolebindings',
    kind: 'ClusterRoleBinding',
    namespaced: false,
  }),
  define({ group: 'rbac.authorization.k8s.io', resource: 'roles', kind: 'Role' }),
  define({ group: 'rbac.authorization.k8s.io', resource: 'rolebindings', kind: 'RoleBinding' }),
];

export { ALL_VERBS };

export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

export interface ServedOptions {
  /** false: act like a 1.20 server without policy/v1 (PDBs and evictions only in policy/v1beta1) */
  servePolicyV1: boolean;
}

/** The versions of a resource this server serves, preferred first. */
export function servedVersions(type: ResourceType, served: ServedOptions): string[] {
  if (type.group === 'policy' && !served.servePolicyV1) return type.versions.filter((v) => v !== 'v1');
  return type.versions;
}

/** Groups in discovery order, each with its served versions. */
export function servedGroups(served: ServedOptions): { name: string; versions: string[] }[] {
  const groups = new Map<string, Set<string>>();
  for (const type of RESOURCES) {
    if (!type.group) continue;
    let versions = groups.get(type.group);
    if (!versions) {
      versions = new Set();
      groups.set(type.group, versions);
    }
    for (const v of servedVersions(type, served)) versions.add(v);
  }
  return [...groups].map(([name, versions]) => ({ name, versions: [...versions] }));
}

export function findResource(
  group: string,
  version: string,
  resource: string,
  served: ServedOptions,
): ResourceType | undefined {
  return RESOURCES.find(
    (t) => t.group === group && t.resource === resource && servedVersions(t, served).includes(version),
  );
}

export function resourcesOf(group: string, version: string, served: ServedOptions): ResourceType[] {
  return RESOURCES.filter((t) => t.group === group && servedVersions(t, served).includes(version));
}
