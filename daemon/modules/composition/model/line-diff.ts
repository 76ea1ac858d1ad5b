/** Line-level diff by longest common subsequence (pure). */

export type LineOp = { op: "equal"; a: number; b: number } | { op: "delete"; a: number } | { op: "insert"; b: number };

/** Above this many cells the table would cost too much; callers fall back to whole-text output. */
const MAX_CELLS = 16_000_000;

/** Edit script turning `a` into `b`, or null when the inputs are too large to diff. */
export function diffLines(a: readonly string[], b: readonly string[]): LineOp[] | null {
  // Common head and tail are cheap and usually most of a file.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const n = a.length - head - tail;
  const m = b.length - head - tail;
  if ((n + 1) * (m + 1) > MAX_CELLS) return null;
  // lcs[i][j] = LCS length of a[head+i..] and b[head+j..], stored row-major.
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] = a[head + i] === b[head + j] ? lcs[(i + 1) * width + j + 1]! + 1 : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
    }
  }
  const ops: LineOp[] = [];
  for (let k = 0; k < head; k++) ops.push({ op: "equal", a: k, b: k });
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[head + i] === b[head + j]) {
      ops.push({ op: "equal", a: head + i++, b: head + j++ });
    } else if (j < m && (i === n || lcs[i * width + j + 1]! >= lcs[(i + 1) * width + j]!)) {
      ops.push({ op: "insert", b: head + j++ });
    } else {
      ops.push({ op: "delete", a: head + i++ });
    }
  }
  for (let k = 0; k < tail; k++) ops.push({ op: "equal", a: a.length - tail + k, b: b.length - tail + k });
  return ops;
}
