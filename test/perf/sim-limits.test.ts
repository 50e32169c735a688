// The simulator's storm-relevant limits: kube-apiserver's max-in-flight filter (429 + Retry-After 1,
// watches exempt) and the AWS per-account token buckets (the services' throttling errors).
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../sim/api-support.ts';
import { type AwsFixture, startAwsFixture } from '../sim/aws-fixture.ts';

const AUTH = { authorization: 'Bearer simulator' };

describe('max-in-flight limits on the simulated API server', () => {
  let cluster: TestCluster;
  afterEach(() => cluster?.stop());

  it("answers the request beyond the limit with 429, Retry-After 1 and the filter's text; the first completes", async () => {
    cluster = await startTestCluster({
      inflight: { maxRequestsInflight: 1, maxMutatingRequestsInflight: 1 },
    });
    cluster.faults.add({ service: 'k8s', verb: 'list', resource: 'nodes', latencyMs: 300, count: 1 });
    const url = `${cluster.api.url}/api/v1/nodes`;
    const slow = fetch(url, { headers: AUTH });
    await new Promise((r) => setTimeout(r, 50));
    const rejected = await fetch(url, { headers: AUTH });
    expect(rejected.status).toBe(429);
    expect(rejected.headers.get('retry-after')).toBe('1');
    expect(await rejected.text()).toBe('Too many requests, please try again later.\n');
    // a mutating request has its own budget: not refused by the full read-only one
    const created = await fetch(`${cluster.api.url}/api/v1/namespaces`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'limits' } }),
    });
    expect(created.status).toBe(201);
    expect((await slow).status).toBe(200);
    expect(cluster.api.inflight).toMatchObject({ rejected: 1, peak: 2 });
    expect((await fetch(url, { headers: AUTH })).status).toBe(200); // the slot was freed
  });

  it('does not count watches: a held watch leaves the one read-only slot free', async () => {
    cluster = await startTestCluster({
      inflight: { maxRequestsInflight: 1, maxMutatingRequestsInflight: 1 },
    });
    const watch = new AbortController();
    const watching = await fetch(`${cluster.api.url}/api/v1/pods?watch=true`, {
      headers: AUTH,
      signal: watch.signal,
    });
    expect(watching.status).toBe(200);
    expect((await fetch(`${cluster.api.url}/api/v1/nodes`, { headers: AUTH })).status).toBe(200);
    watch.abort();
  });

  it("is on by default at kube-apiserver's defaults (400 / 200)", async () => {
    cluster = await startTestCluster();
    cluster.faults.add({ service: 'k8s', verb: 'list', resource: 'nodes', latencyMs: 200 });
    const statuses = await Promise.all(
      Array.from({ length: 401 }, () =>
        fetch(`${cluster.api.url}/api/v1/nodes`, { headers: AUTH }).then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
    expect(cluster.api.inflight.peak).toBe(400);
  });
});

describe('AWS per-account throttling', () => {
  let sim: AwsFixture;
  afterEach(() => sim?.stop());

  it('answers EC2 DescribeInstances beyond its bucket with RequestLimitExceeded', async () => {
    sim = await startAwsFixture({ throttle: { 'ec2:non-mutating': { burst: 2, perSecond: 0.01 } } });
    const ec2 = new EC2Client({ ...sim.clientConfig, maxAttempts: 1 });
    const describe = () => ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] }));
    for (let i = 0; i < 2; i++)
      await describe().catch((e: Error) => expect(e.name).not.toBe('RequestLimitExceeded'));
    await expect(describe()).rejects.toMatchObject({ name: 'RequestLimitExceeded' });
    expect(sim.endpoint.throttle?.throttled.get('ec2:non-mutating')).toBe(1);
    ec2.destroy();
  });

  it("refills: the SDK's own retry gets through once a token is back", async () => {
    sim = await startAwsFixture({ throttle: { 'ec2:non-mutating': { burst: 1, perSecond: 10 } } });
    const ec2 = new EC2Client({ ...sim.clientConfig, maxAttempts: 3 });
    const describe = () =>
      ec2
        .send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] }))
        .catch((e: Error) => e.name);
    const results = await Promise.all([describe(), describe()]);
    expect(results).not.toContain('RequestLimitExceeded');
    expect(sim.endpoint.throttle?.throttled.get('ec2:non-mutating')).toBeGreaterThanOrEqual(1);
    ec2.destroy();
  });
});
