// The per-node drain Lease (coordination.k8s.io/v1): one drain per node at a time.
import type { V1Lease } from '@kubernetes/client-node';
import type { KubeClients } from './client.ts';

export const readLease = (k8s: KubeClients, namespace: string, name: string): Promise<V1Lease> =>
  k8s.coordination.readNamespacedLease({ name, namespace });

export const createLease = (k8s: KubeClients, lease: V1Lease): Promise<V1Lease> =>
  k8s.coordination.createNamespacedLease({ namespace: lease.metadata?.namespace ?? '', body: lease });

/** PUT with the read resourceVersion inside `lease`: 409 Conflict when someone else wrote it first. */
export const replaceLease = (k8s: KubeClients, lease: V1Lease): Promise<V1Lease> =>
  k8s.coordination.replaceNamespacedLease({
    name: lease.metadata?.name ?? '',
    namespace: lease.metadata?.namespace ?? '',
    body: lease,
  });
