// What a spot fallback changed, remembered on the group it changed (one tag), so that OK restores
// exactly those values, whichever invocation handles it. Space-separated key=value: only
// characters every AWS tag API accepts.

export const FALLBACK_TAG = 'spotguard.io/spot-fallback';

export type FallbackRecord =
  /** An on-demand group (EKS managed node group) whose desired size was raised. */
  | { type: 'desired'; alarm: string; at: string; desiredBefore: number; added: number; zones: string[] }
  /** A self-managed group whose MixedInstancesPolicy distribution was moved towards on-demand. */
  | { type: 'mixed'; alarm: string; at: string; baseBefore: number; pctBefore: number; zones: string[] };

export function encodeFallback(r: FallbackRecord): string {
  const common = `type=${r.type} alarm=${r.alarm} at=${r.at} zones=${r.zones.join(',')}`;
  return r.type === 'desired'
    ? `${common} desiredBefore=${r.desiredBefore} added=${r.added}`
    : `${common} baseBefore=${r.baseBefore} pctBefore=${r.pctBefore}`;
}

/** undefined for a tag that is absent or not ours to interpret (never guessed). */
export function decodeFallback(value: string | undefined): FallbackRecord | undefined {
  if (!value) return undefined;
  const f = Object.fromEntries(value.split(' ').map((kv) => kv.split('=', 2) as [string, string]));
  const num = (k: string) => (/^\d+$/.test(f[k] ?? '') ? Number(f[k]) : undefined);
  const common = { alarm: f.alarm ?? '', at: f.at ?? '', zones: (f.zones ?? '').split(',').filter(Boolean) };
  if (f.type === 'desired' && num('desiredBefore') !== undefined && num('added') !== undefined)
    return { type: 'desired', ...common, desiredBefore: num('desiredBefore')!, added: num('added')! };
  if (f.type === 'mixed' && num('baseBefore') !== undefined && num('pctBefore') !== undefined)
    return { type: 'mixed', ...common, baseBefore: num('baseBefore')!, pctBefore: num('pctBefore')! };
  return undefined;
}
