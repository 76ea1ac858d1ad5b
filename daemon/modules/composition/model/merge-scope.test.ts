import { describe, expect, it } from "vitest";
import { mergeSides, TARGET_OWN_KEYS, withTargetOwn } from "./merge-scope.js";

type Doc = Record<string, unknown>;

const base: Doc = {
  name: "tournament",
  version: "1.0.0",
  description: "Round robin",
  performance: { runs: 50, avg_score: 0.9 },
  learnings: [{ insight: "3 judges beat 1" }],
  forks: [{ name: "tournament_swiss" }],
};
const fork = (changes: Doc): Doc => ({
  ...base,
  name: "tournament_swiss",
  version: "0.1.0",
  lineage: { parent: "tournament@1.0.0", parent_performance: base.performance },
  forks: undefined,
  ...changes,
});

describe("mergeSides", () => {
  it("drops the target's own fields from every side: identity, history and performance", () => {
    const sides = mergeSides({ base, ours: { ...base, merges: [{ from: "x@1" }] }, theirs: fork({ performance: { runs: 2, avg_score: 0.1 } }) }, undefined);
    for (const side of [sides.base, sides.ours, sides.theirs]) for (const key of TARGET_OWN_KEYS) expect(Object.hasOwn(side, key)).toBe(false);
    expect(sides.theirs.learnings).toEqual(base.learnings);
  });

  it.each<[string, Doc, Doc | undefined, unknown]>([
    ["a description the fork was born with is not a change", { description: "Swiss pairing" }, { description: "Swiss pairing" }, "Round robin"],
    ["a description the fork changed later is", { description: "Swiss pairing, 5-10 players" }, { description: "Swiss pairing" }, "Swiss pairing, 5-10 players"],
    ["a fork that kept the parent's description brings nothing", { description: "Round robin" }, { description: "Round robin" }, "Round robin"],
    ["without the first version, the description merges like any field", { description: "Swiss pairing" }, undefined, "Swiss pairing"],
  ])("%s", (_label, changes, atFork, theirs) => {
    const sides = mergeSides({ base, ours: base, theirs: fork(changes) }, atFork === undefined ? undefined : fork(atFork));
    expect(sides.theirs.description).toBe(theirs);
    expect(sides.base.description).toBe("Round robin");
  });

  it("does not change its inputs", () => {
    const theirs = fork({ description: "Swiss pairing" });
    const copy = structuredClone(theirs);
    mergeSides({ base, ours: base, theirs }, theirs);
    expect(theirs).toEqual(copy);
  });
});

describe("KSI's history under metadata", () => {
  const ksiBase: Doc = {
    name: "relay",
    version: "1.0.0",
    description: "Relay race",
    metadata: { tags: ["relay"], forks: [{ name: "relay_fast", date: "2025-06-01", reason: "faster", author: "unknown" }], performance: { runs: 5, success_rate: 0.9 } },
  };
  const ksiFork: Doc = {
    name: "relay_fast",
    version: "0.1.0",
    description: "Relay race",
    legs: 5,
    metadata: { tags: ["relay", "fast"], lineage: { parent: "relay@1.0.0", fork_reason: "faster" }, performance: { runs: 1, success_rate: 0.1 } },
  };

  it("mergeSides drops metadata.lineage, forks, merges and performance too, and keeps the rest of metadata", () => {
    const sides = mergeSides({ base: ksiBase, ours: ksiBase, theirs: ksiFork }, undefined);
    expect(sides.base.metadata).toEqual({ tags: ["relay"] });
    expect(sides.theirs.metadata).toEqual({ tags: ["relay", "fast"] });
    expect(sides.theirs.legs).toBe(5);
  });

  it("a fork that extends its parent does not make the parent extend itself", () => {
    const extending = { ...ksiFork, extends: "relay" };
    expect(Object.hasOwn(mergeSides({ base: ksiBase, ours: ksiBase, theirs: extending }, undefined).theirs, "extends")).toBe(false);
    expect(mergeSides({ base: ksiBase, ours: ksiBase, theirs: { ...extending, extends: "relay@1.0.0" } }, undefined).theirs.extends).toBeUndefined();
    const withBase = { ...ksiBase, extends: "grand" };
    expect(mergeSides({ base: withBase, ours: withBase, theirs: extending }, undefined).theirs.extends).toBe("grand");
    expect(mergeSides({ base: ksiBase, ours: ksiBase, theirs: { ...ksiFork, extends: "other" } }, undefined).theirs.extends).toBe("other");
  });

  it("withTargetOwn puts the target's own fields back where the target keeps them", () => {
    const merged = { name: "relay_fast", version: "0.1.0", description: "Relay race", legs: 5, metadata: { tags: ["relay", "fast"] } };
    expect(withTargetOwn(merged, ksiBase)).toEqual({
      name: "relay",
      version: "1.0.0",
      description: "Relay race",
      legs: 5,
      metadata: { tags: ["relay", "fast"], forks: ksiBase.metadata && (ksiBase.metadata as Doc).forks, performance: { runs: 5, success_rate: 0.9 } },
    });
    expect(withTargetOwn({ name: "x", a: 1 }, base)).toEqual({ name: "tournament", version: "1.0.0", a: 1, performance: base.performance, forks: base.forks });
  });
});

