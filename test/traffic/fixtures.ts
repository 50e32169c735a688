// Manifests and helpers the traffic tests share: a Deployment behind a Service, a target group made
// the way the AWS Load Balancer Controller makes one (tags), and the TargetGroupBinding binding them.
import {
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Simulator } from '../../sim/index.ts';
import type { KObject } from '../../sim/k8s/store.ts';

export function elb(sim: Simulator): ElasticLoadBalancingV2Client {
  return new ElasticLoadBalancingV2Client({ ...sim.awsClientConfig(), maxAttempts: 1 });
}

/** A target group tagged as the controller tags the ones it creates for a Service. */
export async function createTargetGroup(
  sim: Simulator,
  name: string,
  opts: { type?: 'ip' | 'instance'; cluster?: string; service?: string; delaySeconds?: number } = {},
): Promise<string> {
  const client = elb(sim);
  const service = opts.service ?? 'default/web';
  const out = await client.send(
    new CreateTargetGroupCommand({
      Name: name,
      Protocol: 'HTTP',
      Port: 80,
      VpcId: 'vpc-0sim0000000000000',
      TargetType: opts.type ?? 'ip',
      Tags: [
        { Key: 'elbv2.k8s.aws/cluster', Value: opts.cluster ?? sim.clusterName },
        { Key: 'service.k8s.aws/stack', Value: service },
        { Key: 'service.k8s.aws/resource', Value: `${service}:80` },
      ],
    }),
  );
  const arn = out.TargetGroups![0]!.TargetGroupArn!;
  await client.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: arn,
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(opts.delaySeconds ?? 10) }],
    }),
  );
  return arn;
}

export function webWorkload(
  replicas: number,
  opts: { name?: string; grace?: number; preStopSeconds?: number; annotations?: Record<string, string> } = {},
): KObject[] {
  const name = opts.name ?? 'web';
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: 'default' },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name }, ...(opts.annotations ? { annotations: opts.annotations } : {}) },
          spec: {
            terminationGracePeriodSeconds: opts.grace ?? 5,
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: 'kubernetes.io/hostname',
                whenUnsatisfiable: 'ScheduleAnyway',
                labelSelector: { matchLabels: { app: name } },
              },
            ],
            containers: [
              {
                name: 'app',
                image: 'public.ecr.aws/nginx/nginx:1.27',
                ports: [{ containerPort: 8080 }],
                ...(opts.preStopSeconds
                  ? { lifecycle: { preStop: { exec: { command: ['sleep', String(opts.preStopSeconds)] } } } }
                  : {}),
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'default' },
      spec: {
        selector: { app: name },
        ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }],
        type: 'NodePort',
      },
    },
  ];
}

export function binding(name: string, service: string, arn: string, targetType: 'ip' | 'instance'): KObject {
  return {
    apiVersion: 'elbv2.k8s.aws/v1beta1',
    kind: 'TargetGroupBinding',
    metadata: { name, namespace: 'default' },
    spec: { serviceRef: { name: service, port: 80 }, targetGroupARN: arn, targetType },
  };
}
