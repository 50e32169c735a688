// Auto Scaling wire protocol (awsQuery): form-encoded requests, XML responses in the
// http://autoscaling.amazonaws.com/doc/2011-01-01/ namespace.
import type {
  ActivityRecord,
  LifecycleHook,
  LifecycleResult,
  LifecycleTransition,
  SimAws,
  SimGroup,
  SimInstance,
} from './cloud.ts';
import { launchTemplateId } from './model.ts';
import {
  AwsError,
  leaf,
  memberList,
  node,
  type QueryParams,
  queryBool,
  queryInt,
  queryList,
  queryStructList,
} from './wire.ts';

export const AUTOSCALING_XMLNS = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';

type Handler = (cloud: SimAws, params: QueryParams) => string | undefined;

const handlers: Record<string, Handler> = {
  DescribeAutoScalingGroups: describeAutoScalingGroups,
  DescribeTags: describeTags,
  CreateOrUpdateTags(cloud, params) {
    for (const t of queryStructList(params, 'Tags')) {
      const group = cloud.requireGroup(t.get('ResourceId') ?? '');
      const key = t.get('Key') ?? '';
      if (!key) throw new AwsError('ValidationError', 'Tag key must not be empty');
      group.tags[key] = t.get('Value') ?? '';
      if (t.get('PropagateAtLaunch') === 'true') group.propagateAtLaunch.add(key);
      else group.propagateAtLaunch.delete(key);
    }
    return undefined;
  },
  DescribeAutoScalingInstances: describeAutoScalingInstances,
  SetDesiredCapacity(cloud, params) {
    cloud.setDesiredCapacity(
      required(params, 'AutoScalingGroupName'),
      requiredInt(params, 'DesiredCapacity'),
    );
    return undefined;
  },
  UpdateAutoScalingGroup(cloud, params) {
    const zones = queryList(params, 'AvailabilityZones');
    cloud.updateGroup(required(params, 'AutoScalingGroupName'), {
      minSize: queryInt(params, 'MinSize'),
      maxSize: queryInt(params, 'MaxSize'),
      desiredCapacity: queryInt(params, 'DesiredCapacity'),
      capacityRebalance: queryBool(params, 'CapacityRebalance'),
      onDemandBaseCapacity: queryInt(
        params,
        'MixedInstancesPolicy.InstancesDistribution.OnDemandBaseCapacity',
      ),
      onDemandPercentageAboveBaseCapacity: queryInt(
        params,
        'MixedInstancesPolicy.InstancesDistribution.OnDemandPercentageAboveBaseCapacity',
      ),
      ...(zones.length > 0 ? { zones } : {}),
    });
    return undefined;
  },
  DeleteTags(cloud, params) {
    for (const t of groupTags(cloud, params)) {
      const group = cloud.group(t.group)!;
      delete group.tags[t.key];
      group.propagateAtLaunch.delete(t.key);
    }
    return undefined;
  },
  DetachInstances(cloud, params) {
    const activities = cloud.detachInstances(
      required(params, 'AutoScalingGroupName'),
      queryList(params, 'InstanceIds'),
      requiredBool(params, 'ShouldDecrementDesiredCapacity'),
    );
    return memberList('Activities', activities, activityXml);
  },
  TerminateInstanceInAutoScalingGroup(cloud, params) {
    const activity = cloud.terminateInGroup(
      required(params, 'InstanceId'),
      requiredBool(params, 'ShouldDecrementDesiredCapacity'),
    );
    return node('Activity', activityXml(activity));
  },
  CompleteLifecycleAction(cloud, params) {
    cloud.completeLifecycleAction({
      ...actionRef(params),
      result: required(params, 'LifecycleActionResult') as LifecycleResult,
    });
    return '';
  },
  RecordLifecycleActionHeartbeat(cloud, params) {
    cloud.recordHeartbeat(actionRef(params));
    return '';
  },
  DescribeLifecycleHooks(cloud, params) {
    const names = queryList(params, 'LifecycleHookNames');
    const hooks = cloud
      .hooks(required(params, 'AutoScalingGroupName'))
      .filter((h) => names.length === 0 || names.includes(h.name));
    return memberList('LifecycleHooks', hooks, hookXml);
  },
  PutLifecycleHook(cloud, params) {
    const groupName = required(params, 'AutoScalingGroupName');
    const name = required(params, 'LifecycleHookName');
    const existing = cloud.group(groupName)?.hooks.get(name);
    const transition = params.get('LifecycleTransition') ?? existing?.transition;
    if (
      transition !== 'autoscaling:EC2_INSTANCE_LAUNCHING' &&
      transition !== 'autoscaling:EC2_INSTANCE_TERMINATING'
    ) {
      throw new AwsError('ValidationError', `Invalid Lifecycle Transition: ${transition ?? '(missing)'}`);
    }
    const defaultResult = params.get('DefaultResult') ?? existing?.defaultResult;
    if (defaultResult !== undefined && defaultResult !== 'CONTINUE' && defaultResult !== 'ABANDON') {
      throw new AwsError('ValidationError', `Invalid DefaultResult: ${defaultResult}`);
    }
    cloud.putLifecycleHook({
      ...existing,
      name,
      groupName,
      transition: transition as LifecycleTransition,
      heartbeatTimeoutSeconds: queryInt(params, 'HeartbeatTimeout') ?? existing?.heartbeatTimeoutSeconds,
      defaultResult: defaultResult as LifecycleResult | undefined,
      ...optional('notificationMetadata', params.get('NotificationMetadata')),
      ...optional('notificationTargetARN', params.get('NotificationTargetARN')),
      ...optional('roleARN', params.get('RoleARN')),
    } as LifecycleHook);
    return '';
  },
};

export const AUTOSCALING_ACTIONS = Object.keys(handlers);

/** Runs one action; returns the inner XML of `<ActionResult>` (undefined: the action has no result element). */
export function handleAutoScaling(cloud: SimAws, action: string, params: QueryParams): string | undefined {
  const handler = handlers[action];
  if (!handler)
    throw new AwsError('InvalidAction', `Could not find operation ${action} for version 2011-01-01`);
  return handler(cloud, params);
}

function describeAutoScalingGroups(cloud: SimAws, params: QueryParams): string {
  const names = queryList(params, 'AutoScalingGroupNames');
  const filters = queryStructList(params, 'Filters').map((f) => ({
    name: f.get('Name') ?? '',
    values: queryList(f, 'Values'),
  }));
  for (const f of filters) {
    if (f.name !== 'tag-key' && f.name !== 'tag-value' && !f.name.startsWith('tag:')) {
      throw new AwsError(
        'ValidationError',
        `Filter name '${f.name}' is not valid: use tag-key, tag-value or tag:<key>`,
      );
    }
  }
  const groups = cloud
    .groups()
    .filter((g) => names.length === 0 || names.includes(g.name))
    .filter((g) => filters.every((f) => groupMatchesFilter(g, f.name, f.values)));
  const page = paginate(groups, params, 'MaxRecords', 50, 100);
  return (
    memberList('AutoScalingGroups', page.items, (g) => groupXml(cloud, g)) + leaf('NextToken', page.nextToken)
  );
}

/** DescribeTags: one row per group tag; filters auto-scaling-group, key, value, propagate-at-launch. */
function describeTags(cloud: SimAws, params: QueryParams): string {
  const filters = queryStructList(params, 'Filters').map((f) => ({
    name: f.get('Name') ?? '',
    values: queryList(f, 'Values'),
  }));
  const rows = cloud.groups().flatMap((g) =>
    Object.entries(g.tags).map(([key, value]) => ({
      g,
      key,
      value,
      propagate: g.propagateAtLaunch.has(key),
    })),
  );
  const field: Record<string, (r: (typeof rows)[number]) => string> = {
    'auto-scaling-group': (r) => r.g.name,
    key: (r) => r.key,
    value: (r) => r.value,
    'propagate-at-launch': (r) => String(r.propagate),
  };
  for (const f of filters) {
    if (!field[f.name])
      throw new AwsError(
        'ValidationError',
        `Filter name '${f.name}' is not valid: use auto-scaling-group, key, value or propagate-at-launch`,
      );
  }
  const matching = rows.filter((r) => filters.every((f) => f.values.includes(field[f.name]!(r))));
  const page = paginate(matching, params, 'MaxRecords', 50, 100);
  return (
    memberList(
      'Tags',
      page.items,
      (r) =>
        leaf('ResourceId', r.g.name) +
        leaf('ResourceType', 'auto-scaling-group') +
        leaf('Key', r.key) +
        leaf('Value', r.value) +
        leaf('PropagateAtLaunch', r.propagate),
    ) + leaf('NextToken', page.nextToken)
  );
}

function groupMatchesFilter(group: SimGroup, name: string, values: string[]): boolean {
  const tags = Object.entries(group.tags);
  if (name === 'tag-key') return tags.some(([k]) => values.includes(k));
  if (name === 'tag-value') return tags.some(([, v]) => values.includes(v));
  if (name.startsWith('tag:')) {
    const value = group.tags[name.slice(4)];
    return value !== undefined && values.includes(value);
  }
  throw new AwsError(
    'ValidationError',
    `Filter name '${name}' is not valid: use tag-key, tag-value or tag:<key>`,
  );
}

function describeAutoScalingInstances(cloud: SimAws, params: QueryParams): string {
  const ids = queryList(params, 'InstanceIds');
  const all = cloud.instances().filter((i) => i.groupName !== undefined && i.lifecycleState !== 'Terminated');
  const instances = ids.length === 0 ? all : all.filter((i) => ids.includes(i.instanceId));
  const page = paginate(instances, params, 'MaxRecords', 50, 50);
  const render = (i: SimInstance) =>
    leaf('InstanceId', i.instanceId) +
    leaf('InstanceType', i.instanceType) +
    leaf('AutoScalingGroupName', i.groupName) +
    leaf('AvailabilityZone', i.zone) +
    leaf('LifecycleState', i.lifecycleState) +
    leaf('HealthStatus', i.state === 'running' || i.state === 'pending' ? 'HEALTHY' : 'UNHEALTHY') +
    launchTemplateXml(i.groupName!) +
    leaf('ProtectedFromScaleIn', false);
  return memberList('AutoScalingInstances', page.items, render) + leaf('NextToken', page.nextToken);
}

function groupXml(cloud: SimAws, g: SimGroup): string {
  const instances = cloud.groupInstances(g);
  return (
    leaf('AutoScalingGroupName', g.name) +
    leaf('AutoScalingGroupARN', g.arn) +
    node(
      'MixedInstancesPolicy',
      node(
        'LaunchTemplate',
        node('LaunchTemplateSpecification', launchTemplateSpec(g.name)),
        memberList('Overrides', [g.instanceType], (t) => leaf('InstanceType', t)),
      ),
      node(
        'InstancesDistribution',
        leaf('OnDemandAllocationStrategy', 'prioritized') +
          leaf('OnDemandBaseCapacity', g.onDemandBaseCapacity) +
          leaf('OnDemandPercentageAboveBaseCapacity', g.onDemandPercentageAboveBaseCapacity) +
          leaf('SpotAllocationStrategy', 'price-capacity-optimized'),
      ),
    ) +
    leaf('MinSize', g.minSize) +
    leaf('MaxSize', g.maxSize) +
    leaf('DesiredCapacity', g.desiredCapacity) +
    leaf('DefaultCooldown', 300) +
    memberList('AvailabilityZones', g.zones, (z) => escapeText(z)) +
    node('LoadBalancerNames') +
    node('TargetGroupARNs') +
    leaf('HealthCheckType', 'EC2') +
    leaf('HealthCheckGracePeriod', 15) +
    memberList(
      'Instances',
      instances.filter((i) => i.lifecycleState !== 'Terminated'),
      (i) =>
        leaf('InstanceId', i.instanceId) +
        leaf('InstanceType', i.instanceType) +
        leaf('AvailabilityZone', i.zone) +
        leaf('LifecycleState', i.lifecycleState) +
        leaf('HealthStatus', i.state === 'running' || i.state === 'pending' ? 'Healthy' : 'Unhealthy') +
        launchTemplateXml(g.name) +
        leaf('ProtectedFromScaleIn', false),
    ) +
    leaf('CreatedTime', g.createdTime) +
    node('SuspendedProcesses') +
    leaf('VPCZoneIdentifier', g.zones.map((z) => `subnet-${z}`).join(',')) +
    node('EnabledMetrics') +
    memberList(
      'Tags',
      Object.entries(g.tags),
      ([key, value]) =>
        leaf('ResourceId', g.name) +
        leaf('ResourceType', 'auto-scaling-group') +
        leaf('Key', key) +
        leaf('Value', value) +
        leaf('PropagateAtLaunch', g.propagateAtLaunch.has(key)),
    ) +
    memberList('TerminationPolicies', ['Default'], escapeText) +
    leaf('NewInstancesProtectedFromScaleIn', false) +
    leaf(
      'ServiceLinkedRoleARN',
      `arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
    ) +
    leaf('CapacityRebalance', g.capacityRebalance)
  );
}

function launchTemplateSpec(groupName: string): string {
  return (
    leaf('LaunchTemplateId', launchTemplateId(groupName)) +
    leaf('LaunchTemplateName', `${groupName}-lt`) +
    leaf('Version', '1')
  );
}

function launchTemplateXml(groupName: string): string {
  return node('LaunchTemplate', launchTemplateSpec(groupName));
}

function hookXml(h: LifecycleHook): string {
  return (
    leaf('LifecycleHookName', h.name) +
    leaf('AutoScalingGroupName', h.groupName) +
    leaf('LifecycleTransition', h.transition) +
    leaf('NotificationTargetARN', h.notificationTargetARN) +
    leaf('RoleARN', h.roleARN) +
    leaf('NotificationMetadata', h.notificationMetadata) +
    leaf('HeartbeatTimeout', h.heartbeatTimeoutSeconds) +
    leaf('GlobalTimeout', Math.min(172_800, 100 * h.heartbeatTimeoutSeconds)) +
    leaf('DefaultResult', h.defaultResult)
  );
}

function activityXml(a: ActivityRecord): string {
  return (
    leaf('ActivityId', a.activityId) +
    leaf('AutoScalingGroupName', a.groupName) +
    leaf('Description', a.description) +
    leaf('Cause', a.cause) +
    leaf('StartTime', a.startTime) +
    leaf('StatusCode', a.statusCode) +
    leaf('Progress', a.progress) +
    leaf('Details', a.details)
  );
}

/** Tags.member.N of CreateOrUpdateTags / DeleteTags, validated as Auto Scaling does. */
function groupTags(cloud: SimAws, params: QueryParams) {
  return queryStructList(params, 'Tags').map((t) => {
    const group = t.get('ResourceId') ?? '';
    const key = t.get('Key') ?? '';
    const value = t.get('Value');
    if (t.get('ResourceType') !== 'auto-scaling-group')
      throw new AwsError('ValidationError', `Invalid resource type: ${t.get('ResourceType') ?? 'null'}`);
    if (!cloud.group(group))
      throw new AwsError('ValidationError', `AutoScalingGroup name not found - ${group}`);
    if (key.length < 1 || key.length > 128 || (value?.length ?? 0) > 256)
      throw new AwsError('ValidationError', 'Tag key must be 1-128 characters and its value at most 256');
    return { group, key, value };
  });
}

function actionRef(params: QueryParams) {
  const token = params.get('LifecycleActionToken');
  const instanceId = params.get('InstanceId');
  return {
    groupName: required(params, 'AutoScalingGroupName'),
    hookName: required(params, 'LifecycleHookName'),
    ...(token ? { token } : {}),
    ...(instanceId ? { instanceId } : {}),
  };
}

/** Opaque NextToken = base64 of the next offset. */
export function paginate<T>(
  items: T[],
  params: QueryParams,
  maxName: string,
  defaultMax: number,
  limit: number,
) {
  const max = queryInt(params, maxName) ?? defaultMax;
  if (max < 1 || max > limit)
    throw new AwsError('ValidationError', `${maxName} must be between 1 and ${limit}, got ${max}`);
  const token = params.get('NextToken');
  const start = token ? Number(Buffer.from(token, 'base64').toString('utf8')) : 0;
  if (!Number.isInteger(start) || start < 0)
    throw new AwsError('InvalidNextToken', 'The token is not valid.');
  const end = start + max;
  return {
    items: items.slice(start, end),
    nextToken: end < items.length ? Buffer.from(String(end)).toString('base64') : undefined,
  };
}

function required(params: QueryParams, name: string): string {
  const value = params.get(name);
  if (value === undefined || value === '') {
    throw new AwsError(
      'ValidationError',
      `1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function requiredInt(params: QueryParams, name: string): number {
  required(params, name);
  return queryInt(params, name)!;
}

function requiredBool(params: QueryParams, name: string): boolean {
  required(params, name);
  return queryBool(params, name)!;
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function escapeText(text: string): string {
  return text.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
}
