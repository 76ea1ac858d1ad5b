import { describe, expect, it } from "vitest";
import { DaemonError } from "../../../core/errors.js";
import { applyModifications } from "./modifications.js";

type Doc = Record<string, unknown>;

const parent: Doc = {
  name: "tournament",
  version: "2.0.0",
  description: "Round robin",
  orchestration_logic: { description: "pairs compete", strategy: "1. pair\n2. judge\n" },
  metadata: { tags: ["tournament"], rounds: 3, owner: null },
  components: [{ name: "judge", prompt: "Score." }],
};

function failure(modifications: Doc): DaemonError {
  let caught: unknown;
  try {
    applyModifications(parent, modifications);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(DaemonError);
  const err = caught as DaemonError;
  expect(err.code).toBe("invalid_params");
  return err;
}

describe("applyModifications", () => {
  it("sets values at dotted paths, replacing lists whole", () => {
    const result = applyModifications(parent, { "orchestration_logic.strategy": "1. swiss pairs\n", "metadata.tags": ["a", "b"], description: "Swiss" });
    expect(result).toEqual({
      ...parent,
      description: "Swiss",
      orchestration_logic: { description: "pairs compete", strategy: "1. swiss pairs\n" },
      metadata: { tags: ["a", "b"], rounds: 3, owner: null },
    });
  });

  it("creates the maps a path needs, keeping key order and appending new keys", () => {
    const result = applyModifications(parent, { "settings.retries": 0, "metadata.selection.min_agents": 5 });
    expect(result.settings).toEqual({ retries: 0 });
    expect(result.metadata).toEqual({ tags: ["tournament"], rounds: 3, owner: null, selection: { min_agents: 5 } });
    expect(Object.keys(result)).toEqual([...Object.keys(parent), "settings"]);
  });

  it("replaces a scalar, list or map at the end of a path", () => {
    const result = applyModifications(parent, { "metadata.rounds": { min: 1 }, "metadata.tags": "one", orchestration_logic: null });
    expect(result.metadata).toEqual({ tags: "one", rounds: { min: 1 }, owner: null });
    expect(result.orchestration_logic).toBeNull();
  });

  it("applies in the order given: a later path sees what an earlier one set", () => {
    expect(applyModifications(parent, { "x.y": 1, "x.z": 2 }).x).toEqual({ y: 1, z: 2 });
    expect(applyModifications(parent, { "x.y": 1, x: 5 }).x).toBe(5);
  });

  it("returns a new document sharing nothing with its inputs", () => {
    const before = structuredClone(parent);
    const tags = ["a"];
    const result = applyModifications(parent, { "metadata.tags": tags });
    expect(parent).toEqual(before);
    (result.metadata as Doc).rounds = 9;
    (result.components as Doc[])[0]!.prompt = "changed";
    tags.push("b");
    expect(parent).toEqual(before);
    expect((result.metadata as Doc).tags).toEqual(["a"]);
  });

  it("with no modifications gives an equal copy", () => {
    const result = applyModifications(parent, {});
    expect(result).toEqual(parent);
    expect(result).not.toBe(parent);
  });

  it.each([
    ["a string", "description.short", "description", "string"],
    ["a number", "metadata.rounds.max", "metadata.rounds", "number"],
    ["null", "metadata.owner.name", "metadata.owner", "null"],
  ])("refuses to descend through %s, naming the path and the type", (_label, path, at, type) => {
    const err = failure({ [path]: 1 });
    expect(err.message).toContain(`"${path}"`);
    expect(err.message).toContain(`"${at}" is ${type === "null" ? "null" : `a ${type}`}`);
    expect(err.details).toEqual({ path, at, type });
  });

  it("refuses to index a list, saying positions are not supported", () => {
    const err = failure({ "components.0.prompt": "x" });
    expect(err.message).toMatch(/"components" is a list.*cannot be addressed by position/);
    expect(err.details).toEqual({ path: "components.0.prompt", at: "components", type: "list" });
    expect(failure({ "metadata.tags.first": "x" }).details).toMatchObject({ at: "metadata.tags", type: "list" });
  });

  it.each(["name", "version", "lineage", "forks", "merges", "lineage.parent", "version.major"])("refuses %s: the fork sets it itself", (path) => {
    const err = failure({ [path]: "x" });
    expect(err.message).toContain("set by the fork itself");
    expect(err.details).toEqual({ path });
  });

  it.each(["performance", "performance.runs", "performance.avg_score"])("refuses %s: a fork's evidence is its own runs, not figures set at birth", (path) => {
    const err = failure({ [path]: 50 });
    expect(err.code).toBe("invalid_params");
    expect(err.message).toContain("no performance of its own");
    expect(err.message).toContain("lineage.parent_performance");
    expect(err.details).toEqual({ path });
  });

  it("allows those words below the top level", () => {
    const result = applyModifications(parent, { "metadata.name": "n", "metadata.version": "v", "metadata.performance": "p" });
    expect(result.metadata).toMatchObject({ name: "n", version: "v", performance: "p" });
  });

  it.each(["", ".", "a.", ".a", "a..b"])("refuses the path %j with an empty segment", (path) => {
    expect(failure({ [path]: 1 }).message).toContain("none of them empty");
  });

  it.each(["__proto__", "a.__proto__.b", "constructor", "metadata.constructor.prototype", "x.prototype"])("refuses %s", (path) => {
    expect(failure({ [path]: { polluted: true } }).message).toContain("cannot be a key");
    expect(({} as Doc).polluted).toBeUndefined();
  });
});
