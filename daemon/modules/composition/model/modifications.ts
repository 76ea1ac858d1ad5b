/**
 * The `modifications` of composition:fork (SPEC §3): dotted path → value,
 * applied to the parent's document to make the fork's (pure).
 *
 * A path only ever sets a value: missing maps on the way are created, but a
 * path never turns an existing scalar or list into a map, because that
 * would silently throw away what was there; the caller sets the whole
 * value instead. List items cannot be addressed (no `components.0.x`): a
 * position is not a stable name, so a list is replaced whole. Keys holding
 * a `.` cannot be addressed either. The keys a fork sets itself (identity
 * and lineage) are refused rather than overwritten later without a word, and
 * so is `performance`: a fork's evidence is its own runs, recorded once it
 * has run, never figures written at birth.
 */
import { DaemonError } from "../../../core/errors.js";

/** First segments a fork owns: its name, version and lineage are set by the fork itself. */
const RESERVED_ROOTS = new Set(["name", "version", "lineage", "forks", "merges"]);
/** Segments that would reach an object's prototype rather than a key. */
const UNSAFE_SEGMENTS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * A new document with every modification applied in the order given (a
 * later path may overwrite an earlier one). Neither argument is changed,
 * and the result shares nothing with them. Throws `invalid_params` naming
 * the path when one cannot be applied.
 */
export function applyModifications(document: Record<string, unknown>, modifications: Record<string, unknown>): Record<string, unknown> {
  const result = structuredClone(document);
  for (const [path, value] of Object.entries(modifications)) {
    const segments = checkedSegments(path);
    const last = segments.pop()!;
    let map = result;
    for (const [i, segment] of segments.entries()) {
      if (!Object.hasOwn(map, segment)) map[segment] = {};
      const next = map[segment];
      if (isMap(next)) {
        map = next;
        continue;
      }
      const at = segments.slice(0, i + 1).join(".");
      const type = typeOf(next);
      const message = Array.isArray(next)
        ? `modification "${path}": "${at}" is a list, and list items cannot be addressed by position; set "${at}" to the whole new list`
        : `modification "${path}": "${at}" is ${type === "null" ? "null" : `a ${type}`}, not a map; set "${at}" itself to replace it`;
      throw new DaemonError("invalid_params", message, { path, at, type });
    }
    map[last] = structuredClone(value);
  }
  return result;
}

function checkedSegments(path: string): string[] {
  const segments = path.split(".");
  const refuse = (why: string) => {
    throw new DaemonError("invalid_params", `modification "${path}": ${why}`, { path });
  };
  if (segments.some((s) => s === "")) refuse("a path is dot-separated keys, none of them empty");
  const unsafe = segments.find((s) => UNSAFE_SEGMENTS.has(s));
  if (unsafe !== undefined) refuse(`"${unsafe}" cannot be a key`);
  if (segments[0] === "performance") {
    refuse(
      "a fork starts with no performance of its own (the parent's is kept as lineage.parent_performance); record the fork's runs with composition:save once it has run",
    );
  }
  if (RESERVED_ROOTS.has(segments[0]!)) {
    refuse(`"${segments[0]!}" is set by the fork itself (${[...RESERVED_ROOTS].join(", ")} cannot be modified); pass the fork's name and version as their own parameters`);
  }
  return segments;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  return Array.isArray(value) ? "list" : typeof value;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
