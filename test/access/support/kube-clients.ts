import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';

/** A real client-node CoreV1Api pointed at a loopback API server. */
export function coreApiFor(server: string): CoreV1Api {
  const config = new KubeConfig();
  config.loadFromClusterAndUser(
    { name: 'loopback', server, skipTLSVerify: true },
    { name: 'test', token: 'test-token' },
  );
  return config.makeApiClient(CoreV1Api);
}
