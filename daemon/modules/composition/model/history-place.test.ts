import { describe, expect, it } from "vitest";
import { forkNames, historyPlace, lineageParent, mergeRecords, ownValue, placeOf, recordedHistory, withOwnValue, withoutOwnValues, type OwnKey, type Place } from "./history-place.js";

type Doc = Record<string, unknown>;

const patternd: Doc = { name: "t", lineage: { parent: "base@1.0.0" }, forks: [{ name: "t_swiss" }], performance: { runs: 3, avg_score: 0.7 }, metadata: { tags: ["x"] } };
const ksi: Doc = {
  name: "k",
  metadata: {
    tags: ["y"],
    lineage: { parent: "k_base@2.0.0", fork_reason: "why" },
    forks: [{ name: "k_fast", date: "2025-07-13", reason: "speed", author: "unknown" }],
    merges: [{ from: "k_fast", date: "2025-07-14" }],
    performance: { runs: 5, success_rate: 0.92 },
  },
};
const plain: Doc = { name: "p", metadata: { tags: [] } };
const ksiForksOnly: Doc = { name: "f", metadata: { forks: ["a@1.0.0"] } };

describe("history-place: where a pattern keeps its history", () => {
  it.each<[string, Doc, OwnKey, Place]>([
    ["patternd's lineage", patternd, "lineage", "top"],
    ["KSI's lineage", ksi, "lineage", "metadata"],
    ["KSI's merges", ksi, "merges", "metadata"],
    ["a new merges list in a KSI file goes beside its forks", ksiForksOnly, "merges", "metadata"],
    ["a new forks list in a patternd file goes to the top", patternd, "merges", "top"],
    ["a file with no history: the top level", plain, "forks", "top"],
    ["performance where it is", ksi, "performance", "metadata"],
  ])("placeOf: %s", (_label, data, key, place) => {
    expect(placeOf(data, key)).toBe(place);
  });

  it("historyPlace: the top level wins when a file has history in both places", () => {
    expect(historyPlace({ forks: [], metadata: { lineage: {} } })).toBe("top");
    expect(historyPlace(ksi)).toBe("metadata");
    expect(historyPlace(plain)).toBe("top");
  });

  it("reads values from either place, the top level first", () => {
    expect(lineageParent(patternd)).toBe("base@1.0.0");
    expect(lineageParent(ksi)).toBe("k_base@2.0.0");
    expect(lineageParent(plain)).toBeUndefined();
    expect(lineageParent({ lineage: { parent: "" } })).toBeUndefined();
    expect(ownValue({ performance: 1, metadata: { performance: 2 } }, "performance")).toBe(1);
    expect(mergeRecords(ksi)).toEqual([{ from: "k_fast", date: "2025-07-14" }]);
  });

  it("forkNames: maps with a name, names and refs, from both lists, once each", () => {
    const both = { forks: [{ name: "a" }, "b@1.0.0"], metadata: { forks: [{ name: "a" }, { name: "c", date: "x" }, 7] } };
    expect(forkNames(both, (ref) => ref.split("@")[0]!)).toEqual(["a", "b", "c"]);
    expect(forkNames(ksi, (ref) => ref)).toEqual(["k_fast"]);
    expect(forkNames(plain, (ref) => ref)).toEqual([]);
  });

  it("withOwnValue writes where the file keeps the field, and never edits its input", () => {
    const copy = structuredClone(ksi);
    const added = withOwnValue(ksi, "forks", ["z"]);
    expect((added.metadata as Doc).forks).toEqual(["z"]);
    expect(Object.hasOwn(added, "forks")).toBe(false);
    expect(ksi).toEqual(copy);
    expect(withOwnValue(plain, "lineage", { parent: "q" })).toEqual({ ...plain, lineage: { parent: "q" } });
    expect(withOwnValue(plain, "lineage", { parent: "q" }, "metadata")).toEqual({ name: "p", metadata: { tags: [], lineage: { parent: "q" } } });
  });

  it("withoutOwnValues removes from both places and keeps the rest of metadata", () => {
    expect(withoutOwnValues(ksi, ["lineage", "forks", "merges", "performance"])).toEqual({ name: "k", metadata: { tags: ["y"] } });
    expect(withoutOwnValues(patternd, ["lineage", "forks"])).toEqual({ name: "t", performance: patternd.performance, metadata: { tags: ["x"] } });
  });

  it("recordedHistory: what the file records, wherever, and nothing when it records none", () => {
    expect(recordedHistory(ksi)).toEqual({
      lineage: { parent: "k_base@2.0.0", fork_reason: "why" },
      forks: [{ name: "k_fast", date: "2025-07-13", reason: "speed", author: "unknown" }],
      merges: [{ from: "k_fast", date: "2025-07-14" }],
    });
    expect(recordedHistory(plain)).toEqual({});
  });
});
