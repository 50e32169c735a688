// The storm's cluster workload: Deployments with one pod per node (half under a 25% PDB), a
// DaemonSet, and a StatefulSet on zonal volumes in each of the first two zones.
import type { KObject } from '../sim/k8s/store.ts';
import type { StormOptions } from './storm-harness.ts';

export function stormWorkloads(opts: StormOptions, zones: string[]): KObject[] {
  const objs: KObject[] = [];
  const podSpec = (app: string, extra: Record<string, unknown> = {}) => ({
    metadata: { labels: { app } },
    spec: {
      terminationGracePeriodSeconds: 5,
      containers: [
        {
          name: 'app',
          image: 'public.ecr.aws/nginx/nginx:1.27',
          resources: { requests: { cpu: '5m', memory: '8Mi' } },
        },
      ],
      ...extra,
    },
  });
  for (let i = 0; i < opts.deployments; i++) {
    const app = `web-${i}`;
    objs.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: app, namespace: 'default' },
      spec: { replicas: opts.nodes, selector: { matchLabels: { app } }, template: podSpec(app) },
    } as KObject);
    if (i % 2 === 0)
      objs.push({
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: { name: app, namespace: 'default' },
        spec: { maxUnavailable: '25%', selector: { matchLabels: { app } } },
      } as KObject);
  }
  objs.push({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'node-agent', namespace: 'kube-system' },
    spec: { selector: { matchLabels: { app: 'node-agent' } }, template: podSpec('node-agent') },
  } as KObject);
  for (const zone of zones.slice(0, 2)) {
    if (opts.statefulPerZone === 0) break;
    const app = `db-${zone.slice(-1)}`;
    const template = podSpec(app, { nodeSelector: { 'topology.kubernetes.io/zone': zone } });
    (template.spec.containers[0] as Record<string, unknown>).volumeMounts = [
      { name: 'data', mountPath: '/data' },
    ];
    objs.push({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: app, namespace: 'default' },
      spec: {
        replicas: opts.statefulPerZone,
        serviceName: app,
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: { app } },
        template,
        volumeClaimTemplates: [
          {
            metadata: { name: 'data' },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } },
          },
        ],
      },
    } as KObject);
    objs.push({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: app, namespace: 'default' },
      spec: { maxUnavailable: 1, selector: { matchLabels: { app } } },
    } as KObject);
  }
  return objs;
}
