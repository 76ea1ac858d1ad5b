/**
 * What a merge takes from a fork (SPEC §3 composition:merge), before the
 * 3-way merge itself (merge3.ts) runs (pure).
 *
 * Some fields belong to a pattern, not to what it does, and are never taken
 * from the source: its identity and history (`name`, `version`, `lineage`,
 * `forks`, `merges`) and its evidence (`performance`: the fork's runs prove
 * the fork, and a fork that has none would otherwise delete the target's).
 * The target keeps its own.
 *
 * `description` says what a pattern is, and a fork usually gets its own at
 * fork time ("tournament with Swiss pairing"). So the fork's description is
 * taken only when the fork changed it after it was forked: while it is what
 * the fork's first version said, the merge sees it as unchanged. An edit
 * made later merges like any field (taken, or a conflict when the target
 * changed its own too).
 */
import { deepEqual } from "./document.js";

/** Fields a merge keeps from the target and never takes from the source. */
export const TARGET_OWN_KEYS = ["name", "version", "lineage", "forks", "merges", "performance"] as const;

export interface MergeSides {
  base: Record<string, unknown>;
  ours: Record<string, unknown>;
  theirs: Record<string, unknown>;
}

/**
 * The documents merge3 compares: base, ours (the target) and theirs (the
 * source) without the target's own fields, and theirs' description set
 * back to base's while it is still `theirsAtFork`'s (the source's first
 * version; undefined when that is not known: the description then merges
 * like any field).
 */
export function mergeSides(sides: MergeSides, theirsAtFork: Record<string, unknown> | undefined): MergeSides {
  const theirs = withoutOwnKeys(sides.theirs);
  if (theirsAtFork !== undefined && deepEqual(theirs.description, theirsAtFork.description)) {
    if (Object.hasOwn(sides.base, "description")) theirs.description = sides.base.description;
    else delete theirs.description;
  }
  return { base: withoutOwnKeys(sides.base), ours: withoutOwnKeys(sides.ours), theirs };
}

function withoutOwnKeys(data: Record<string, unknown>): Record<string, unknown> {
  const rest = { ...data };
  for (const key of TARGET_OWN_KEYS) delete rest[key];
  return rest;
}
