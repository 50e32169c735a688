// Per-account API request rate limits, as token buckets (one per service and action class): a call
// takes a token or is answered with the service's throttling error. EC2's figures are the documented
// ones (EC2 API reference, "Request throttling": non-mutating 100 burst / 20 per s, unfiltered
// non-mutating 50 / 10, mutating 200 / 5, resource-intensive 50 / 5). Auto Scaling, EKS and STS do
// not publish theirs: the figures below are conservative assumptions, configurable.

export interface BucketRate {
  /** tokens the bucket holds (the burst) */
  burst: number;
  /** tokens added per second */
  perSecond: number;
}

/** Bucket per `service:class`; a class is an action name or one of the EC2 classes. */
export type ThrottleRates = Record<string, BucketRate>;

export const DEFAULT_THROTTLE_RATES: ThrottleRates = {
  'ec2:non-mutating': { burst: 100, perSecond: 20 },
  'ec2:unfiltered-non-mutating': { burst: 50, perSecond: 10 },
  'ec2:mutating': { burst: 200, perSecond: 5 },
  'ec2:resource-intensive': { burst: 50, perSecond: 5 },
  // assumed: not published
  'autoscaling:non-mutating': { burst: 40, perSecond: 20 },
  'autoscaling:mutating': { burst: 40, perSecond: 20 },
  'eks:DescribeCluster': { burst: 40, perSecond: 20 },
  'sts:GetCallerIdentity': { burst: 200, perSecond: 100 },
};

const EC2_RESOURCE_INTENSIVE = new Set([
  'RunInstances',
  'TerminateInstances',
  'StartInstances',
  'StopInstances',
]);
const READ_PREFIXES = ['Describe', 'Get', 'List'];

/** The bucket an action draws from (undefined: not rate-limited here, e.g. SQS). */
export function bucketOf(service: string, action: string, params: URLSearchParams): string | undefined {
  const reads = READ_PREFIXES.some((p) => action.startsWith(p));
  if (service === 'ec2') {
    if (EC2_RESOURCE_INTENSIVE.has(action)) return 'ec2:resource-intensive';
    if (!reads) return 'ec2:mutating';
    const filtered = [...params.keys()].some((k) => /^(Filter|InstanceId|MaxResults)/.test(k));
    return filtered ? 'ec2:non-mutating' : 'ec2:unfiltered-non-mutating';
  }
  if (service === 'autoscaling') return reads ? 'autoscaling:non-mutating' : 'autoscaling:mutating';
  if (service === 'eks' || service === 'sts') return `${service}:${action}`;
  return undefined;
}

export class AccountThrottle {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** throttling errors sent, per bucket */
  readonly throttled = new Map<string, number>();

  private readonly rates: ThrottleRates;
  private readonly now: () => number;

  constructor(rates: ThrottleRates = DEFAULT_THROTTLE_RATES, now: () => number = () => performance.now()) {
    this.rates = rates;
    this.now = now;
  }

  /** Takes a token; false when the bucket is empty (the caller answers with a throttling error). */
  take(bucket: string | undefined): boolean {
    const rate = bucket === undefined ? undefined : this.rates[bucket];
    if (!rate || bucket === undefined) return true;
    const t = this.now();
    const state = this.buckets.get(bucket) ?? { tokens: rate.burst, at: t };
    state.tokens = Math.min(rate.burst, state.tokens + ((t - state.at) / 1000) * rate.perSecond);
    state.at = t;
    this.buckets.set(bucket, state);
    if (state.tokens < 1) {
      this.throttled.set(bucket, (this.throttled.get(bucket) ?? 0) + 1);
      return false;
    }
    state.tokens -= 1;
    return true;
  }

  throttledTotal(): number {
    let n = 0;
    for (const v of this.throttled.values()) n += v;
    return n;
  }
}
