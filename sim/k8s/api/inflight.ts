// kube-apiserver's max-in-flight filter (k8s.io/apiserver/pkg/server/filters/maxinflight.go): at most
// `--max-requests-inflight` read-only and `--max-mutating-requests-inflight` mutating requests at once
// (defaults 400 and 200); beyond that 429 with Retry-After: 1 and a plain-text body. Long-running
// requests (watches, proxy, log/exec/attach/portforward) are not counted. 0 = no limit, as there.
import type { ServerResponse } from 'node:http';

export interface InflightLimits {
  /** default 400; 0 = unlimited */
  maxRequestsInflight?: number;
  /** default 200; 0 = unlimited */
  maxMutatingRequestsInflight?: number;
}

export interface InflightStats {
  /** requests being served now (long-running excluded) */
  current: number;
  /** most read-only + mutating requests in flight at once since the last reset */
  peak: number;
  peakMutating: number;
  /** 429s sent by this filter since the last reset */
  rejected: number;
  reset(): void;
}

const READ_ONLY_VERBS = new Set(['get', 'list']);
const LONG_RUNNING_SUBRESOURCES = new Set(['attach', 'exec', 'log', 'portforward', 'proxy']);

export function isLongRunning(verb: string, subresource: string | undefined): boolean {
  return verb === 'watch' || verb === 'proxy' || LONG_RUNNING_SUBRESOURCES.has(subresource ?? '');
}

export class InflightLimiter implements InflightStats {
  private readonly maxReadOnly: number;
  private readonly maxMutating: number;
  private readOnly = 0;
  private mutating = 0;
  peak = 0;
  peakMutating = 0;
  rejected = 0;

  constructor(limits: InflightLimits = {}) {
    this.maxReadOnly = limits.maxRequestsInflight ?? 400;
    this.maxMutating = limits.maxMutatingRequestsInflight ?? 200;
  }

  get current(): number {
    return this.readOnly + this.mutating;
  }

  /**
   * Admits the request (its slot is freed when the response closes) or answers 429 and returns
   * false. Non-resource GETs (/version, discovery) count as read-only, as there.
   */
  admit(verb: string, subresource: string | undefined, res: ServerResponse): boolean {
    if (isLongRunning(verb, subresource)) return true;
    const mutating = !READ_ONLY_VERBS.has(verb);
    const limit = mutating ? this.maxMutating : this.maxReadOnly;
    const used = mutating ? this.mutating : this.readOnly;
    if (limit > 0 && used >= limit) {
      this.rejected++;
      writeTooManyRequests(res);
      return false;
    }
    if (mutating) this.mutating++;
    else this.readOnly++;
    this.peak = Math.max(this.peak, this.current);
    this.peakMutating = Math.max(this.peakMutating, this.mutating);
    res.once('close', () => {
      if (mutating) this.mutating--;
      else this.readOnly--;
    });
    return true;
  }

  reset(): void {
    this.peak = this.current;
    this.peakMutating = this.mutating;
    this.rejected = 0;
  }
}

/** maxinflight.go's tooManyRequests: Retry-After "1", http.Error's text. */
function writeTooManyRequests(res: ServerResponse): void {
  const text = 'Too many requests, please try again later.\n';
  res.writeHead(429, {
    'Cache-Control': 'no-cache, private',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Retry-After': '1',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(text);
}
