// ELBv2 wire protocol (awsQuery, 2015-12-01): the target-group actions spotguard, the AWS Load
// Balancer Controller and the AWS CLI use. Errors and limits as AWS answers them (DescribeTags takes
// at most 20 ARNs, DeregisterTargets of an unregistered target is InvalidTarget, …).
import type { SimElbv2, SimTargetGroup, TargetHealth, TargetType } from './elbv2-model.ts';
import {
  AwsError,
  leaf,
  memberList,
  node,
  type QueryParams,
  queryInt,
  queryList,
  queryStructList,
} from './wire.ts';

export const ELBV2_XMLNS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';

type Handler = (elb: SimElbv2, params: QueryParams) => string | undefined;

const handlers: Record<string, Handler> = {
  CreateTargetGroup(elb, params) {
    const targetType = (params.get('TargetType') ?? 'instance') as TargetType;
    if (targetType !== 'ip' && targetType !== 'instance')
      throw new AwsError('ValidationError', `TargetType '${targetType}' is not supported by the simulator`);
    const group = elb.createTargetGroup({
      name: required(params, 'Name'),
      port: queryInt(params, 'Port') ?? 80,
      protocol: params.get('Protocol') ?? 'HTTP',
      targetType,
      ...(params.get('VpcId') ? { vpcId: params.get('VpcId')! } : {}),
      tags: tagsOf(params),
    });
    return memberList('TargetGroups', [group], groupXml);
  },
  DescribeTargetGroups(elb, params) {
    const arns = queryList(params, 'TargetGroupArns');
    const names = queryList(params, 'Names');
    let groups = arns.length > 0 ? arns.map((a) => elb.requireGroup(a)) : elb.targetGroups();
    if (names.length > 0) {
      const missing = names.filter((n) => !groups.some((g) => g.name === n));
      if (missing.length > 0)
        throw new AwsError('TargetGroupNotFound', `One or more target groups not found`);
      groups = groups.filter((g) => names.includes(g.name));
    }
    const size = queryInt(params, 'PageSize') ?? 400;
    if (size < 1 || size > 400) throw new AwsError('ValidationError', 'PageSize must be between 1 and 400');
    const start = Number(params.get('Marker') ? Buffer.from(params.get('Marker')!, 'base64').toString() : 0);
    const page = groups.slice(start, start + size);
    const next =
      start + size < groups.length ? Buffer.from(String(start + size)).toString('base64') : undefined;
    return memberList('TargetGroups', page, groupXml) + leaf('NextMarker', next);
  },
  DescribeTargetGroupAttributes(elb, params) {
    const group = elb.requireGroup(required(params, 'TargetGroupArn'));
    return attributesXml(group);
  },
  ModifyTargetGroupAttributes(elb, params) {
    const group = elb.requireGroup(required(params, 'TargetGroupArn'));
    for (const attr of queryStructList(params, 'Attributes')) {
      if (attr.get('Key') !== 'deregistration_delay.timeout_seconds') continue;
      const value = Number(attr.get('Value'));
      if (!Number.isInteger(value) || value < 0 || value > 3600)
        throw new AwsError('ValidationError', 'deregistration_delay.timeout_seconds must be 0-3600');
      group.deregistrationDelaySeconds = value;
    }
    return attributesXml(group);
  },
  RegisterTargets(elb, params) {
    elb.register(required(params, 'TargetGroupArn'), targetsOf(params));
    return '';
  },
  DeregisterTargets(elb, params) {
    elb.deregister(required(params, 'TargetGroupArn'), targetsOf(params));
    return '';
  },
  DescribeTargetHealth(elb, params) {
    const arn = required(params, 'TargetGroupArn');
    const only = targetsOf(params);
    const health = elb.health(arn, only.length > 0 ? only : undefined);
    return memberList('TargetHealthDescriptions', health, healthXml);
  },
  DescribeTags(elb, params) {
    const arns = queryList(params, 'ResourceArns');
    if (arns.length === 0) throw new AwsError('ValidationError', 'ResourceArns is required');
    if (arns.length > 20)
      throw new AwsError('ValidationError', 'Member must have length less than or equal to 20');
    const groups = arns.map((a) => elb.requireGroup(a));
    return memberList(
      'TagDescriptions',
      groups,
      (g) =>
        leaf('ResourceArn', g.arn) +
        memberList('Tags', Object.entries(g.tags), ([k, v]) => leaf('Key', k) + leaf('Value', v)),
    );
  },
  AddTags(elb, params) {
    const tags = tagsOf(params);
    for (const arn of queryList(params, 'ResourceArns')) Object.assign(elb.requireGroup(arn).tags, tags);
    return '';
  },
};

export const ELBV2_ACTIONS = Object.keys(handlers);

export function handleElbv2(elb: SimElbv2, action: string, params: QueryParams): string | undefined {
  const handler = handlers[action];
  if (!handler)
    throw new AwsError('InvalidAction', `The action ${action} is not valid for this web service.`);
  return handler(elb, params);
}

function required(params: QueryParams, name: string): string {
  const value = params.get(name);
  if (!value) throw new AwsError('ValidationError', `${name} is required`);
  return value;
}

function targetsOf(params: QueryParams) {
  return queryStructList(params, 'Targets').map((t) => {
    const id = t.get('Id');
    if (!id) throw new AwsError('ValidationError', 'Targets.member.N.Id is required');
    const port = t.get('Port');
    return {
      id,
      ...(port ? { port: Number(port) } : {}),
      ...(t.get('AvailabilityZone') ? { availabilityZone: t.get('AvailabilityZone')! } : {}),
    };
  });
}

function tagsOf(params: QueryParams): Record<string, string> {
  return Object.fromEntries(
    queryStructList(params, 'Tags').map((t) => [t.get('Key') ?? '', t.get('Value') ?? '']),
  );
}

function groupXml(g: SimTargetGroup): string {
  return (
    leaf('TargetGroupArn', g.arn) +
    leaf('TargetGroupName', g.name) +
    leaf('Protocol', g.protocol) +
    leaf('Port', g.port) +
    leaf('VpcId', g.vpcId) +
    leaf('HealthCheckProtocol', g.protocol) +
    leaf('HealthCheckPort', 'traffic-port') +
    leaf('HealthCheckEnabled', true) +
    leaf('HealthCheckIntervalSeconds', 5) +
    leaf('HealthCheckTimeoutSeconds', 2) +
    leaf('HealthyThresholdCount', 2) +
    leaf('UnhealthyThresholdCount', 2) +
    leaf('HealthCheckPath', '/') +
    node('Matcher', leaf('HttpCode', '200')) +
    node('LoadBalancerArns') +
    leaf('TargetType', g.targetType) +
    leaf('IpAddressType', 'ipv4')
  );
}

function attributesXml(g: SimTargetGroup): string {
  return memberList(
    'Attributes',
    [
      ['deregistration_delay.timeout_seconds', String(g.deregistrationDelaySeconds)],
      ['stickiness.enabled', 'false'],
    ],
    ([k, v]) => leaf('Key', k) + leaf('Value', v),
  );
}

function healthXml(h: TargetHealth): string {
  return (
    node(
      'Target',
      leaf('Id', h.target.id) +
        leaf('Port', h.target.port) +
        leaf('AvailabilityZone', h.target.availabilityZone),
    ) +
    leaf('HealthCheckPort', h.target.port) +
    node(
      'TargetHealth',
      leaf('State', h.state) + leaf('Reason', h.reason) + leaf('Description', h.description),
    )
  );
}
