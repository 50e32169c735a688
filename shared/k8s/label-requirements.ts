// Label selector / node selector requirements as the API server and scheduler evaluate them: shared
// by the rebalancer's fit check and the simulator's scheduler.

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

/** One requirement of a label selector or node selector term (In, NotIn, Exists, DoesNotExist, Gt, Lt). */
export function matchesRequirement(labels: Record<string, string>, req: LabelSelectorRequirement): boolean {
  const value = labels[req.key];
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
      return value !== undefined && Number(value) > Number(values[0]);
    case 'Lt':
      return value !== undefined && Number(value) < Number(values[0]);
    default:
      return false;
  }
}
