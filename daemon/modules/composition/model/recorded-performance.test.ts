import { describe, expect, it } from "vitest";
import { describePerformance, recordedPerformance, type RecordedPerformance } from "./recorded-performance.js";

describe("recordedPerformance: what a pattern's file says about how it did", () => {
  it.each<[string, Record<string, unknown>, Partial<RecordedPerformance> | undefined]>([
    ["top-level performance", { performance: { runs: 10, success_rate: 0.8, avg_score: 0.6 } }, { runs: 10, value: 0.7, source: "performance", runsAssumed: false }],
    [
      "KSI's metadata.performance",
      { metadata: { performance: { runs: 5, avg_completion_time: 45.2, success_rate: 0.92, improvement_over_parent: "+15%" } } },
      { runs: 5, value: 0.92, figures: "success_rate 0.92", source: "metadata.performance" },
    ],
    ["the top level first when both give figures", { performance: { runs: 2, avg_score: 0.5 }, metadata: { performance: { runs: 9, success_rate: 1 } } }, { runs: 2, source: "performance" }],
    ["metadata's when the top level has none", { performance: { expected_duration: "5 minutes" }, metadata: { performance: { runs: 9, success_rate: 1 } } }, { runs: 9, source: "metadata.performance" }],
    ["a rate written as a string", { metadata: { performance: { runs: "4", success_rate: "0.75" } } }, { runs: 4, value: 0.75, figures: "success_rate 0.75" }],
    ["a rate without a run count is worth one run", { metadata: { performance: { success_rate: 0.92 } } }, { runs: 1, value: 0.92, runsAssumed: true }],
    ["runs: 0 is no evidence", { performance: { runs: 0, success_rate: 1 } }, undefined],
    ["negative runs are no evidence", { performance: { runs: -3, success_rate: 0.5 } }, undefined],
    ["no rates (KSI's duration notes)", { metadata: { performance: { runs: 3, expected_duration: "10-20 minutes", resource_usage: "2 agents" } } }, undefined],
    ["rates out of 0..1 are not rates", { performance: { runs: 3, success_rate: 7, avg_score: "92%" } }, undefined],
    ["nulls are absent", { metadata: { performance: { runs: null, success_rate: null } } }, undefined],
    ["no section", {}, undefined],
    ["a section that is not a map", { performance: "good", metadata: ["x"] }, undefined],
  ])("%s", (_label, data, expected) => {
    const found = recordedPerformance(data);
    if (expected === undefined) expect(found).toBeUndefined();
    else expect(found).toMatchObject(expected);
  });

  it.each<[Record<string, unknown>, string]>([
    [{ metadata: { performance: { runs: 5, success_rate: 0.92 } } }, "5 run(s) at success_rate 0.92 (metadata.performance)"],
    [{ performance: { runs: 10, success_rate: 0.8, avg_score: 0.6 } }, "10 run(s) at success_rate 0.8, avg_score 0.6 (performance)"],
    [{ metadata: { performance: { success_rate: 0.9 } } }, "no run count, taken as 1 run, at success_rate 0.9 (metadata.performance)"],
  ])("a reason says what was read and where: %j", (data, text) => {
    expect(describePerformance(recordedPerformance(data)!)).toBe(text);
  });
});
