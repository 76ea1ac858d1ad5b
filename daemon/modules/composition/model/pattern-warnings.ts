/**
 * Data faults of a stored pattern that KSI lives with (pure): the pattern is
 * indexed and served, and the fault is said, never a reason to refuse the
 * file. Only compose fails on a missing parent, naming it.
 */
import type { Issue } from "./document.js";
import { parseRef } from "./ref.js";
import { stemOf } from "./store-layout.js";

/** What one file says of itself: a `name:` other than its file name, no description. */
export function fileWarnings(path: string, name: string, data: Record<string, unknown>): Issue[] {
  const warnings: Issue[] = [];
  const stem = stemOf(path);
  if (stem !== name) warnings.push({ path: "name", message: `the name ${name} differs from the file name ${stem} (${path}); the pattern is called ${name}` });
  if (typeof data.description !== "string" || data.description === "") {
    warnings.push({ path: "description", message: "no description: discover and select have only the name and tags to go on" });
  }
  return warnings;
}

/** The `extends` and `mixins` of a document that name no pattern `exists` knows (a version is not looked for). */
export function missingParents(data: Record<string, unknown>, exists: (name: string) => boolean): Issue[] {
  const refs: { path: string; ref: string }[] = [];
  if (typeof data.extends === "string") refs.push({ path: "extends", ref: data.extends });
  if (Array.isArray(data.mixins)) data.mixins.forEach((ref, i) => typeof ref === "string" && refs.push({ path: `mixins.${i}`, ref }));
  return refs
    .filter(({ ref }) => !exists(parseRef(ref).name))
    .map(({ path, ref }) => ({ path, message: `${path === "extends" ? "extends" : "mixes in"} ${ref}, which is not in the store: compose fails until it is` }));
}
