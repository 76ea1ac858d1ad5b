/**
 * composition:discover over the index (SPEC §4.4, pure). It runs over every
 * pattern on every request (10 000 of them within a few milliseconds), so
 * the query is checked and compiled once into a chain of tests, cheapest
 * first, and a document costs a few property reads. Nothing is allocated
 * per document but its search text (once, the first time a `text` query
 * meets it) and, for a `sort`, its key.
 *
 * Paths (metadata_filter keys, fields, sort) are dotted map keys, looked up
 * under `metadata` first and then at the top level: `tags` means
 * `metadata.tags`, and `performance.avg_score` works wherever a pattern
 * keeps it. When both places hold a path, `metadata` wins, so a filter
 * always tests exactly one value; `where` sees the whole document and can
 * name either place exactly. List items are not addressed by position.
 */
import { z } from "zod";
import { DaemonError } from "../../../core/errors.js";
import type { Comparison } from "../../../core/comparison.js";
import { compilePathRule, compileRule, readPath } from "../../../core/json-logic.js";
import { ruleParam } from "../../../core/rule-param.js";
import { deepEqual } from "./document.js";

export interface DiscoverEntry {
  name: string;
  type: string;
  version: string;
  description: string;
  data: Record<string, unknown>;
}

export interface DiscoverResult {
  compositions: Record<string, unknown>[];
  total: number;
}

const OPERATORS = [">", ">=", "<", "<=", "==", "!=", "in", "contains", "exists"] as const;
type Operator = (typeof OPERATORS)[number];

const MAX_LIMIT = 1000;
const MAX_PATH_SEGMENTS = 16;
const FORBIDDEN_SEGMENTS = new Set(["__proto__", "prototype", "constructor"]);
const TAGS = ["tags"];
/** Always in a result, taken from the entry; `fields` naming them add nothing. */
const IDENTITY = new Set(["name", "type", "version"]);

type Test = (field: unknown) => boolean;

const path = z.string().max(256).superRefine((text, ctx) => {
  const problem = pathProblem(text);
  if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
});

const filterRecord = z.record(z.string(), z.json()).superRefine((filter, ctx) => {
  for (const [key, condition] of Object.entries(filter)) {
    const problem = pathProblem(key) ?? compileCondition(condition).problem;
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem, path: [key] });
  }
});

const WHERE_EXAMPLE = { ">": [{ var: "performance.avg_score" }, 0.7] };

/** A `path OP value` text sent as `where` is a metadata_filter comparison misplaced: say where it goes. */
function metadataFilterHint({ path, op, value }: Comparison, text: string): string {
  const filter = { [path]: op === null ? value : { [op]: value } };
  return `or, to look the path up under metadata and then at the top level, send metadata_filter ${JSON.stringify(filter)}, as pat find --where '${text.trim()}' does`;
}

export const discoverQuerySchema = z.strictObject({
  type: z.string().max(64).optional().describe("only patterns of this type"),
  tags: z.array(z.string().max(128)).max(64).optional().describe("all must be in metadata.tags"),
  text: z.string().max(1_000).optional().describe("every word must start a word of the name, description, tags or use cases"),
  metadata_filter: z
    .preprocess((filter: z.input<typeof filterRecord>, ctx) => {
      // The record schema would drop this key without a word, and with it the filter.
      if (isMap(filter) && Object.hasOwn(filter, "__proto__")) ctx.addIssue({ code: "custom", message: pathProblem("__proto__")!, path: ["__proto__"], input: filter });
      return filter;
    }, filterRecord)
    .optional()
    .describe("{dotted.path: value} or {dotted.path: {operator: value}}; operators > >= < <= == != in contains exists; pat find --where 'path>0.7' sends this")
    .meta({ "x-keys": "dotted-paths" }),
  where: ruleParam({ example: WHERE_EXAMPLE, comparisonHint: metadataFilterHint })
    .optional()
    .describe(
      `JSON Logic rule over the whole document, read as written, e.g. ${JSON.stringify(WHERE_EXAMPLE)}; ` +
        "not the path>0.7 text of pat find --where (that is metadata_filter; pat find --rule sends where)",
    ),
  fields: z.array(path).max(64).optional().describe("dotted paths to return (name, type and version always come)"),
  sort: z
    .string()
    .max(257)
    .superRefine((text, ctx) => {
      const problem = pathProblem(text.startsWith("-") ? text.slice(1) : text);
      if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional()
    .describe("dotted path, - prefix for descending; missing values last, ties by name"),
  limit: z.number().int("limit is a whole number").min(1, "limit is at least 1").max(MAX_LIMIT, `limit is at most ${MAX_LIMIT}; page with offset`).default(50),
  offset: z.number().int("offset is a whole number").min(0, "offset is at least 0").default(0),
});

export type DiscoverQuery = z.input<typeof discoverQuerySchema>;

export interface CompiledDiscover {
  /** `index` is the entry's position in the list the columns were made for. */
  matches(entry: DiscoverEntry, index: number): boolean;
  /** The first `count` entries in the query's order. */
  order(entries: readonly DiscoverEntry[], count: number): DiscoverEntry[];
  project(entry: DiscoverEntry): Record<string, unknown>;
  limit: number;
  offset: number;
}

/** The page of `entries` that `query` asks for, and how many match in all. */
export function discover(entries: readonly DiscoverEntry[], query: DiscoverQuery, columns?: Columns): DiscoverResult {
  const compiled = compileDiscover(query, columns);
  const matched: DiscoverEntry[] = [];
  for (let i = 0; i < entries.length; i++) if (compiled.matches(entries[i]!, i)) matched.push(entries[i]!);
  const page = compiled.order(matched, compiled.offset + compiled.limit).slice(compiled.offset);
  return { compositions: page.map((entry) => compiled.project(entry)), total: matched.length };
}

/** Checks the whole query up front (invalid_params naming each bad param's path) and compiles it. */
/**
 * The value of a dotted path (looked up as metadata_filter looks it up)
 * for every entry of the list being searched, in its order. Reading a
 * path from ten thousand differently shaped documents is most of a query;
 * a caller that searches the same list again (the catalog between two
 * changes) can keep the columns and pass them.
 */
export interface Columns {
  of(segments: readonly string[]): readonly unknown[];
  /** The same for a path read exactly as written (`where`'s `var`, see readPath). */
  exact(segments: readonly string[]): readonly unknown[];
  /** Every entry's search text, for `text` queries (see searchIndex). */
  texts(): SearchIndex;
}

/**
 * The search texts of a list of entries, in its order: a query word is
 * looked for in the whole text once, and the entries after a hit are
 * skipped up to the next line, so a word costs one pass over the text
 * whether it is rare or in every pattern (the first word); the others are
 * looked for only in the lines that had all words before them.
 */
export interface SearchIndex {
  text: string;
  lines: readonly string[];
  starts: Int32Array;
}

export function searchIndex(entries: readonly DiscoverEntry[]): SearchIndex {
  const lines = entries.map(searchText);
  const starts = new Int32Array(lines.length + 1);
  for (let i = 0; i < lines.length; i++) starts[i + 1] = starts[i]! + lines[i]!.length + 1;
  return { text: lines.join("\n"), lines, starts };
}

/** One flag per entry of the index: 1 when each of `wanted` starts one of its words. */
function matchingAll(index: SearchIndex, wanted: readonly string[]): Uint8Array {
  const { text, lines, starts } = index;
  const matching = new Uint8Array(lines.length);
  // The longest word first: likely the rarest, so the fewest lines are left for the others.
  const [first, ...rest] = [...wanted].sort((a, b) => b.length - a.length);
  let line = 0;
  for (let at = text.indexOf(first!); at !== -1; at = text.indexOf(first!, at + 1)) {
    while (starts[line + 1]! <= at) line++;
    const before = at === 0 ? 10 : text.charCodeAt(at - 1);
    if (before !== 32 && before !== 10) continue;
    if (rest.every((word) => hasWordStarting(lines[line]!, word))) matching[line] = 1;
    // On to the next line: this one is decided.
    at = starts[line + 1]! - 1;
  }
  return matching;
}

export function compileDiscover(query: DiscoverQuery, columns?: Columns): CompiledDiscover {
  const parsed = discoverQuerySchema.safeParse(query);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message }));
    const first = issues[0]!;
    const where = first.path === "" ? "" : ` at "${first.path}"`;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
    throw new DaemonError("invalid_params", `invalid discover query${where}: ${first.message}${more}`, { issues });
  }
  const q = parsed.data;
  const tests: ((entry: DiscoverEntry, index: number) => boolean)[] = [];
  const valueOf = (segments: readonly string[]): ((entry: DiscoverEntry, index: number) => unknown) => {
    const column = columns?.of(segments);
    return column === undefined ? (entry) => lookup(entry.data, segments) : (_, index) => column[index];
  };
  if (q.type !== undefined) {
    const type = q.type;
    tests.push((entry) => entry.type === type);
  }
  if (q.tags !== undefined && q.tags.length > 0) {
    const tags = q.tags;
    const tagsOf = valueOf(TAGS);
    tests.push((entry, index) => containsAll(tagsOf(entry, index), tags));
  }
  for (const [key, condition] of Object.entries(q.metadata_filter ?? {})) {
    const test = compileCondition(condition).test!;
    const fieldOf = valueOf(key.split("."));
    tests.push((entry, index) => test(fieldOf(entry, index)));
  }
  const wanted = q.text === undefined ? [] : [...new Set(words(q.text))];
  if (wanted.length > 0 && columns !== undefined) {
    const matching = matchingAll(columns.texts(), wanted);
    tests.push((_, index) => matching[index] === 1);
  } else if (wanted.length > 0) {
    tests.push((entry) => {
      const text = searchText(entry);
      for (const word of wanted) if (!hasWordStarting(text, word)) return false;
      return true;
    });
  }
  if (q.where !== undefined) {
    const byPaths = compilePathRule(q.where);
    if (byPaths === null) {
      const holds = compileRule(q.where);
      tests.push((entry) => holds(entry.data));
    } else {
      const readers = byPaths.paths.map((segments) => {
        const column = columns?.exact(segments);
        return column === undefined ? (entry: DiscoverEntry) => readPath(entry.data, segments) : (_: DiscoverEntry, index: number) => column[index];
      });
      const values: unknown[] = [];
      tests.push((entry, index) => {
        for (let i = 0; i < readers.length; i++) values[i] = readers[i]!(entry, index);
        return byPaths.holds(values);
      });
    }
  }
  return {
    matches(entry, index) {
      for (const test of tests) if (!test(entry, index)) return false;
      return true;
    },
    order: compileSort(q.sort),
    project: compileProjection(q.fields),
    limit: q.limit,
    offset: q.offset,
  };
}

/** Null when `text` may be used as a path. */
function pathProblem(text: string): string | null {
  const segments = text.split(".");
  if (segments.some((segment) => segment === "")) return text === "" ? "a path is not empty" : `path "${text}" has an empty segment`;
  if (segments.length > MAX_PATH_SEGMENTS) return `path "${text}" has more than ${MAX_PATH_SEGMENTS} segments`;
  const forbidden = segments.find((segment) => FORBIDDEN_SEGMENTS.has(segment));
  if (forbidden !== undefined) return `path "${text}" reaches an object's prototype (${forbidden}); use plain data keys`;
  return null;
}

/**
 * One metadata_filter value: a scalar is equality (or membership when the
 * field is a list); a list is a list field holding all of its items; a map
 * is `{operator: operand}`, every operator of it must hold. A missing field
 * fails every test but `exists: false`; so does `!=`, as in SQL.
 */
function compileCondition(condition: unknown): { test?: Test; problem?: string } {
  if (Array.isArray(condition)) return { test: (field) => containsAll(field, condition) };
  if (!isMap(condition)) return { test: (field) => field === condition || (Array.isArray(field) && field.includes(condition)) };
  const operators = Object.keys(condition);
  if (operators.length === 0) return { problem: "an empty condition; give a value or {operator: value}" };
  const tests: Test[] = [];
  for (const operator of operators) {
    const compiled = compileOperator(operator, condition[operator]);
    if (typeof compiled === "string") return { problem: compiled };
    tests.push(compiled);
  }
  if (tests.length === 1) return { test: tests[0]! };
  return {
    test: (field) => {
      for (const test of tests) if (!test(field)) return false;
      return true;
    },
  };
}

function compileOperator(operator: string, operand: unknown): Test | string {
  if (!(OPERATORS as readonly string[]).includes(operator)) {
    return `unknown operator "${operator}"; use one of ${OPERATORS.join(" ")} (to match a whole map, use {"==": {...}})`;
  }
  switch (operator as Operator) {
    case ">":
    case ">=":
    case "<":
    case "<=":
      if (typeof operand !== "number" && typeof operand !== "string") return `"${operator}" compares with a number or a string, not ${describe(operand)}`;
      return comparison(operator as ">" | ">=" | "<" | "<=", operand);
    case "==":
      return (field) => deepEqual(field, operand);
    case "!=":
      return (field) => field !== undefined && !deepEqual(field, operand);
    case "in":
      if (!Array.isArray(operand)) return `"in" takes a list of values, not ${describe(operand)}`;
      // A list field is in when any of its items is: {"tags": {"in": [a, b]}} reads "tagged a or b".
      return (field) => (Array.isArray(field) ? field.some((item) => includesEqual(operand, item)) : field !== undefined && includesEqual(operand, field));
    case "contains":
      return (field) => (typeof field === "string" ? typeof operand === "string" && field.includes(operand) : Array.isArray(field) && includesEqual(field, operand));
    case "exists":
      if (typeof operand !== "boolean") return `"exists" takes true or false, not ${describe(operand)}`;
      return (field) => (field !== undefined) === operand;
  }
}

/** Numbers with numbers, strings with strings (ISO dates compare as written); any other pair is false. */
function comparison(operator: ">" | ">=" | "<" | "<=", operand: number | string): Test {
  const kind = typeof operand;
  switch (operator) {
    case ">":
      return (field) => typeof field === kind && (field as number | string) > operand;
    case ">=":
      return (field) => typeof field === kind && (field as number | string) >= operand;
    case "<":
      return (field) => typeof field === kind && (field as number | string) < operand;
    case "<=":
      return (field) => typeof field === kind && (field as number | string) <= operand;
  }
}

/** A path under `metadata` first, then at the top level (SPEC §4.4). */
export function lookup(data: Record<string, unknown>, segments: readonly string[]): unknown {
  const found = walk(data.metadata, segments);
  return found === undefined ? walk(data, segments) : found;
}

/**
 * Plain property reads, the fastest over thousands of differently shaped
 * documents: paths never hold __proto__, prototype or constructor (checked
 * at compile), so all a read can find that the document does not hold
 * itself is a function of Object.prototype, and that counts as missing.
 */
function walk(from: unknown, segments: readonly string[]): unknown {
  let at = from;
  for (let i = 0; i < segments.length; i++) {
    if (typeof at !== "object" || at === null || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[segments[i]!];
  }
  return typeof at === "function" ? undefined : at;
}

function containsAll(field: unknown, items: readonly unknown[]): boolean {
  if (!Array.isArray(field)) return false;
  for (const item of items) if (!includesEqual(field, item)) return false;
  return true;
}

function includesEqual(list: readonly unknown[], value: unknown): boolean {
  if (typeof value !== "object" || value === null) {
    for (let i = 0; i < list.length; i++) if (list[i] === value) return true;
    return false;
  }
  for (const item of list) if (deepEqual(item, value)) return true;
  return false;
}

// Words are runs of letters (with their combining marks) and digits, in any script.
const NOT_WORD = /[^\p{L}\p{M}\p{N}]+/u;

function words(text: string): string[] {
  return text.toLowerCase().split(NOT_WORD).filter((word) => word !== "");
}

/**
 * The distinct lower-cased words `text` queries search (name, description,
 * tags, use cases), joined by spaces, made once per document: keyed by the
 * entry's data, which the index replaces (never edits) when a file changes,
 * so a changed pattern gets a new one.
 */
const searchTexts = new WeakMap<object, string>();

function searchText(entry: DiscoverEntry): string {
  let text = searchTexts.get(entry.data);
  if (text === undefined) {
    const metadata = isMap(entry.data.metadata) ? entry.data.metadata : {};
    const fields = [entry.name, entry.description];
    for (const list of [metadata.tags, metadata.use_cases]) if (Array.isArray(list)) for (const item of list) if (typeof item === "string") fields.push(item);
    text = [...new Set(fields.flatMap(words))].join(" ");
    searchTexts.set(entry.data, text);
  }
  return text;
}

/**
 * A query word matches a document word it begins ("tournament" finds
 * "tournaments", "robin" finds round_robin, "ment" finds nothing): in the
 * search text, an occurrence right after a space or at the start.
 */
function hasWordStarting(text: string, word: string): boolean {
  for (let at = text.indexOf(word); at !== -1; at = text.indexOf(word, at + 1)) {
    if (at === 0 || text.charCodeAt(at - 1) === 32) return true;
  }
  return false;
}

/**
 * `sort` → the first `count` entries in order: numbers before strings
 * before booleans, each in its own order; missing (and null) values last in
 * both directions; ties by name. Keys are read once per entry, not once per
 * comparison.
 */
function compileSort(sort: string | undefined): (entries: readonly DiscoverEntry[], count: number) => DiscoverEntry[] {
  if (sort === undefined) return (entries, count) => firstInOrder(entries, count, (a, b) => compareNames(a.name, b.name));
  const descending = sort.startsWith("-");
  const segments = (descending ? sort.slice(1) : sort).split(".");
  const sign = descending ? -1 : 1;
  return (entries, count) => {
    const keys = entries.map((entry) => lookup(entry.data, segments));
    const ranks = keys.map(rank);
    const positions = firstInOrder(
      entries.map((_, i) => i),
      count,
      (i, j) => {
        const rankX = ranks[i]!;
        const rankY = ranks[j]!;
        const byValue = rankX === MISSING || rankY === MISSING ? rankX - rankY : sign * (rankX - rankY || compareSameKind(keys[i], keys[j]));
        return byValue || compareNames(entries[i]!.name, entries[j]!.name);
      },
    );
    return positions.map((i) => entries[i]!);
  };
}

/**
 * The `count` smallest items in order. A page is usually far smaller than
 * the matches, and comparing names read from YAML is slow (they are slices
 * of the file's text), so a bounded max-heap takes about one comparison per
 * item instead of sorting them all: 0.2 ms instead of 20 for a page of 50
 * out of 10 000.
 */
export function firstInOrder<T>(items: readonly T[], count: number, compare: (a: T, b: T) => number): T[] {
  if (count >= items.length) return [...items].sort(compare);
  if (count <= 0) return [];
  // heap[0] is the largest of the best `count` so far.
  const heap: T[] = [];
  const above = (a: T, b: T) => compare(a, b) > 0;
  for (const item of items) {
    if (heap.length < count) {
      heap.push(item);
      for (let at = heap.length - 1; at > 0; ) {
        const parent = (at - 1) >> 1;
        if (!above(heap[at]!, heap[parent]!)) break;
        [heap[at], heap[parent]] = [heap[parent]!, heap[at]!];
        at = parent;
      }
    } else if (compare(item, heap[0]!) < 0) {
      heap[0] = item;
      for (let at = 0; ; ) {
        const left = 2 * at + 1;
        const right = left + 1;
        let largest = at;
        if (left < count && above(heap[left]!, heap[largest]!)) largest = left;
        if (right < count && above(heap[right]!, heap[largest]!)) largest = right;
        if (largest === at) break;
        [heap[at], heap[largest]] = [heap[largest]!, heap[at]!];
        at = largest;
      }
    }
  }
  return heap.sort(compare);
}

const MISSING = 4;

function rank(value: unknown): number {
  switch (typeof value) {
    case "number":
      return 0;
    case "string":
      return 1;
    case "boolean":
      return 2;
    default:
      return value === null || value === undefined ? MISSING : 3;
  }
}

/** Lists and maps have no order among themselves: they tie, and the name decides. */
function compareSameKind(x: unknown, y: unknown): number {
  if (typeof x === "object") return 0;
  return (x as number) < (y as number) ? -1 : (x as number) > (y as number) ? 1 : 0;
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * `fields` → the result object: name, type and version, then each path
 * where it was asked for, nested as written (`performance.avg_score` →
 * `{performance: {avg_score}}`). A path missing from the document is left
 * out, and one under another asked-for path adds nothing. The default is
 * name, type, version, description and tags (`[]` when there are none).
 */
function compileProjection(fields: readonly string[] | undefined): (entry: DiscoverEntry) => Record<string, unknown> {
  if (fields === undefined) {
    return (entry) => {
      const tags = lookup(entry.data, TAGS);
      return { name: entry.name, type: entry.type, version: entry.version, description: entry.description, tags: Array.isArray(tags) ? tags : [] };
    };
  }
  const all = fields.map((field) => field.split("."));
  const paths = all.filter(
    (segments, i) => !IDENTITY.has(segments[0]!) && !all.some((other, j) => (j < i || other.length < segments.length) && isPrefix(other, segments)),
  );
  return (entry) => {
    const out: Record<string, unknown> = { name: entry.name, type: entry.type, version: entry.version };
    for (const segments of paths) {
      const value = lookup(entry.data, segments);
      if (value !== undefined) setPath(out, segments, value);
    }
    return out;
  };
}

function isPrefix(prefix: readonly string[], of: readonly string[]): boolean {
  return prefix.length <= of.length && prefix.every((segment, i) => segment === of[i]);
}

/** Intermediate maps are always ones made here: a path under another asked-for path was dropped, so no document value is written into. */
function setPath(out: Record<string, unknown>, segments: readonly string[], value: unknown): void {
  let at = out;
  for (const segment of segments.slice(0, -1)) {
    let next = at[segment];
    if (!isMap(next)) {
      next = {};
      at[segment] = next;
    }
    at = next as Record<string, unknown>;
  }
  at[segments[segments.length - 1]!] = value;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "a map" : `${typeof value} ${JSON.stringify(value)}`;
}
