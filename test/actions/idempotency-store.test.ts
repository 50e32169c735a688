// The ConfigMap-backed idempotency store, through client-node against the simulator's API, and
// behind Powertools' makeIdempotent exactly as the runtime uses it.
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { CachePersistenceLayer } from '@aws-lambda-powertools/idempotency/cache';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigMapCacheClient, recordName } from '../../shared/dedup/configmap-cache.ts';
import { type KubeClients, kubeClientsFromConfig } from '../../shared/k8s/client.ts';
import { type Simulator, startSimulator } from '../../sim/index.ts';

let sim: Simulator;
let k8s: KubeClients;
let now = Date.now();
const NS = 'spotguard';

beforeAll(async () => {
  sim = await startSimulator({ nodes: 1 });
  k8s = kubeClientsFromConfig(sim.kubeConfig());
  // the simulator creates spotguard's namespace, as a deployed spotguard has it
});
afterAll(async () => {
  await sim?.stop();
});

describe('ConfigMapCacheClient', () => {
  const client = () =>
    new ConfigMapCacheClient({ core: async () => k8s.core, namespace: NS, now: () => now });

  it('SET NX succeeds once, then refuses while the record lives, and GET returns the value', async () => {
    const c = client();
    expect(await c.set('key-1', 'v1', { NX: true, EX: 60 })).toBe('OK');
    expect(await c.set('key-1', 'v2', { NX: true, EX: 60 })).toBeNull();
    expect(await c.get('key-1')).toBe('v1');
    const cm = await k8s.core.readNamespacedConfigMap({ name: recordName('key-1'), namespace: NS });
    expect(cm.metadata?.labels?.['spotguard.io/idempotency-record']).toBe('true');
  });

  it('an expired record reads as absent and may be overwritten with NX', async () => {
    const c = client();
    await c.set('key-2', 'old', { NX: true, EX: 10 });
    now += 11_000;
    expect(await c.get('key-2')).toBeNull();
    expect(await c.set('key-2', 'new', { NX: true, EX: 10 })).toBe('OK');
    expect(await c.get('key-2')).toBe('new');
  });

  it('SET without NX overwrites; DEL removes and counts', async () => {
    const c = client();
    await c.set('key-3', 'a', { EX: 60 });
    await c.set('key-3', 'b', { EX: 60 });
    expect(await c.get('key-3')).toBe('b');
    expect(await c.del(['key-3', 'never-was'])).toBe(1);
    expect(await c.get('key-3')).toBeNull();
  });

  it('behind makeIdempotent: the second call with the same key returns the stored result without running', async () => {
    let runs = 0;
    const fn = makeIdempotent(
      async (event: { dedupKey: string; n: number }) => {
        runs++;
        return { handled: event.n };
      },
      {
        persistenceStore: new CachePersistenceLayer({
          client: new ConfigMapCacheClient({ core: async () => k8s.core, namespace: NS }),
        }),
        config: new IdempotencyConfig({ eventKeyJmesPath: 'dedupKey', expiresAfterSeconds: 60 }),
      },
    );
    expect(await fn({ dedupKey: 'spot-interruption:i-0123456789abcdef0:abc', n: 1 })).toEqual({ handled: 1 });
    expect(await fn({ dedupKey: 'spot-interruption:i-0123456789abcdef0:abc', n: 1 })).toEqual({ handled: 1 });
    expect(runs).toBe(1);
    expect(await fn({ dedupKey: 'spot-interruption:i-0123456789abcdef0:def', n: 2 })).toEqual({ handled: 2 });
    expect(runs).toBe(2);
  });
});
