// The fewest evictions that could bring one constraint's zone counts within maxSkew, ignoring
// capacity and pods that cannot move: the lower bound the planner and the benchmark compare with.

/** Minimum evictions for `counts` (pods per eligible zone) to reach max − min ≤ maxSkew; Infinity if impossible. */
export function minimumEvictions(counts: number[], maxSkew: number, minDomains = 1): number {
  if (counts.length === 0) return 0;
  const total = counts.reduce((a, b) => a + b, 0);
  // Fewer domains than minDomains: the global minimum is 0, so every zone must hold ≤ maxSkew.
  if (counts.length < minDomains) {
    if (total > maxSkew * counts.length) return Number.POSITIVE_INFINITY;
    return counts.reduce((n, c) => n + Math.max(0, c - maxSkew), 0);
  }
  let best = Number.POSITIVE_INFINITY;
  const lo = Math.min(...counts);
  const hi = Math.max(...counts);
  // Final counts lie in [L, L + maxSkew] for some level L; try each.
  for (let level = lo; level <= hi; level++) {
    const top = level + maxSkew;
    let needIn = 0;
    let needOut = 0;
    let spare = 0;
    let room = 0;
    for (const c of counts) {
      needIn += Math.max(0, level - c);
      needOut += Math.max(0, c - top);
      spare += Math.max(0, Math.min(c, top) - level);
      room += Math.max(0, top - Math.max(c, level));
    }
    // extra pods come from zones above `level`, extra room from zones below `top`
    if (needIn > needOut + spare || needOut > needIn + room) continue;
    best = Math.min(best, Math.max(needIn, needOut));
  }
  return best;
}
