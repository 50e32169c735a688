// The idempotency store as the runtime uses it: the cluster's ConfigMaps when the Kubernetes API
// answers, this container's memory when it does not. Dedup is bookkeeping, so it must never be
// what stops spotguard from acting (an unreachable API must still let the terminate hook be
// completed) nor what fails work that is already done (a finished drain whose success record cannot
// be written). Misconfiguration (namespace missing, RBAC) is not an outage: it fails loudly, naming
// the fix.
import type { CacheClient } from '@aws-lambda-powertools/idempotency/cache/types';

type CacheValue = Awaited<ReturnType<CacheClient['get']>>;

import { apiErrorOf } from '../k8s/api-error.ts';

interface SetOptions {
  EX?: number;
  NX?: boolean;
}

/** Redis SET/GET/DEL semantics in a Map (what CachePersistenceLayer needs). */
export class MemoryCacheClient implements CacheClient {
  private readonly entries = new Map<string, { value: string; expiresAt?: number }>();
  private readonly now: () => number;
  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  async get(key: string): Promise<string | null> {
    const entry = this.entries.get(key);
    if (!entry || (entry.expiresAt !== undefined && entry.expiresAt <= this.now())) return null;
    return entry.value;
  }

  async set(key: unknown, value: unknown, options?: unknown): Promise<string | null> {
    const { EX, NX } = (options ?? {}) as SetOptions;
    if (NX && (await this.get(String(key))) !== null) return null;
    this.entries.set(String(key), {
      value: String(value),
      ...(EX !== undefined ? { expiresAt: this.now() + EX * 1000 } : {}),
    });
    return 'OK';
  }

  async del(keys: string[]): Promise<number> {
    let n = 0;
    for (const key of keys) if (this.entries.delete(key)) n++;
    return n;
  }
}

/** The store is misconfigured, not down: the message says what to run. */
export class IdempotencyStoreSetupError extends Error {
  constructor(namespace: string, cause: unknown) {
    const info = apiErrorOf(cause);
    const fix =
      info.code === 404
        ? `namespace "${namespace}" not found: create it (\`kubectl create namespace ${namespace}\`, or \`kubectl apply -f infra/rbac.yaml\` which also grants spotguard's permissions)`
        : `spotguard may not use ConfigMaps in namespace "${namespace}" (HTTP ${info.code}): apply its RBAC (\`kubectl apply -f infra/rbac.yaml\`)`;
    super(`idempotency store unusable: ${fix}; ${info.message}`, { cause });
    this.name = 'IdempotencyStoreSetupError';
  }
}

export type StoreProblem = 'unreachable' | 'success-record-lost' | 'release-lost';

export interface FallbackOptions {
  primary: CacheClient;
  namespace: string;
  /** Called for every degradation (log + metric); never throws. */
  onProblem: (problem: StoreProblem, key: string, err: unknown) => void;
  fallback?: CacheClient;
}

/** Connection refused/reset/timeout, 5xx, throttling: the API is not there for us right now. */
export function isUnavailable(err: unknown): boolean {
  const { code } = apiErrorOf(err);
  return code === 0 || code === 429 || code >= 500;
}

const LOCK_RETRY_DELAYS_MS = [100, 300];

async function retryUnavailable<T>(call: () => Promise<T>): Promise<T> {
  for (const delay of LOCK_RETRY_DELAYS_MS) {
    try {
      return await call();
    } catch (err) {
      if (!isUnavailable(err)) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  return call();
}

export class FallbackCacheClient implements CacheClient {
  private readonly primary: CacheClient;
  private readonly fallback: CacheClient;
  /** Keys whose lock was taken in memory: the rest of their life stays there. */
  private readonly inMemory = new Set<string>();

  private readonly opts: FallbackOptions;

  constructor(opts: FallbackOptions) {
    this.opts = opts;
    this.primary = opts.primary;
    this.fallback = opts.fallback ?? new MemoryCacheClient();
  }

  async get(key: string): Promise<CacheValue | null> {
    if (this.inMemory.has(key)) return this.fallback.get(key);
    try {
      return await retryUnavailable(() => this.primary.get(key));
    } catch (err) {
      this.rethrowSetup(err);
      this.opts.onProblem('unreachable', key, err);
      this.inMemory.add(key);
      return this.fallback.get(key);
    }
  }

  async set(key: unknown, value: unknown, options?: unknown): Promise<CacheValue | null> {
    const k = String(key);
    const { NX } = (options ?? {}) as SetOptions;
    if (this.inMemory.has(k)) return this.fallback.set(k, value, options);
    try {
      // Taking the lock (NX) is worth two more tries: one failed create (a POST, which the transport
      // does not retry) must not split concurrent deliveries between the cluster and this memory.
      return NX
        ? await retryUnavailable(() => this.primary.set(k, value, options))
        : await this.primary.set(k, value, options);
    } catch (err) {
      this.rethrowSetup(err);
      if (!NX) {
        // Writing the outcome of work already done (or overwriting an orphan): losing it only means
        // a redelivery runs again, which every action tolerates. Never a failure of the work.
        this.opts.onProblem('success-record-lost', k, err);
        return 'OK';
      }
      this.opts.onProblem('unreachable', k, err);
      this.inMemory.add(k);
      return this.fallback.set(k, value, options);
    }
  }

  async del(keys: string[]): Promise<number> {
    let n = 0;
    for (const key of keys) {
      try {
        n += this.inMemory.has(key) ? await this.fallback.del([key]) : await this.primary.del([key]);
      } catch (err) {
        // The in-progress record of a failed attempt: it expires by itself (its holder's time).
        this.opts.onProblem('release-lost', key, err);
      }
      this.inMemory.delete(key);
    }
    return n;
  }

  private rethrowSetup(err: unknown): void {
    if (isUnavailable(err)) return;
    const { code } = apiErrorOf(err);
    if (code === 404 || code === 401 || code === 403)
      throw new IdempotencyStoreSetupError(this.opts.namespace, err);
    throw err;
  }
}
