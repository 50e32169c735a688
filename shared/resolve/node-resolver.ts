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
      /**
       * Set when EC2 could not be asked (throttled or down past the SDK's retries) and the node was
       * found by providerID alone: `instance` is then unknown, so are its tags.
       */
      ec2Error?: string;
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

export interface ResolveOptions {
  /**
   * Look again instead of answering from the cache: for callers that poll (waiting for a new node
   * to join or turn Ready). Reuses what cannot change: the instance's private DNS name and a node
   * name already found, so a poll usually costs one GET; the node list is fetched anew only when
   * those miss.
   */
  refresh?: boolean;
}

type Via = 'private-dns-name' | 'provider-id';
type FoundNode = Extract<NodeResolution, { status: 'found' }>;

/** Resolves instances to nodes, caching every answer: create one per invocation. */
export class NodeResolver {
  private readonly deps: NodeResolverDeps;
  private readonly opts: NodeResolverOptions;
  private readonly resolutions = new Map<string, Promise<NodeResolution>>();
  /** Instances EC2 has described, kept for refreshes. */
  private readonly instances = new Map<string, InstanceInfo>();
  /** Node names found per instance, tried first on a refresh. */
  private readonly nodeNames = new Map<string, string>();
  private nodesByInstanceId: Promise<Map<string, V1Node>> | undefined;

  constructor(deps: NodeResolverDeps, opts: NodeResolverOptions = {}) {
    this.deps = deps;
    this.opts = opts;
  }

  /** What EC2 said of the instance, if it was described (also when the node could not be read). */
  knownInstance(instanceId: string): InstanceInfo | undefined {
    return this.instances.get(instanceId);
  }

  resolve(instanceId: string, opts: ResolveOptions = {}): Promise<NodeResolution> {
    return this.resolveMany([instanceId], opts).then((results) => results.get(instanceId)!);
  }

  /** One DescribeInstances for all ids not yet resolved, then a node GET per instance. */
  async resolveMany(ids: string[], opts: ResolveOptions = {}): Promise<Map<string, NodeResolution>> {
    const unique = [...new Set(ids)];
    const todo = opts.refresh ? unique : unique.filter((id) => !this.resolutions.has(id));
    if (todo.length > 0) this.startResolving(todo, opts.refresh ?? false);
    const answers = await Promise.all(unique.map((id) => this.resolutions.get(id)!));
    return new Map(unique.map((id, i) => [id, answers[i]!]));
  }

  private startResolving(ids: string[], refresh: boolean): void {
    if (refresh) this.nodesByInstanceId = undefined;
    // Describe only instances without a known DNS name: a new one may have gained it since.
    const undescribed = ids.filter((id) => !this.instances.get(id)?.privateDnsName);
    const described = undescribed.length > 0 ? describeInstances(this.deps.ec2, undescribed) : undefined;
    for (const id of ids) {
      const resolution = Promise.resolve(described).then(
        (found) => {
          const info = found?.get(id);
          if (info) this.instances.set(id, info);
          return this.resolveInstance(id, this.instances.get(id));
        },
        (ec2Error: unknown) => this.resolveWithoutEc2(id, ec2Error),
      );
      // A failed call (API down, throttled past retries) must not be cached as the answer.
      resolution.catch(() => this.resolutions.delete(id));
      this.resolutions.set(id, resolution);
    }
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
    const dnsName = instance?.privateDnsName;
    const byDns = dnsName ? await this.nodeOfInstance(dnsName, instanceId) : undefined;
    if (byDns) return this.found(instanceId, byDns, 'private-dns-name', instance);
    const knownName = this.nodeNames.get(instanceId);
    const byKnownName =
      knownName && knownName !== dnsName ? await this.nodeOfInstance(knownName, instanceId) : undefined;
    if (byKnownName) return this.found(instanceId, byKnownName, 'provider-id', instance);
    const byProviderId = (await this.nodeIndex()).get(instanceId);
    if (byProviderId) return this.found(instanceId, byProviderId, 'provider-id', instance);
    return {
      status: 'not-found',
      instanceId,
      reason: notFoundReason(instance),
      ...(instance ? { instance } : {}),
    };
  }

  /**
   * EC2 failed (e.g. RequestLimitExceeded during an interruption storm): the node can still be
   * found by providerID, so the drain need not wait for EC2. With no such node the EC2 error is
   * rethrown — "not found" would make the caller drop an event it should retry.
   */
  private async resolveWithoutEc2(instanceId: string, ec2Error: unknown): Promise<NodeResolution> {
    const known = this.instances.get(instanceId);
    if (known) return this.resolveInstance(instanceId, known);
    const node = (await this.nodeIndex()).get(instanceId);
    if (!node) throw ec2Error;
    const message = ec2Error instanceof Error ? `${ec2Error.name}: ${ec2Error.message}` : String(ec2Error);
    return { ...this.found(instanceId, node, 'provider-id'), ec2Error: message };
  }

  private found(instanceId: string, node: V1Node, via: Via, instance?: InstanceInfo): FoundNode {
    const nodeName = node.metadata?.name ?? '';
    this.nodeNames.set(instanceId, nodeName);
    return { status: 'found', nodeName, node, via, ...(instance ? { instance } : {}) };
  }

  /** The node of that name if it is this instance's (a reused name may belong to another). */
  private async nodeOfInstance(name: string, instanceId: string): Promise<V1Node | undefined> {
    try {
      const node = await this.deps.core.readNode({ name });
      return instanceIdFromProviderId(node.spec?.providerID) === instanceId ? node : undefined;
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

function notFoundReason(instance: InstanceInfo | undefined): string {
  if (!instance) return 'EC2 does not know this instance id';
  return `no node has providerID ending in ${instance.instanceId} (instance ${instance.state}${
    instance.privateDnsName ? `, private DNS ${instance.privateDnsName}` : ', no private DNS name'
  })`;
}
