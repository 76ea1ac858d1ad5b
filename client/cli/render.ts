/** How `pat` prints results as text (pure); -o json|yaml print them as they are (output.ts). */
import type { Push } from "../../daemon/core/protocol.js";
import { PLAIN, type Paint } from "./paint.js";
import { table, type Layout } from "./table.js";

/** A YAML-like outline of any JSON value. */
export function outline(value: unknown, indent = ""): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return value
      .map((item) => {
        const body = outline(item, indent + "  ");
        return `${indent}- ${isBlock(item) ? body.trimStart() : body}`;
      })
      .join("\n");
  }
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) return "{}";
    return entries
      .map(([key, item]) => (isBlock(item) ? `${indent}${key}:\n${outline(item, indent + "  ")}` : `${indent}${key}: ${outline(item)}`))
      .join("\n");
  }
  if (typeof value === "string") return looksLikeOtherType(value) ? JSON.stringify(value) : value;
  return String(value);
}

/** Strings that would read as something else unquoted: numbers, literals, multi-line or padded text. */
function looksLikeOtherType(text: string): boolean {
  return /\n|: | #|^\s|\s$|^$|^(true|false|null|\[\]|\{\})$/.test(text) || Number.isFinite(Number(text));
}

function isBlock(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return typeof value === "object" && value !== null && Object.keys(value).length > 0;
}

export interface EventSummary {
  event: string;
  summary: string;
}

/** system:discover's events, `{<namespace>: [{event, summary}]}`: one row per event. */
export function renderDiscover(byNamespace: Readonly<Record<string, readonly EventSummary[]>>, layout: Layout = {}): string {
  const events = Object.values(byNamespace).flat();
  return table(["EVENT", "SUMMARY"], events.map((e) => [e.event, e.summary]), layout);
}

export interface PatternSummary {
  name: string;
  type: string;
  version: string;
  description: string;
}

export const PATTERN_COLUMNS = ["NAME", "TYPE", "VERSION", "DESCRIPTION"] as const;

export function renderPatterns(patterns: readonly PatternSummary[], layout: Layout = {}): string {
  if (patterns.length === 0) return "(no patterns)";
  return table(PATTERN_COLUMNS, patternRows(patterns), layout);
}

/** One table row per pattern, under PATTERN_COLUMNS. */
export function patternRows(patterns: readonly PatternSummary[]): string[][] {
  return patterns.map((p) => [p.name, p.type, p.version, firstSentence(p.description)]);
}

export interface VersionSummary {
  version: string | null;
  commit: string;
  date: string;
  author: string;
  op: string;
  message: string;
}

export function renderHistory(versions: readonly VersionSummary[], layout: Layout = {}): string {
  const rows = versions.map((v) => [v.commit.slice(0, 10), v.date.slice(0, 19).replace("T", " "), v.version ?? "-", v.op, v.author, flat(v.message)]);
  return table(["COMMIT", "DATE", "VERSION", "OP", "AUTHOR", "MESSAGE"], rows, layout);
}

/** A description's first sentence, on one line (the table cuts it to the terminal). */
function firstSentence(text: string): string {
  const end = text.search(/\.(\s|$)/);
  return flat(end === -1 ? text : text.slice(0, end + 1));
}

export function renderPush(push: Push): string {
  const time = push.ts.slice(11, 23);
  const data = JSON.stringify(push.data);
  return `${time}  #${push.seq}  ${push.event}  ${data.length > 200 ? data.slice(0, 199) + "…" : data}`;
}

export interface ErrorLike {
  code: string;
  message: string;
  details?: Record<string, unknown> | undefined;
}

export function renderError(error: ErrorLike, paint: Paint = PLAIN): string {
  // An empty list (no suggestions) says nothing.
  const shown = Object.entries(error.details ?? {}).filter(([, value]) => !(Array.isArray(value) && value.length === 0));
  const details = shown.length === 0 ? "" : `\n${outline(Object.fromEntries(shown), "  ")}`;
  return `${errorHead(error, paint)}: ${error.message}${details}`;
}

/** `error [code]`, red on a terminal. */
export function errorHead(error: ErrorLike, paint: Paint = PLAIN): string {
  return paint.red(`error [${error.code}]`);
}

// ------------------------------------------------------------------ pattern evolution: fork, merge, diff

export interface Change {
  op: "add" | "remove" | "replace";
  path: string;
  from?: unknown;
  to?: unknown;
}

/** One merge conflict; a side where the value is absent (deleted, or never there) has no key. */
export interface Conflict {
  path: string;
  base?: unknown;
  ours?: unknown;
  theirs?: unknown;
}

export interface ForkResult {
  name: string;
  version: string;
  parent: string;
  commit: string;
  /** Paths the parent did not have: "(new)" in the output, so a typo shows. */
  new_paths?: string[];
}

/** `forked tournament@2.0.0 -> tournament_swiss@0.1.0 (commit abc1234)`, then the values it set. */
export function renderFork(fork: ForkResult, modifications: Readonly<Record<string, unknown>> = {}): string {
  return [`forked ${fork.parent} -> ${fork.name}@${fork.version} (commit ${fork.commit.slice(0, 7)})`, ...renderSets(modifications, fork.new_paths ?? [])].join("\n");
}

export interface UpdateResult {
  name: string;
  version: string;
  commit: string;
  unchanged?: boolean;
  new_paths: string[];
}

/** `updated tournament to 2.0.1 (commit abc1234)`, then each value set (`(new)` where the path did not exist) and each path removed. */
export function renderUpdate(result: UpdateResult, values: Readonly<Record<string, unknown>>, unset: readonly string[]): string {
  const head =
    result.unchanged === true
      ? `unchanged: ${result.name}@${result.version} already holds these values (nothing committed)`
      : `updated ${result.name} to ${result.version} (commit ${result.commit.slice(0, 7)})`;
  return [head, ...renderSets(values, result.new_paths), ...unset.map((path) => `  unset ${path}`)].join("\n");
}

function renderSets(values: Readonly<Record<string, unknown>>, added: readonly string[]): string[] {
  return Object.entries(values).map(([path, value]) => `  set ${path} = ${clip(oneLine(value), 80)}${added.includes(path) ? " (new)" : ""}`);
}

export interface MergeResult {
  merged?: boolean;
  unchanged?: boolean;
  dry_run?: boolean;
  clean?: boolean;
  name: string;
  version: string;
  commit?: string;
  from: string;
  base: string;
  changes: Change[];
  conflicts?: Conflict[];
  /** Conflict paths settled by --set (resolve). */
  resolved?: string[];
}

/** A merge (or a dry run): what it did or would do, one line per change; a dry run's conflicts too. */
export function renderMerge(result: MergeResult): string {
  const dryRun = result.dry_run === true;
  const conflicts = result.conflicts ?? [];
  if (result.unchanged === true || (result.changes.length === 0 && conflicts.length === 0)) {
    return `${dryRun ? "dry run: " : ""}nothing to merge: ${result.name}@${result.version} already has every change of ${result.from}`;
  }
  const lines = [
    dryRun
      ? `dry run: merging ${result.from} into ${result.name} would make ${result.name}@${result.version} (base ${result.base}); nothing was written`
      : `merged ${result.from} into ${result.name}@${result.version} (commit ${(result.commit ?? "").slice(0, 7)}, base ${result.base})`,
    ...result.changes.map((change) => `  ${renderChange(change)}`),
  ];
  if ((result.resolved ?? []).length > 0) lines.push(`resolved by --set: ${result.resolved!.join(", ")}`);
  if (dryRun && conflicts.length === 0) lines.push("clean: the same command without --dry-run merges it (--json shows the merged document)");
  if (conflicts.length > 0) {
    lines.push(renderConflicts(conflicts, { base: result.base, ours: result.name, theirs: result.from }), mergeHint(result.name, result.from, conflicts));
  }
  return lines.join("\n");
}

/** A merge_conflict error: the daemon's message, each conflict's three values, and what to do next. */
export function renderMergeConflict(error: ErrorLike, paint: Paint = PLAIN): string {
  const details = (error.details ?? {}) as { conflicts?: Conflict[]; base?: string; from?: string; target?: string };
  const lines = [`${errorHead(error, paint)}: ${error.message}`];
  if (details.conflicts !== undefined && details.conflicts.length > 0) {
    lines.push(renderConflicts(details.conflicts, { base: details.base, ours: details.target, theirs: details.from }));
  }
  lines.push(mergeHint(details.target, details.from, details.conflicts ?? []) + "; --dry-run shows the whole merge without writing it");
  return lines.join("\n");
}

function mergeHint(target: string | undefined, source: string | undefined, conflicts: readonly Conflict[]): string {
  const ours = target === undefined ? "the target's" : `${target.replace(/@.*$/, "")}'s`;
  const fork = source?.replace(/@.*$/, "");
  const theirs = fork === undefined ? "the fork's" : `${fork}'s`;
  const first = conflicts[0]?.path ?? "PATH";
  const set = `pat merge ${fork ?? "FORK"} --set ${first}=VALUE (JSON, else text) settles a conflict`;
  return `hint: ${set}; --strategy ours keeps ${ours} values where both sides changed, --strategy theirs takes ${theirs}`;
}

type Side = "base" | "ours" | "theirs";
const SIDES: readonly Side[] = ["base", "ours", "theirs"];
/** Lines of one side of a multi-line text conflict, after what all sides share is cut. */
const MAX_TEXT_LINES = 12;
const MAX_INLINE = 300;

/**
 * Each conflict: its path, then base/ours/theirs. Short values on the label's
 * line; multi-line text indented below it, cut to where the sides differ
 * (one line of context); large maps and lists as an indented outline.
 */
export function renderConflicts(conflicts: readonly Conflict[], who: Partial<Record<Side, string | undefined>> = {}): string {
  const named = SIDES.flatMap((side) => (who[side] === undefined ? [] : [`${side} ${who[side]}`]));
  const lines = [`${conflicts.length} conflict${conflicts.length === 1 ? "" : "s"}${named.length > 0 ? ` (${named.join(", ")})` : ""}:`];
  for (const conflict of conflicts) {
    lines.push(`  ${conflict.path}`);
    const texts = SIDES.flatMap((side) => (isText(conflict[side]) ? [splitLines(conflict[side])] : []));
    const shared = sharedLines(texts);
    for (const side of SIDES) {
      const value = conflict[side];
      if (isText(value)) {
        lines.push(`    ${side}:`, ...excerpt(splitLines(value), shared).map((line) => `      ${line}`));
        continue;
      }
      const short = value === undefined ? "(absent)" : oneLine(value);
      if (short.length <= (typeof value === "string" ? MAX_INLINE : 100) || typeof value !== "object" || value === null) {
        lines.push(`    ${`${side}:`.padEnd(8)}${clip(short, MAX_INLINE)}`);
      } else {
        const block = outline(value).split("\n");
        lines.push(`    ${side}:`, ...cap(block).map((line) => `      ${line}`));
      }
    }
  }
  return lines.join("\n");
}

function isText(value: unknown): value is string {
  return typeof value === "string" && value.includes("\n");
}

/** Lines of a text, without the empty string after a final newline. */
function splitLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** How many leading and trailing lines every text shares, less one line of context each side. */
function sharedLines(texts: readonly string[][]): { head: number; tail: number } {
  if (texts.length < 2) return { head: 0, tail: 0 };
  const first = texts[0]!;
  const shortest = Math.min(...texts.map((lines) => lines.length));
  let head = 0;
  while (head < shortest && texts.every((lines) => lines[head] === first[head])) head++;
  let tail = 0;
  while (tail < shortest - head && texts.every((lines) => lines[lines.length - 1 - tail] === first[first.length - 1 - tail])) tail++;
  return { head: Math.max(0, head - 1), tail: Math.max(0, tail - 1) };
}

function excerpt(lines: readonly string[], shared: { head: number; tail: number }): string[] {
  const same = (n: number) => `… ${n} line${n === 1 ? "" : "s"} in common`;
  const middle = lines.slice(shared.head, lines.length - shared.tail);
  return [
    ...(shared.head > 0 ? [same(shared.head)] : []),
    ...(middle.length === 0 ? ["(empty)"] : cap(middle)),
    ...(shared.tail > 0 ? [same(shared.tail)] : []),
  ];
}

function cap(lines: readonly string[]): string[] {
  if (lines.length <= MAX_TEXT_LINES) return [...lines];
  return [...lines.slice(0, MAX_TEXT_LINES), `… ${lines.length - MAX_TEXT_LINES} more lines`];
}

/** `~ path  from -> to`, `+ path  value`, `- path`; values only when they fit on the line. Added green, removed red, changed yellow. */
export function renderChange(change: Change, paint: Paint = PLAIN): string {
  const fits = (value: unknown, max: number) => !isText(value) && value !== undefined && oneLine(value).length <= max;
  switch (change.op) {
    case "remove":
      return paint.red(`- ${change.path}`);
    case "add":
      return paint.green(fits(change.to, 60) ? `+ ${change.path}  ${oneLine(change.to)}` : `+ ${change.path}`);
    default:
      return paint.yellow(
        fits(change.from, 40) && fits(change.to, 40) ? `~ ${change.path}  ${oneLine(change.from)} -> ${oneLine(change.to)}` : `~ ${change.path}`,
      );
  }
}

export interface DiffResult {
  left: string;
  right: string;
  changes?: Change[];
  unified?: string;
}

/**
 * The unified text as it is (a patch: nothing at all when the two are the
 * same, as with diff(1)), or a count and one line per change.
 */
export function renderDiff(diff: DiffResult, paint: Paint = PLAIN): string {
  if (diff.unified !== undefined) return diff.unified.trimEnd().split("\n").map((line) => paintPatchLine(line, paint)).join("\n");
  const changes = diff.changes ?? [];
  if (changes.length === 0) return noDifferences(diff);
  const count = `${changes.length} change${changes.length === 1 ? "" : "s"}`;
  return [`${diff.left} -> ${diff.right}: ${count}`, ...changes.map((change) => `  ${renderChange(change, paint)}`)].join("\n");
}

export function noDifferences(diff: DiffResult): string {
  return `no differences between ${diff.left} and ${diff.right}`;
}

/** git's colours: file headers bold, hunk headers cyan, added lines green, removed lines red. */
function paintPatchLine(line: string, paint: Paint): string {
  if (line.startsWith("+++ ") || line.startsWith("--- ")) return paint.bold(line);
  if (line.startsWith("@@")) return paint.cyan(line);
  if (line.startsWith("+")) return paint.green(line);
  if (line.startsWith("-")) return paint.red(line);
  return line;
}

/** A value on one line: text as outline prints it (quoted only when ambiguous), anything else as compact JSON. */
function oneLine(value: unknown): string {
  return typeof value === "string" && !value.includes("\n") ? outline(value) : JSON.stringify(value);
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}… (${text.length} characters)`;
}

export interface LineageResult {
  pattern: string;
  /** Present for tree, mermaid and dot: the rendered graph. */
  text?: string;
}

/** tree / mermaid / dot as the daemon drew them (ready to paste); the JSON graph as JSON. */
export function renderLineage(lineage: LineageResult): string {
  return lineage.text === undefined ? JSON.stringify(lineage, null, 2) : lineage.text.trimEnd();
}

// ------------------------------------------------------------------ discovery: find, select, decide, decisions

export interface FoundPattern {
  name: string;
  type: string;
  version: string;
  description?: string;
  [field: string]: unknown;
}

export interface FindResult {
  compositions: FoundPattern[];
  total: number;
}

/**
 * The patterns found as `pat ls` prints them; with `fields`, each pattern's
 * name, type and version, then one `path: value` line per field asked for.
 * A last line says how to page when more match than were returned.
 */
export function renderFound(result: FindResult, options: { fields?: readonly string[]; offset?: number; layout?: Layout } = {}): string {
  const { compositions, total } = result;
  const offset = options.offset ?? 0;
  const fields = options.fields ?? [];
  if (compositions.length === 0) {
    return total > 0 ? `(no patterns past --offset ${offset}; ${total} match)` : "(no patterns match)";
  }
  let lines: string[];
  if (fields.length === 0) {
    lines = renderPatterns(compositions.map((p) => ({ ...p, description: p.description ?? "" })), options.layout).split("\n");
  } else {
    const name = Math.max(...compositions.map((p) => p.name.length));
    const type = Math.max(...compositions.map((p) => p.type.length));
    const width = Math.max(...fields.map((field) => field.length));
    lines = compositions.flatMap((p) => [
      `${p.name.padEnd(name)}  ${p.type.padEnd(type)}  ${p.version}`,
      ...fields.map((field) => {
        const value = valueAt(p, field);
        return `  ${`${field}:`.padEnd(width + 1)}  ${value === undefined ? "(absent)" : clip(oneLine(value), 120)}`;
      }),
    ]);
  }
  const last = offset + compositions.length;
  if (last < total) lines.push(`showing ${offset + 1}-${last} of ${total}; --offset ${last} for more`);
  return lines.join("\n");
}

function valueAt(value: unknown, path: string): unknown {
  let current = value;
  for (const segment of path.split(".")) {
    if (typeof current !== "object" || current === null || Array.isArray(current) || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

export interface Candidate {
  name: string;
  version: string;
  score: number;
  breakdown: Record<string, number>;
  reasons: string[];
  requirements_met?: boolean;
  unmet?: { requirement: string; reason: string }[];
}

export interface SelectResult {
  selected: string | null;
  explanation?: string;
  candidates: Candidate[];
}

/**
 * The pick (or "nothing fits") with the daemon's explanation, then each
 * candidate: score = the sum of its breakdown, and its reasons; a reason for
 * an unmet requirement is marked ✗ and the candidate's line names them.
 */
export function renderSelection(result: SelectResult): string {
  const { selected, explanation, candidates } = result;
  const pick = candidates.find((c) => c.name === selected);
  const lines = [selected === null ? "nothing fits" : `selected ${pick === undefined ? selected : `${pick.name}@${pick.version}`}`];
  if (explanation !== undefined) lines.push(`  ${explanation}`);
  if (candidates.length === 0) return lines.join("\n");
  lines.push("candidates:");
  candidates.forEach((c, i) => {
    const unmet = c.unmet ?? [];
    const breakdown = Object.entries(c.breakdown).map(([criterion, value]) => `${criterion} ${score(value)}`).join(", ");
    const marker = unmet.length > 0 ? `  ✗ unmet: ${unmet.map((u) => u.requirement).join(", ")}` : "";
    lines.push(`  ${i + 1}. ${c.name}@${c.version}  score ${score(c.score)}  (${breakdown})${marker}`);
    const explained = new Set<string>();
    for (const reason of c.reasons) {
      const failed = unmet.find((u) => reason.includes(u.reason));
      if (failed !== undefined) explained.add(failed.requirement);
      lines.push(`       ${failed === undefined ? "-" : "✗"} ${reason}`);
    }
    for (const u of unmet) if (!explained.has(u.requirement)) lines.push(`       ✗ requirement ${u.requirement} not met: ${u.reason}`);
  });
  return lines.join("\n");
}

function score(value: number): string {
  return value.toFixed(3);
}

/** A record as composition:decisions returns it; KSI's records have no id and no pattern_version, and may have no timestamp. */
export interface DecisionRecord {
  id?: string;
  timestamp: string | null;
  pattern: string;
  pattern_version?: string;
  agent_id: string | null;
  decision: string;
  context?: unknown;
  outcome: string | null;
  confidence: number | null;
}

/** The record track_decision appended: every key. */
export type TrackedRecord = DecisionRecord & { id: string; pattern_version: string; timestamp: string };

export interface TrackResult {
  tracked: TrackedRecord;
  file: string;
}

/** `recorded d_… in orchestrations/x_decisions.yaml`, then what was recorded. */
export function renderTracked({ tracked, file }: TrackResult): string {
  const details = [tracked.outcome === null ? [] : [`outcome ${tracked.outcome}`], tracked.confidence === null ? [] : [`confidence ${tracked.confidence}`]].flat();
  return [
    `recorded ${tracked.id} in ${file}`,
    `  ${tracked.pattern}@${tracked.pattern_version}: ${clip(flat(tracked.decision), 200)}${details.length > 0 ? ` (${details.join(", ")})` : ""}`,
  ].join("\n");
}

export interface DecisionStats {
  total: number;
  by_decision: Record<string, number>;
  by_outcome: Record<string, number>;
  mean_confidence: number | null;
  first_seen: string | null;
  last_seen: string | null;
  successes: number;
  failures: number;
}

export interface DecisionsResult {
  pattern: string;
  file: string;
  decisions: DecisionRecord[];
  stats: DecisionStats;
  /** Records of the log that could not be read. */
  issues?: { line?: number; message: string }[];
}

/**
 * The stats (over every record that matches) then one line per record
 * returned, newest first: time, agent, outcome, confidence, decision.
 * `filtered`: the query had filters, so the counts are of matching records.
 */
export function renderDecisions(result: DecisionsResult, filtered = false): string {
  const { stats, decisions } = result;
  const lines: string[] = [];
  if (stats.total === 0) {
    lines.push(`${result.pattern}: ${filtered ? "no decisions match" : "no decisions recorded"} (${result.file})`);
  } else {
    const { first_seen: first, last_seen: last } = stats;
    const span = first === null || last === null ? "" : first === last ? `, ${time(first)}` : `, ${time(first)} to ${time(last)}`;
    lines.push(`${result.pattern}: ${plural(stats.total, filtered ? "matching decision" : "decision")} in ${result.file}${span}`);
    const outcomes = Object.entries(stats.by_outcome).map(([outcome, count]) => `${outcome} ${count}`);
    const confidence = stats.mean_confidence === null ? "no confidence given" : `mean confidence ${stats.mean_confidence.toFixed(2)}`;
    lines.push(
      `outcomes: ${outcomes.length > 0 ? outcomes.join(", ") : "none recorded"} (${plural(stats.successes, "success", "successes")}, ${plural(stats.failures, "failure")}); ${confidence}`,
    );
    const repeated = Object.entries(stats.by_decision)
      .filter(([, count]) => count > 1)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3);
    if (repeated.length > 0) lines.push(`most frequent: ${repeated.map(([decision, count]) => `${clip(flat(decision), 60)} (${count})`).join(", ")}`);
    if (decisions.length < stats.total) lines.push(`newest ${decisions.length} of ${stats.total}:`);
    const agent = Math.max(1, ...decisions.map((d) => (d.agent_id ?? "-").length));
    const outcome = Math.max(1, ...decisions.map((d) => (d.outcome ?? "-").length));
    for (const d of decisions) {
      const confidenceText = d.confidence === null ? "   -" : d.confidence.toFixed(2);
      lines.push(`${d.timestamp === null ? "-".padEnd(19) : time(d.timestamp)}  ${(d.agent_id ?? "-").padEnd(agent)}  ${(d.outcome ?? "-").padEnd(outcome)}  ${confidenceText}  ${clip(flat(d.decision), 120)}`);
    }
  }
  for (const issue of result.issues ?? []) lines.push(`warning: ${result.file}${issue.line === undefined ? "" : `:${issue.line}`}: ${issue.message}`);
  return lines.join("\n");
}

/** Free text on one line, as written otherwise (no quotes). */
function flat(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/** An ISO time as `YYYY-MM-DD HH:MM:SS` (UTC, as pat history prints dates). */
function time(iso: string): string {
  return iso.slice(0, 19).replace("T", " ");
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
