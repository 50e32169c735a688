// EC2 wire protocol (ec2Query): form-encoded requests with `Name.N` lists, XML responses with
// lowerCamel elements and `<item>` lists in the http://ec2.amazonaws.com/doc/2016-11-15/ namespace.
import { paginate } from './autoscaling-api.ts';
import { type InstanceState, instanceStateCode, type SimAws, type SimInstance } from './cloud.ts';
import {
  ACCOUNT_ID,
  AwsError,
  itemSet,
  leaf,
  node,
  type QueryParams,
  queryBool,
  queryList,
  queryStructList,
} from './wire.ts';

export const EC2_XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

type Handler = (cloud: SimAws, params: QueryParams) => string;

const handlers: Record<string, Handler> = {
  DescribeInstances: describeInstances,
  TerminateInstances(cloud, params) {
    return stateChanges(cloud, params, (id) => cloud.terminateInstance(id));
  },
  StopInstances(cloud, params) {
    const hibernate = queryBool(params, 'Hibernate') ?? false;
    return stateChanges(cloud, params, (id) => cloud.stopInstance(id, { hibernate }));
  },
  StartInstances(cloud, params) {
    return stateChanges(cloud, params, (id) => cloud.startInstance(id));
  },
};

export const EC2_ACTIONS = Object.keys(handlers);

/** Runs one action; returns the XML that follows `<requestId>` in the response element. */
export function handleEc2(cloud: SimAws, action: string, params: QueryParams): string {
  const handler = handlers[action];
  if (!handler)
    throw new AwsError('InvalidAction', `The action ${action} is not valid for this web service.`);
  return handler(cloud, params);
}

function describeInstances(cloud: SimAws, params: QueryParams): string {
  const ids = queryList(params, 'InstanceId');
  const filters = queryStructList(params, 'Filter').map((f) => ({
    name: f.get('Name') ?? '',
    values: queryList(f, 'Value'),
  }));
  const known = requireKnownIds(cloud, ids);
  const candidates = ids.length > 0 ? known : cloud.instances();
  const matching = candidates.filter((i) => filters.every((f) => instanceMatches(i, f.name, f.values)));
  if (ids.length > 0 && params.has('MaxResults')) {
    throw new AwsError(
      'InvalidParameterCombination',
      'The parameter instancesSet cannot be used with the parameter maxResults',
    );
  }
  const page = paginate(matching, params, 'MaxResults', 1000, 1000);
  // one reservation per instance, as for instances launched one at a time by Auto Scaling
  return (
    itemSet(
      'reservationSet',
      page.items,
      (i) =>
        leaf('reservationId', `r-${i.instanceId.slice(2)}`) +
        leaf('ownerId', ACCOUNT_ID) +
        node('groupSet') +
        itemSet('instancesSet', [i], instanceXml),
    ) + leaf('nextToken', page.nextToken)
  );
}

function requireKnownIds(cloud: SimAws, ids: string[]): SimInstance[] {
  const malformed = ids.filter((id) => !/^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$/.test(id));
  if (malformed.length > 0)
    throw new AwsError('InvalidInstanceID.Malformed', `Invalid id: "${malformed[0]}"`);
  const missing = ids.filter((id) => !cloud.instance(id));
  if (missing.length === 1)
    throw new AwsError('InvalidInstanceID.NotFound', `The instance ID '${missing[0]}' does not exist`);
  if (missing.length > 1) {
    throw new AwsError('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
  }
  return ids.map((id) => cloud.instance(id)!);
}

const FILTER_FIELDS: Record<string, (i: SimInstance) => string | undefined> = {
  'instance-id': (i) => i.instanceId,
  'private-dns-name': (i) => i.privateDnsName,
  'private-ip-address': (i) => i.privateIpAddress,
  'instance-state-name': (i) => i.state,
  'instance-state-code': (i) => String(instanceStateCode(i.state)),
  'availability-zone': (i) => i.zone,
  'instance-type': (i) => i.instanceType,
  'instance-lifecycle': (i) => (i.capacityType === 'SPOT' ? 'spot' : undefined),
  'spot-instance-request-id': (i) => i.spotInstanceRequestId,
  'subnet-id': (i) => i.subnetId,
};

function instanceMatches(instance: SimInstance, name: string, values: string[]): boolean {
  let actual: Array<string | undefined>;
  if (name.startsWith('tag:')) actual = [instance.tags[name.slice(4)]];
  else if (name === 'tag-key') actual = Object.keys(instance.tags);
  else if (name === 'tag-value') actual = Object.values(instance.tags);
  else {
    const field = FILTER_FIELDS[name];
    if (!field) throw new AwsError('InvalidParameterValue', `The filter '${name}' is invalid`);
    actual = [field(instance)];
  }
  return actual.some((value) => value !== undefined && values.some((pattern) => globMatch(pattern, value)));
}

/** EC2 filter values accept `*` and `?` wildcards. */
function globMatch(pattern: string, value: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === value;
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`).test(value);
}

function instanceXml(i: SimInstance): string {
  const running = i.state !== 'terminated';
  return (
    leaf('instanceId', i.instanceId) +
    leaf('imageId', 'ami-0123456789abcdef0') +
    stateXml('instanceState', i.state) +
    leaf('privateDnsName', running ? i.privateDnsName : '') +
    leaf('dnsName', '') +
    leaf('reason', i.stateReason ? `${i.stateReason}` : '') +
    leaf('amiLaunchIndex', 0) +
    node('productCodes') +
    leaf('instanceType', i.instanceType) +
    leaf('launchTime', i.launchTime) +
    node('placement', leaf('availabilityZone', i.zone) + leaf('groupName', '') + leaf('tenancy', 'default')) +
    node('monitoring', leaf('state', 'disabled')) +
    (running ? leaf('subnetId', i.subnetId) + leaf('vpcId', 'vpc-0sim0000000000000') : '') +
    (running ? leaf('privateIpAddress', i.privateIpAddress) : '') +
    (i.stateReason
      ? node(
          'stateReason',
          leaf('code', i.stateReason) + leaf('message', `${i.stateReason}: ${reasonText(i.stateReason)}`),
        )
      : '') +
    leaf('architecture', 'x86_64') +
    leaf('rootDeviceType', 'ebs') +
    leaf('rootDeviceName', '/dev/xvda') +
    (i.capacityType === 'SPOT'
      ? leaf('instanceLifecycle', 'spot') + leaf('spotInstanceRequestId', i.spotInstanceRequestId)
      : '') +
    itemSet('tagSet', Object.entries(i.tags), ([key, value]) => leaf('key', key) + leaf('value', value)) +
    leaf('hypervisor', 'xen') +
    leaf('virtualizationType', 'hvm') +
    leaf('ebsOptimized', true) +
    leaf('enaSupport', true) +
    leaf('privateDnsNameOptions', undefined)
  );
}

function reasonText(code: string): string {
  return (
    {
      'Client.UserInitiatedShutdown': 'User initiated shutdown',
      'Server.SpotInstanceTermination': 'Spot instance termination',
      'Server.SpotInstanceShutdown': 'Spot instance shutdown',
      'Server.ScheduledStop': 'Stopped due to scheduled retirement',
    }[code] ?? code
  );
}

function stateXml(tag: string, state: InstanceState): string {
  return node(tag, leaf('code', instanceStateCode(state)) + leaf('name', state));
}

function stateChanges(cloud: SimAws, params: QueryParams, change: (id: string) => SimInstance): string {
  const ids = queryList(params, 'InstanceId');
  if (ids.length === 0)
    throw new AwsError('MissingParameter', 'The request must contain the parameter InstanceId');
  const instances = requireKnownIds(cloud, ids);
  const results = instances.map((instance) => {
    const previous = instance.state;
    change(instance.instanceId);
    return { instance, previous };
  });
  return itemSet(
    'instancesSet',
    results,
    ({ instance, previous }) =>
      leaf('instanceId', instance.instanceId) +
      stateXml('currentState', instance.state) +
      stateXml('previousState', previous),
  );
}
