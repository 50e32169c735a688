// The few ELBv2 calls the traffic-aware drain makes (IAM: DescribeTargetGroups, DescribeTargetHealth,
// DescribeTags on *; DeregisterTargets only on target groups tagged elbv2.k8s.aws/cluster=<cluster>).
import {
  DeregisterTargetsCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { type AwsClientOverrides, awsClientConfig } from './clients.ts';

export type Elbv2 = Pick<ElasticLoadBalancingV2Client, 'send'>;

export interface TargetRef {
  id: string;
  port: number;
}

export interface TargetState extends TargetRef {
  /** initial | healthy | unhealthy | unused | draining | unavailable */
  state: string;
}

export interface TargetGroupInfo {
  arn: string;
  targetType: string;
}

const clients = new Map<string, ElasticLoadBalancingV2Client>();

/** One cached client per endpoint/region (Lambda reuses it between invocations). */
export function elbv2Client(overrides: AwsClientOverrides = {}): ElasticLoadBalancingV2Client {
  const key = JSON.stringify([overrides.endpoint ?? null, overrides.region ?? null]);
  let client = clients.get(key);
  if (!client) {
    client = new ElasticLoadBalancingV2Client(awsClientConfig(overrides));
    if (!overrides.credentials) clients.set(key, client);
  }
  return client;
}

export async function listTargetGroups(elb: Elbv2, arns?: string[]): Promise<TargetGroupInfo[]> {
  const out: TargetGroupInfo[] = [];
  let marker: string | undefined;
  do {
    const page = await elb.send(
      new DescribeTargetGroupsCommand({
        ...(arns ? { TargetGroupArns: arns } : {}),
        ...(marker ? { Marker: marker } : {}),
      }),
    );
    for (const g of page.TargetGroups ?? [])
      if (g.TargetGroupArn) out.push({ arn: g.TargetGroupArn, targetType: g.TargetType ?? 'instance' });
    marker = arns ? undefined : page.NextMarker;
  } while (marker);
  return out;
}

/** Tags per target group ARN; DescribeTags takes 20 ARNs per call. */
export async function tagsOf(elb: Elbv2, arns: string[]): Promise<Map<string, Record<string, string>>> {
  const tags = new Map<string, Record<string, string>>();
  for (let i = 0; i < arns.length; i += 20) {
    const page = await elb.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
    for (const d of page.TagDescriptions ?? []) {
      if (d.ResourceArn)
        tags.set(d.ResourceArn, Object.fromEntries((d.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])));
    }
  }
  return tags;
}

export async function targetHealth(elb: Elbv2, arn: string, only?: TargetRef[]): Promise<TargetState[]> {
  const out = await elb.send(
    new DescribeTargetHealthCommand({
      TargetGroupArn: arn,
      ...(only ? { Targets: only.map((t) => ({ Id: t.id, Port: t.port })) } : {}),
    }),
  );
  return (out.TargetHealthDescriptions ?? []).map((d) => ({
    id: d.Target?.Id ?? '',
    port: d.Target?.Port ?? 0,
    state: d.TargetHealth?.State ?? 'unavailable',
  }));
}

export async function deregisterTargets(elb: Elbv2, arn: string, targets: TargetRef[]): Promise<void> {
  await elb.send(
    new DeregisterTargetsCommand({
      TargetGroupArn: arn,
      Targets: targets.map((t) => ({ Id: t.id, Port: t.port })),
    }),
  );
}
