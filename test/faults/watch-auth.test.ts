// shared/k8s/watch.ts when the watch's authentication fails (an EKS token that cannot be made:
// STS throttled, credentials expired): reported through onError and retried — no unhandled
// rejection — and the watch delivers events once authentication works again.
import { KubeConfig, type User } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { kubeClientsFromConfig } from '../../shared/k8s/client.ts';
import { startWatch } from '../../shared/k8s/watch.ts';
import { node, startTestCluster, type TestCluster } from '../sim/api-support.ts';

let c: TestCluster;
beforeAll(async () => {
  c = await startTestCluster();
});
afterAll(() => c.stop());

it('a failing authenticator is reported and retried, never an unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const token = c.kc.getCurrentUser()?.token;
  let failuresLeft = 3;
  const config = new KubeConfig();
  config.loadFromString(c.kc.exportConfig());
  config.addAuthenticator({
    isAuthProvider: (_user: User) => true,
    applyAuthentication: async (_user: User, opts: { headers?: Record<string, unknown> }) => {
      if (failuresLeft-- > 0) throw new Error('could not make an EKS token: ThrottlingException');
      opts.headers ??= {};
      opts.headers.Authorization = `Bearer ${token}`;
    },
  });
  const k8s = kubeClientsFromConfig(config);
  const errors: unknown[] = [];
  const seen: string[] = [];
  const watch = startWatch(k8s, {
    path: '/api/v1/nodes',
    resourceVersion: '0',
    onEvent: (type, object) => seen.push(`${type} ${object.metadata.name}`),
    relist: async () => '0',
    onError: (err) => errors.push(err),
  });
  try {
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    c.store.create('nodes', node('ip-10-0-5-55.ec2.internal'));
    const deadline = Date.now() + 10_000;
    while (!seen.includes('ADDED ip-10-0-5-55.ec2.internal') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(seen).toContain('ADDED ip-10-0-5-55.ec2.internal');
    expect(errors.map(String).filter((e) => e.includes('ThrottlingException'))).toHaveLength(3);
    expect(unhandled).toEqual([]);
  } finally {
    watch.stop();
    process.off('unhandledRejection', onUnhandled);
  }
});
