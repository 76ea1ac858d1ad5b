/**
 * Decision records (SPEC §4.6, pure): the track_decision params, the record
 * an append writes and its YAML text, and the stats that
 * composition:decisions returns and select weighs as evidence (reading a
 * log back is decision-log-text.ts; keeping up with one, decision-index.ts).
 *
 * Two shapes are read. KSI's: `pattern, decision, context, outcome,
 * confidence, agent_id, timestamp`, no id, a confidence that may be a
 * string such as '0.85' (KSI's daemon writes its logs that way, and its
 * seed logs are such). And the one patternd appends: KSI's keys in KSI's
 * order, with its own `id` first and `pattern_version` last, so KSI still
 * reads every record of a log patternd appended to.
 *
 * A record's text is one block-sequence item ending in a newline, starting
 * with `id` and ending with `pattern_version` (a version, so always one
 * line), so an append cut short by a crash is always recognised as torn.
 */
import { z } from "zod";
import { DaemonError } from "../../../core/errors.js";
import { suggest } from "../../../core/suggest.js";
import { formatSequenceItem, type Issue } from "./document.js";
import { PastTasks, taskOf, type PastTask } from "./past-tasks.js";
import { nameSchema } from "./ref.js";
import { versionSchema } from "./schema.js";

export const MAX_CONTEXT_BYTES = 64 * 1024;
const MAX_CONTEXT_DEPTH = 64;
/** by_decision and by_outcome keep the most frequent values: decisions are free text, and the reply stays small. */
const MAX_GROUPS = 100;

/** A record as read: KSI's records have no id and no pattern_version (absent, not null). */
export interface DecisionRecord {
  id?: string;
  pattern: string;
  decision: string;
  context: unknown;
  outcome: string | null;
  confidence: number | null;
  agent_id: string | null;
  timestamp: string | null;
  pattern_version?: string;
}

/** A record patternd appends: every key. */
export type AppendedRecord = Required<DecisionRecord> & { timestamp: string };

/** The order records are written in: KSI's keys in KSI's order between patternd's id and pattern_version (see the module comment). */
export const RECORD_KEYS = ["id", "pattern", "decision", "context", "outcome", "confidence", "agent_id", "timestamp", "pattern_version"] as const;

const confidence = z
  .number({ error: (issue) => `confidence is a number from 0 to 1, like 0.8, not ${JSON.stringify(issue.input)}` })
  .min(0, { error: (issue) => `confidence is at least 0 (a number from 0 to 1), not ${String(issue.input)}` })
  .max(1, { error: (issue) => `confidence is at most 1 (a number from 0 to 1), not ${String(issue.input)}` });

export const trackDecisionSchema = z.strictObject({
  pattern: nameSchema,
  decision: z.string().min(1, "decision is empty; say in a sentence what was decided").max(2000, "decision is longer than 2000 characters; put the details in context"),
  context: z
    .unknown()
    .superRefine((value, ctx) => {
      const problem = contextProblem(value);
      if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional()
    .describe(`any JSON value, at most ${MAX_CONTEXT_BYTES / 1024} KiB serialised`),
  outcome: z
    .string()
    .min(1, "outcome is empty; leave it out when unknown")
    .max(200, "outcome is longer than 200 characters")
    .optional()
    .describe(
      "free text, counted by select as evidence by its words: a success (success, ok, passed, done, completed…), a failure (failure, error, timeout, rejected, aborted…; " +
        '"not"/"no" before a word turns it over) or neither (partial, pending, skipped, mixed…). An outcome with none of these words is kept as written, with a warning',
    ),
  confidence: confidence.optional().describe("0..1"),
  version: versionSchema
    .optional()
    .describe("the version the run used (the one composition:resolve gave for a split label's arm), recorded as pattern_version; default the current version"),
  task: z
    .string()
    .trim()
    .min(1, "task is empty; leave it out, or say in a sentence what the run was for")
    .max(2000, "task is longer than 2000 characters; say in a sentence or two what the run was for")
    .optional()
    .describe(
      "the task the pattern served, as it was asked (the task given to composition:select), recorded as context.task; " +
        "with an outcome, later selects for similar tasks weigh it (similar_tasks)",
    ),
}).superRefine((input, ctx) => {
  // task is written as context.task: a context that cannot hold it, or holds another, is refused rather than overwritten.
  if (input.task === undefined || input.context === undefined || input.context === null) return;
  if (typeof input.context !== "object" || Array.isArray(input.context)) {
    ctx.addIssue({ code: "custom", path: ["context"], message: 'task is recorded as context.task, so context must then be a map, e.g. {"entrants": 12}; put this value under a key of it' });
  } else if (taskOf(input.context) !== undefined && taskOf(input.context) !== input.task) {
    ctx.addIssue({ code: "custom", path: ["task"], message: "task and context.task differ; give the task once, as task or as context.task" });
  }
});

export type TrackDecision = z.output<typeof trackDecisionSchema>;

export const decisionsQuerySchema = z.strictObject({
  pattern: nameSchema,
  decision: z.string().min(1).max(2000).optional().describe("records whose decision contains this text (any case)"),
  outcome: z.string().min(1).max(200).optional().describe('records with this outcome (any case); "success" and "failure" also match their kind'),
  since: z
    .union([z.iso.datetime({ offset: true }), z.iso.date()], { error: "since is an ISO-8601 date or time, like 2026-11-21 or 2026-11-21T10:00:00Z" })
    .optional()
    .describe("records at or after this ISO-8601 time (a date alone means its midnight UTC)"),
  limit: z.number().int().min(1).max(1000).default(100),
});

export type DecisionsQuery = Omit<z.output<typeof decisionsQuerySchema>, "pattern" | "limit"> & { limit?: number };

/**
 * Null when `value` is JSON data within the limits. Iterative, so a context
 * nested ten thousand levels deep is refused instead of overflowing the
 * stack; a lower bound of its size (the text it holds) refuses a huge one
 * before it is serialised.
 */
function contextProblem(value: unknown): string | null {
  let bound = 0;
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: at, depth } = stack.pop()!;
    if (depth > MAX_CONTEXT_DEPTH) return `context is nested deeper than ${MAX_CONTEXT_DEPTH} levels`;
    if (typeof at === "string") bound += at.length;
    else if (Array.isArray(at)) for (const item of at) stack.push({ value: item, depth: depth + 1 });
    else if (typeof at === "object" && at !== null) {
      for (const [key, item] of Object.entries(at)) {
        bound += key.length;
        stack.push({ value: item, depth: depth + 1 });
      }
    } else if (!(at === null || typeof at === "boolean" || (typeof at === "number" && Number.isFinite(at)))) {
      return `context is JSON data; it holds ${typeof at === "number" ? String(at) : typeof at}`;
    }
    if (bound > MAX_CONTEXT_BYTES) return tooLarge(`more than ${MAX_CONTEXT_BYTES} bytes`);
  }
  const bytes = Buffer.byteLength(JSON.stringify(value));
  return bytes > MAX_CONTEXT_BYTES ? tooLarge(`${bytes} bytes`) : null;
}

function tooLarge(size: string): string {
  return `context is ${size} when serialised; the limit is ${MAX_CONTEXT_BYTES / 1024} KiB: keep large data elsewhere and put a reference to it in context`;
}

export interface RecordStamp {
  now: number;
  /** A counter of the process: two records of the same millisecond still get distinct, ordered ids. */
  sequence: number;
  agentId: string | undefined;
  patternVersion: string;
}

export function makeRecord(input: TrackDecision, stamp: RecordStamp): AppendedRecord {
  return {
    id: decisionId(stamp.now, stamp.sequence),
    pattern: input.pattern,
    decision: input.decision,
    context: input.task === undefined ? (input.context ?? null) : { ...(input.context as Record<string, unknown> | null | undefined), task: input.task },
    outcome: input.outcome ?? null,
    confidence: input.confidence ?? null,
    agent_id: stamp.agentId ?? null,
    timestamp: new Date(stamp.now).toISOString(),
    pattern_version: stamp.patternVersion,
  };
}

/**
 * `d_<ms>_<sequence>`, both base 36 at a fixed width, so ids sort as the
 * records were made: 9 digits of milliseconds last until the year 5138, 6 of
 * sequence hold two billion records per process.
 */
export function decisionId(now: number, sequence: number): string {
  return `d_${now.toString(36).padStart(9, "0")}_${sequence.toString(36).padStart(6, "0")}`;
}

/** The text appended to `<pattern>_decisions.yaml`: one sequence item, keys in RECORD_KEYS order. */
export function formatRecord(record: AppendedRecord): string {
  return formatSequenceItem(Object.fromEntries(RECORD_KEYS.map((key) => [key, record[key]])));
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

/**
 * Records matching the query, newest first and at most `limit`, with stats
 * over all that match. `decision` matches a decision containing it, any
 * case; `outcome` one equal to it, any case, and "success" or "failure"
 * also every outcome of that kind, so {outcome: "failure"} finds timeouts
 * and errors too. Records without an outcome are not in by_outcome.
 */
export function queryDecisions(records: readonly DecisionRecord[], query: DecisionsQuery): { decisions: DecisionRecord[]; stats: DecisionStats } {
  const filter = decisionFilter(query);
  const matched = records.filter(
    (record) => matchesDecision(filter, record.decision) && matchesOutcome(filter, record.outcome) && (filter.since === undefined || timeOf(record.timestamp) >= filter.since),
  );
  const newestFirst = matched
    .map((record, i) => ({ record, time: timeOf(record.timestamp), i }))
    .sort((a, b) => b.time - a.time || compareIds(b.record.id, a.record.id) || b.i - a.i);
  const dated = newestFirst.filter((entry) => entry.time !== -Infinity);
  const evidence = evidenceOf(matched);
  return {
    decisions: newestFirst.slice(0, query.limit ?? newestFirst.length).map((entry) => entry.record),
    stats: {
      total: matched.length,
      by_decision: mostFrequent(matched.map((record) => record.decision)),
      by_outcome: mostFrequent(matched.flatMap((record) => (record.outcome === null ? [] : [record.outcome]))),
      mean_confidence: evidence.mean_confidence,
      first_seen: dated.at(-1)?.record.timestamp ?? null,
      last_seen: dated[0]?.record.timestamp ?? null,
      successes: evidence.successes,
      failures: evidence.failures,
    },
  };
}

/** A query's filters, ready to match: lower case, since in milliseconds. */
export interface DecisionFilter {
  text?: string;
  outcome?: string;
  kind?: "success" | "failure";
  since?: number;
}

export function decisionFilter(query: DecisionsQuery): DecisionFilter {
  const since = query.since === undefined ? undefined : Date.parse(query.since);
  if (Number.isNaN(since)) throw new DaemonError("invalid_params", `since "${query.since}" is not an ISO-8601 time`, { issues: [{ path: "since", message: "not an ISO-8601 time" }] });
  const outcome = query.outcome?.toLowerCase();
  return {
    ...(query.decision === undefined ? {} : { text: query.decision.toLowerCase() }),
    ...(outcome === undefined ? {} : { outcome }),
    ...(outcome === "success" || outcome === "failure" ? { kind: outcome } : {}),
    ...(since === undefined ? {} : { since }),
  };
}

export function matchesDecision(filter: DecisionFilter, decision: string): boolean {
  return filter.text === undefined || decision.toLowerCase().includes(filter.text);
}

export function matchesOutcome(filter: DecisionFilter, outcome: string | null): boolean {
  return filter.outcome === undefined || outcome?.toLowerCase() === filter.outcome || (filter.kind !== undefined && outcomeClass(outcome) === filter.kind);
}

/** Ids in order; a record without one (KSI's) before any with one. */
export function compareIds(a: string | undefined, b: string | undefined): number {
  const left = a ?? "";
  const right = b ?? "";
  return left < right ? -1 : left > right ? 1 : 0;
}

/** Milliseconds since the epoch; a timestamp that is absent or does not parse counts as the oldest. */
export function timeOf(timestamp: string | null): number {
  if (timestamp === null) return -Infinity;
  const time = Date.parse(timestamp);
  return Number.isNaN(time) ? -Infinity : time;
}

function mostFrequent(values: readonly string[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return topGroups(counts);
}

/**
 * Counts by value, the most frequent first (ties by value), at most
 * MAX_GROUPS: kept by insertion into the best so far, since a log's
 * decisions may be thousands of distinct texts. Built with fromEntries: a
 * decision may be "__proto__".
 */
export function topGroups(counts: Iterable<readonly [string, number]>): Record<string, number> {
  const best: (readonly [string, number])[] = [];
  for (const group of counts) {
    if (best.length === MAX_GROUPS && !ranksBefore(group, best[MAX_GROUPS - 1]!)) continue;
    let low = 0;
    let high = best.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (ranksBefore(best[mid]!, group)) low = mid + 1;
      else high = mid;
    }
    best.splice(low, 0, group);
    if (best.length > MAX_GROUPS) best.pop();
  }
  return Object.fromEntries(best);
}

function ranksBefore(a: readonly [string, number], b: readonly [string, number]): boolean {
  return a[1] > b[1] || (a[1] === b[1] && a[0] < b[0]);
}

export interface Evidence {
  successes: number;
  failures: number;
  total: number;
  mean_confidence: number | null;
  /** The tasks records name (context.task) with their outcomes; absent when none does. */
  tasks?: PastTask[];
}

/** What a pattern's log says about it, for ranking: outcomes by kind and the mean of the confidences given. */
export function evidenceOf(records: readonly DecisionRecord[]): Evidence {
  let successes = 0;
  let failures = 0;
  let confidenceSum = 0;
  let confidences = 0;
  const tasks = new PastTasks();
  for (const record of records) {
    tasks.add(record.context, record.outcome);
    const kind = outcomeClass(record.outcome);
    if (kind === "success") successes++;
    else if (kind === "failure") failures++;
    if (record.confidence !== null) {
      confidenceSum += record.confidence;
      confidences++;
    }
  }
  const evidence: Evidence = { successes, failures, total: records.length, mean_confidence: confidences === 0 ? null : confidenceSum / confidences };
  if (tasks.list().length > 0) evidence.tasks = tasks.list();
  return evidence;
}

const SUCCESS_WORDS = new Set([
  "success", "successful", "successfully", "succeeded", "succeeds", "succeed", "ok", "okay", "good", "great", "pass", "passed", "passes",
  "win", "won", "wins", "done", "complete", "completed", "accepted", "approved", "resolved", "solved", "fixed", "merged", "correct", "positive", "yes",
  // KSI's orchestrators record what went well in these words (improved_discrimination, pattern_validated, breakthrough).
  "improved", "improvement", "validated", "verified", "breakthrough",
]);
const FAILURE_WORDS = new Set([
  "failure", "failures", "fail", "failed", "fails", "error", "errors", "errored", "timeout", "timeouts", "timed", "lost", "lose", "loss",
  "bad", "poor", "rejected", "abandoned", "aborted", "crash", "crashed", "cancelled", "canceled", "killed", "broken", "wrong", "incorrect",
  "invalid", "negative", "unsuccessful", "worse", "regressed",
]);
/** Words that say the result is not (yet) either: "partial success" is not a success. */
const OPEN_WORDS = new Set(["pending", "partial", "partially", "mixed", "unknown", "inconclusive", "undecided", "skipped", "tie", "draw", "running"]);
const NEGATIONS = new Set(["not", "no", "never", "without"]);
/** Every word outcomeClass reads, for did-you-mean. */
const OUTCOME_WORDS = [...SUCCESS_WORDS, ...FAILURE_WORDS, ...OPEN_WORDS, ...NEGATIONS];
/** The usual words of each kind, as warnings name them. */
const VOCABULARY = "success, ok, passed, done, completed (a success); failure, error, timeout, rejected, aborted (a failure); partial, pending, skipped, mixed (neither)";

function outcomeWords(outcome: string): string[] {
  return outcome.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((word) => word !== "");
}

/**
 * A warning for an outcome select cannot read: none of its words says
 * success, failure or neither (outcomeClass), so it counts as no evidence at
 * all, the way a typo ("sucess") would silently. The outcome stays as
 * written (it is free text, and logs in KSI's shape hold any); the warning
 * says so, suggests the words it may have meant, and lists the vocabulary.
 */
export function outcomeWarning(outcome: string | undefined): Issue | undefined {
  if (outcome === undefined || outcomeClass(outcome) !== "other") return undefined;
  if (outcomeWords(outcome).some((word) => OPEN_WORDS.has(word))) return undefined;
  // The outcome with each unread word of four letters or more replaced by the nearest word select reads.
  const meant = outcome
    .split(/([^\p{L}\p{N}]+)/u)
    .map((part, i) => {
      const word = part.toLowerCase();
      if (i % 2 === 1) return part; // a separator
      if (word.length < 4 || OUTCOME_WORDS.includes(word)) return part;
      return suggest(word, OUTCOME_WORDS, 1)[0] ?? part;
    })
    .join("");
  const guess = meant === outcome ? "" : ` Did you mean "${meant}"?`;
  return {
    path: "outcome",
    message: `outcome "${outcome}" has no word select reads, so it counts as neither a success nor a failure (it is kept as written).${guess} Words select reads: ${VOCABULARY}.`,
  };
}

/**
 * The kind of a free-text outcome, by its words (any case, split on
 * anything but letters and digits): a word right after "not", "no",
 * "never" or "without" counts as its opposite ("no errors" is a success,
 * "not good" a failure), and a negation with nothing after it is a
 * failure. Then any failure word makes a failure ("completed with errors");
 * otherwise an open word ("pending", "partial") makes other; otherwise any
 * success word makes a success; anything else, or no outcome, is other.
 */
export function outcomeClass(outcome: string | null | undefined): "success" | "failure" | "other" {
  if (outcome === null || outcome === undefined) return "other";
  const words = outcomeWords(outcome);
  let success = false;
  let failure = false;
  let open = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (NEGATIONS.has(word)) {
      const next = words[i + 1];
      if (next === undefined) failure = true;
      else if (SUCCESS_WORDS.has(next)) failure = true;
      else if (FAILURE_WORDS.has(next)) success = true;
      else continue;
      i++;
    } else if (FAILURE_WORDS.has(word)) failure = true;
    else if (OPEN_WORDS.has(word)) open = true;
    else if (SUCCESS_WORDS.has(word)) success = true;
  }
  if (failure) return "failure";
  if (open) return "other";
  return success ? "success" : "other";
}
