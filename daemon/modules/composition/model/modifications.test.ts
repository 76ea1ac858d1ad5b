import { describe, expect, it } from "vitest";
import { DaemonError } from "../../../core/errors.js";
import { applyModifications, newPaths, removePaths, UPDATE_RULES } from "./modifications.js";

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

describe("a map given for a map (issue 12)", () => {
  const withVariables: Doc = { ...parent, variables: { rounds: { type: "number", default: 3 }, judges: { default: 2 } } };

  it("is merged key by key: the other variables and the definition's other keys stay", () => {
    const result = applyModifications(withVariables, { variables: { rounds: { default: 4 } } });
    expect(result.variables).toEqual({ rounds: { type: "number", default: 4 }, judges: { default: 2 } });
  });

  it("is replaced whole only when replaceMaps is asked for", () => {
    const result = applyModifications(withVariables, { variables: { rounds: { default: 4 } } }, { ...UPDATE_RULES, replaceMaps: true });
    expect(result.variables).toEqual({ rounds: { default: 4 } });
  });

  it("replaces a scalar or list with a map, and a map with a scalar, as given", () => {
    expect(applyModifications(parent, { "metadata.tags": { a: 1 } }).metadata).toMatchObject({ tags: { a: 1 } });
    expect(applyModifications(withVariables, { variables: "none" }).variables).toBe("none");
  });

  it("refuses a prototype key inside a merged map", () => {
    expect(() => applyModifications(withVariables, { variables: JSON.parse('{"__proto__": {"x": 1}}') as Doc })).toThrow(/cannot be a key/);
  });
});

describe("update rules", () => {
  it("let version be set, but not name, lineage, forks or merges", () => {
    expect(applyModifications(parent, { version: "3.0.0" }, UPDATE_RULES).version).toBe("3.0.0");
    for (const path of ["name", "lineage.parent", "forks", "merges"]) {
      expect(() => applyModifications(parent, { [path]: "x" }, UPDATE_RULES)).toThrow(/set ".*": ".*" is not changed by an update/);
    }
  });
});

describe("removePaths", () => {
  it("removes values at dotted paths, leaving the rest", () => {
    const result = removePaths(parent, ["metadata.owner", "components"]);
    expect(result.metadata).toEqual({ tags: ["tournament"], rounds: 3 });
    expect(Object.hasOwn(result, "components")).toBe(false);
    expect(parent.components).toBeDefined();
  });

  it.each(["metadata.nothing", "nothing.at.all", "metadata.tags.x"])("refuses %s, where there is nothing to remove (or a list in the way)", (path) => {
    expect(() => removePaths(parent, [path])).toThrow(DaemonError);
  });

  it("refuses a reserved root", () => {
    expect(() => removePaths(parent, ["name"])).toThrow(/unset "name"/);
  });
});

describe("newPaths", () => {
  it("lists the paths that hold nothing yet", () => {
    expect(newPaths(parent, { description: "x", "metadata.rounds": 4, "metadata.selection.min": 1, performance: {}, "description.x": 1 })).toEqual([
      "metadata.selection.min",
      "performance",
      "description.x",
    ]);
  });
});

