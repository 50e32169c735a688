import { afterEach, describe, expect, it } from 'vitest';
import {
  type Cluster,
  deletePod,
  deployment,
  podsOf,
  runningPods,
  startCluster,
  waitFor,
} from './controllers-support.ts';

let cluster: Cluster;
afterEach(() => cluster?.stop());

describe('Deployment and ReplicaSet controllers', () => {
  it('runs 3 Ready pods for a Deployment with 3 replicas, owned through a ReplicaSet', async () => {
    cluster = startCluster(1);
    const { store } = cluster;
    store.create('deployments', deployment('web', 3));
    const pods = await waitFor('3 running web pods', () => {
      const running = runningPods(store, 'web-');
      return running.length === 3 && running;
    });
    const [rs] = store.list('replicasets', { namespace: 'default' });
    expect(rs?.metadata.name).toMatch(/^web-[a-z0-9]+$/);
    expect(rs?.metadata.ownerReferences?.[0]).toMatchObject({
      kind: 'Deployment',
      name: 'web',
      controller: true,
    });
    for (const pod of pods) {
      expect(pod.metadata.name).toMatch(new RegExp(`^${rs!.metadata.name}-[a-z0-9]{5}$`));
      expect(pod.metadata.labels?.['pod-template-hash']).toBe(rs!.metadata.labels?.['pod-template-hash']);
      expect(pod.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', uid: rs!.metadata.uid });
      expect(pod.status.podIP).toMatch(/^10\.0\.\d+\.\d+$/);
      expect(pod.status.containerStatuses[0].state.running.startedAt).toBeTruthy();
    }
    const status = await waitFor('deployment status caught up', () => {
      const s = store.get('deployments', 'default', 'web')?.status;
      return s?.availableReplicas === 3 && s;
    });
    expect(status).toMatchObject({
      replicas: 3,
      readyReplicas: 3,
      updatedReplicas: 3,
      observedGeneration: 1,
    });
    const events = store.list('events', { namespace: 'default' });
    expect(events.some((e) => e.reason === 'Scheduled' && e.source.component === 'default-scheduler')).toBe(
      true,
    );
    expect(
      events.filter((e) => e.reason === 'SuccessfulCreate' && e.involvedObject.kind === 'ReplicaSet'),
    ).toHaveLength(3);
  });

  it('removes a deleted (terminating) pod after its grace period and replaces it', async () => {
    cluster = startCluster(1);
    const { store } = cluster;
    store.create('deployments', deployment('api', 2));
    const [victim] = await waitFor('2 running api pods', () => {
      const running = runningPods(store, 'api-');
      return running.length === 2 && running;
    });
    deletePod(store, victim!, 30);
    await waitFor('victim gone', () => !store.get('pods', 'default', victim!.metadata.name));
    const replacement = await waitFor('2 running api pods again', () => {
      const running = runningPods(store, 'api-');
      return running.length === 2 && running;
    });
    expect(replacement.map((p) => p.metadata.name)).not.toContain(victim!.metadata.name);
  });

  it('rolls out a new template with a second ReplicaSet and scales the old one to zero', async () => {
    cluster = startCluster(1);
    const { store } = cluster;
    store.create('deployments', deployment('roll', 4));
    await waitFor('4 running pods', () => runningPods(store, 'roll-').length === 4);
    store.mutate('deployments', 'default', 'roll', (d) => {
      d.spec.template.spec.containers[0].image = 'public.ecr.aws/nginx/nginx:1.28';
      d.metadata.generation = 2;
    });
    await waitFor('all pods on the new image', () => {
      const running = runningPods(store, 'roll-');
      return (
        running.length === 4 &&
        podsOf(store, 'roll-').length === 4 &&
        running.every((p) => p.spec.containers[0].image.endsWith(':1.28'))
      );
    });
    const sets = store.list('replicasets', { namespace: 'default' });
    expect(sets).toHaveLength(2);
    expect(sets.map((rs) => rs.spec.replicas).sort()).toEqual([0, 4]);
    const status = await waitFor('deployment complete', () => {
      const s = store.get('deployments', 'default', 'roll')?.status;
      return s?.updatedReplicas === 4 && s.replicas === 4 && s.availableReplicas === 4 && s;
    });
    expect(status.conditions.find((c: { type: string }) => c.type === 'Progressing').reason).toBe(
      'NewReplicaSetAvailable',
    );
  });

  it('scales down by deleting extra pods', async () => {
    cluster = startCluster(1);
    const { store } = cluster;
    store.create('deployments', deployment('scale', 5));
    await waitFor('5 running', () => runningPods(store, 'scale-').length === 5);
    store.mutate('deployments', 'default', 'scale', (d) => {
      d.spec.replicas = 2;
    });
    await waitFor('2 pods left', () => podsOf(store, 'scale-').length === 2);
    expect(runningPods(store, 'scale-')).toHaveLength(2);
  });

  it('garbage-collects ReplicaSets and pods when the Deployment is deleted', async () => {
    cluster = startCluster(1);
    const { store } = cluster;
    store.create('deployments', deployment('gone', 3));
    await waitFor('3 running', () => runningPods(store, 'gone-').length === 3);
    store.delete('deployments', 'default', 'gone');
    await waitFor(
      'no pods and no replicasets',
      () => podsOf(store, 'gone-').length === 0 && store.count('replicasets') === 0,
    );
  });

  it('finishes a foreground deletion: dependents first, then the owner', async () => {
    cluster = startCluster(1);
    const { store } = cluster;
    store.create('deployments', deployment('fg', 2));
    await waitFor('2 running', () => runningPods(store, 'fg-').length === 2);
    store.mutate('deployments', 'default', 'fg', (d) => {
      d.metadata.deletionTimestamp = new Date().toISOString();
      d.metadata.finalizers = ['foregroundDeletion'];
    });
    await waitFor(
      'deployment removed after its dependents',
      () => !store.get('deployments', 'default', 'fg'),
    );
    expect(podsOf(store, 'fg-')).toHaveLength(0);
    expect(store.count('replicasets')).toBe(0);
  });

  it('creates StatefulSet pods in order (OrderedReady) and all at once (Parallel)', async () => {
    cluster = startCluster(1);
    const { store } = cluster;
    // for each pod after the first: was its predecessor Running and Ready when it was created?
    const readyWhenSuccessorCreated: Record<string, boolean> = {};
    store.watch('pods', (event) => {
      const match = /^(ordered|parallel)-(\d+)$/.exec(event.object.metadata.name);
      if (event.type !== 'ADDED' || !match || match[2] === '0') return;
      const predecessor = `${match[1]}-${Number(match[2]) - 1}`;
      readyWhenSuccessorCreated[event.object.metadata.name] = runningPods(store, `${match[1]}-`).some(
        (p) => p.metadata.name === predecessor,
      );
    });
    const sts = (name: string, policy?: string) => ({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name, namespace: 'default' },
      spec: {
        replicas: 3,
        serviceName: name,
        ...(policy ? { podManagementPolicy: policy } : {}),
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'c', image: 'redis:7' }] },
        },
      },
    });
    store.create('statefulsets', sts('ordered'));
    store.create('statefulsets', sts('parallel', 'Parallel'));
    await waitFor('3 ordered and 3 parallel pods running', () => {
      return runningPods(store, 'ordered-').length === 3 && runningPods(store, 'parallel-').length === 3;
    });
    expect(readyWhenSuccessorCreated).toEqual({
      'ordered-1': true,
      'ordered-2': true,
      'parallel-1': false,
      'parallel-2': false,
    });
    // scale down from the highest ordinal
    store.mutate('statefulsets', 'default', 'ordered', (s) => {
      s.spec.replicas = 1;
    });
    await waitFor('only ordered-0 left', () => podsOf(store, 'ordered-').length === 1);
    expect(podsOf(store, 'ordered-')[0]!.metadata.name).toBe('ordered-0');
  });

  it('rate-limits events per object like client-go: 40 pod creations leave 25 SuccessfulCreate events', async () => {
    cluster = startCluster(2);
    const { store } = cluster;
    store.create('deployments', deployment('many', 40));
    await waitFor('40 running', () => runningPods(store, 'many-').length === 40);
    const creates = store.list('events', {
      namespace: 'default',
      filter: (e) => e.reason === 'SuccessfulCreate' && e.involvedObject.kind === 'ReplicaSet',
    });
    expect(creates).toHaveLength(25);
    // per-pod events are not limited by other pods' events
    const scheduled = store.list('events', { namespace: 'default', filter: (e) => e.reason === 'Scheduled' });
    expect(scheduled).toHaveLength(40);
  });
});
