// EC2 instance id → Kubernetes node. Common path: one DescribeInstances (shared by every id of
// the invocation) and one GET of the node named after the PrivateDnsName. Only when that misses
// (no PrivateDnsName, 404, or a node of that name that is another instance) do we page through
// the node list matching spec.providerID `aws:///<az>/<instance-id>` — once per resolver.
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { CoreV1Api, V1Node } from '@kubernetes/client-node';
import { describeInstances, type InstanceInfo } from '../aws/instances.ts';

export type NodeResolution =
  | {
      status: 'found';
      nodeName: string;
      node: V1Node;
      instance?: InstanceInfo;
      via: 'private-dns-name' | 'provider-id';
    }
  | { status: 'not-found'; instanceId: string; reason: string; instance?: InstanceInfo };

export interface NodeResolverDeps {
  ec2: EC2Client;
  core: CoreV1Api;
}

export interface NodeResolverOptions {
  /** When set, instances tagged for another cluster resolve to not-found without a node lookup. */
  clusterName?: string;
}

const NODE_LIST_PAGE_SIZE = 100;
export const EKS_CLUSTER_TAG = 'eks:cluster-name';
export const CLUSTER_TAG_PREFIX = 'kubernetes.io/cluster/';

/** The instance id at the end of an AWS providerID (`aws:///eu-west-1a/i-0abc`), if any. */
export function instanceIdFromProviderId(providerID: string | undefined): string | undefined {
  return /\/(i-[0-9a-f]+)$/.exec(providerID ?? '')?.[1];
}

/** The other cluster this instance is tagged for, or undefined when it may be ours. */
export function foreignCluster(instance: InstanceInfo, clusterName: string): string | undefined {
  const eksTag = instance.tags[EKS_CLUSTER_TAG];
  if (eksTag && eksTag !== clusterName) return eksTag;
  const clusterTags = Object.keys(instance.tags)
    .filter((key) => key.startsWith(CLUSTER_TAG_PREFIX))
    .map((key) => key.slice(CLUSTER_TAG_PREFIX.length));
  if (clusterTags.length > 0 && !clusterTags.includes(clusterName)) return clusterTags[0];
  return undefined;
}

/** Resolves instances to nodes, caching every answer: create one per invocation. */
export class NodeResolver {
  private readonly deps: NodeResolverDeps;
  private readonly opts: NodeResolverOptions;
  private readonly resolutions = new Map<string, Promise<NodeResolution>>();
  private nodesByInstanceId: Promise<Map<string, V1Node>> | undefined;

  constructor(deps: NodeResolverDeps, opts: NodeResolverOptions = {}) {
    this.deps = deps;
    this.opts = opts;
  }

  resolve(instanceId: string): Promise<NodeResolution> {
    return this.resolveMany([instanceId]).then((results) => results.get(instanceId)!);
  }

  /** One DescribeInstances for all ids not yet resolved, then a node GET per instance. */
  async resolveMany(ids: string[]): Promise<Map<string, NodeResolution>> {
    const fresh = [...new Set(ids)].filter((id) => !this.resolutions.has(id));
    if (fresh.length > 0) {
      const instances = describeInstances(this.deps.ec2, fresh);
      for (const id of fresh) {
        const resolution = instances.then((found) => this.resolveInstance(id, found.get(id)));
        // A failed call (API down, throttled past retries) must not be cached as the answer.
        resolution.catch(() => this.resolutions.delete(id));
        this.resolutions.set(id, resolution);
      }
    }
    const unique = [...new Set(ids)];
    const answers = await Promise.all(unique.map((id) => this.resolutions.get(id)!));
    return new Map(unique.map((id, i) => [id, answers[i]!]));
  }

  private async resolveInstance(
    instanceId: string,
    instance: InstanceInfo | undefined,
  ): Promise<NodeResolution> {
    const other =
      instance && this.opts.clusterName ? foreignCluster(instance, this.opts.clusterName) : undefined;
    if (instance && other !== undefined) {
      return { status: 'not-found', instanceId, instance, reason: `instance belongs to cluster "${other}"` };
    }
    const byName = instance?.privateDnsName ? await this.nodeNamed(instance.privateDnsName) : undefined;
    if (byName && instanceIdFromProviderId(byName.spec?.providerID) === instanceId) {
      return found(byName, 'private-dns-name', instance);
    }
    const byProviderId = (await this.nodeIndex()).get(instanceId);
    if (byProviderId) return found(byProviderId, 'provider-id', instance);
    return {
      status: 'not-found',
      instanceId,
      reason: notFoundReason(instance),
      ...(instance ? { instance } : {}),
    };
  }

  private async nodeNamed(name: string): Promise<V1Node | undefined> {
    try {
      return await this.deps.core.readNode({ name });
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  /** Every node keyed by the instance id in its providerID; listed at most once per resolver. */
  private nodeIndex(): Promise<Map<string, V1Node>> {
    if (!this.nodesByInstanceId) {
      this.nodesByInstanceId = this.listNodesByInstanceId();
      this.nodesByInstanceId.catch(() => {
        this.nodesByInstanceId = undefined;
      });
    }
    return this.nodesByInstanceId;
  }

  private async listNodesByInstanceId(): Promise<Map<string, V1Node>> {
    const index = new Map<string, V1Node>();
    let continueToken: string | undefined;
    do {
      const page = await this.deps.core.listNode({ limit: NODE_LIST_PAGE_SIZE, _continue: continueToken });
      for (const node of page.items) {
        const id = instanceIdFromProviderId(node.spec?.providerID);
        if (id) index.set(id, node);
      }
      continueToken = page.metadata?._continue || undefined;
    } while (continueToken);
    return index;
  }
}

function found(
  node: V1Node,
  via: 'private-dns-name' | 'provider-id',
  instance?: InstanceInfo,
): NodeResolution {
  return {
    status: 'found',
    nodeName: node.metadata?.name ?? '',
    node,
    via,
    ...(instance ? { instance } : {}),
  };
}

function notFoundReason(instance: InstanceInfo | undefined): string {
  if (!instance) return 'EC2 does not know this instance id';
  return `no node has providerID ending in ${instance.instanceId} (instance ${instance.state}${
    instance.privateDnsName ? `, private DNS ${instance.privateDnsName}` : ', no private DNS name'
  })`;
}
