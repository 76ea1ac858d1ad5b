/**
 * Edits by dotted path (pure): the `modifications` of composition:fork and
 * the `set` / `unset` of composition:update (SPEC §3, issue 12).
 *
 * A path only ever sets a value: missing maps on the way are created, but a
 * path never turns an existing scalar or list into a map, because that
 * would silently throw away what was there; the caller sets the whole
 * value instead. A map given for a path that holds a map is merged into it
 * key by key (recursively), so `{variables: {rounds: {default: 4}}}` changes
 * one default and keeps every other variable; `replaceMaps` replaces the
 * map whole instead, which must be asked for. List items cannot be addressed
 * (no `components.0.x`): a position is not a stable name, so a list is
 * replaced whole. Keys holding a `.` cannot be addressed either. The keys
 * the operation owns itself (a fork's identity and lineage) are refused
 * rather than overwritten later without a word, and so is a fork's
 * `performance`: a fork's evidence is its own runs, recorded once it has
 * run, never figures written at birth.
 */
import { z } from "zod";
import { DaemonError } from "../../../core/errors.js";

/** Who edits, and which first segments that operation owns. */
export interface EditRules {
  /** What one edit is called in messages: `modification "a.b": ...`. */
  label: string;
  reserved: ReadonlySet<string>;
  /** Why a reserved root cannot be set, and what to do instead. */
  owned: string;
  instead: string;
  /** First segments refused with a reason of their own. */
  refusedRoots?: Readonly<Record<string, string>>;
  replaceMaps?: boolean | undefined;
}

export const FORK_RULES: EditRules = {
  label: "modification",
  reserved: new Set(["name", "version", "lineage", "forks", "merges"]),
  owned: "is set by the fork itself",
  instead: "pass the fork's name and version as their own parameters",
  refusedRoots: {
    performance:
      "a fork starts with no performance of its own (the parent's is kept as lineage.parent_performance); record the fork's runs with composition:update once it has run",
  },
};

export const UPDATE_RULES: EditRules = {
  label: "set",
  reserved: new Set(["name", "lineage", "forks", "merges"]),
  owned: "is not changed by an update",
  instead: "a pattern is renamed by forking it; lineage, forks and merges are kept by fork and merge",
};

/** Segments that would reach an object's prototype rather than a key. */
const UNSAFE_SEGMENTS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * The schema of a parameter keyed by dotted paths. `x-keys` tells clients
 * (the `pat` CLI's `--name.a.b value`) that the rest of a dotted flag is one
 * key, not nested maps.
 */
export function pathKeyedSchema(max: number) {
  return z
    .record(z.string().min(1).max(200), z.unknown())
    .refine((m) => Object.keys(m).length <= max, { message: `at most ${max} paths` })
    .meta({ "x-keys": "dotted-paths" });
}

/**
 * A new document with every path set, in the order given (a later path may
 * overwrite an earlier one). Neither argument is changed, and the result
 * shares nothing with them. Throws `invalid_params` naming the path when
 * one cannot be applied.
 */
export function applyModifications(document: Record<string, unknown>, modifications: Record<string, unknown>, rules: EditRules = FORK_RULES): Record<string, unknown> {
  const result = structuredClone(document);
  for (const [path, value] of Object.entries(modifications)) {
    const segments = checkedSegments(path, rules, rules.label);
    const last = segments.pop()!;
    const map = mapAt(result, segments, `${rules.label} "${path}"`, true)!;
    const current = map[last];
    map[last] = isMap(value) && isMap(current) && rules.replaceMaps !== true ? mergeMaps(current, value) : structuredClone(value);
  }
  return result;
}

/** A new document without the values at `paths`; a path with nothing there is `invalid_params` (nothing is removed silently or in vain). */
export function removePaths(document: Record<string, unknown>, paths: readonly string[], rules: EditRules = UPDATE_RULES): Record<string, unknown> {
  const result = structuredClone(document);
  for (const path of paths) {
    const segments = checkedSegments(path, rules, "unset");
    const last = segments.pop()!;
    const map = mapAt(result, segments, `unset "${path}"`, false);
    if (map === undefined || !Object.hasOwn(map, last)) {
      throw new DaemonError("invalid_params", `unset "${path}": there is nothing at ${path} to remove`, { path });
    }
    delete map[last];
  }
  return result;
}

/** The paths of `modifications` that hold nothing in `document` yet: what an edit adds rather than changes. */
export function newPaths(document: Record<string, unknown>, modifications: Record<string, unknown>): string[] {
  return Object.keys(modifications).filter((path) => {
    let current: unknown = document;
    for (const segment of path.split(".")) {
      if (!isMap(current) || !Object.hasOwn(current, segment)) return true;
      current = current[segment];
    }
    return false;
  });
}

/** The map at `segments` (created when `create`), or undefined when it is missing; invalid_params when a scalar or list is in the way. */
function mapAt(document: Record<string, unknown>, segments: readonly string[], edit: string, create: boolean): Record<string, unknown> | undefined {
  let map = document;
  for (const [i, segment] of segments.entries()) {
    if (!Object.hasOwn(map, segment)) {
      if (!create) return undefined;
      map[segment] = {};
    }
    const next = map[segment];
    if (isMap(next)) {
      map = next;
      continue;
    }
    const at = segments.slice(0, i + 1).join(".");
    const type = typeOf(next);
    const message = Array.isArray(next)
      ? `${edit}: "${at}" is a list, and list items cannot be addressed by position; set "${at}" to the whole new list`
      : `${edit}: "${at}" is ${type === "null" ? "null" : `a ${type}`}, not a map; set "${at}" itself to replace it`;
    throw new DaemonError("invalid_params", message, { path: edit.slice(edit.indexOf('"') + 1, -1), at, type });
  }
  return map;
}

/** `into` with `from`'s keys merged in: maps into maps recursively, anything else replaced. */
function mergeMaps(into: Record<string, unknown>, from: Record<string, unknown>): Record<string, unknown> {
  const result = structuredClone(into);
  for (const [key, value] of Object.entries(from)) {
    if (UNSAFE_SEGMENTS.has(key)) throw new DaemonError("invalid_params", `"${key}" cannot be a key`, { key });
    const current = result[key];
    result[key] = isMap(value) && isMap(current) ? mergeMaps(current, value) : structuredClone(value);
  }
  return result;
}

function checkedSegments(path: string, rules: EditRules, label: string): string[] {
  const segments = path.split(".");
  const refuse = (why: string) => {
    throw new DaemonError("invalid_params", `${label} "${path}": ${why}`, { path });
  };
  if (segments.some((s) => s === "")) refuse("a path is dot-separated keys, none of them empty");
  const unsafe = segments.find((s) => UNSAFE_SEGMENTS.has(s));
  if (unsafe !== undefined) refuse(`"${unsafe}" cannot be a key`);
  const refused = rules.refusedRoots?.[segments[0]!];
  if (refused !== undefined) refuse(refused);
  if (rules.reserved.has(segments[0]!)) {
    refuse(`"${segments[0]!}" ${rules.owned} (${[...rules.reserved].join(", ")} cannot be ${label === "unset" ? "unset" : "modified"}); ${rules.instead}`);
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
