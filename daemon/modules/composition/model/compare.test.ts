import { describe, expect, it } from "vitest";
import { seededRandom } from "../../../../bench/random.js";
import { DaemonError } from "../../../core/errors.js";
import { compareParams, compareResult, compareVariants, MAX_MORE_RUNS, MIN_DECIDED_RUNS, recommend, recordedCounts, recordsOfVariant, recordsSince, type CompareArm, type Counts } from "./compare.js";
import type { DecisionRecord } from "./decisions.js";
import { recordedPerformance } from "./recorded-performance.js";

const START = Date.parse("2026-11-01T00:00:00Z");

function record(outcome: string | null, fields: Partial<DecisionRecord> = {}): DecisionRecord {
  return { pattern: "p", pattern_version: "1.0.0", decision: "chose", context: null, outcome, confidence: null, agent_id: null, timestamp: "2026-11-01T00:00:00.000Z", ...fields };
}

/** `runs` records of one arm, each a success with probability `rate`, a minute apart. */
function trial(random: () => number, rate: number, runs: number, version = "1.0.0"): DecisionRecord[] {
  return Array.from({ length: runs }, (_, i) =>
    record(random() < rate ? "success" : "failure", { pattern_version: version, confidence: 0.5 + random() / 2, timestamp: new Date(START + i * 60_000).toISOString() }),
  );
}

function arm(ref: string, records: DecisionRecord[], performance?: Record<string, unknown>): CompareArm {
  return { ref, records, performance: performance === undefined ? undefined : recordedPerformance({ performance }) };
}

describe("compareVariants on synthetic trials of 300 against 300", () => {
  it("rates 0.60 against 0.70: the intervals cover the truth, p is high, and b is promoted", () => {
    const random = seededRandom(2026);
    const result = compareVariants({ a: arm("p@1.0.0", trial(random, 0.6, 300)), b: arm("p@1.1.0", trial(random, 0.7, 300, "1.1.0")) });
    expect(compareResult.parse(result)).toEqual(result);
    expect(result.a).toMatchObject({ ref: "p@1.0.0", runs: 300, undecided: 0, recorded: null });
    expect(result.a.successes + result.a.failures).toBe(300);
    expect(result.a.interval.low).toBeLessThanOrEqual(0.6);
    expect(result.a.interval.high).toBeGreaterThanOrEqual(0.6);
    expect(result.b.interval.low).toBeLessThanOrEqual(0.7);
    expect(result.b.interval.high).toBeGreaterThanOrEqual(0.7);
    expect(result.a.mean_confidence).toBeCloseTo(0.75, 1);
    expect(result.p_b_better).toBeGreaterThan(0.95);
    expect(result.recommendation).toMatchObject({ action: "promote_b", text: "promote b", more_runs: null });
  });

  it("over 1000 seeded repetitions the intervals cover the truth about 95 % of the time, and b is promoted in most and never kept", () => {
    const random = seededRandom(17);
    const tally = { coveredA: 0, coveredB: 0, promote_b: 0, keep_a: 0, need_more_runs: 0 };
    for (let rep = 0; rep < 1000; rep++) {
      const result = compareVariants({ a: arm("p@1.0.0", trial(random, 0.6, 300)), b: arm("p@1.1.0", trial(random, 0.7, 300)) });
      if (result.a.interval.low <= 0.6 && 0.6 <= result.a.interval.high) tally.coveredA++;
      if (result.b.interval.low <= 0.7 && 0.7 <= result.b.interval.high) tally.coveredB++;
      tally[result.recommendation.action]++;
    }
    for (const covered of [tally.coveredA, tally.coveredB]) {
      expect(covered / 1000).toBeGreaterThanOrEqual(0.93);
      expect(covered / 1000).toBeLessThanOrEqual(0.97);
    }
    // A difference of 0.10 at 300 a side is about 2.6 standard errors: p ≥ 0.95 in about 85 % of trials.
    expect(tally.promote_b).toBeGreaterThan(750);
    expect(tally.keep_a).toBe(0);
  });

  it("equal rates are not promoted: at 300 a side the answer is more runs", () => {
    const random = seededRandom(7);
    const result = compareVariants({ a: arm("p@1.0.0", trial(random, 0.65, 300)), b: arm("p@1.1.0", trial(random, 0.65, 300)) });
    expect(result.p_b_better).toBeGreaterThan(0.05);
    expect(result.p_b_better).toBeLessThan(0.95);
    expect(result.recommendation.action).toBe("need_more_runs");
    expect(result.recommendation.more_runs).toBeGreaterThan(100);
  });

  it("equal rates over 1000 seeded repetitions: b is promoted about as often as the 5 % the threshold allows", () => {
    const random = seededRandom(99);
    let promoted = 0;
    for (let rep = 0; rep < 1000; rep++) {
      if (compareVariants({ a: arm("a", trial(random, 0.65, 300)), b: arm("b", trial(random, 0.65, 300)) }).recommendation.action === "promote_b") promoted++;
    }
    expect(promoted / 1000).toBeLessThanOrEqual(0.07);
  });

  it("tiny samples need more runs, even when b looks better", () => {
    const result = compareVariants({ a: arm("a", [record("success"), record("failure"), record("failure")]), b: arm("b", [record("success"), record("success"), record("ok")]) });
    expect(result.p_b_better).toBeGreaterThan(0.9);
    expect(result.recommendation).toMatchObject({ action: "need_more_runs", more_runs: MIN_DECIDED_RUNS - 3, text: `need ${MIN_DECIDED_RUNS - 3} more runs per arm` });
    expect(result.recommendation.reason).toContain("3 decided run(s)");
  });
});

describe("compareVariants at the edges", () => {
  it("zero runs on one side: a rate of null over 0..1, and more runs", () => {
    const result = compareVariants({ a: arm("a", []), b: arm("b", Array.from({ length: 50 }, () => record("success"))) });
    expect(result.a).toMatchObject({ runs: 0, successes: 0, failures: 0, success_rate: null, interval: { low: 0, high: 1 }, mean_confidence: null });
    expect(Number.isFinite(result.p_b_better)).toBe(true);
    expect(result.recommendation).toMatchObject({ action: "need_more_runs", more_runs: MIN_DECIDED_RUNS });
  });

  it("zero runs on both sides: p is one half", () => {
    const result = compareVariants({ a: arm("a", []), b: arm("b", []) });
    expect(result.p_b_better).toBeCloseTo(0.5, 12);
    expect(result.recommendation.more_runs).toBe(MIN_DECIDED_RUNS);
  });

  it("all successes on both sides: no difference to find, so the most runs it will ask for", () => {
    const all = Array.from({ length: 40 }, () => record("success"));
    const result = compareVariants({ a: arm("a", all), b: arm("b", all) });
    expect(result.a.interval.high).toBe(1);
    expect(result.a.success_rate).toBe(1);
    expect(result.p_b_better).toBeCloseTo(0.5, 12);
    expect(result.recommendation).toMatchObject({ action: "need_more_runs", more_runs: MAX_MORE_RUNS, text: `need ${MAX_MORE_RUNS}+ more runs per arm` });
    expect(result.recommendation.reason).toContain("keep a");
  });

  it("10 000 runs a side: finite, and well under the daemon's 10 ms of synchronous work", () => {
    const random = seededRandom(10_000);
    const input = { a: arm("a", trial(random, 0.6, 10_000)), b: arm("b", trial(random, 0.61, 10_000)), since: "2026-11-01" };
    const result = compareVariants(input);
    // Warm, as the daemon is after its first compare. The fastest of seven: what the work costs, since a busy machine only ever adds (typically 1-3 ms).
    const times = Array.from({ length: 7 }, () => {
      const start = performance.now();
      compareVariants(input);
      return performance.now() - start;
    }).sort((x, y) => x - y);
    expect(compareResult.parse(result)).toEqual(result);
    expect(result.a.runs + result.b.runs).toBe(20_000);
    expect(Number.isFinite(result.p_b_better)).toBe(true);
    expect(result.p_b_better).toBeGreaterThan(0.5);
    expect(times[0]).toBeLessThan(10);
  });

  it("is deterministic", () => {
    const input = { a: arm("a", trial(seededRandom(1), 0.5, 100)), b: arm("b", trial(seededRandom(2), 0.55, 100)) };
    expect(compareVariants(input)).toEqual(compareVariants(input));
  });
});

describe("how outcomes count", () => {
  it("successes and failures by their words; partial, pending, unknown and none are runs but undecided", () => {
    const outcomes = ["success", "ok", "completed with errors", "timeout", "partial success", "pending", "unknown", null, "no errors"];
    const result = compareVariants({ a: arm("a", outcomes.map((outcome) => record(outcome))), b: arm("b", []) });
    expect(result.a).toMatchObject({ runs: 9, successes: 3, failures: 2, undecided: 4, success_rate: 3 / 5 });
  });

  it("mean confidence is over the records that give one", () => {
    const result = compareVariants({ a: arm("a", [record("success", { confidence: 0.9 }), record("failure", { confidence: 0.5 }), record("success")]), b: arm("b", []) });
    expect(result.a.mean_confidence).toBeCloseTo(0.7, 12);
  });

  it.each<[string, Record<string, unknown> | undefined, Record<string, unknown> | undefined, string | undefined, { aRuns: number; counted: boolean | undefined; note?: string }]>([
    ["a file's recorded runs count at its rate", { runs: 10, success_rate: 0.8 }, undefined, undefined, { aRuns: 11, counted: true }],
    ["not with since: it has no dates", { runs: 10, success_rate: 0.8 }, undefined, "2026-01-01", { aRuns: 1, counted: false, note: "since" }],
    ["not when both files record the same figures (a fork's copy)", { runs: 10, success_rate: 0.8 }, { runs: 10, success_rate: 0.8 }, undefined, { aRuns: 1, counted: false, note: "same figures" }],
    ["different figures on each side both count", { runs: 10, success_rate: 0.8 }, { runs: 12, success_rate: 0.8 }, undefined, { aRuns: 11, counted: true }],
    ["no recorded performance", undefined, undefined, undefined, { aRuns: 1, counted: undefined }],
  ])("%s", (_label, performanceA, performanceB, since, expected) => {
    const result = compareVariants({ a: arm("a", [record("success")], performanceA), b: arm("b", [], performanceB), since });
    expect(result.a.runs).toBe(expected.aRuns);
    expect(result.a.recorded?.counted).toBe(expected.counted);
    if (expected.note !== undefined) expect(result.a.recorded?.note).toContain(expected.note);
    if (expected.counted === true) expect(result.a).toMatchObject({ successes: 9, failures: 2 });
  });

  it.each<[Record<string, unknown>, { runs: number; successes: number; failures: number }]>([
    [{ runs: 10, success_rate: 0.8 }, { runs: 10, successes: 8, failures: 2 }],
    [{ runs: 3, success_rate: 0.5 }, { runs: 3, successes: 2, failures: 1 }],
    [{ runs: 7.4, success_rate: 1 }, { runs: 7, successes: 7, failures: 0 }],
    [{ success_rate: 0.9 }, { runs: 1, successes: 1, failures: 0 }],
  ])("recorded performance %j is %j in whole runs", (performance, counts) => {
    expect(recordedCounts(recordedPerformance({ performance })!)).toEqual(counts);
  });
});

describe("recordsSince and recordsOfVariant", () => {
  const records = [
    record("success", { id: "old", timestamp: "2026-10-31T23:59:59.999Z" }),
    record("success", { id: "midnight", timestamp: "2026-11-01T00:00:00.000Z" }),
    record("success", { id: "later", timestamp: "2026-11-02T10:00:00+02:00" }),
    record("success", { id: "undated", timestamp: null }),
    record("success", { id: "unreadable", timestamp: "last tuesday" }),
  ];
  it.each<[string | undefined, string[]]>([
    [undefined, ["old", "midnight", "later", "undated", "unreadable"]],
    ["2026-11-01", ["midnight", "later"]],
    ["2026-11-01T00:00:00Z", ["midnight", "later"]],
    ["2026-11-01T00:00:00.001Z", ["later"]],
    ["2026-11-02T09:00:00+01:00", ["later"]],
    ["2026-11-02T09:00:01+01:00", []],
  ])("since %s keeps %j", (since, ids) => {
    expect(recordsSince(records, since).map((kept) => kept.id)).toEqual(ids);
  });

  it("an unreadable since is invalid_params that shows the form", () => {
    const error = (() => {
      try {
        recordsSince(records, "2026-13-45");
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(DaemonError);
    expect(error).toMatchObject({ code: "invalid_params", details: { issues: [{ path: "since" }] } });
  });

  it("the params schema refuses an unreadable since before it gets that far", () => {
    const parsed = compareParams.safeParse({ a: "p@1.0.0", b: "p@1.1.0", since: "yesterday" });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toContain("like 2026-11-21");
  });

  it("a variant's records are its pattern's at its version; KSI's, with no version, belong to none", () => {
    const log = [record("success", { id: "v1" }), record("success", { id: "v2", pattern_version: "1.1.0" }), record("success", { id: "other", pattern: "q" }), { ...record("success", { id: "ksi" }), pattern_version: undefined }];
    expect(recordsOfVariant(log, { name: "p", version: "1.0.0" }).map((kept) => kept.id)).toEqual(["v1"]);
    expect(recordsOfVariant(log, { name: "p", version: "1.1.0" }).map((kept) => kept.id)).toEqual(["v2"]);
  });
});

describe("recommend: the decision rule", () => {
  const counts = (successes: number, failures: number): Counts => ({ successes, failures });
  it.each<[string, Counts, Counts, number, string, number | null]>([
    ["p ≥ 0.95 with enough runs: promote", counts(18, 12), counts(25, 5), 0.96, "promote b", null],
    ["p exactly 0.95 promotes", counts(18, 12), counts(25, 5), 0.95, "promote b", null],
    ["p ≤ 0.05 with enough runs: keep a", counts(25, 5), counts(18, 12), 0.04, "keep a", null],
    ["p ≥ 0.95 but an arm short of the minimum: the runs it lacks", counts(0, 10), counts(10, 0), 0.9999, `need ${MIN_DECIDED_RUNS - 10} more runs per arm`, MIN_DECIDED_RUNS - 10],
    ["p ≤ 0.05 but short: no verdict either", counts(10, 0), counts(0, 10), 0.0001, `need ${MIN_DECIDED_RUNS - 10} more runs per arm`, MIN_DECIDED_RUNS - 10],
    // Rates 181/302 and 187/302 (0.5993, 0.6192): 1.645² (0.2401 + 0.2358) / 0.01987² = 3262.1, so 3263 per arm, less the 300 there are.
    ["in between: the runs that would reach the threshold at the observed rates", counts(180, 120), counts(186, 114), 0.69, "need 2963 more runs per arm", 2963],
    ["b leaning worse: the runs that would reach keep", counts(186, 114), counts(180, 120), 0.31, "need 2963 more runs per arm", 2963],
    ["the approximation already past the threshold: one more", counts(150, 150), counts(175, 125), 0.94, "need 1 more runs per arm", 1],
    ["equal rates: the cap", counts(150, 150), counts(150, 150), 0.5, `need ${MAX_MORE_RUNS}+ more runs per arm`, MAX_MORE_RUNS],
  ])("%s", (_label, a, b, p, text, more) => {
    const recommendation = recommend(a, b, p);
    expect(recommendation.text).toBe(text);
    expect(recommendation.more_runs).toBe(more);
    expect(recommendation.reason).not.toBe("");
  });
});
