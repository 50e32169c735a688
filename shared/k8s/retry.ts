// Transport-level retries for ordinary Kubernetes API calls (the cordon, reads, annotations, the
// idempotency ConfigMaps): one 429 or 503 must not abort a whole event. Wired in as client-node's
// HttpLibrary, so every typed API client gets it; watches do not go through it.
//
// What is retried, and why it is safe:
// - 429 (API Priority and Fairness) and 503: the server did not act. Any method; Retry-After is
//   honoured (capped). Not for evictions: their 429 means "a PDB says no" and the drain decides.
// - 500/502/504, timeouts and reset connections: only for methods whose repeat is harmless (GET,
//   PUT with its resourceVersion, PATCH, DELETE); a POST (create, eviction) may have been applied.
// - A refused connection: nothing was sent, any method.
// - 409 Conflict: only GET and a PATCH without a resourceVersion precondition (the server's own
//   optimistic-lock conflict, which a repeat resolves). A PUT or a precondition-carrying PATCH
//   needs a fresh read, which the caller does (the cordon path re-reads on 409).
import {
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  type RequestContext,
  type ResponseContext,
  wrapHttpLibrary,
} from '@kubernetes/client-node';

export interface RetryPolicy {
  /** Attempts in all (first try included). */
  attempts: number;
  /** No new attempt starts after this long since the first. */
  budgetMs: number;
  /** Exponential backoff base (jittered). */
  baseDelayMs: number;
  /** Retry-After above this is cut to it (the caller has a deadline too). */
  maxRetryAfterMs: number;
  /** Per-attempt timeout for calls that are not watches. */
  timeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 4,
  budgetMs: 15_000,
  baseDelayMs: 100,
  maxRetryAfterMs: 5_000,
  timeoutMs: 10_000,
};

type Outcome = { status: number; retryAfterMs?: number } | { error: unknown };

const REPEATABLE: ReadonlySet<string> = new Set([
  HttpMethod.GET,
  HttpMethod.HEAD,
  HttpMethod.PUT,
  HttpMethod.PATCH,
  HttpMethod.DELETE,
]);

/** Whether `outcome` of `request` may be retried (see the header comment). Pure. */
export function isRetryable(method: string, url: string, body: unknown, outcome: Outcome): boolean {
  if (new URL(url).pathname.endsWith('/eviction')) return false;
  const repeatable = REPEATABLE.has(method);
  if ('error' in outcome) return isConnectionRefused(outcome.error) || repeatable;
  const { status } = outcome;
  if (status === 429 || status === 503) return true;
  if (status === 500 || status === 502 || status === 504) return repeatable;
  if (status === 409) {
    if (method === HttpMethod.GET) return true;
    return method === HttpMethod.PATCH && !(typeof body === 'string' && body.includes('"resourceVersion"'));
  }
  return false;
}

/** Retry-After in ms (seconds or an HTTP date), capped; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, capMs: number, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(0, ms), capMs);
}

function isConnectionRefused(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } } | undefined)?.cause;
  return cause?.code === 'ECONNREFUSED';
}

function isWatch(url: string): boolean {
  return new URL(url).searchParams.get('watch') === 'true';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** client-node's fetch library with a fresh per-attempt timeout and the retries above. */
export function retryingHttpLibrary(policy: Partial<RetryPolicy> = {}) {
  const p = { ...DEFAULT_RETRY_POLICY, ...policy };
  const inner = new IsomorphicFetchHttpLibrary();
  return wrapHttpLibrary({
    async send(request: RequestContext): Promise<ResponseContext> {
      const url = request.getUrl();
      const method = request.getHttpMethod();
      const started = Date.now();
      for (let attempt = 1; ; attempt++) {
        if (!isWatch(url)) request.setSignal(AbortSignal.timeout(p.timeoutMs));
        let outcome: Outcome;
        let response: ResponseContext | undefined;
        try {
          response = await inner.send(request).toPromise();
          outcome = {
            status: response.httpStatusCode,
            ...optionalRetryAfter(retryAfterMs(response.headers['retry-after'], p.maxRetryAfterMs)),
          };
        } catch (error) {
          outcome = { error };
        }
        const last = attempt >= p.attempts || Date.now() - started >= p.budgetMs;
        if (last || !isRetryable(method, url, request.getBody(), outcome)) {
          if (response) return response;
          throw (outcome as { error: unknown }).error;
        }
        // Read and drop the failed answer so its connection goes back to the pool.
        await response?.body.text().catch(() => undefined);
        const backoff = p.baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random());
        const wait =
          'retryAfterMs' in outcome && outcome.retryAfterMs !== undefined ? outcome.retryAfterMs : backoff;
        await sleep(Math.min(wait, Math.max(0, p.budgetMs - (Date.now() - started))));
      }
    },
  });
}

function optionalRetryAfter(ms: number | undefined): { retryAfterMs?: number } {
  return ms === undefined ? {} : { retryAfterMs: ms };
}
