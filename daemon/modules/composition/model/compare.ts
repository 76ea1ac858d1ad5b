/**
 * composition:compare's thinking (issue 17, pure): two variants of a pattern,
 * a and b, each judged by its decision records and the performance its file
 * records; per variant the counts, the success rate with a 95 % interval and
 * the mean confidence; the probability that b's rate is the higher; and what
 * to do: promote b, keep a, or run the trial longer. Deterministic: the same
 * records always give the same answer.
 *
 * How outcomes count: a record whose outcome reads as a success or a failure
 * (outcomeClass, the words select reads) is one of either. Any other record
 * (partial, pending, skipped, no outcome at all) is a run but `undecided`, and
 * is left out of the rate: "partial success" is not a success, counting it as
 * a failure would penalise the arm whose agents report honestly, and half a
 * success is a guess. The rate is over decided runs, and the undecided are
 * shown beside it so nothing hides.
 */
import { z } from "zod";
import { decisionFilter, decisionsQuerySchema, outcomeClass, timeOf, type DecisionRecord } from "./decisions.js";
import type { RecordedPerformance } from "./recorded-performance.js";
import { labelledRefSchema } from "./ref.js";
import { probabilityGreater, wilsonInterval } from "./success-rate.js";

/**
 * No verdict, either way, before each arm has this many decided runs: below
 * it the posterior is still mostly the prior, and a short lucky streak moves
 * p past a threshold (3 of 3 against 0 of 3 already gives p = 0.014).
 */
export const MIN_DECIDED_RUNS = 30;
/** Promote b when P(b's rate > a's) reaches this. */
export const PROMOTE_AT = 0.95;
/** Keep a when P(b's rate > a's) is at most this: b is credibly worse. */
export const KEEP_AT = 0.05;
/** More runs per arm than this is no trial: the rates are too close to tell apart. */
export const MAX_MORE_RUNS = 10_000;
/** The one-sided 95 % normal quantile: p ≥ 0.95 is, to a first approximation, a difference of this many standard errors. */
const Z_ONE_SIDED_95 = 1.6448536269514722;

export const compareParams = z.strictObject({
  a: labelledRefSchema.describe("the variant in place: name@version, name@label (production, say; not a split) or name (its current version)"),
  b: labelledRefSchema.describe("the variant on trial: name@version (a fork's, or another version of a's pattern), name@label or name"),
  since: decisionsQuerySchema.shape.since.describe(
    "count only decision records at or after this ISO-8601 time (a date alone means its midnight UTC); records without a readable timestamp, and the performance a file records (it has no dates), are then left out",
  ),
});

/** A variant's outcome counts. */
export interface Counts {
  successes: number;
  failures: number;
}

export interface CompareArm {
  /** How the reply names the variant: `name@version`. */
  ref: string;
  /** The variant's decision records (recordsOfVariant), before `since`. */
  records: readonly DecisionRecord[];
  /** What the variant's file records about its performance, if anything. */
  performance?: RecordedPerformance | undefined;
}

export interface CompareInput {
  a: CompareArm;
  b: CompareArm;
  since?: string | undefined;
}

/** The records of one version of a pattern: its name and that pattern_version. KSI's records name no version, so they belong to none. */
export function recordsOfVariant(records: readonly DecisionRecord[], variant: { name: string; version: string }): DecisionRecord[] {
  return records.filter((record) => record.pattern === variant.name && record.pattern_version === variant.version);
}

/**
 * The records at or after `since` (an ISO-8601 time; a date alone is its
 * midnight UTC), as composition:decisions reads it. A record with no
 * timestamp, or one that does not parse, cannot be shown to be after it and
 * is left out. Without `since`, every record. An unreadable `since` is
 * invalid_params.
 */
export function recordsSince(records: readonly DecisionRecord[], since: string | undefined): readonly DecisionRecord[] {
  if (since === undefined) return records;
  const from = decisionFilter({ since }).since!;
  const fromText = new Date(from).toISOString();
  return records.filter((record) => (record.timestamp !== null && CANONICAL_TIME.test(record.timestamp) ? record.timestamp >= fromText : timeOf(record.timestamp) >= from));
}

/**
 * The form patternd writes timestamps in (toISOString), in which text order is
 * time order: compared as text, 10 000 records take a tenth of the time
 * Date.parse does. (A day a month lacks, such as 02-30, Date.parse rolls over
 * into the next month; as text it stays in its own, a few days' difference
 * for a date no clock writes.)
 */
const CANONICAL_TIME = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

/**
 * The recorded performance as counts: `runs` runs at its mean rate, rounded
 * to whole runs (the exact p wants whole counts).
 */
export function recordedCounts(performance: RecordedPerformance): Counts & { runs: number } {
  const runs = Math.round(performance.runs);
  const successes = Math.round(performance.value * runs);
  return { runs, successes, failures: runs - successes };
}

export type Recommendation = CompareResult["recommendation"];

/**
 * The decision rule. With at least MIN_DECIDED_RUNS decided runs per arm:
 * promote b when p ≥ PROMOTE_AT, keep a when p ≤ KEEP_AT. Otherwise more
 * runs: below the minimum, the runs the arm with the fewest lacks; past it, the
 * runs after which, if the observed rates held, the difference would reach
 * the threshold it leans to. That estimate is the normal approximation of
 * the posterior: p ≥ 0.95 when the difference d of the rates is 1.645
 * standard errors, so n per arm = 1.645² (v_a + v_b) / d², each rate taken as
 * its posterior mean (s + 1) / (n + 2) so that 0/n and n/n still vary. It is an estimate, not a promise: the rates will
 * move as runs come in, and the rule is applied afresh each time. When it
 * exceeds MAX_MORE_RUNS (equal rates never get there) the answer is the cap,
 * and the reason says the arms cannot be told apart at that size.
 */
export function recommend(a: Counts, b: Counts, pBBetter: number): Recommendation {
  const fewest = Math.min(a.successes + a.failures, b.successes + b.failures);
  const enough = fewest >= MIN_DECIDED_RUNS;
  const p = formatProbability(pBBetter);
  if (enough && pBBetter >= PROMOTE_AT) {
    return { action: "promote_b", text: "promote b", more_runs: null, reason: `b's success rate is the higher with probability ${p} (promote at ${PROMOTE_AT} or more), over at least ${MIN_DECIDED_RUNS} decided runs per arm` };
  }
  if (enough && pBBetter <= KEEP_AT) {
    return { action: "keep_a", text: "keep a", more_runs: null, reason: `b's success rate is the higher with probability only ${p} (keep a at ${KEEP_AT} or less): b is worse` };
  }
  const toMinimum = MIN_DECIDED_RUNS - fewest;
  if (toMinimum > 0) {
    // Below the minimum the observed rates are too rough to estimate from: first the minimum, then the rule again.
    const leaning = pBBetter >= PROMOTE_AT || pBBetter <= KEEP_AT ? `; p(b better) is already ${p}` : "";
    return {
      action: "need_more_runs",
      text: `need ${toMinimum} more runs per arm`,
      more_runs: toMinimum,
      reason: `the arm with the fewest has ${fewest} decided run(s) (a success or a failure); a verdict needs ${MIN_DECIDED_RUNS} per arm${leaning}`,
    };
  }
  const toThreshold = runsToDecide(a, b) - fewest;
  const rates = `${formatRate(posteriorMean(a))} and ${formatRate(posteriorMean(b))}`;
  if (toThreshold > MAX_MORE_RUNS) {
    return {
      action: "need_more_runs",
      text: `need ${MAX_MORE_RUNS}+ more runs per arm`,
      more_runs: MAX_MORE_RUNS,
      reason: `p(b better) is ${p}, and at the observed rates (${rates}) the arms cannot be told apart within ${MAX_MORE_RUNS} more runs per arm; if a difference that small does not matter, keep a`,
    };
  }
  // The approximation may call a p just short of the threshold reached: then one more run, and the rule again.
  const more = Math.max(1, toThreshold);
  const threshold = pBBetter >= 0.5 ? `${PROMOTE_AT} or more` : `${KEEP_AT} or less`;
  return {
    action: "need_more_runs",
    text: `need ${more} more runs per arm`,
    more_runs: more,
    reason: `p(b better) is ${p}, between ${KEEP_AT} and ${PROMOTE_AT}; if the observed rates (${rates}) held, about ${more} more decided runs per arm would take it to ${threshold}`,
  };
}

/** Decided runs per arm at which the observed difference would be 1.645 standard errors; Infinity when the rates are equal. */
function runsToDecide(a: Counts, b: Counts): number {
  const rateA = posteriorMean(a);
  const rateB = posteriorMean(b);
  const difference = rateB - rateA;
  if (difference === 0) return Infinity;
  return Math.ceil((Z_ONE_SIDED_95 ** 2 * (rateA * (1 - rateA) + rateB * (1 - rateB))) / difference ** 2);
}

function posteriorMean(counts: Counts): number {
  return (counts.successes + 1) / (counts.successes + counts.failures + 2);
}

function formatRate(rate: number): string {
  return String(Math.round(rate * 1000) / 1000);
}

/** Three decimals, and never a certainty the counts cannot give: 0.9996 is "> 0.999", not 1. */
function formatProbability(p: number): string {
  if (p > 0.999) return "> 0.999";
  if (p < 0.001) return "< 0.001";
  return p.toFixed(3);
}

const interval = z.object({ low: z.number(), high: z.number() }).describe("95 % Wilson score interval of the success rate; 0..1 when nothing is decided");

const variantResult = z.object({
  ref: z.string(),
  runs: z.number().int().describe("decision records counted (after since), plus the recorded performance's runs when counted"),
  successes: z.number().int(),
  failures: z.number().int(),
  undecided: z.number().int().describe("records whose outcome is neither (partial, pending, skipped, none): runs, but not in the rate"),
  success_rate: z.number().nullable().describe("successes / (successes + failures); null when none is decided"),
  interval,
  mean_confidence: z.number().nullable().describe("mean of the confidences recorded; null when none"),
  recorded: z
    .object({
      runs: z.number().int(),
      successes: z.number().int(),
      failures: z.number().int(),
      source: z.enum(["performance", "metadata.performance"]),
      counted: z.boolean(),
      note: z.string().optional().describe("why it is not counted"),
    })
    .nullable()
    .describe("the performance the variant's file records, as whole runs at its rate; null when it records none"),
});

export const compareResult = z.object({
  a: variantResult,
  b: variantResult,
  since: z.string().nullable(),
  p_b_better: z.number().describe("P(b's success rate > a's) under independent Beta(1 + successes, 1 + failures) posteriors, computed exactly"),
  recommendation: z.object({
    action: z.enum(["promote_b", "keep_a", "need_more_runs"]),
    text: z.string().describe("promote b, keep a, or need N more runs per arm"),
    more_runs: z.number().int().nullable().describe(`need_more_runs: decided runs per arm still wanted (at most ${MAX_MORE_RUNS}); null otherwise`),
    reason: z.string(),
  }),
});

export type CompareResult = z.output<typeof compareResult>;
type VariantResult = CompareResult["a"];

/**
 * The comparison of a and b. `since` drops the records before it (recordsSince)
 * and the recorded performance (it has no dates). Recorded performance is
 * counted, as runs at its rate, unless both files record the same figures:
 * a fork copies its parent's file, so the same section on both sides is one
 * set of runs, evidence for neither against the other.
 */
export function compareVariants(input: CompareInput): CompareResult {
  const same = input.a.performance !== undefined && input.b.performance !== undefined && samePerformance(input.a.performance, input.b.performance);
  const note = input.since !== undefined ? "not counted: it has no dates, and since is given" : same ? "not counted: both files record the same figures (a fork's copy of its parent's), evidence for neither" : undefined;
  const a = variant(input.a, input.since, note);
  const b = variant(input.b, input.since, note);
  const pBBetter = probabilityGreater({ alpha: 1 + a.successes, beta: 1 + a.failures }, { alpha: 1 + b.successes, beta: 1 + b.failures });
  return { a, b, since: input.since ?? null, p_b_better: pBBetter, recommendation: recommend(a, b, pBBetter) };
}

function variant(arm: CompareArm, since: string | undefined, note: string | undefined): VariantResult {
  const logged = tally(recordsSince(arm.records, since));
  const recorded = arm.performance === undefined ? null : { ...recordedCounts(arm.performance), source: arm.performance.source, counted: note === undefined, ...(note === undefined ? {} : { note }) };
  const extra = recorded?.counted === true ? recorded : { runs: 0, successes: 0, failures: 0 };
  const successes = logged.successes + extra.successes;
  const failures = logged.failures + extra.failures;
  const decided = successes + failures;
  return {
    ref: arm.ref,
    runs: logged.runs + extra.runs,
    successes,
    failures,
    undecided: logged.runs - logged.successes - logged.failures,
    success_rate: decided === 0 ? null : successes / decided,
    interval: wilsonInterval(successes, decided),
    mean_confidence: logged.confidences === 0 ? null : logged.confidenceSum / logged.confidences,
    recorded,
  };
}

/**
 * Outcomes by kind and the confidences given, in one pass. A log holds few
 * distinct outcomes ("success", "failure", …) over many records, so each is
 * classified once: at 10 000 records a side, reading the words of every
 * outcome would be most of the request's time.
 */
function tally(records: readonly DecisionRecord[]): Counts & { runs: number; confidenceSum: number; confidences: number } {
  const kinds = new Map<string | null, ReturnType<typeof outcomeClass>>();
  const counts = { runs: records.length, successes: 0, failures: 0, confidenceSum: 0, confidences: 0 };
  for (const record of records) {
    let kind = kinds.get(record.outcome);
    if (kind === undefined) {
      kind = outcomeClass(record.outcome);
      kinds.set(record.outcome, kind);
    }
    if (kind === "success") counts.successes++;
    else if (kind === "failure") counts.failures++;
    if (record.confidence !== null) {
      counts.confidenceSum += record.confidence;
      counts.confidences++;
    }
  }
  return counts;
}

function samePerformance(a: RecordedPerformance, b: RecordedPerformance): boolean {
  return a.runs === b.runs && a.figures === b.figures;
}
