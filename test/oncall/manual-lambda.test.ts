// The manual function through its real Lambda handler on the simulator: drain with an on-call
// reason, uncordon, status, dry run, every safety refusal, and who asked (verified principal).
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandleReport } from '../../shared/actions/types.ts';
import { createEksToken } from '../../shared/k8s/eks-token.ts';
import { mergePatchNode } from '../../shared/k8s/nodes.ts';
import { MANUAL_IDENTITY_AUDIENCE } from '../../shared/plans/manual-identity.ts';
import { deployment, type E2E, eventsAbout, startE2E, zonalStatefulSet } from '../e2e/harness.ts';

let e: E2E;
type Report = HandleReport & {
  principal: string;
  manualStatus?: { nodes: { node: string; manualReason?: string }[] };
};
const REASON = 'INC-4711: disk pressure, draining ahead of retirement';

async function invoke(payload: Record<string, unknown>): Promise<Report> {
  const out = (await e.bridge.invoke('manual', { spotguard: 'manual', ...payload })) as { reports: Report[] };
  return out.reports[0]!;
}
const node = (name: string) => e.sim.store.get('nodes', undefined, name)!;
const spotNodes = () =>
  e.sim.aws
    .instances()
    .filter((i) => i.groupName === 'spot-a' && i.state === 'running')
    .map((i) => i.privateDnsName);

async function identityToken(): Promise<string> {
  const { credentials } = e.sim.awsClientConfig();
  const t = await createEksToken({
    clusterName: MANUAL_IDENTITY_AUDIENCE,
    region: e.sim.region,
    credentials,
    stsEndpoint: e.sim.awsEndpoint,
  });
  return t.token;
}

beforeAll(async () => {
  e = await startE2E({
    scenario: {
      cluster: { name: 'e2e-oncall', region: 'us-east-1', zones: ['us-east-1a', 'us-east-1b'] },
      nodeGroups: [
        {
          name: 'spot-a',
          zone: 'us-east-1a',
          capacityType: 'SPOT',
          desired: 4,
          max: 6,
          capacityRebalance: false,
        },
        { name: 'od-b', zone: 'us-east-1b', capacityType: 'ON_DEMAND', desired: 1, max: 3 },
      ],
      workloads: [deployment('web', 3), ...zonalStatefulSet('db', 1, 'us-east-1b')],
    },
  });
  await e.sim.waitFor(
    () =>
      e.sim.store.list('pods', { namespace: 'default' }).filter((p) => p.status?.phase === 'Running')
        .length === 4,
    30_000,
    'pods running',
  );
}, 60_000);

afterAll(async () => {
  await e?.stop();
});

describe('manual drain through the Lambda handler', () => {
  it('dry run changes nothing and says what it would do', async () => {
    const name = spotNodes()[0]!;
    const r = await invoke({ action: 'drain', node: name, reason: REASON, dryRun: true });
    expect(r.outcome).toBe('handled');
    expect(r.summary).toMatch(/dry run/);
    expect(node(name).spec?.unschedulable).toBeFalsy();
    expect(node(name).metadata.annotations?.['spotguard.io/manual-reason']).toBeUndefined();
  });

  it('drains with the free-text reason; the verified principal is on the node and in an Event', async () => {
    const name = spotNodes()[0]!;
    const r = await invoke({
      action: 'drain',
      node: name,
      reason: REASON,
      requestedBy: 'alice',
      identityToken: await identityToken(),
    });
    expect(r.outcome, r.summary).toBe('handled');
    expect(r.principal).toMatch(/^arn:aws:(iam|sts)::123456789012:/);
    const n = node(name);
    expect(n.spec?.unschedulable).toBe(true);
    expect(n.spec?.taints?.map((t: { key: string }) => t.key)).toContain('spotguard.io/manual');
    expect(n.metadata.annotations?.['spotguard.io/manual-reason']).toBe(REASON);
    expect(n.metadata.annotations?.['spotguard.io/requested-by']).toBe(r.principal);
    const ev = eventsAbout(e.sim, 'Node', name).find((x) => x.reason === 'ManualDrainRequested');
    expect(ev?.message).toContain(r.principal);
    expect(ev?.message).toContain(REASON);
    expect(
      e.sim.store.list('pods', { nodeName: name }).filter((p) => p.metadata.namespace === 'default'),
    ).toHaveLength(0);
  });

  it('without an identity token the principal is recorded as unverified, never the free text alone', async () => {
    const r = await invoke({ action: 'status', node: spotNodes()[0]!, requestedBy: 'mallory' });
    expect(r.principal).toBe('unverified: no identity token (requestedBy: mallory)');
  });

  it('a forged identity token pointing elsewhere is rejected', async () => {
    const forged = `k8s-aws-v1.${Buffer.from('http://169.254.169.254/?Action=GetCallerIdentity').toString('base64url')}`;
    await expect(invoke({ action: 'status', identityToken: forged })).rejects.toThrow(
      /presigned STS GetCallerIdentity/,
    );
  });

  it('status with no node lists the node with reason and age, answered fresh each time', async () => {
    const name = spotNodes()[0]!;
    const r = await invoke({ action: 'status' });
    const mine = r.manualStatus?.nodes.find((x) => x.node === name);
    expect(mine?.manualReason).toBe(REASON);
    expect(mine).toMatchObject({ unschedulable: true, cordonReason: 'manual' });
    expect(typeof (mine as { ageSeconds?: number }).ageSeconds).toBe('number');
  });
});

describe('webhook notification', () => {
  it('a drain is announced to the webhook; a webhook that never answers does not fail or hold the drain', async () => {
    const held: ServerResponse[] = [];
    const bodies: string[] = [];
    const hook = createServer((req, res) => {
      let b = '';
      req.on('data', (c) => {
        b += c;
      });
      req.on('end', () => {
        bodies.push(b);
        held.push(res);
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    process.env.NOTIFY_WEBHOOK_URL = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`;
    process.env.NOTIFY_TIMEOUT_MS = '60000';
    try {
      const name = spotNodes()[3]!;
      const r = await invoke({
        action: 'drain',
        node: name,
        reason: 'INC-9: webhook check',
        overrideSafety: true,
        timeoutSeconds: 30,
      });
      expect(r.outcome, r.summary).toBe('handled');
      expect(held.length).toBe(1); // still unanswered when the handler returned
      expect(JSON.parse(bodies[0]!).text).toMatch(/manual drain of .*INC-9: webhook check/s);
      await invoke({ action: 'uncordon', node: name });
    } finally {
      delete process.env.NOTIFY_WEBHOOK_URL;
      delete process.env.NOTIFY_TIMEOUT_MS;
      hook.closeAllConnections();
      hook.close();
    }
  }, 60_000);
});

describe('uncordon', () => {
  it('a reason filter only when asked: a mismatching filter leaves the node; none undoes the cordon', async () => {
    const name = spotNodes()[0]!;
    const kept = await invoke({ action: 'uncordon', node: name, onlyIfReason: 'spot-interruption' });
    expect(kept.summary).toMatch(/left as is/);
    expect(node(name).spec?.unschedulable).toBe(true);
    const r = await invoke({ action: 'uncordon', node: name, reason: 'INC-4711 resolved' });
    expect(r.outcome, r.summary).toBe('handled');
    expect(node(name).spec?.unschedulable).toBeFalsy();
    expect(node(name).spec?.taints ?? []).not.toContainEqual(
      expect.objectContaining({ key: 'spotguard.io/manual' }),
    );
    expect(node(name).metadata.annotations?.['spotguard.io/manual-reason']).toBeUndefined();
    // status right after: no longer listed (not the cached answer from before)
    expect((await invoke({ action: 'status' })).manualStatus?.nodes.map((x) => x.node)).not.toContain(name);
  });

  it("someone else's cordon is kept unless forced", async () => {
    const name = spotNodes()[1]!;
    await mergePatchNode(e.k8s, name, { spec: { unschedulable: true } });
    await invoke({ action: 'uncordon', node: name });
    expect(node(name).spec?.unschedulable).toBe(true);
    await invoke({ action: 'uncordon', node: name, force: true });
    expect(node(name).spec?.unschedulable).toBeFalsy();
  });
});

describe('safety refusals (unless overrideSafety)', () => {
  it('the last schedulable node of a zone holding zonal-PV pods', async () => {
    const name = e.sim.aws.instances().find((i) => i.groupName === 'od-b')!.privateDnsName;
    const r = await invoke({ action: 'drain', node: name, reason: 'test' });
    expect(r.outcome).toBe('refused');
    expect(r.summary).toMatch(/last schedulable node in us-east-1b .*default\/db-0/);
    expect(node(name).spec?.unschedulable).toBeFalsy();
  });

  it('more than the configured share of the cluster cordoned', async () => {
    const [a, b] = spotNodes();
    expect((await invoke({ action: 'drain', node: a, reason: 'one', timeoutSeconds: 30 })).outcome).toBe(
      'handled',
    );
    const r = await invoke({ action: 'drain', node: b, reason: 'two' });
    expect(r.outcome).toBe('refused');
    expect(r.summary).toMatch(/2 of 5 nodes would be cordoned/);
    expect(node(b!).spec?.unschedulable).toBeFalsy();
    const forced = await invoke({
      action: 'drain',
      node: b,
      reason: 'two',
      overrideSafety: true,
      timeoutSeconds: 30,
    });
    expect(forced.outcome, forced.summary).toBe('handled');
    const ev = eventsAbout(e.sim, 'Node', b!).find((x) => x.reason === 'ManualDrainRequested');
    expect(ev?.type).toBe('Warning');
    expect(ev?.message).toMatch(/safety override/);
    await invoke({ action: 'uncordon', node: a });
    await invoke({ action: 'uncordon', node: b });
  }, 60_000);

  it('a node of another cluster', async () => {
    const inst = e.sim.aws.instances().find((i) => i.groupName === 'spot-a' && i.state === 'running')!;
    const saved = { ...inst.tags };
    inst.tags['eks:cluster-name'] = 'someone-else';
    try {
      const r = await invoke({ action: 'drain', node: inst.privateDnsName, reason: 'x' });
      expect(r.outcome).toBe('refused');
      expect(r.summary).toMatch(/belongs to cluster someone-else/);
    } finally {
      inst.tags = saved;
    }
  });

  it('bypassing PDBs is loud: a Warning Event says so', async () => {
    const name = spotNodes()[2]!;
    const r = await invoke({
      action: 'drain',
      node: name,
      reason: 'urgent',
      bypassPdb: true,
      timeoutSeconds: 30,
    });
    expect(r.outcome, r.summary).toBe('handled');
    const ev = eventsAbout(e.sim, 'Node', name).find((x) => x.reason === 'ManualDrainRequested');
    expect(ev?.type).toBe('Warning');
    expect(ev?.message).toMatch(/PodDisruptionBudgets BYPASSED/);
    await invoke({ action: 'uncordon', node: name });
  }, 60_000);
});
