// The `scale` subresource of deployments, replicasets and statefulsets (autoscaling/v1 Scale),
// as `kubectl scale` and HPA-style clients use it.
import type { KObject } from '../store.ts';
import { commitUpdate, getObject, prepareUpdate, type Scope } from './crud.ts';
import { badRequest } from './errors.ts';

/** matchLabels/matchExpressions → the selector string Scale.status.selector carries. */
function selectorString(selector: KObject['spec']): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries<string>(selector?.matchLabels ?? {}))
    parts.push(`${key}=${value}`);
  for (const expr of selector?.matchExpressions ?? []) {
    const values = (expr.values ?? []).join(',');
    if (expr.operator === 'In') parts.push(`${expr.key} in (${values})`);
    else if (expr.operator === 'NotIn') parts.push(`${expr.key} notin (${values})`);
    else if (expr.operator === 'Exists') parts.push(expr.key);
    else if (expr.operator === 'DoesNotExist') parts.push(`!${expr.key}`);
  }
  return parts.sort().join(',');
}

export function scaleOf(obj: KObject): KObject {
  const { name, namespace, uid, resourceVersion, creationTimestamp } = obj.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: obj.spec?.replicas ?? 1 },
    status: { replicas: obj.status?.replicas ?? 0, selector: selectorString(obj.spec?.selector) },
  };
}

export function getScale(scope: Scope, name: string): KObject {
  return scaleOf(getObject(scope, name));
}

/** Applies a Scale (from PUT, or a patched Scale) to the workload's spec.replicas. */
export function updateScale(scope: Scope, name: string, scale: KObject, dryRun: boolean): KObject {
  const replicas = scale?.spec?.replicas;
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw badRequest(
      `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${replicas}: must be greater than or equal to 0`,
    );
  }
  const current = getObject(scope, name);
  const input = structuredClone(current);
  input.spec = { ...input.spec, replicas };
  if (scale.metadata?.resourceVersion) input.metadata.resourceVersion = scale.metadata.resourceVersion;
  return scaleOf(commitUpdate(scope, current, prepareUpdate(scope, current, input, ''), dryRun));
}
