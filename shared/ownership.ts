// Does an instance belong to this cluster? The instance OR its Auto Scaling group may say so: the
// documented setup tags the group without PropagateAtLaunch, so the instance alone is not enough.
// Pure: the caller hands over whatever tags it could read (undefined = could not be read).

export const EKS_CLUSTER_TAG = 'eks:cluster-name';
export const CLUSTER_TAG_PREFIX = 'kubernetes.io/cluster/';

export type OwnershipVerdict = 'ours' | 'foreign' | 'unknown';

export interface Ownership {
  verdict: OwnershipVerdict;
  /** One line for the report: which tag decided, or what could not be read. */
  why: string;
  /** The other cluster named by a tag, when foreign for that reason. */
  otherCluster?: string;
}

export interface OwnershipInput {
  /** This cluster (CLUSTER_NAME). Without it, only the managed tag can claim an instance. */
  clusterName?: string;
  managedTag: { key: string; value: string };
  /** The instance's tags; undefined when EC2 could not be asked. */
  instanceTags?: Record<string, string>;
  /** The group's tags; undefined when there is no group or it could not be described. */
  groupTags?: Record<string, string>;
  /** The instance has no group (standalone): a missing group is then known, not unknown. */
  noGroup?: boolean;
}

/** Cluster names a tag set claims the resource for (eks:cluster-name, kubernetes.io/cluster/<name>). */
export function clustersNamedBy(tags: Record<string, string>): string[] {
  const names = Object.keys(tags)
    .filter((k) => k.startsWith(CLUSTER_TAG_PREFIX))
    .map((k) => k.slice(CLUSTER_TAG_PREFIX.length));
  const eks = tags[EKS_CLUSTER_TAG];
  return [...new Set(eks ? [eks, ...names] : names)];
}

/**
 * ours: a cluster tag (instance or group) names this cluster, or the managed tag is on either and no
 * cluster tag names another one. foreign: a cluster tag names only other clusters, or both tag sets
 * were read and neither claims the instance. unknown: some tags could not be read and those that
 * were do not decide.
 */
export function ownershipOf(input: OwnershipInput): Ownership {
  const { clusterName, managedTag } = input;
  const sets = [
    { of: 'instance', tags: input.instanceTags },
    { of: 'group', tags: input.groupTags },
  ];
  const known = sets.filter((s): s is { of: string; tags: Record<string, string> } => s.tags !== undefined);
  const named = known.flatMap((s) => clustersNamedBy(s.tags).map((name) => ({ of: s.of, name })));
  if (clusterName) {
    const mine = named.find((n) => n.name === clusterName);
    if (mine) return { verdict: 'ours', why: `${mine.of} is tagged for cluster ${clusterName}` };
    if (named.length > 0) {
      const other = named[0]!;
      return {
        verdict: 'foreign',
        why: `${other.of} is tagged for cluster "${other.name}", not ${clusterName}`,
        otherCluster: other.name,
      };
    }
  }
  const managed = known.find((s) => s.tags[managedTag.key] === managedTag.value);
  if (managed) return { verdict: 'ours', why: `${managed.of} carries ${managedTag.key}=${managedTag.value}` };
  const groupKnown = input.groupTags !== undefined || input.noGroup === true;
  if (input.instanceTags !== undefined && groupKnown) {
    return {
      verdict: 'foreign',
      why: `neither the instance nor its group carries ${managedTag.key}=${managedTag.value}${
        clusterName ? ` or a tag for cluster ${clusterName}` : ''
      }`,
    };
  }
  const missing = [input.instanceTags === undefined ? 'instance' : '', groupKnown ? '' : 'group']
    .filter(Boolean)
    .join(' and ');
  return { verdict: 'unknown', why: `the ${missing} tags could not be read` };
}
