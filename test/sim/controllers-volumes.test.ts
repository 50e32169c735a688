import { afterEach, describe, expect, it } from 'vitest';
import type { KObject } from '../../sim/k8s/store.ts';
import { type Cluster, deletePod, FAST, startCluster, waitFor, zoneOf } from './controllers-support.ts';

let cluster: Cluster;
afterEach(() => cluster?.stop());

function statefulSet(name: string, replicas: number): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            { name: 'db', image: 'postgres:16', volumeMounts: [{ name: 'data', mountPath: '/data' }] },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } },
        },
      ],
    },
  };
}

const isRunning = (pod: KObject | undefined) =>
  pod?.status?.phase === 'Running' && !pod.metadata.deletionTimestamp ? pod : undefined;

describe('StatefulSet volumes, provisioning and attach/detach', () => {
  it('provisions each claim as an EBS PV in the zone of the node its pod was scheduled to', async () => {
    cluster = startCluster(1);
    const { store } = cluster;
    store.create('statefulsets', statefulSet('db', 3));
    const pods = await waitFor('db-0..2 running', () => {
      const p = [0, 1, 2].map((i) => isRunning(store.get('pods', 'default', `db-${i}`)));
      return p.every(Boolean) && (p as KObject[]);
    });
    for (const [i, pod] of pods.entries()) {
      const pvc = store.get('persistentvolumeclaims', 'default', `data-db-${i}`)!;
      expect(pvc.status.phase).toBe('Bound');
      expect(pvc.spec.storageClassName).toBe('gp3');
      const pv = store.get('persistentvolumes', undefined, pvc.spec.volumeName)!;
      expect(pv.metadata.name).toBe(`pvc-${pvc.metadata.uid}`);
      expect(pv.spec.csi).toMatchObject({ driver: 'ebs.csi.aws.com' });
      expect(pv.spec.csi.volumeHandle).toMatch(/^vol-0[0-9a-f]{16}$/);
      const zoneTerm = pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0];
      expect(zoneTerm).toEqual({
        key: 'topology.kubernetes.io/zone',
        operator: 'In',
        values: [zoneOf(store, pod.spec.nodeName)],
      });
      const attachment = store
        .list('volumeattachments')
        .find((va) => va.spec.source.persistentVolumeName === pv.metadata.name);
      expect(attachment).toMatchObject({
        apiVersion: 'storage.k8s.io/v1',
        spec: { attacher: 'ebs.csi.aws.com', nodeName: pod.spec.nodeName },
        status: { attached: true },
      });
      expect(attachment!.metadata.name).toMatch(/^csi-[0-9a-f]{64}$/);
      expect(pod.spec.hostname).toBe(`db-${i}`);
      expect(pod.spec.volumes).toContainEqual({
        name: 'data',
        persistentVolumeClaim: { claimName: `data-db-${i}` },
      });
    }
  });

  it('recreates a deleted pod in its volume zone, blocked by Multi-Attach until the old attachment is gone', async () => {
    cluster = startCluster(2, { ...FAST, volumeDetachMs: 400 });
    const { store } = cluster;
    store.create('statefulsets', statefulSet('pg', 1));
    const first = await waitFor('pg-0 running', () => isRunning(store.get('pods', 'default', 'pg-0')));
    const oldNode: string = first.spec.nodeName;
    const zone = zoneOf(store, oldNode);
    const pvName = store.get('persistentvolumeclaims', 'default', 'data-pg-0')!.spec.volumeName;
    // the drain: cordon, then delete the pod; the claim keeps its PV
    store.mutate('nodes', undefined, oldNode, (n) => {
      n.spec.unschedulable = true;
    });
    deletePod(store, first);
    const replacement = await waitFor('pg-0 recreated and scheduled', () => {
      const pod = store.get('pods', 'default', 'pg-0');
      return pod && pod.metadata.uid !== first.metadata.uid && pod.spec.nodeName && pod;
    });
    expect(replacement.spec.nodeName).not.toBe(oldNode);
    expect(zoneOf(store, replacement.spec.nodeName)).toBe(zone);
    const multiAttach = await waitFor(
      'FailedAttachVolume event',
      () =>
        store.list('events', { namespace: 'default', filter: (e) => e.reason === 'FailedAttachVolume' })[0],
    );
    expect(multiAttach).toMatchObject({
      type: 'Warning',
      involvedObject: { kind: 'Pod', name: 'pg-0', uid: replacement.metadata.uid },
      source: { component: 'attachdetach-controller' },
      message: `Multi-Attach error for volume "${pvName}" Volume is already exclusively attached to one node and can't be attached to another`,
    });
    const stuck = store.get('pods', 'default', 'pg-0')!;
    expect(stuck.status.phase).toBe('Pending');
    expect(stuck.status.containerStatuses[0].state.waiting.reason).toBe('ContainerCreating');
    expect(store.list('volumeattachments').map((va) => va.spec.nodeName)).toEqual([oldNode]);
    const running = await waitFor('pg-0 running after the old attachment went', () =>
      isRunning(store.get('pods', 'default', 'pg-0')),
    );
    expect(running.spec.nodeName).toBe(replacement.spec.nodeName);
    expect(store.list('volumeattachments').map((va) => va.spec.nodeName)).toEqual([
      replacement.spec.nodeName,
    ]);
  });

  it('force-detaches the volumes of a deleted node, then runs the recreated pod in the same zone', async () => {
    cluster = startCluster(2, { ...FAST, volumeDetachMs: 200 });
    const { store } = cluster;
    store.create('statefulsets', statefulSet('mq', 1));
    const first = await waitFor('mq-0 running', () => isRunning(store.get('pods', 'default', 'mq-0')));
    const zone = zoneOf(store, first.spec.nodeName);
    store.delete('nodes', undefined, first.spec.nodeName);
    await waitFor(
      'mq-0 of the lost node deleted',
      () => store.get('pods', 'default', 'mq-0')?.metadata.uid !== first.metadata.uid,
    );
    await waitFor(
      'Multi-Attach while the dead node still holds the volume',
      () =>
        store.list('events', { namespace: 'default', filter: (e) => e.reason === 'FailedAttachVolume' })
          .length > 0,
    );
    const running = await waitFor('mq-0 running again', () =>
      isRunning(store.get('pods', 'default', 'mq-0')),
    );
    expect(zoneOf(store, running.spec.nodeName)).toBe(zone);
    expect(store.list('volumeattachments').map((va) => va.spec.nodeName)).toEqual([running.spec.nodeName]);
  });

  it('keeps a pod whose PV lives in a zone without schedulable nodes Pending with a volume affinity message', async () => {
    cluster = startCluster(1);
    const { store, nodes } = cluster;
    store.create('statefulsets', statefulSet('kv', 1));
    const first = await waitFor('kv-0 running', () => isRunning(store.get('pods', 'default', 'kv-0')));
    for (const name of nodes) {
      if (name !== first.spec.nodeName) continue;
      store.mutate('nodes', undefined, name, (n) => {
        n.spec.unschedulable = true;
      });
    }
    deletePod(store, first);
    const pending = await waitFor('kv-0 recreated and unschedulable', () => {
      const pod = store.get('pods', 'default', 'kv-0');
      const scheduled = pod?.status?.conditions?.find((c: { type: string }) => c.type === 'PodScheduled');
      return pod?.metadata.uid !== first.metadata.uid && scheduled?.reason === 'Unschedulable' && scheduled;
    });
    expect(pending.message).toBe(
      '0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) had volume node affinity conflict. ' +
        'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
    );
  });

  it('keeps PVCs when the StatefulSet scales down and reuses them when it scales up', async () => {
    cluster = startCluster(1);
    const { store } = cluster;
    store.create('statefulsets', statefulSet('es', 2));
    await waitFor('es-1 running', () => isRunning(store.get('pods', 'default', 'es-1')));
    const claim = store.get('persistentvolumeclaims', 'default', 'data-es-1')!;
    store.mutate('statefulsets', 'default', 'es', (s) => {
      s.spec.replicas = 1;
    });
    await waitFor('es-1 gone', () => !store.get('pods', 'default', 'es-1'));
    expect(store.get('persistentvolumeclaims', 'default', 'data-es-1')?.metadata.uid).toBe(
      claim.metadata.uid,
    );
    store.mutate('statefulsets', 'default', 'es', (s) => {
      s.spec.replicas = 2;
    });
    const back = await waitFor('es-1 running again', () => isRunning(store.get('pods', 'default', 'es-1')));
    expect(zoneOf(store, back.spec.nodeName)).toBe(
      store.get('persistentvolumes', undefined, claim.spec.volumeName)!.spec.nodeAffinity.required
        .nodeSelectorTerms[0].matchExpressions[0].values[0],
    );
    const status = await waitFor('status ready 2', () => {
      const s = store.get('statefulsets', 'default', 'es')?.status;
      return s?.readyReplicas === 2 && s;
    });
    expect(status).toMatchObject({ replicas: 2, updatedReplicas: 2 });
  });

  it('provisions an Immediate-binding claim at once in the allowed zone and schedules its pod there', async () => {
    cluster = startCluster(1);
    const { store } = cluster;
    store.create('storageclasses', {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'io2-c' },
      provisioner: 'ebs.csi.aws.com',
      volumeBindingMode: 'Immediate',
      reclaimPolicy: 'Delete',
      allowedTopologies: [
        { matchLabelExpressions: [{ key: 'topology.ebs.csi.aws.com/zone', values: ['us-east-1c'] }] },
      ],
    });
    store.create('persistentvolumeclaims', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'scratch', namespace: 'default' },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: 'io2-c',
        resources: { requests: { storage: '4Gi' } },
      },
    });
    const bound = await waitFor('claim bound', () => {
      const pvc = store.get('persistentvolumeclaims', 'default', 'scratch');
      return pvc?.status?.phase === 'Bound' && pvc;
    });
    const pv = store.get('persistentvolumes', undefined, bound.spec.volumeName)!;
    expect(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values).toEqual([
      'us-east-1c',
    ]);
    expect(pv.spec.capacity.storage).toBe('4Gi');
    store.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'user', namespace: 'default' },
      spec: {
        containers: [{ name: 'c', image: 'busybox:1.36' }],
        volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'scratch' } }],
      },
    });
    const pod = await waitFor('user running', () => isRunning(store.get('pods', 'default', 'user')));
    expect(zoneOf(store, pod.spec.nodeName)).toBe('us-east-1c');
  });

  it('deletes the PV of a deleted claim (reclaimPolicy Delete) once it is detached', async () => {
    cluster = startCluster(1, { ...FAST, volumeDetachMs: 100 });
    const { store } = cluster;
    store.create('statefulsets', statefulSet('tmp', 1));
    await waitFor('tmp-0 running', () => isRunning(store.get('pods', 'default', 'tmp-0')));
    const pvName = store.get('persistentvolumeclaims', 'default', 'data-tmp-0')!.spec.volumeName;
    store.delete('statefulsets', 'default', 'tmp');
    store.delete('persistentvolumeclaims', 'default', 'data-tmp-0');
    await waitFor('pod gone', () => !store.get('pods', 'default', 'tmp-0'));
    await waitFor('PV deleted', () => !store.get('persistentvolumes', undefined, pvName));
    expect(store.list('volumeattachments')).toHaveLength(0);
  });
});
