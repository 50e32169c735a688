// Ownership end to end: an instance is this cluster's when the instance OR its group says so (the
// documented setup tags the group without PropagateAtLaunch), and another cluster's hooks are never
// completed or abandoned — asserted on the node and on the Auto Scaling calls and instance states.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployment, type E2E, readyPods, startE2E } from './harness.ts';

let e: E2E;

beforeAll(async () => {
  e = await startE2E({
    scenario: {
      cluster: { name: 'e2e-owners', region: 'us-east-1', zones: ['us-east-1a'] },
      nodeGroups: [{ name: 'spot-a', zone: 'us-east-1a', capacityType: 'SPOT', desired: 2, max: 4 }],
      workloads: [deployment('web', 2)],
    },
  });
  await e.sim.waitFor(() => readyPods(e.sim, 'default', 'app', 'web').length === 2, 20_000, 'web ready');
}, 60_000);

afterAll(async () => {
  await e?.stop();
});

const completions = () => e.sim.awsRequests.count('autoscaling', 'CompleteLifecycleAction');
const reportFor = (id: string, kind: string) =>
  e.reports().find((r) => r.instanceId === id && r.kind === kind);

describe('ownership', () => {
  it('an instance carrying no tags of its own is drained because its group is this cluster’s', async () => {
    const inst = e.sim.aws.instances().find((i) => i.groupName === 'spot-a' && i.state === 'running')!;
    // PropagateAtLaunch false for every group tag: AWS still sets aws:autoscaling:groupName itself
    inst.tags = { 'aws:autoscaling:groupName': 'spot-a' };
    e.sim.aws.interruptSpot(inst.instanceId);
    await e.sim.waitFor(
      () => reportFor(inst.instanceId, 'spot-interruption') !== undefined,
      20_000,
      'ITN handled',
    );
    const report = reportFor(inst.instanceId, 'spot-interruption')!;
    expect(report.outcome).toBe('handled');
    expect(report.plan?.steps.slice(0, 2).map((s) => [s.kind, s.status])).toEqual([
      ['cordon', 'done'],
      ['drain', 'done'],
    ]);
    const node = e.sim.store.get('nodes', undefined, inst.privateDnsName);
    expect(node?.spec.unschedulable).toBe(true);
  }, 40_000);

  it('another cluster’s terminate and launch hooks are left alone, reported foreign', async () => {
    const otherTags = { 'eks:cluster-name': 'someone-else', 'kubernetes.io/cluster/someone-else': 'owned' };
    e.sim.aws.createGroup({
      name: 'other-cluster-nodes',
      // tagged by EKS for its own cluster (eks:cluster-name, kubernetes.io/cluster/…), as the simulator does
      cluster: 'someone-else',
      zones: ['us-east-1a'],
      capacityType: 'ON_DEMAND',
      desired: 1,
      tags: otherTags,
      hooks: [
        {
          name: 'their-drain',
          transition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          heartbeatTimeoutSeconds: 300,
        },
        {
          name: 'their-launch',
          transition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
          heartbeatTimeoutSeconds: 300,
        },
      ],
    });
    await e.sim.waitFor(
      () => e.sim.aws.instances().some((i) => i.groupName === 'other-cluster-nodes' && i.state === 'running'),
      15_000,
      'other instance running',
    );
    const theirs = e.sim.aws.instances().find((i) => i.groupName === 'other-cluster-nodes')!;
    const before = completions();
    e.sim.aws.terminateInGroup(theirs.instanceId, false); // the group launches a successor: a launch hook
    await e.sim.waitFor(
      () => reportFor(theirs.instanceId, 'lifecycle-terminate') !== undefined,
      20_000,
      'terminate hook',
    );
    const successor = () =>
      e.sim.aws
        .instances()
        .find((i) => i.groupName === 'other-cluster-nodes' && i.instanceId !== theirs.instanceId);
    await e.sim.waitFor(
      () => successor() !== undefined && reportFor(successor()!.instanceId, 'lifecycle-launch') !== undefined,
      20_000,
      'launch hook',
    );
    expect(reportFor(theirs.instanceId, 'lifecycle-terminate')).toMatchObject({ outcome: 'foreign' });
    expect(reportFor(successor()!.instanceId, 'lifecycle-launch')).toMatchObject({ outcome: 'foreign' });
    expect(completions()).toBe(before);
    expect(e.sim.aws.instance(theirs.instanceId)?.lifecycleState).toBe('Terminating:Wait');
    expect(e.sim.aws.instance(successor()!.instanceId)?.lifecycleState).toBe('Pending:Wait');
  }, 60_000);
});
