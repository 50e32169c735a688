// Which node an event is about, and whether spotguard may touch it at all.
import type { V1Node } from '@kubernetes/client-node';
import { describeGroup } from '../aws/autoscaling.ts';
import type { InstanceInfo } from '../aws/instances.ts';
import { ANNOTATION_CORDONED_BY } from '../drain/options.ts';
import type { DomainEvent } from '../events/types.ts';
import { type ActionDeps, type HandleReport, report } from './types.ts';

export type Target =
  | { ok: true; nodeName: string; node: V1Node; instance?: InstanceInfo }
  | { ok: false; report: HandleReport };

/**
 * Instance → node, ignoring (with a log line, never an error) instances that are not nodes of this
 * cluster or do not carry the managed tag.
 */
export async function resolveTarget(event: DomainEvent, instanceId: string, d: ActionDeps): Promise<Target> {
  const base = { kind: event.kind, dedupKey: event.dedupKey, instanceId };
  const resolution = await d.resolver.resolve(instanceId);
  if (resolution.status !== 'found') {
    d.logger.info('instance is not a node of this cluster: ignored', {
      instanceId,
      reason: resolution.reason,
    });
    return { ok: false, report: report(base, 'not-found', `${instanceId}: ${resolution.reason}`) };
  }
  const { key, value } = d.config.managedTag;
  const tags = resolution.instance?.tags;
  // A node spotguard already cordoned passed this check then; its instance may since have been
  // detached (EC2 drops aws:autoscaling:groupName), and a resumed drain must not stop there.
  const cordonedBySpotguard = Boolean(resolution.node.metadata?.annotations?.[ANNOTATION_CORDONED_BY]);
  if (
    tags &&
    tags[key] !== value &&
    !cordonedBySpotguard &&
    !(await groupIsManaged(resolution.instance!, d))
  ) {
    d.logger.info('instance lacks the managed tag: ignored', { instanceId, tag: `${key}=${value}` });
    return {
      ok: false,
      report: report(
        { ...base, nodeName: resolution.nodeName },
        'ignored',
        `${instanceId} does not carry ${key}=${value}: spotguard leaves it alone`,
      ),
    };
  }
  return { ok: true, nodeName: resolution.nodeName, node: resolution.node, instance: resolution.instance };
}

/**
 * The documented setup tags the group, not its instances (PropagateAtLaunch=false): an instance
 * without the tag is managed when its group carries it. An unreadable group counts as unmanaged.
 */
async function groupIsManaged(instance: InstanceInfo, d: ActionDeps): Promise<boolean> {
  if (!instance.autoScalingGroupName) return false;
  const { key, value } = d.config.managedTag;
  const group = await describeGroup(d.aws.autoScaling, instance.autoScalingGroupName).catch(
    (err: unknown) => {
      d.logger.warn('could not read the group for the managed tag', { error: String(err) });
      return undefined;
    },
  );
  return group?.tags[key] === value;
}
