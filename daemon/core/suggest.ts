/** Did-you-mean suggestions by edit distance (pure). */

export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * Up to `max` candidates close to `name`: by edit distance over the whole
 * name, or sharing its namespace and the start of its last segment.
 */
export function suggest(name: string, candidates: Iterable<string>, max = 3): string[] {
  const threshold = Math.max(2, Math.floor(name.length / 3));
  const lower = name.toLowerCase();
  const colon = lower.lastIndexOf(":");
  const namespace = colon === -1 ? "" : lower.slice(0, colon + 1);
  const leaf = lower.slice(colon + 1);
  const scored: { candidate: string; score: number }[] = [];
  for (const candidate of candidates) {
    const c = candidate.toLowerCase();
    let score = editDistance(lower, c);
    if (score > threshold && namespace !== "" && c.startsWith(namespace)) {
      const cLeaf = c.slice(namespace.length);
      if (leaf.length >= 3 && (cLeaf.startsWith(leaf) || leaf.startsWith(cLeaf))) score = threshold;
    }
    if (score <= threshold) scored.push({ candidate, score });
  }
  scored.sort((x, y) => x.score - y.score || x.candidate.localeCompare(y.candidate));
  return scored.slice(0, max).map((s) => s.candidate);
}
