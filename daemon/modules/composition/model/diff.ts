/**
 * What changed between two versions of a pattern (SPEC §3 composition:diff),
 * as structure and as text (pure).
 *
 * Structure is key-aware so that a change reads the way a person would name
 * it: maps are matched by key, lists of named maps (`components`) by `name`,
 * so reordering components is no change and an edited prompt is reported at
 * `components.judge.prompt`. Other lists and scalars are whole values.
 *
 * Paths are dotted segments: a map key, or the `name` of an item of a named
 * list. A segment that is empty or holds `.`, `[` or `]` is written as
 * `["a.b"]` (JSON-quoted in brackets) so every path reads back unambiguously.
 * List positions never appear: unnamed lists are compared whole. merge3.ts
 * reports its conflicts with the same paths.
 */
import { deepEqual } from "./document.js";
import { diffLines, type LineOp } from "./line-diff.js";

export interface Change {
  op: "add" | "remove" | "replace";
  path: string;
  from?: unknown;
  to?: unknown;
}

/** Changes turning `left` into `right`, in document order (kept and removed keys where left had them, added ones where right has them). */
export function diffDocuments(left: unknown, right: unknown): Change[] {
  const changes: Change[] = [];
  walk(left, right, [], changes);
  return changes;
}

function walk(left: unknown, right: unknown, path: string[], out: Change[]): void {
  if (deepEqual(left, right)) return;
  const at = formatPath(path);
  if (left === undefined) {
    out.push({ op: "add", path: at, to: right });
  } else if (right === undefined) {
    out.push({ op: "remove", path: at, from: left });
  } else if (isMap(left) && isMap(right)) {
    for (const key of unionOrder(Object.keys(left), Object.keys(right))) walk(own(left, key), own(right, key), [...path, key], out);
  } else {
    const l = namedItems(left);
    const r = namedItems(right);
    if (l !== null && r !== null) {
      for (const name of unionOrder([...l.keys()], [...r.keys()])) walk(l.get(name), r.get(name), [...path, name], out);
    } else {
      out.push({ op: "replace", path: at, from: left, to: right });
    }
  }
}

export function formatPath(segments: readonly string[]): string {
  return segments.map((s, i) => (/^[^.[\]]+$/.test(s) ? (i === 0 ? s : `.${s}`) : `[${JSON.stringify(s)}]`)).join("");
}

/**
 * The items of a list by name when every item is a map with a string `name`
 * and no name repeats (an empty list qualifies); otherwise null, and the
 * list is a plain value.
 */
export function namedItems(value: unknown): Map<string, Record<string, unknown>> | null {
  if (!Array.isArray(value)) return null;
  const items = new Map<string, Record<string, unknown>>();
  for (const item of value) {
    if (!isMap(item) || typeof item.name !== "string" || items.has(item.name)) return null;
    items.set(item.name, item);
  }
  return items;
}

export function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A key read only if the map has it itself: `constructor` of a plain object is not a key. */
export function own(map: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

/** Every key once, interleaved in the order the two lists suggest (their common subsequence aligned). */
function unionOrder(left: string[], right: string[]): string[] {
  const ops: LineOp[] = diffLines(left, right) ?? [...left.map((_, a) => ({ op: "delete" as const, a })), ...right.map((_, b) => ({ op: "insert" as const, b }))];
  const keys = new Set<string>();
  for (const op of ops) keys.add(op.op === "insert" ? right[op.b]! : left[op.a]!);
  return [...keys];
}

/**
 * A unified diff as `diff -u` and `git apply` read it: `---`/`+++` labels,
 * `@@ -start,count +start,count @@` hunks with `context` lines around each
 * change, and `\ No newline at end of file` where a text lacks one. Empty
 * when the texts are equal. Texts too large to diff become one hunk that
 * replaces everything.
 */
export function unifiedDiff(leftText: string, rightText: string, leftLabel: string, rightLabel: string, context = 3): string {
  if (leftText === rightText) return "";
  const a = textLines(leftText);
  const b = textLines(rightText);
  const ops = deletesFirst(diffLines(a, b) ?? [...a.map((_, i) => ({ op: "delete" as const, a: i })), ...b.map((_, j) => ({ op: "insert" as const, b: j }))]);
  // Line numbers before each op, to number the hunks.
  const before: { a: number; b: number }[] = [];
  let x = 0;
  let y = 0;
  for (const op of ops) {
    before.push({ a: x, b: y });
    if (op.op !== "insert") x++;
    if (op.op !== "delete") y++;
  }
  before.push({ a: x, b: y });
  const out = [`--- ${leftLabel}`, `+++ ${rightLabel}`];
  for (const [start, end] of hunkRanges(ops, context)) {
    const from = before[start]!;
    const to = before[end]!;
    out.push(`@@ -${range(from.a, to.a - from.a)} +${range(from.b, to.b - from.b)} @@`);
    for (const op of ops.slice(start, end)) {
      if (op.op === "equal") out.push(` ${a[op.a]!}`);
      else if (op.op === "delete") out.push(`-${a[op.a]!}`);
      else out.push(`+${b[op.b]!}`);
    }
  }
  return `${out.join("\n")}\n`;
}

/**
 * Lines without their terminators. A last line with no newline carries the
 * marker, so it differs from the same line with one, as it does for diff.
 */
function textLines(text: string): string[] {
  if (text === "") return [];
  const lines = (text.endsWith("\n") ? text.slice(0, -1) : text).split("\n");
  if (!text.endsWith("\n")) lines[lines.length - 1] += "\n\\ No newline at end of file";
  return lines;
}

/** Within each run of changes, removed lines before added ones, as diff writes them. */
function deletesFirst(ops: LineOp[]): LineOp[] {
  const out: LineOp[] = [];
  let inserts: LineOp[] = [];
  for (const op of ops) {
    if (op.op === "insert") {
      inserts.push(op);
      continue;
    }
    if (op.op === "equal") {
      out.push(...inserts);
      inserts = [];
    }
    out.push(op);
  }
  return [...out, ...inserts];
}

/** [start, end) op ranges: each change with `context` equal ops either side; changes closer than twice that share a hunk. */
function hunkRanges(ops: LineOp[], context: number): [number, number][] {
  const ranges: [number, number][] = [];
  ops.forEach((op, i) => {
    if (op.op === "equal") return;
    const start = Math.max(0, i - context);
    const end = Math.min(ops.length, i + 1 + context);
    const last = ranges[ranges.length - 1];
    if (last !== undefined && start <= last[1]) last[1] = end;
    else ranges.push([start, end]);
  });
  return ranges;
}

/** `start,count` with diff's conventions: an empty range names the line before it, and a count of 1 is left out. */
function range(linesBefore: number, count: number): string {
  if (count === 0) return `${linesBefore},0`;
  return count === 1 ? `${linesBefore + 1}` : `${linesBefore + 1},${count}`;
}
