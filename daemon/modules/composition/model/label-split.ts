/**
 * Which arm of a split label a caller gets (issue 17), pure: a point in
 * [0, 1) from a hash of the key, and the arm whose share of the weights
 * holds it. The same key always gets the same arm while the split is the
 * same (sticky: a run keeps its variant across retries and restarts), and
 * over many keys each arm gets its share. The hash is salted with the
 * label, so one key is not in the same place in every trial.
 */
import { createHash } from "node:crypto";

/** 48 bits of the hash: exact in a double, far finer than any weight. */
const POINT_BITS = 2 ** 48;

/** The point of `key` in [0, 1) for the label `salt`. */
export function splitPoint(salt: string, key: string): number {
  const digest = createHash("sha256").update(salt).update("\n").update(key).digest();
  return digest.readUIntBE(0, 6) / POINT_BITS;
}

/** The arm (a key of `split`) for `key`; weights need not sum to 1 (a hand-written 90 / 10 is read as it is). */
export function pickArm(split: Readonly<Record<string, number>>, salt: string, key: string): string {
  const arms = Object.entries(split);
  if (arms.length === 0) throw new Error("a split without arms");
  const total = arms.reduce((sum, [, weight]) => sum + weight, 0);
  const point = splitPoint(salt, key) * total;
  let reached = 0;
  for (const [arm, weight] of arms) {
    reached += weight;
    if (point < reached) return arm;
  }
  // Rounding can leave the last sliver of the range to no arm: it is the last one's.
  return arms[arms.length - 1]![0];
}
