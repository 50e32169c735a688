// The access layer against the simulator (sim/aws + sim/k8s/api on loopback): EKS discovery and
// token from the environment, the way a Lambda container starts, and instance → node resolution
// with the simulator's own request counters.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { awsClients, resetAwsClients } from '../../shared/aws/clients.ts';
import { getKubeClients, type KubeClients, resetKubeClients } from '../../shared/k8s/client.ts';
import { NodeResolver } from '../../shared/resolve/node-resolver.ts';
import { type SimAwsSide, startAwsSide } from '../../sim/aws/index.ts';
import { type KubeApi, startKubeApi } from '../../sim/k8s/api/server.ts';
import { Store } from '../../sim/k8s/store.ts';

const CLUSTER = 'sim-prod';
const REGION = 'eu-west-1';

describe('access layer against the simulator', () => {
  let store: Store;
  let kube: KubeApi;
  let aws: SimAwsSide;
  let k8s: KubeClients;
  const saved = { ...process.env };

  beforeAll(async () => {
    store = new Store();
    kube = await startKubeApi({ store, clusterName: CLUSTER });
    aws = await startAwsSide({
      store,
      clusterName: CLUSTER,
      region: REGION,
      zones: ['eu-west-1a', 'eu-west-1b'],
      k8sUrl: () => kube.url,
      bootDelayMs: 50,
      stateChangeMs: 10,
    });
    aws.cloud.createGroup({
      name: 'spot-workers',
      zones: ['eu-west-1a', 'eu-west-1b'],
      capacityType: 'SPOT',
      desired: 4,
    });
    // What a Lambda container sees (plus the endpoint override that points at the simulator).
    Object.assign(process.env, {
      CLUSTER_NAME: CLUSTER,
      AWS_REGION: REGION,
      AWS_ENDPOINT_URL: aws.endpoint.url,
      AWS_ACCESS_KEY_ID: 'ASIASIMLAMBDA0000001',
      AWS_SECRET_ACCESS_KEY: 'sim-secret',
      AWS_SESSION_TOKEN: 'sim-session-token',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    delete process.env.KUBECONFIG;
    delete process.env.SPOTGUARD_KUBECONFIG;
    k8s = await getKubeClients();
  });
  afterEach(() => {
    kube.requests.reset();
    aws.endpoint.requests.reset();
  });
  afterAll(async () => {
    resetKubeClients();
    resetAwsClients();
    process.env = saved;
    await aws.stop();
    await kube.stop();
  });

  it('finds the cluster through DescribeCluster and is accepted with an EKS token', async () => {
    expect(k8s.server).toBe(kube.url);
    const nodes = await k8s.core.listNode();
    expect(nodes.items).toHaveLength(4);
    expect(await getKubeClients()).toBe(k8s); // per container
  });

  it('resolves every instance with one DescribeInstances and one GET each, never listing nodes', async () => {
    const ids = aws.cloud.instances().map((i) => i.instanceId);
    const resolver = new NodeResolver({ ec2: awsClients().ec2, core: k8s.core }, { clusterName: CLUSTER });
    const results = await resolver.resolveMany(ids);
    for (const instance of aws.cloud.instances()) {
      expect(results.get(instance.instanceId)).toMatchObject({
        status: 'found',
        nodeName: instance.privateDnsName,
        via: 'private-dns-name',
        instance: {
          lifecycle: 'spot',
          autoScalingGroupName: 'spot-workers',
          availabilityZone: instance.zone,
        },
      });
    }
    expect(aws.endpoint.requests.count('ec2', 'DescribeInstances')).toBe(1);
    expect(kube.requests.byKey()).toEqual({ 'get nodes': ids.length });
  });

  it('reports an instance whose node is gone as not-found after one paginated list', async () => {
    const victim = aws.cloud.instances()[0]!;
    store.delete('nodes', undefined, victim.privateDnsName);
    const resolution = await new NodeResolver({ ec2: awsClients().ec2, core: k8s.core }).resolve(
      victim.instanceId,
    );
    expect(resolution).toMatchObject({ status: 'not-found', instanceId: victim.instanceId });
    expect(kube.requests.byKey()).toEqual({ 'get nodes': 1, 'list nodes': 1 });
  });

  it('treats an unknown instance id as not-found instead of failing', async () => {
    const resolution = await new NodeResolver({ ec2: awsClients().ec2, core: k8s.core }).resolve(
      'i-0123456789abcdef0',
    );
    expect(resolution).toMatchObject({ status: 'not-found', reason: 'EC2 does not know this instance id' });
  });
});
