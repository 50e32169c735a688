// Every API request a drain makes goes through a RequestMeter: it counts them (DrainReport.apiRequests),
// bounds how many are in flight, and retries what the API server asks to be retried:
// 429 TooManyRequests from API Priority and Fairness (after Retry-After) and 5xx / no answer (backoff).
// A 429 carrying a DisruptionBudget cause is NOT retried here: that is a PDB decision the caller handles.
import { apiErrorOf } from '../k8s/api-error.ts';

export interface CallOptions {
  /** Retries after a throttle or server error (default 4). */
  retries?: number;
  /** Skip the in-flight bound (events, lease renewals: must not queue behind 32 evictions). */
  unbounded?: boolean;
  signal?: AbortSignal;
}

export class RequestMeter {
  count = 0;
  private readonly limit: number;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  /** For requests made outside `call` (watch connections). */
  add(n = 1) {
    this.count += n;
  }

  async call<T>(send: () => Promise<T>, opts: CallOptions = {}): Promise<T> {
    const retries = opts.retries ?? 4;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.sendOnce(send, opts.unbounded ?? false);
      } catch (err) {
        const info = apiErrorOf(err);
        const throttled = info.code === 429 && !info.causes.includes('DisruptionBudget');
        const serverSide = info.code === 0 || info.code >= 500;
        if (attempt >= retries || !(throttled || serverSide) || opts.signal?.aborted) throw err;
        await sleep(
          throttled ? (info.retryAfterSeconds ?? 1) * 1000 : jittered(200 * 2 ** attempt),
          opts.signal,
        );
      }
    }
  }

  private async sendOnce<T>(send: () => Promise<T>, unbounded: boolean): Promise<T> {
    if (!unbounded) await this.acquire();
    this.count++;
    try {
      return await send();
    } finally {
      if (!unbounded) this.release();
    }
  }

  private async acquire() {
    if (this.inFlight < this.limit) {
      this.inFlight++;
      return;
    }
    // the releasing request hands its slot over directly (inFlight stays the same)
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release() {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }
}

/** ±25 % jitter so pods waiting on the same thing do not retry in lockstep. */
export const jittered = (ms: number) => Math.round(ms * (0.75 + Math.random() * 0.5));

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
