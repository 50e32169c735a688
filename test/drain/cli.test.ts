// `spotguard drain | uncordon | status` in-process through main(), against the simulator.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIO } from '../../cli/io.ts';
import { main } from '../../cli/main.ts';
import {
  addDeployment,
  addNode,
  addPdb,
  runningPodsOn,
  type SimCluster,
  startCluster,
  waitFor,
} from './sim-harness.ts';

const NODE = 'ip-10-0-5-10.ec2.internal';
let sim: SimCluster;

async function run(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
    readStdin: async () => '',
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

beforeEach(async () => {
  // one- and two-node clusters: the cordoned-share refusal (test/oncall) would refuse every drain
  process.env.MANUAL_MAX_CORDONED_SHARE = '1';
  sim = await startCluster();
  addNode(sim.store, NODE);
  addDeployment(sim.store, 'web', { replicas: 3 });
  await waitFor('3 pods running', () => runningPodsOn(sim.store, NODE).length === 3);
});
afterEach(async () => {
  await sim?.stop();
});

describe('spotguard drain CLI', () => {
  it('--dry-run prints the plan and leaves the node alone', async () => {
    addPdb(sim.store, 'web-pdb', 'web', { maxUnavailable: 1 });
    await waitFor(
      'PDB status',
      () => sim.store.get('poddisruptionbudgets', 'default', 'web-pdb')?.status?.expectedPods === 3,
    );
    const { code, stdout } = await run([
      'drain',
      NODE,
      '--reason',
      'maintenance',
      '--dry-run',
      '--kubeconfig',
      sim.kubeconfigPath,
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain(`Plan for node ${NODE}: 3 to evict`);
    expect(stdout).toContain('default/web-pdb');
    expect(stdout).toContain('expected to wait');
    expect(sim.store.get('nodes', undefined, NODE)!.spec.unschedulable).toBeFalsy();
  });

  it('--delete-emptydir-data=false keeps pods with emptyDir out of the plan', async () => {
    sim.store.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'scratch', namespace: 'default' },
      spec: {
        nodeName: NODE,
        containers: [{ name: 'main', image: 'busybox' }],
        volumes: [{ name: 'tmp', emptyDir: {} }],
      },
      status: { phase: 'Running' },
    });
    const args = [
      'drain',
      NODE,
      '--reason',
      'maintenance',
      '--dry-run',
      '--force',
      '--kubeconfig',
      sim.kubeconfigPath,
    ];
    const withData = await run(args);
    expect(withData.stdout).toContain(`Plan for node ${NODE}: 4 to evict`);
    const keep = await run([...args, '--delete-emptydir-data=false']);
    expect(keep.stdout).toContain(`Plan for node ${NODE}: 3 to evict, 1 skipped`);
    expect(keep.stdout).toMatch(/default\/scratch\s+local-storage/);
  });

  it('drains by instance id with progress on stderr and a table on stdout; status and uncordon follow', async () => {
    addNode(sim.store, 'ip-10-0-5-20.ec2.internal');
    const providerID: string = sim.store.get('nodes', undefined, NODE)!.spec.providerID;
    const instanceId = providerID.split('/').at(-1)!;
    const drained = await run([
      'drain',
      instanceId,
      '--reason',
      'maintenance',
      '--timeout',
      '20s',
      '--kubeconfig',
      sim.kubeconfigPath,
    ]);
    expect(drained.code).toBe(0);
    expect(drained.stderr).toMatch(/pods left/);
    expect(drained.stdout).toMatch(/default\/web-\S+\s+evicted/);
    expect(drained.stdout).toContain(`node ${NODE}: drain complete`);

    const status = await run(['status', NODE, '--output', 'json', '--kubeconfig', sim.kubeconfigPath]);
    // the taint key is spotguard's own (manual); the operator's words are the manual reason
    expect(JSON.parse(status.stdout).manualStatus.nodes[0]).toMatchObject({
      unschedulable: true,
      cordonedBy: 'spotguard',
      cordonReason: 'manual',
      manualReason: 'maintenance',
      spotguardTaints: ['spotguard.io/manual:NoSchedule'],
      lease: { expired: true, outcome: 'complete' },
      podsToEvict: 0,
    });

    const uncordoned = await run(['uncordon', NODE, '--kubeconfig', sim.kubeconfigPath]);
    expect(uncordoned.stdout).toContain('uncordoned');
    expect(sim.store.get('nodes', undefined, NODE)!.spec.unschedulable).toBeFalsy();
  });

  it('exits 2 on a bad flag value and 1 when the drain is incomplete', async () => {
    const bad = await run([
      'drain',
      NODE,
      '--reason',
      'maintenance',
      '--timeout',
      'soon',
      '--kubeconfig',
      sim.kubeconfigPath,
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--timeout: "soon" is not a duration');

    addPdb(sim.store, 'web-pdb', 'web', { minAvailable: 3 });
    await waitFor(
      'PDB status',
      () => sim.store.get('poddisruptionbudgets', 'default', 'web-pdb')?.status?.expectedPods === 3,
    );
    const blocked = await run([
      'drain',
      NODE,
      '--reason',
      'maintenance',
      '--timeout',
      '1s',
      '--kubeconfig',
      sim.kubeconfigPath,
    ]);
    expect(blocked.code).toBe(1);
    expect(blocked.stdout).toContain('blocked-by-pdb');
    expect(blocked.stdout).toContain('INCOMPLETE');
  });
});
