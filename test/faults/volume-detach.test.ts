// A stateful drain's wait for its volume to detach survives a VolumeAttachment listing that fails
// past every retry (trackers.ts used to end the wait silently in a bare `catch {}`): polling goes
// on, and the wait ends when the volume is detached.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RequestMeter } from '../../shared/drain/requests.ts';
import { VolumeDetachTracker } from '../../shared/drain/trackers.ts';
import { kubeClientsFromConfig } from '../../shared/k8s/client.ts';
import { node, startTestCluster, type TestCluster } from '../sim/api-support.ts';

let c: TestCluster;
const NODE = 'ip-10-0-8-80.ec2.internal';
beforeAll(async () => {
  c = await startTestCluster();
  c.store.create('nodes', node(NODE));
});
afterAll(() => c.stop());

it('keeps waiting through a listing outage and ends when the volume is gone', async () => {
  c.store.create('volumeattachments', {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'VolumeAttachment',
    metadata: { name: 'csi-pv-1' },
    spec: { attacher: 'ebs.csi.aws.com', nodeName: NODE, source: { persistentVolumeName: 'pv-1' } },
  });
  const k8s = kubeClientsFromConfig(c.kc);
  // More failures than the meter (5 attempts) × the transport (4 each) absorb: the meter gives up once.
  c.faults.add({ service: 'k8s', verb: 'list', resource: 'volumeattachments', status: 500, count: 24 });
  const stop = AbortSignal.timeout(40_000);
  const tracker = new VolumeDetachTracker(k8s, NODE, new RequestMeter(4), stop);
  const waiting = tracker.waitDetached(['pv-1']);
  setTimeout(() => c.store.delete('volumeattachments', undefined, 'csi-pv-1'), 500);
  const doneAt = await waiting;
  expect(doneAt).toBeTypeOf('number');
  expect(stop.aborted).toBe(false);
  expect(c.api.requests.byKey()['list volumeattachments']).toBeGreaterThan(24);
}, 45_000);
