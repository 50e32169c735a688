// kubectl (unchanged, v1.32) against the simulated API server: tables, cordon, describe, drain.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KObject } from '../../sim/k8s/store.ts';
import {
  fakeKubelet,
  node,
  pdb,
  pod,
  settle,
  startTestCluster,
  type TestCluster,
  workload,
} from './api-support.ts';

let c: TestCluster;
let stopKubelet: () => void;

const BLOCKED = 'ip-10-0-3-30.ec2.internal';
const FREE = 'ip-10-0-4-40.ec2.internal';

function managedPod(name: string, nodeName: string, owner: KObject, labels: Record<string, string>) {
  return c.store.create('pods', pod(name, { node: nodeName, labels, owner }));
}

beforeAll(async () => {
  c = await startTestCluster();
  stopKubelet = fakeKubelet(c.store);
  c.store.create('nodes', node(BLOCKED, { labels: { 'node-role.kubernetes.io/spot': '' } }));
  c.store.create('nodes', node(FREE));
  // BLOCKED runs two replicas of a budget-protected ReplicaSet
  const guarded = c.store.create('replicasets', workload('ReplicaSet', 'checkout', 2));
  managedPod('checkout-a', BLOCKED, guarded, { app: 'checkout' });
  managedPod('checkout-b', BLOCKED, guarded, { app: 'checkout' });
  c.store.create(
    'poddisruptionbudgets',
    pdb('checkout-pdb', { minAvailable: 2, matchLabels: { app: 'checkout' } }),
  );
  // FREE runs a ReplicaSet pod with an emptyDir and a DaemonSet pod
  const web = c.store.create('replicasets', workload('ReplicaSet', 'web', 1));
  const webPod = pod('web-a', { node: FREE, labels: { app: 'web' }, owner: web });
  webPod.spec.volumes = [{ name: 'scratch', emptyDir: {} }];
  c.store.create('pods', webPod);
  const ds = c.store.create('daemonsets', workload('DaemonSet', 'aws-node', 0, 'kube-system'));
  c.store.create(
    'pods',
    pod('aws-node-free', { namespace: 'kube-system', node: FREE, labels: { app: 'aws-node' }, owner: ds }),
  );
  c.store.create('events', {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${FREE}.spot`, namespace: 'default' },
    involvedObject: { kind: 'Node', name: FREE, uid: FREE, apiVersion: 'v1' },
    reason: 'SpotInterruption',
    message: 'Spot interruption warning received',
    type: 'Warning',
    source: { component: 'spotguard' },
    count: 1,
    firstTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    lastTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  });
  await settle();
});
afterAll(async () => {
  stopKubelet();
  await c.stop();
});

describe('kubectl', () => {
  it('get -A prints the server-side table columns for nodes, pods and PDBs', async () => {
    const out = await c.kubectl('get', 'nodes,pods,pdb', '-A');
    expect(out.stderr).toBe('');
    expect(out.stdout).toMatch(/NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION/);
    expect(out.stdout).toMatch(
      new RegExp(`node/${BLOCKED}\\s+Ready\\s+spot\\s+\\d+s\\s+v1\\.30\\.11-eks-473151a`),
    );
    expect(out.stdout).toMatch(/NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/);
    expect(out.stdout).toMatch(/kube-system\s+pod\/aws-node-free\s+1\/1\s+Running\s+0/);
    expect(out.stdout).toMatch(
      /NAMESPACE\s+NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE/,
    );
    expect(out.stdout).toMatch(/default\s+poddisruptionbudget\.policy\/checkout-pdb\s+2\s+N\/A\s+0\s/);
  });

  it('cordon marks the node unschedulable and get shows SchedulingDisabled', async () => {
    const out = await c.kubectl('cordon', FREE);
    expect(out.stdout.trim()).toBe(`node/${FREE} cordoned`);
    expect(c.store.get('nodes', undefined, FREE)?.spec.unschedulable).toBe(true);
    const get = await c.kubectl('get', 'node', FREE, '--no-headers');
    expect(get.stdout).toMatch(new RegExp(`^${FREE}\\s+Ready,SchedulingDisabled\\s`));
  });

  it('describe node lists its non-terminated pods and its events', async () => {
    const out = await c.kubectl('describe', 'node', FREE);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(new RegExp(`^Name:\\s+${FREE}`, 'm'));
    expect(out.stdout).toMatch(/Non-terminated Pods:\s+\(2 in total\)/);
    expect(out.stdout).toMatch(/kube-system\s+aws-node-free/);
    expect(out.stdout).toMatch(
      /Warning\s+SpotInterruption\s+.*spotguard\s+Spot interruption warning received/,
    );
  });

  it('get events prints the event columns', async () => {
    const out = await c.kubectl('get', 'events', '-n', 'default');
    expect(out.stdout).toMatch(/LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE/);
    expect(out.stdout).toMatch(
      new RegExp(`Warning\\s+SpotInterruption\\s+node/${FREE}\\s+Spot interruption warning received`),
    );
  });

  it('drain stops at a blocking PodDisruptionBudget (429 every 5 s) and fails at --timeout', async () => {
    const out = await c.kubectl(
      'drain',
      BLOCKED,
      '--ignore-daemonsets',
      '--delete-emptydir-data',
      '--timeout=3s',
      '-v=8',
    );
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain(
      `error when evicting pods/"checkout-a" -n "default" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.`,
    );
    // the 429 body (logged at -v=8) names the budget
    expect(out.stderr).toContain(
      'The disruption budget checkout-pdb needs 2 healthy pods and has 2 currently',
    );
    expect(c.store.get('pods', 'default', 'checkout-a')?.metadata.deletionTimestamp).toBeUndefined();
  });

  it('drain evicts what it may, skips DaemonSet pods, and finishes once the kubelet has removed the pods', async () => {
    const out = await c.kubectl(
      'drain',
      FREE,
      '--ignore-daemonsets',
      '--delete-emptydir-data',
      '--timeout=20s',
    );
    expect(out.stderr).toContain('Warning: ignoring DaemonSet-managed Pods: kube-system/aws-node-free');
    expect(out.stdout).toContain('evicting pod default/web-a');
    expect(out.stdout).toContain('pod/web-a evicted');
    expect(out.stdout).toContain(`node/${FREE} drained`);
    expect(out.code).toBe(0);
    expect(c.store.get('pods', 'default', 'web-a')).toBeUndefined();
    expect(c.store.get('pods', 'kube-system', 'aws-node-free')).toBeDefined();
    expect(c.api.requests.byKey()['create pods/eviction']).toBeGreaterThanOrEqual(1);
  });

  it('scale changes a Deployment through the scale subresource', async () => {
    c.store.create('deployments', workload('Deployment', 'frontend', 2));
    const out = await c.kubectl('scale', 'deployment/frontend', '--replicas=5');
    expect(out.stdout.trim()).toBe('deployment.apps/frontend scaled');
    expect(c.store.get('deployments', 'default', 'frontend')?.spec.replicas).toBe(5);
    expect(c.store.get('deployments', 'default', 'frontend')?.metadata.generation).toBe(2);
  });

  it('get -w streams table rows as pods appear', async () => {
    const child = spawn('kubectl', [...c.kubectlArgs, 'get', 'pods', '-n', 'default', '-w', '--no-headers']);
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += String(chunk);
    });
    try {
      const seen = async (text: string) => {
        const deadline = Date.now() + 10_000;
        while (!stdout.includes(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        return stdout.includes(text);
      };
      expect(await seen('checkout-a')).toBe(true);
      c.store.create('pods', pod('late-arrival', { node: BLOCKED }));
      expect(await seen('late-arrival')).toBe(true);
      expect(stdout).toMatch(/late-arrival\s+1\/1\s+Running\s+0\s+\d+s/);
    } finally {
      child.kill();
    }
  });
});

describe('kubectl against a server without policy/v1 (like Kubernetes 1.20)', () => {
  let old: TestCluster;
  let stop: () => void;
  beforeAll(async () => {
    old = await startTestCluster({ servePolicyV1: false });
    stop = fakeKubelet(old.store);
    old.store.create('nodes', node('ip-10-0-5-50.ec2.internal'));
    const rs = old.store.create('replicasets', workload('ReplicaSet', 'api', 2));
    for (const name of ['api-a', 'api-b']) {
      old.store.create(
        'pods',
        pod(name, { node: 'ip-10-0-5-50.ec2.internal', labels: { app: 'api' }, owner: rs }),
      );
    }
    old.store.create('poddisruptionbudgets', {
      ...pdb('api', { maxUnavailable: 2, matchLabels: { app: 'api' } }),
      apiVersion: 'policy/v1beta1',
    });
    await settle();
  });
  afterAll(async () => {
    stop();
    await old.stop();
  });

  it('drains with policy/v1beta1 evictions (a policy/v1 body would be refused here)', async () => {
    old.api.requests.reset();
    const out = await old.kubectl(
      'drain',
      'ip-10-0-5-50.ec2.internal',
      '--ignore-daemonsets',
      '--timeout=20s',
    );
    expect(out.stdout).toContain('node/ip-10-0-5-50.ec2.internal drained');
    expect(out.code).toBe(0);
    expect(old.store.list('pods')).toEqual([]);
    expect(old.api.requests.byKey()['create pods/eviction']).toBeGreaterThanOrEqual(2);
    const pdbs = await old.kubectl('get', 'pdb', '--no-headers');
    expect(pdbs.stdout).toMatch(/^api\s+N\/A\s+2\s+0\s/);
  });
});
