// A Powertools idempotency CacheClient whose storage is ConfigMaps in spotguard's own namespace.
// Why not DynamoDB: spotguard already needs the cluster to act at all, so keeping its dedup records
// there adds no AWS resource, no IAM grant and no extra failure domain. Semantics follow the Redis
// commands CachePersistenceLayer uses: SET with NX/EX, GET, DEL.
import { createHash } from 'node:crypto';
import type { CacheClient } from '@aws-lambda-powertools/idempotency/cache/types';
import { ApiException, type CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';

const LABEL = 'spotguard.io/idempotency-record';

export function recordName(key: string): string {
  return `spotguard-idem-${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
}

interface SetOptions {
  EX?: number;
  NX?: boolean;
}

export class ConfigMapCacheClient implements CacheClient {
  private readonly core: () => Promise<CoreV1Api>;
  private readonly namespace: string;
  private readonly now: () => number;

  constructor(opts: { core: () => Promise<CoreV1Api>; namespace: string; now?: () => number }) {
    this.core = opts.core;
    this.namespace = opts.namespace;
    this.now = opts.now ?? Date.now;
  }

  async get(key: string): Promise<string | null> {
    const cm = await this.read(recordName(key));
    if (!cm || this.expired(cm)) return null;
    return cm.data?.value ?? null;
  }

  async set(key: unknown, value: unknown, options?: unknown): Promise<string | null> {
    const { EX, NX } = (options ?? {}) as SetOptions;
    const name = recordName(String(key));
    const body: V1ConfigMap = {
      metadata: { name, namespace: this.namespace, labels: { [LABEL]: 'true' } },
      data: {
        key: String(key).slice(0, 1000),
        value: String(value),
        ...(EX !== undefined ? { expiresAt: String(this.now() + EX * 1000) } : {}),
      },
    };
    const core = await this.core();
    try {
      await core.createNamespacedConfigMap({ namespace: this.namespace, body });
      return 'OK';
    } catch (err) {
      if (!(err instanceof ApiException) || err.code !== 409) throw err;
    }
    // It exists. NX: only an expired record may be overwritten (like a Redis key past its TTL).
    const current = await this.read(name);
    if (NX && current && !this.expired(current)) return null;
    body.metadata!.resourceVersion = current?.metadata?.resourceVersion;
    try {
      await core.replaceNamespacedConfigMap({ name, namespace: this.namespace, body });
      return 'OK';
    } catch (err) {
      // Someone else wrote it between our read and replace: for NX that means "exists".
      if (err instanceof ApiException && (err.code === 409 || err.code === 404) && NX) return null;
      throw err;
    }
  }

  async del(keys: string[]): Promise<number> {
    const core = await this.core();
    let deleted = 0;
    for (const key of keys) {
      try {
        await core.deleteNamespacedConfigMap({ name: recordName(key), namespace: this.namespace });
        deleted++;
      } catch (err) {
        if (!(err instanceof ApiException) || err.code !== 404) throw err;
      }
    }
    return deleted;
  }

  private async read(name: string): Promise<V1ConfigMap | undefined> {
    try {
      return await (await this.core()).readNamespacedConfigMap({ name, namespace: this.namespace });
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw err;
    }
  }

  private expired(cm: V1ConfigMap): boolean {
    const at = Number(cm.data?.expiresAt);
    return Number.isFinite(at) && at <= this.now();
  }
}
