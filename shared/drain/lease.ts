// One drain per node at a time: a coordination.k8s.io/v1 Lease `spotguard-drain-<node>`. A live
// lease held by someone else means "join that drain"; an expired one is taken over (resume).
// When a drain ends it clears holderIdentity and leaves a short result for joiners to report.
import { type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import { apiErrorOf, isConflict } from '../k8s/api-error.ts';
import type { KubeClients } from '../k8s/client.ts';
import { createLease, readLease, replaceLease } from '../k8s/lease.ts';
import { leaseNameFor, leaseNamespace } from './options.ts';
import type { RequestMeter } from './requests.ts';

export const DEFAULT_LEASE_DURATION_SECONDS = 30;

/**
 * How long a drain's Lease stays valid without renewal (renewed every third of it): how soon a drain
 * whose Lambda died is taken over. SPOTGUARD_DRAIN_LEASE_SECONDS overrides (min 3).
 */
export function leaseDurationSeconds(): number {
  const fromEnv = Number(process.env.SPOTGUARD_DRAIN_LEASE_SECONDS);
  return Number.isFinite(fromEnv) && fromEnv > 0
    ? Math.max(3, Math.round(fromEnv))
    : DEFAULT_LEASE_DURATION_SECONDS;
}
export const ANNOTATION_DRAIN_RESULT = 'spotguard.io/drain-result';

export interface DrainResultSummary {
  complete: boolean;
  finishedAt: string;
  holder: string;
  evicted: number;
  /** "namespace/name" → budget, for pods the finished drain left blocked. */
  blocked: Record<string, string>;
  failed: number;
}

export type LeaseClaim =
  | { kind: 'acquired'; lease: V1Lease; tookOver: boolean }
  | { kind: 'held'; lease: V1Lease; holder: string };

export function leaseIsLive(lease: V1Lease, now: Date): boolean {
  const spec = lease.spec;
  if (!spec?.holderIdentity) return false;
  const renewed = spec.renewTime ?? spec.acquireTime;
  if (!renewed) return false;
  return (
    new Date(renewed).getTime() + (spec.leaseDurationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS) * 1000 >
    now.getTime()
  );
}

export function drainResultOf(lease: V1Lease): DrainResultSummary | undefined {
  const raw = lease.metadata?.annotations?.[ANNOTATION_DRAIN_RESULT];
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as DrainResultSummary;
  } catch {
    return undefined;
  }
}

export async function claimDrainLease(
  k8s: KubeClients,
  node: string,
  holder: string,
  meter: RequestMeter,
  namespace = leaseNamespace(),
): Promise<LeaseClaim> {
  const name = leaseNameFor(node);
  for (let attempt = 0; ; attempt++) {
    const now = new Date();
    try {
      const body: V1Lease = {
        metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'spotguard' } },
        spec: holderSpec(holder, now, 0),
      };
      const lease = await meter.call(() => createLease(k8s, body), { unbounded: true });
      return { kind: 'acquired', lease, tookOver: false };
    } catch (err) {
      const info = apiErrorOf(err);
      if (info.code === 404) {
        throw new Error(
          `cannot create drain Lease ${namespace}/${name}: namespace "${namespace}" not found: create it (\`kubectl create namespace ${namespace}\`, or \`kubectl apply -f infra/rbac.yaml\`, which also grants spotguard's permissions), or set SPOTGUARD_NAMESPACE`,
        );
      }
      if (info.code !== 409) throw err;
    }
    const current = await meter.call(() => readLease(k8s, namespace, name), { unbounded: true });
    const currentHolder = current.spec?.holderIdentity;
    if (currentHolder && currentHolder !== holder && leaseIsLive(current, now)) {
      return { kind: 'held', lease: current, holder: currentHolder };
    }
    try {
      const transitions = (current.spec?.leaseTransitions ?? 0) + (currentHolder === holder ? 0 : 1);
      const lease = await meter.call(
        () =>
          replaceLease(k8s, {
            ...current,
            metadata: withoutResult(current),
            spec: holderSpec(holder, now, transitions),
          }),
        { unbounded: true },
      );
      return { kind: 'acquired', lease, tookOver: Boolean(currentHolder) && currentHolder !== holder };
    } catch (err) {
      if (!isConflict(err) || attempt >= 3) throw err;
    }
  }
}

export async function renewDrainLease(
  k8s: KubeClients,
  lease: V1Lease,
  meter: RequestMeter,
): Promise<V1Lease> {
  const spec = { ...lease.spec, renewTime: new V1MicroTime(Date.now()) };
  return meter.call(() => replaceLease(k8s, { ...lease, spec }), { unbounded: true });
}

/** Clears the holder and records the result for drains that joined this one. */
export async function releaseDrainLease(
  k8s: KubeClients,
  lease: V1Lease,
  result: DrainResultSummary,
  meter: RequestMeter,
): Promise<void> {
  const metadata = {
    ...lease.metadata,
    annotations: { ...lease.metadata?.annotations, [ANNOTATION_DRAIN_RESULT]: JSON.stringify(result) },
  };
  const { holderIdentity: _released, ...spec } = lease.spec ?? {};
  await meter.call(
    () =>
      replaceLease(k8s, { ...lease, metadata, spec: { ...spec, renewTime: new V1MicroTime(Date.now()) } }),
    {
      unbounded: true,
    },
  );
}

/**
 * Renews a held lease every third of its duration until `release`, which records the result and
 * clears the holder. Without a lease (it could not be taken) both are no-ops.
 */
export function keepLeaseRenewed(
  k8s: KubeClients,
  held: V1Lease | undefined,
  meter: RequestMeter,
  onError: (what: string, err: unknown) => void,
): { release(result: DrainResultSummary): Promise<void> } {
  let lease = held;
  const renewal = setInterval(
    () => {
      if (!lease) return;
      renewDrainLease(k8s, lease, meter).then(
        (renewed) => {
          lease = renewed;
        },
        (err: unknown) => onError('could not renew drain lease', err),
      );
    },
    (leaseDurationSeconds() * 1000) / 3,
  );
  renewal.unref();
  return {
    async release(result) {
      clearInterval(renewal);
      if (!lease) return;
      await releaseDrainLease(k8s, lease, result, meter).catch((err: unknown) =>
        onError('could not release drain lease (it expires by itself)', err),
      );
    },
  };
}

export function readDrainLease(
  k8s: KubeClients,
  node: string,
  meter: RequestMeter,
  namespace = leaseNamespace(),
): Promise<V1Lease> {
  return meter.call(() => readLease(k8s, namespace, leaseNameFor(node)), { unbounded: true });
}

function holderSpec(holder: string, now: Date, leaseTransitions: number): V1Lease['spec'] {
  return {
    holderIdentity: holder,
    leaseDurationSeconds: leaseDurationSeconds(),
    acquireTime: new V1MicroTime(now.getTime()),
    renewTime: new V1MicroTime(now.getTime()),
    leaseTransitions,
  };
}

function withoutResult(lease: V1Lease): V1Lease['metadata'] {
  const { [ANNOTATION_DRAIN_RESULT]: _old, ...annotations } = lease.metadata?.annotations ?? {};
  return { ...lease.metadata, name: lease.metadata?.name ?? '', annotations };
}
