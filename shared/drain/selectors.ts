// Label selector matching (metav1.LabelSelector semantics) for PodDisruptionBudgets.
import type { V1LabelSelector } from '@kubernetes/client-node';

/**
 * policy/v1 semantics: an empty selector ({}) selects every pod in the namespace;
 * a missing selector selects none.
 */
export function selectorMatches(selector: V1LabelSelector | undefined, labels: Record<string, string> = {}) {
  if (!selector) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, req.key);
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
        if (!has || !values.includes(labels[req.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[req.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        // an unknown operator selects nothing, like the API server's validation would refuse it
        return false;
    }
  }
  return true;
}
