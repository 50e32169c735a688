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

/**
 * The cluster a tag set claims the resource for. eks:cluster-name (set by EKS itself) decides when
 * present; otherwise kubernetes.io/cluster/<name> tags: this cluster's if one names it.
 */
export function clusterClaim(tags: Record<string, string>, clusterName: string): string | undefined {
  const eks = tags[EKS_CLUSTER_TAG];
  if (eks) return eks;
  const names = Object.keys(tags)
    .filter((k) => k.startsWith(CLUSTER_TAG_PREFIX))
    .map((k) => k.slice(CLUSTER_TAG_PREFIX.length));
  return names.includes(clusterName) ? clusterName : names[0];
}

/**
 * ours: the first cluster claim (instance, then group) is this cluster, or there is none and the
 * managed tag is on either. foreign: a cluster tag names only other clusters, or both tag sets
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
  if (clusterName) {
    // the instance is asked first: it is the more specific of the two
    for (const set of known) {
      const claim = clusterClaim(set.tags, clusterName);
      if (claim === clusterName)
        return { verdict: 'ours', why: `${set.of} is tagged for cluster ${clusterName}` };
      if (claim) {
        return {
          verdict: 'foreign',
          why: `${set.of} is tagged for cluster "${claim}", not ${clusterName}`,
          otherCluster: claim,
        };
      }
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
