// I/O for the alarm plan, behind a narrow interface: Auto Scaling calls, the rebalancer, and the
// Kubernetes Event + EMF metric every action is reported with.

import type { Metrics } from '@aws-lambda-powertools/metrics';
import {
  type AutoScalingClient,
  CreateOrUpdateTagsCommand,
  DeleteTagsCommand,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { V1MicroTime } from '@kubernetes/client-node';
import type { KubeClients } from '../k8s/client.ts';
import type { RunnerMap } from '../plans/execute.ts';
import { encodeFallback, FALLBACK_TAG } from './fallback-tag.ts';
import type { AlarmStep } from './planner.ts';

/** The rebalancer as the alarm action needs it (shared/rebalancer's runRebalancer fits behind it). */
export interface Rebalancer {
  run(options: { reason: string; dryRun: boolean }): Promise<{ summary: string }>;
}

export interface AlarmDeps {
  autoScaling: AutoScalingClient;
  k8s: KubeClients;
  namespace: string;
  metrics: Pick<Metrics, 'addMetric'>;
  holder: string;
  timeLeftMs: () => number;
  returnStepTimeoutMs: number;
  rebalancer?: Rebalancer;
  /** Poll interval while waiting for an instance to leave its group (tests shorten it). */
  pollMs?: number;
}

const tag = (group: string, value: string) => ({
  ResourceId: group,
  ResourceType: 'auto-scaling-group',
  Key: FALLBACK_TAG,
  Value: value,
  PropagateAtLaunch: false,
});

async function inService(asg: AutoScalingClient, group: string) {
  const g = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] })))
    .AutoScalingGroups?.[0];
  if (!g) throw new Error(`group ${group} no longer exists`);
  return { desired: g.DesiredCapacity ?? 0, members: (g.Instances ?? []).length };
}

export function alarmRunners(d: AlarmDeps): RunnerMap<AlarmStep> {
  const asg = d.autoScaling;
  return {
    // Tag first: a crash after it leaves a record that OK can restore from; the reverse could not.
    'raise-desired': async (s) => {
      await asg.send(new CreateOrUpdateTagsCommand({ Tags: [tag(s.group, encodeFallback(s.record))] }));
      await asg.send(
        new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: s.group, DesiredCapacity: s.to }),
      );
      return { status: 'done', detail: `${s.group}: desired ${s.from} → ${s.to}` };
    },
    'set-mixed': async (s) => {
      await asg.send(new CreateOrUpdateTagsCommand({ Tags: [tag(s.group, encodeFallback(s.record))] }));
      await asg.send(
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: s.group,
          MixedInstancesPolicy: {
            InstancesDistribution: {
              OnDemandBaseCapacity: s.base,
              OnDemandPercentageAboveBaseCapacity: s.pct,
            },
          },
        }),
      );
      return { status: 'done', detail: `${s.group}: on-demand base ${s.base}, ${s.pct}% above base` };
    },
    // One instance at a time: each scale-in runs the terminate hook, so spotguard drains the node
    // the normal way before the next one goes.
    'restore-desired': async (s) => {
      const poll = d.pollMs ?? 2000;
      let { desired } = await inService(asg, s.group);
      while (desired > s.to) {
        if (d.timeLeftMs() < d.returnStepTimeoutMs / 4) {
          return {
            status: 'failed',
            detail: `${s.group}: out of time at desired ${desired} (target ${s.to}); the fallback tag stays`,
          };
        }
        desired -= 1;
        await asg.send(
          new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: s.group, DesiredCapacity: desired }),
        );
        const until = Date.now() + Math.min(d.returnStepTimeoutMs, d.timeLeftMs());
        while ((await inService(asg, s.group)).members > desired) {
          if (Date.now() > until)
            return {
              status: 'failed',
              detail: `${s.group}: an instance did not leave in time (desired ${desired}); the fallback tag stays`,
            };
          await new Promise((r) => setTimeout(r, poll));
        }
      }
      await asg.send(new DeleteTagsCommand({ Tags: [tag(s.group, '')] }));
      return { status: 'done', detail: `${s.group}: desired back to ${s.to}` };
    },
    'restore-mixed': async (s) => {
      await asg.send(
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: s.group,
          MixedInstancesPolicy: {
            InstancesDistribution: {
              OnDemandBaseCapacity: s.base,
              OnDemandPercentageAboveBaseCapacity: s.pct,
            },
          },
        }),
      );
      await asg.send(new DeleteTagsCommand({ Tags: [tag(s.group, '')] }));
      return {
        status: 'done',
        detail: `${s.group}: on-demand base ${s.base}, ${s.pct}% above base restored`,
      };
    },
    rebalance: async (s) => {
      if (!d.rebalancer) return { status: 'failed', detail: 'no rebalancer wired into the alarm action' };
      const r = await d.rebalancer.run({ reason: `alarm ${s.alarm}`, dryRun: false });
      return { status: 'done', detail: r.summary };
    },
    announce: async (s) => {
      d.metrics.addMetric(s.metric, 'Count', 1);
      const now = new Date();
      await d.k8s.core.createNamespacedEvent({
        namespace: d.namespace,
        body: {
          metadata: { generateName: 'spotguard-alarm-', namespace: d.namespace },
          involvedObject: { apiVersion: 'v1', kind: 'Namespace', name: d.namespace },
          reason: s.metric,
          message: s.message.slice(0, 1024),
          type: s.warning ? 'Warning' : 'Normal',
          action: 'AlarmAction',
          source: { component: 'spotguard' },
          reportingComponent: 'spotguard',
          reportingInstance: d.holder,
          firstTimestamp: now,
          lastTimestamp: now,
          eventTime: new V1MicroTime(now.getTime()),
          count: 1,
        },
      });
      return { status: 'done', detail: s.message };
    },
  };
}
