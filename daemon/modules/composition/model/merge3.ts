/**
 * Three-way merge of two edits of one pattern (SPEC §3 composition:merge),
 * over parsed documents (pure).
 *
 * `base` is the common ancestor (the version the fork was taken from),
 * `ours` the target as it is now, `theirs` the source being merged in.
 * What a side left as in `base` takes the other side's edit; the same edit
 * on both sides is taken once; different edits to the same thing merge
 * further down where they can:
 * - maps by key; lists of named maps (`components`) by `name`, so two new
 *   components with different names both arrive, and two edits to different
 *   fields of one component both survive. Kept order is ours', then theirs'
 *   new keys or items in theirs' order. A key or list added on both sides
 *   is merged as if `base` had it empty.
 * - text with a newline (a strategy, a prompt) line by line, diff3 style:
 *   each side's edits are hunks over the base lines; hunks that share a base
 *   line, or insert at the same place, form a conflicting region unless both
 *   sides wrote the same lines there. Edits to adjacent but different lines
 *   both survive (git would call that a conflict; for prose we prefer to
 *   keep both edits and let review catch the rare clash).
 * - anything else (scalars, unnamed lists, a deletion against an edit, a
 *   change of kind) is one value: a conflict when both sides changed it.
 *
 * A conflict is reported once per field with the field's whole base, ours
 * and theirs values (`undefined` where absent), at a path in diff.ts's
 * syntax. The merged value takes ours' side at the smallest conflicting
 * unit — for text only the conflicting region, non-conflicting hunks of
 * theirs still apply — or theirs' side with strategy `theirs`. So `auto` and
 * `ours` build the same document; `auto` also lists the conflicts. Unchanged
 * subtrees are shared with the inputs, not copied.
 *
 * `resolve` settles named conflicts in the same merge: conflict path → the
 * value to keep there, whole (for text, the whole text, not a region; null
 * leaves the key or component out). A resolved conflict is not listed, and a
 * path that is not a conflict of this merge is refused with the paths that
 * are, so a stale or mistyped resolution never passes unnoticed. The strategy
 * decides only the conflicts `resolve` does not name.
 *
 * Written here rather than taken from node-diff3 (a line diff3) and
 * json-diff-ts (key-based list diffs): each is several hundred lines and
 * covers half of the job, neither reports conflicts in our path shape, and
 * line-diff.ts already gives us the LCS both would bring again.
 */
import { DaemonError } from "../../../core/errors.js";
import { deepEqual } from "./document.js";
import { diffDocuments, formatPath, isMap, namedItems, own, type Change } from "./diff.js";
import { diffLines } from "./line-diff.js";

export type MergeStrategy = "auto" | "ours" | "theirs";

export interface Conflict {
  path: string;
  base: unknown;
  ours: unknown;
  theirs: unknown;
}

export interface MergeOptions {
  strategy?: MergeStrategy;
  /** Conflict path → the value to keep there (null: absent). */
  resolve?: Readonly<Record<string, unknown>>;
}

export interface MergeResult {
  merged: unknown;
  /** The conflicts `resolve` left open; empty unless the strategy is `auto`. */
  conflicts: Conflict[];
  /** The conflicts `resolve` settled, in the order met. */
  resolved: Conflict[];
  /** What theirs brought into ours: the changes from ours to merged. */
  changes: Change[];
}

interface Context {
  prefer: "ours" | "theirs";
  conflicts: Conflict[];
  resolve: ReadonlyMap<string, unknown>;
  resolved: Conflict[];
}

/** Throws invalid_params when `resolve` names a path that is not a conflict, or gives a component a value that is not that component. */
export function merge3(base: unknown, ours: unknown, theirs: unknown, options: MergeOptions = {}): MergeResult {
  const strategy = options.strategy ?? "auto";
  const resolve = new Map(Object.entries(options.resolve ?? {}));
  const context: Context = { prefer: strategy === "theirs" ? "theirs" : "ours", conflicts: [], resolve, resolved: [] };
  const merged = mergeValue(base, ours, theirs, [], context);
  const settled = new Set(context.resolved.map((c) => c.path));
  const stray = [...resolve.keys()].filter((path) => !settled.has(path));
  if (stray.length > 0) {
    const actual = [...context.resolved, ...context.conflicts].map((c) => c.path);
    const are = actual.length === 0 ? "this merge has no conflicts" : `the conflicts are ${actual.join(", ")}`;
    const issues = stray.map((path) => ({ path: `resolve.${path}`, message: `${path} is not a conflict of this merge; ${are}` }));
    throw new DaemonError("invalid_params", `resolve names ${stray.join(", ")}, which ${stray.length === 1 ? "is" : "are"} not a conflict of this merge; ${are}`, {
      issues,
      conflicts: actual,
    });
  }
  return { merged, conflicts: strategy === "auto" ? context.conflicts : [], resolved: context.resolved, changes: diffDocuments(ours, merged) };
}

/** The merged value; `undefined` means absent (a deleted key or item). */
function mergeValue(base: unknown, ours: unknown, theirs: unknown, path: string[], context: Context): unknown {
  if (deepEqual(ours, theirs) || deepEqual(base, theirs)) return ours;
  if (deepEqual(base, ours)) return theirs;
  if (isMap(ours) && isMap(theirs) && (base === undefined || isMap(base))) return mergeMaps(base ?? {}, ours, theirs, path, context);
  const namedOurs = namedItems(ours);
  const namedTheirs = namedItems(theirs);
  const namedBase = base === undefined ? new Map<string, Record<string, unknown>>() : namedItems(base);
  if (namedOurs !== null && namedTheirs !== null && namedBase !== null) return mergeNamed(namedBase, namedOurs, namedTheirs, path, context);
  if (typeof ours === "string" && typeof theirs === "string" && (base === undefined || typeof base === "string") && [base, ours, theirs].some((v) => typeof v === "string" && v.includes("\n"))) {
    return mergeText(base, ours, theirs, path, context);
  }
  return conflict(base, ours, theirs, path, context);
}

function mergeMaps(base: Record<string, unknown>, ours: Record<string, unknown>, theirs: Record<string, unknown>, path: string[], context: Context): Record<string, unknown> {
  const keys = [...Object.keys(ours), ...Object.keys(theirs).filter((key) => !Object.hasOwn(ours, key))];
  const entries: [string, unknown][] = [];
  for (const key of keys) {
    const value = mergeValue(own(base, key), own(ours, key), own(theirs, key), [...path, key], context);
    if (value !== undefined) entries.push([key, value]);
  }
  // fromEntries defines keys, so even a `__proto__` key stays a key.
  return Object.fromEntries(entries);
}

type Named = Map<string, Record<string, unknown>>;

function mergeNamed(base: Named, ours: Named, theirs: Named, path: string[], context: Context): unknown[] {
  const names = [...ours.keys(), ...[...theirs.keys()].filter((name) => !ours.has(name))];
  const items: unknown[] = [];
  for (const name of names) {
    const item = mergeValue(base.get(name), ours.get(name), theirs.get(name), [...path, name], context);
    if (item === undefined) continue;
    // Only a resolution can put something else here; a list by name must stay one.
    if (!isMap(item) || item.name !== name) {
      const at = formatPath([...path, name]);
      throw new DaemonError("invalid_params", `resolve ${at}: the value there is the item named ${JSON.stringify(name)}, a map with name: ${JSON.stringify(name)} (or null to leave it out)`, {
        issues: [{ path: `resolve.${at}`, message: `a map with name: ${JSON.stringify(name)}, or null` }],
      });
    }
    items.push(item);
  }
  return items;
}

interface Hunk {
  side: "ours" | "theirs";
  /** Base lines [start, end) replaced by `lines`; start === end is an insertion before base line `start`. */
  start: number;
  end: number;
  lines: string[];
}

function mergeText(base: string | undefined, ours: string, theirs: string, path: string[], context: Context): unknown {
  const b = (base ?? "").split("\n");
  const hunks = [...hunksOf(b, ours.split("\n"), "ours"), ...hunksOf(b, theirs.split("\n"), "theirs")];
  // Ours first on a tie, so the same inputs always group the same way.
  hunks.sort((x, y) => x.start - y.start || x.end - y.end || (x.side === y.side ? 0 : x.side === "ours" ? -1 : 1));
  const out: string[] = [];
  let done = 0;
  let conflicted = false;
  for (let i = 0; i < hunks.length; ) {
    const region = [hunks[i]!];
    const start = region[0]!.start;
    let end = region[0]!.end;
    for (i++; i < hunks.length && overlaps(start, end, hunks[i]!); i++) {
      region.push(hunks[i]!);
      end = Math.max(end, hunks[i]!.end);
    }
    out.push(...b.slice(done, start));
    const original = b.slice(start, end);
    const mine = sideLines(b, region, "ours", start, end);
    const yours = sideLines(b, region, "theirs", start, end);
    if (sameLines(mine, yours) || sameLines(yours, original)) out.push(...mine);
    else if (sameLines(mine, original)) out.push(...yours);
    else {
      conflicted = true;
      out.push(...(context.prefer === "theirs" ? yours : mine));
    }
    done = end;
  }
  out.push(...b.slice(done));
  if (conflicted) return conflict(base, ours, theirs, path, context, out.join("\n"));
  return out.join("\n");
}

/** One side's edits as hunks over the base lines; a text too large to diff is one hunk replacing all of it. */
function hunksOf(base: string[], side: string[], who: Hunk["side"]): Hunk[] {
  const ops = diffLines(base, side);
  if (ops === null) return [{ side: who, start: 0, end: base.length, lines: side }];
  const hunks: Hunk[] = [];
  let current: Hunk | null = null;
  let next = 0;
  for (const op of ops) {
    if (op.op === "equal") {
      current = null;
      next = op.a + 1;
      continue;
    }
    if (current === null) {
      current = { side: who, start: next, end: next, lines: [] };
      hunks.push(current);
    }
    if (op.op === "delete") current.end = next = op.a + 1;
    else current.lines.push(side[op.b]!);
  }
  return hunks;
}

/**
 * Whether `hunk` (sorted at or after `start`) touches the region
 * [start, end): it shares a base line with it, or it and the region insert
 * at one place. An insertion at either edge of a replaced range does not:
 * where it goes is still clear.
 */
function overlaps(start: number, end: number, hunk: Hunk): boolean {
  const regionInserts = start === end;
  const hunkInserts = hunk.start === hunk.end;
  if (regionInserts) return hunkInserts && hunk.start === start;
  if (hunkInserts) return start < hunk.start && hunk.start < end;
  return hunk.start < end;
}

/** Base lines [start, end) with one side's hunks of the region applied. */
function sideLines(base: string[], region: Hunk[], who: Hunk["side"], start: number, end: number): string[] {
  const out: string[] = [];
  let at = start;
  for (const hunk of region) {
    if (hunk.side !== who) continue;
    out.push(...base.slice(at, hunk.start), ...hunk.lines);
    at = hunk.end;
  }
  out.push(...base.slice(at, end));
  return out;
}

function sameLines(x: string[], y: string[]): boolean {
  return x.length === y.length && x.every((line, i) => line === y[i]);
}

/**
 * A conflict at `path`: its resolution when `resolve` names it, else the
 * preferred side (`preferred`, when given, is that side already merged as
 * far as it goes: a text with the other side's clean hunks applied).
 */
function conflict(base: unknown, ours: unknown, theirs: unknown, path: string[], context: Context, preferred?: unknown): unknown {
  const at = formatPath(path);
  if (context.resolve.has(at)) {
    context.resolved.push({ path: at, base, ours, theirs });
    const value = context.resolve.get(at);
    return value === null ? undefined : value;
  }
  context.conflicts.push({ path: at, base, ours, theirs });
  if (preferred !== undefined) return preferred;
  return context.prefer === "theirs" ? theirs : ours;
}
