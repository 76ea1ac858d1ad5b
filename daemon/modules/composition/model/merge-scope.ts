/**
 * What a merge takes from a fork (SPEC §3 composition:merge), before the
 * 3-way merge itself (merge3.ts) runs (pure).
 *
 * Some fields belong to a pattern, not to what it does, and are never taken
 * from the source: its identity and history (`name`, `version`, `lineage`,
 * `forks`, `merges`) and its evidence (`performance`: the fork's runs prove
 * the fork, and a fork that has none would otherwise delete the target's).
 * The target keeps its own, at the top level or under `metadata` where KSI
 * keeps them (history-place.ts).
 *
 * `description` says what a pattern is, and a fork usually gets its own at
 * fork time ("tournament with Swiss pairing"). So the fork's description is
 * taken only when the fork changed it after it was forked: while it is what
 * the fork's first version said, the merge sees it as unchanged. An edit
 * made later merges like any field (taken, or a conflict when the target
 * changed its own too).
 *
 * A fork whose `extends` names the target (KSI forks by extending the
 * parent) brings no `extends`: the target cannot extend itself.
 */
import { deepEqual } from "./document.js";
import { OWN_KEYS, ownValue, placeOf, withOwnValue, withoutOwnValues } from "./history-place.js";

/** Fields a merge keeps from the target and never takes from the source (the last four wherever the file keeps them). */
export const TARGET_OWN_KEYS = ["name", "version", ...OWN_KEYS] as const;

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
  // A fork that extends its parent (as KSI's forks do) does not make the parent extend itself.
  if (typeof theirs.extends === "string" && theirs.extends.split("@")[0] === sides.ours.name) {
    if (Object.hasOwn(sides.base, "extends")) theirs.extends = sides.base.extends;
    else delete theirs.extends;
  }
  if (theirsAtFork !== undefined && deepEqual(theirs.description, theirsAtFork.description)) {
    if (Object.hasOwn(sides.base, "description")) theirs.description = sides.base.description;
    else delete theirs.description;
  }
  return { base: withoutOwnKeys(sides.base), ours: withoutOwnKeys(sides.ours), theirs };
}

function withoutOwnKeys(data: Record<string, unknown>): Record<string, unknown> {
  const rest = withoutOwnValues(data, OWN_KEYS);
  delete rest.name;
  delete rest.version;
  return rest;
}

/** The merged document with the target's own fields put back as the target has them, each in its place. */
export function withTargetOwn(merged: Record<string, unknown>, target: Record<string, unknown>): Record<string, unknown> {
  let result = { ...merged };
  for (const key of ["name", "version"] as const) if (Object.hasOwn(target, key)) result[key] = target[key];
  for (const key of OWN_KEYS) {
    const value = ownValue(target, key);
    if (value !== undefined) result = withOwnValue(result, key, value, placeOf(target, key));
  }
  return result;
}
