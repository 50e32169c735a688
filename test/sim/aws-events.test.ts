// Every event kind the simulator emits, checked against the EventBridge envelope AWS documents.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventBridgeEvent } from '../../sim/aws/events.ts';
import { SHUTDOWN_TAINT_KEY } from '../../sim/aws/node-sync.ts';
import { type AwsFixture, startAwsFixture, ZONES } from './aws-fixture.ts';

let sim: AwsFixture;

beforeEach(async () => {
  sim = await startAwsFixture({ interruptionNoticeMs: 400 });
  sim.cloud.createGroup({
    name: 'spot',
    zones: ZONES,
    capacityType: 'SPOT',
    desired: 3,
    hooks: [
      {
        name: 'drain',
        transition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        heartbeatTimeoutSeconds: 60,
        notificationMetadata: 'meta',
      },
    ],
  });
});
afterEach(async () => {
  await sim.stop();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function expectEnvelope(event: EventBridgeEvent, source: string, detailType: string) {
  expect(event.version).toBe('0');
  expect(event.id).toMatch(UUID);
  expect(event.source).toBe(source);
  expect(event['detail-type']).toBe(detailType);
  expect(event.account).toBe('123456789012');
  expect(event.region).toBe('us-east-1');
  expect(event.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  expect(event.resources.length).toBeGreaterThan(0);
}

function eventsOf(detailType: string, instanceId?: string): EventBridgeEvent[] {
  return sim.received.filter(
    (e) =>
      e['detail-type'] === detailType &&
      (instanceId === undefined ||
        e.detail['instance-id'] === instanceId ||
        e.detail.EC2InstanceId === instanceId),
  );
}

function spotInstance() {
  return sim.cloud.groupInstances(sim.cloud.group('spot')!)[0]!;
}

describe('spot interruption', () => {
  it('warns now with a back-dated time so time+120s is when the instance terminates', async () => {
    const instance = spotInstance();
    const before = Date.now();
    sim.cloud.interruptSpot(instance.instanceId);
    const [itn] = eventsOf('EC2 Spot Instance Interruption Warning');
    expectEnvelope(itn!, 'aws.ec2', 'EC2 Spot Instance Interruption Warning');
    expect(itn!.detail).toEqual({ 'instance-id': instance.instanceId, 'instance-action': 'terminate' });
    expect(itn!.resources).toEqual([`arn:aws:ec2:${instance.zone}:instance/${instance.instanceId}`]);
    const deadline = Date.parse(itn!.time) + 120_000;
    // second precision: the computed deadline is at most 1 s before the real one, never after
    expect(deadline).toBeLessThanOrEqual(before + 400 + 1_000);
    expect(deadline).toBeGreaterThan(before + 400 - 2_000);

    // the group takes it out of service (terminate hook) and launches a replacement at once
    expect(instance.lifecycleState).toBe('Terminating:Wait');
    const [hook] = eventsOf('EC2 Instance-terminate Lifecycle Action', instance.instanceId);
    expectEnvelope(hook!, 'aws.autoscaling', 'EC2 Instance-terminate Lifecycle Action');
    expect(hook!.detail).toMatchObject({
      AutoScalingGroupName: 'spot',
      LifecycleHookName: 'drain',
      EC2InstanceId: instance.instanceId,
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      NotificationMetadata: 'meta',
      Origin: 'AutoScalingGroup',
      Destination: 'EC2',
    });
    expect(String(hook!.detail.LifecycleActionToken)).toMatch(UUID);
    expect(hook!.resources[0]).toBe(sim.cloud.group('spot')!.arn);

    await sim.until(() => instance.state === 'terminated', 'terminated at the end of the notice');
    expect(Date.now()).toBeGreaterThanOrEqual(before + 400);
    const states = eventsOf('EC2 Instance State-change Notification', instance.instanceId).map(
      (e) => e.detail.state,
    );
    expect(states).toEqual(['shutting-down', 'terminated']);
    const [stateEvent] = eventsOf('EC2 Instance State-change Notification', instance.instanceId);
    expectEnvelope(stateEvent!, 'aws.ec2', 'EC2 Instance State-change Notification');
    expect(stateEvent!.resources).toEqual([
      `arn:aws:ec2:us-east-1:123456789012:instance/${instance.instanceId}`,
    ]);
    expect(sim.store.get('nodes', undefined, instance.privateDnsName)).toBeUndefined();
    const [done] = eventsOf('EC2 Instance Terminate Successful', instance.instanceId);
    expectEnvelope(done!, 'aws.autoscaling', 'EC2 Instance Terminate Successful');
    expect(done!.detail).toMatchObject({
      StatusCode: 'InProgress',
      AutoScalingGroupName: 'spot',
      Details: { 'Availability Zone': instance.zone },
    });
    await sim.until(
      () =>
        sim.cloud.groupInstances(sim.cloud.group('spot')!).filter((i) => i.lifecycleState === 'InService')
          .length === 3,
      'replacement in service',
    );
    expect(eventsOf('EC2 Instance Launch Successful')).toHaveLength(1);
  });

  it('stop action: the instance stops at the end of the notice and its Node goes NotReady', async () => {
    const instance = spotInstance();
    sim.cloud.interruptSpot(instance.instanceId, { action: 'stop' });
    expect(eventsOf('EC2 Spot Instance Interruption Warning')[0]!.detail['instance-action']).toBe('stop');
    expect(instance.lifecycleState).toBe('InService');
    await sim.until(() => instance.state === 'stopped', 'stopped');
    const node = sim.store.get('nodes', undefined, instance.privateDnsName)!;
    expect(node.spec.taints).toContainEqual({ key: SHUTDOWN_TAINT_KEY, effect: 'NoSchedule' });
    expect(
      eventsOf('EC2 Instance State-change Notification', instance.instanceId).map((e) => e.detail.state),
    ).toEqual(['stopping', 'stopped']);
    sim.cloud.startInstance(instance.instanceId);
    await sim.until(() => instance.state === 'running', 'running');
    expect(
      eventsOf('EC2 Instance State-change Notification', instance.instanceId).map((e) => e.detail.state),
    ).toEqual(['stopping', 'stopped', 'pending', 'running']);
  });
});

describe('other events', () => {
  it('rebalance recommendation: event, then launch-before-terminate with CapacityRebalance', async () => {
    const instance = spotInstance();
    sim.cloud.recommendRebalance(instance.instanceId);
    const [event] = eventsOf('EC2 Instance Rebalance Recommendation');
    expectEnvelope(event!, 'aws.ec2', 'EC2 Instance Rebalance Recommendation');
    expect(event!.detail).toEqual({ 'instance-id': instance.instanceId });
    expect(instance.state).toBe('running');
    await sim.until(
      () => instance.lifecycleState === 'Terminating:Wait',
      'old instance leaves once the replacement is in service',
    );
    const replacement = eventsOf('EC2 Instance Launch Successful')[0]!;
    expect(sim.cloud.instance(String(replacement.detail.EC2InstanceId))!.zone).toBe(instance.zone);
  });

  it('scale-in emits the terminate lifecycle action for the chosen instance', () => {
    const [victim] = sim.cloud.scaleIn('spot', 1);
    expect(eventsOf('EC2 Instance-terminate Lifecycle Action').map((e) => e.detail.EC2InstanceId)).toEqual([
      victim,
    ]);
  });

  it('scheduled maintenance emits an AWS Health scheduledChange and retires the instance at its start', async () => {
    const instance = spotInstance();
    const start = new Date(Date.now() + 200);
    sim.cloud.scheduleMaintenance([instance.instanceId], start);
    const [event] = eventsOf('AWS Health Event');
    expectEnvelope(event!, 'aws.health', 'AWS Health Event');
    expect(event!.resources).toEqual([instance.instanceId]);
    expect(event!.detail).toMatchObject({
      service: 'EC2',
      eventTypeCategory: 'scheduledChange',
      eventTypeCode: 'AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED',
      statusCode: 'upcoming',
      eventRegion: 'us-east-1',
      startTime: start.toUTCString(),
      affectedEntities: [{ entityValue: instance.instanceId }],
    });
    await sim.until(() => instance.state === 'terminated', 'retired at the start of the window');
  });

  it('a failing async subscriber does not stop delivery to the others', async () => {
    const errors: unknown[] = [];
    sim.events.onError = (error) => errors.push(error);
    sim.events.subscribe(async () => {
      throw new Error('subscriber down');
    });
    const seen: string[] = [];
    sim.events.subscribe((e) => {
      seen.push(e['detail-type']);
    });
    sim.cloud.recommendRebalance(spotInstance().instanceId);
    expect(seen).toContain('EC2 Instance Rebalance Recommendation');
    await sim.until(() => errors.length > 0, 'error reported');
    expect(String(errors[0])).toContain('subscriber down');
  });
});
