import type { EC2Client } from '@aws-sdk/client-ec2';
import type { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { describeInstances } from '../../shared/aws/instances.ts';
import { NodeResolver } from '../../shared/resolve/node-resolver.ts';
import { testCredentials, useTestAwsEnv } from './support/aws-env.ts';
import { startTestEc2, type TestEc2 } from './support/ec2-server.ts';
import { coreApiFor } from './support/kube-clients.ts';
import { startTestKubeApi, type TestKubeApi, testNode } from './support/kube-server.ts';

const AZ = 'eu-west-1a';
const dns = (n: number) => `ip-10-0-0-${n}.eu-west-1.compute.internal`;
const id = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;
const providerId = (n: number) => `aws:///${AZ}/${id(n)}`;

// 250 filler nodes so that a full list takes three pages of 100.
const fillerNodes = Array.from({ length: 250 }, (_, k) => testNode(dns(1000 + k), providerId(1000 + k)));

describe('describeInstances and NodeResolver', () => {
  let ec2Server: TestEc2;
  let kube: TestKubeApi;
  let ec2: EC2Client;
  let core: CoreV1Api;

  beforeAll(async () => {
    useTestAwsEnv();
    ec2Server = await startTestEc2([
      // 1: the common case, node named after the private DNS name
      {
        instanceId: id(1),
        privateDnsName: dns(1),
        availabilityZone: AZ,
        lifecycle: 'spot',
        instanceType: 'c6i.large',
        tags: { 'aws:autoscaling:groupName': 'workers-spot', 'eks:cluster-name': 'prod' },
      },
      // 2: node registered under another name (e.g. a custom hostname): only the providerID matches
      {
        instanceId: id(2),
        privateDnsName: dns(2),
        availabilityZone: AZ,
        tags: { 'kubernetes.io/cluster/prod': 'owned' },
      },
      // 3: terminated, EC2 has cleared the private DNS name, the node object is still there
      { instanceId: id(3), availabilityZone: AZ, state: 'terminated' },
      // 4: running, never joined the cluster
      { instanceId: id(4), privateDnsName: dns(4), availabilityZone: AZ },
      // 5: another cluster's instance
      {
        instanceId: id(5),
        privateDnsName: dns(5),
        availabilityZone: AZ,
        tags: { 'eks:cluster-name': 'staging' },
      },
      // 6: another cluster, old-style tag
      {
        instanceId: id(6),
        privateDnsName: dns(6),
        availabilityZone: AZ,
        tags: { 'kubernetes.io/cluster/staging': 'owned' },
      },
      // 7: its private DNS name was reused by a node that belongs to instance 8's providerID
      { instanceId: id(7), privateDnsName: dns(7), availabilityZone: AZ },
      // 9: launched, its node joins during the test
      { instanceId: id(9), privateDnsName: dns(9), availabilityZone: AZ },
    ]);
    kube = await startTestKubeApi([
      testNode(dns(1), providerId(1)),
      ...fillerNodes.slice(0, 120),
      testNode('custom-name-2', providerId(2)),
      ...fillerNodes.slice(120),
      testNode(dns(3), providerId(3)),
      testNode(dns(7), providerId(8)),
    ]);
    ec2 = createAwsClients({
      endpoint: ec2Server.url,
      region: 'eu-west-1',
      credentials: testCredentials,
    }).ec2;
    core = coreApiFor(kube.url);
  });
  beforeEach(() => {
    ec2Server.requests.length = 0;
    kube.requests.length = 0;
  });
  afterAll(async () => {
    await ec2Server.close();
    await kube.close();
  });

  describe('describeInstances', () => {
    it('maps EC2 fields, lifecycle and the ASG tag', async () => {
      const found = await describeInstances(ec2, [id(1), id(3)]);
      expect(found.get(id(1))).toEqual({
        instanceId: id(1),
        privateDnsName: dns(1),
        availabilityZone: AZ,
        instanceType: 'c6i.large',
        lifecycle: 'spot',
        state: 'running',
        tags: { 'aws:autoscaling:groupName': 'workers-spot', 'eks:cluster-name': 'prod' },
        autoScalingGroupName: 'workers-spot',
      });
      expect(found.get(id(3))).toMatchObject({ lifecycle: 'on-demand', state: 'terminated' });
      expect(found.get(id(3))?.privateDnsName).toBeUndefined();
      expect(ec2Server.describeCalls()).toHaveLength(1);
    });

    it('asks once for many ids', async () => {
      const found = await describeInstances(ec2, [id(1), id(2), id(3), id(4), id(1)]);
      expect([...found.keys()].sort()).toEqual([id(1), id(2), id(3), id(4)]);
      expect(ec2Server.describeCalls()).toHaveLength(1);
    });

    it('drops unknown and malformed ids named by EC2 errors and keeps the rest', async () => {
      const found = await describeInstances(ec2, [id(1), id(0xdead), id(2), id(0xbeef), 'i-zz']);
      expect([...found.keys()].sort()).toEqual([id(1), id(2)]);
      // 1st call: Malformed names i-zz; 2nd: NotFound names both unknown ids; 3rd succeeds.
      expect(ec2Server.describeCalls()).toHaveLength(3);
      const lastIds = [...new URLSearchParams(ec2Server.describeCalls()[2]!.body).entries()]
        .filter(([k]) => k.startsWith('InstanceId.'))
        .map(([, v]) => v);
      expect(lastIds).toEqual([id(1), id(2)]);
    });

    it('splits very many ids into calls of 200', async () => {
      const many = Array.from({ length: 450 }, (_, k) => ({
        instanceId: id(5000 + k),
        availabilityZone: AZ,
      }));
      const big = await startTestEc2(many);
      try {
        const client = createAwsClients({
          endpoint: big.url,
          region: 'eu-west-1',
          credentials: testCredentials,
        }).ec2;
        const found = await describeInstances(
          client,
          many.map((i) => i.instanceId),
        );
        expect(found.size).toBe(450);
        const sizes = big
          .describeCalls()
          .map(
            (r) => [...new URLSearchParams(r.body).keys()].filter((k) => k.startsWith('InstanceId.')).length,
          );
        expect(sizes).toEqual([200, 200, 50]);
      } finally {
        await big.close();
      }
    });

    it('returns an empty map when no id exists', async () => {
      expect((await describeInstances(ec2, [id(0xdead)])).size).toBe(0);
    });
  });

  describe('NodeResolver', () => {
    it('finds the node by private DNS name with one EC2 call and one GET, no list', async () => {
      const r = await new NodeResolver({ ec2, core }, { clusterName: 'prod' }).resolve(id(1));
      expect(r).toMatchObject({ status: 'found', nodeName: dns(1), via: 'private-dns-name' });
      expect(r.status === 'found' && r.instance?.autoScalingGroupName).toBe('workers-spot');
      expect(ec2Server.describeCalls()).toHaveLength(1);
      expect(kube.gets()).toHaveLength(1);
      expect(kube.lists()).toHaveLength(0);
    });

    it('falls back to a paginated providerID search when the name lookup 404s', async () => {
      const r = await new NodeResolver({ ec2, core }, { clusterName: 'prod' }).resolve(id(2));
      expect(r).toMatchObject({ status: 'found', nodeName: 'custom-name-2', via: 'provider-id' });
      expect(kube.gets()).toHaveLength(1);
      const pages = kube.lists();
      expect(pages).toHaveLength(3);
      expect(pages.map((p) => p.url.searchParams.get('limit'))).toEqual(['100', '100', '100']);
      expect(pages.map((p) => p.url.searchParams.get('continue') ?? '')).toEqual(['', '100', '200']);
    });

    it('uses providerID for a terminated instance without a private DNS name (no GET by name)', async () => {
      const r = await new NodeResolver({ ec2, core }).resolve(id(3));
      expect(r).toMatchObject({ status: 'found', nodeName: dns(3), via: 'provider-id' });
      expect(kube.gets()).toHaveLength(0);
    });

    it('does not take a node whose name matches but whose providerID is another instance', async () => {
      const r = await new NodeResolver({ ec2, core }).resolve(id(7));
      expect(r).toMatchObject({ status: 'not-found', instanceId: id(7) });
      expect(kube.lists().length).toBeGreaterThan(0);
    });

    it('reports a running instance without a node as not-found, with the reason', async () => {
      const r = await new NodeResolver({ ec2, core }).resolve(id(4));
      expect(r.status).toBe('not-found');
      expect(r.status === 'not-found' && r.reason).toMatch(/no node has providerID ending in i-0+4/);
      expect(r.status === 'not-found' && r.instance?.state).toBe('running');
    });

    it('reports an id EC2 does not know as not-found', async () => {
      const r = await new NodeResolver({ ec2, core }).resolve(id(0xdead));
      expect(r).toMatchObject({ status: 'not-found', reason: 'EC2 does not know this instance id' });
    });

    it("ignores another cluster's instances without touching the Kubernetes API", async () => {
      const resolver = new NodeResolver({ ec2, core }, { clusterName: 'prod' });
      const results = await resolver.resolveMany([id(5), id(6)]);
      expect(results.get(id(5))).toMatchObject({
        status: 'not-found',
        reason: 'instance belongs to cluster "staging"',
      });
      expect(results.get(id(6))).toMatchObject({
        status: 'not-found',
        reason: 'instance belongs to cluster "staging"',
      });
      expect(kube.requests).toHaveLength(0);
    });

    it('answers a repeated id from its cache without new requests', async () => {
      const resolver = new NodeResolver({ ec2, core });
      const first = await resolver.resolve(id(1));
      const requestsAfterFirst = ec2Server.requests.length + kube.requests.length;
      const again = await resolver.resolve(id(1));
      expect(again).toBe(first);
      expect(ec2Server.requests.length + kube.requests.length).toBe(requestsAfterFirst);
    });

    it('resolves many ids with one DescribeInstances and at most one node list', async () => {
      const resolver = new NodeResolver({ ec2, core }, { clusterName: 'prod' });
      const results = await resolver.resolveMany([id(1), id(2), id(3), id(4), id(5)]);
      expect([...results.values()].map((r) => r.status)).toEqual([
        'found',
        'found',
        'found',
        'not-found',
        'not-found',
      ]);
      expect(ec2Server.describeCalls()).toHaveLength(1);
      expect(kube.lists()).toHaveLength(3); // one paginated list shared by ids 2, 3 and 4
    });

    describe('refresh (polling callers)', () => {
      const removeNode = (name: string) => {
        const at = kube.nodes.findIndex((n) => n.metadata.name === name);
        if (at >= 0) kube.nodes.splice(at, 1);
      };
      afterAll(() => removeNode(dns(9)));

      it('sees a node that joined after a cached not-found, with one GET and no EC2 call', async () => {
        const resolver = new NodeResolver({ ec2, core });
        expect((await resolver.resolve(id(9))).status).toBe('not-found');
        kube.nodes.push(testNode(dns(9), providerId(9)));
        kube.requests.length = 0;
        ec2Server.requests.length = 0;
        expect((await resolver.resolve(id(9))).status).toBe('not-found'); // cached answer, no request
        expect(kube.requests).toHaveLength(0);
        const again = await resolver.resolve(id(9), { refresh: true });
        expect(again).toMatchObject({ status: 'found', nodeName: dns(9), via: 'private-dns-name' });
        expect(ec2Server.requests).toHaveLength(0);
        expect(kube.gets()).toHaveLength(1);
        expect(kube.lists()).toHaveLength(0);
      });

      it('returns the current node object (e.g. a new Ready condition)', async () => {
        const resolver = new NodeResolver({ ec2, core });
        const before = await resolver.resolve(id(1));
        const node = kube.nodes.find((n) => n.metadata.name === dns(1))!;
        node.metadata.labels = { ...node.metadata.labels, refreshed: 'yes' };
        const after = await resolver.resolve(id(1), { refresh: true });
        expect(before.status === 'found' && before.node.metadata?.labels?.refreshed).toBeUndefined();
        expect(after.status === 'found' && after.node.metadata?.labels?.refreshed).toBe('yes');
      });

      it('goes straight to a custom node name found before, without listing again', async () => {
        const resolver = new NodeResolver({ ec2, core });
        await resolver.resolve(id(2));
        kube.requests.length = 0;
        const again = await resolver.resolve(id(2), { refresh: true });
        expect(again).toMatchObject({ status: 'found', nodeName: 'custom-name-2' });
        expect(kube.gets().map((r) => r.url.pathname)).toEqual([
          `/api/v1/nodes/${dns(2)}`,
          '/api/v1/nodes/custom-name-2',
        ]);
        expect(kube.lists()).toHaveLength(0);
      });
    });

    describe('when EC2 is throttled', () => {
      afterAll(() => {
        ec2Server.throttled = false;
      });

      it('still finds the node by providerID and says EC2 was not asked', async () => {
        ec2Server.throttled = true;
        const oneTry = createAwsClients({
          endpoint: ec2Server.url,
          region: 'eu-west-1',
          credentials: testCredentials,
          maxAttempts: 1,
        }).ec2;
        const r = await new NodeResolver({ ec2: oneTry, core }).resolve(id(1));
        expect(r).toMatchObject({ status: 'found', nodeName: dns(1), via: 'provider-id' });
        expect(r.status === 'found' && r.ec2Error).toMatch(/RequestLimitExceeded/);
        expect(r.status === 'found' && r.instance).toBeUndefined();
      });

      it('rethrows the EC2 error when no node matches, so the event is retried rather than dropped', async () => {
        ec2Server.throttled = true;
        const oneTry = createAwsClients({
          endpoint: ec2Server.url,
          region: 'eu-west-1',
          credentials: testCredentials,
          maxAttempts: 1,
        }).ec2;
        const resolver = new NodeResolver({ ec2: oneTry, core });
        await expect(resolver.resolve(id(4))).rejects.toMatchObject({ name: 'RequestLimitExceeded' });
        ec2Server.throttled = false;
        // The failure was not cached: the next call asks again and gets a real answer.
        expect((await resolver.resolve(id(4))).status).toBe('not-found');
      });
    });
  });
});
