import { describe, expect, it } from "vitest";
import { DaemonError } from "../../../core/errors.js";
import { checkTypeAsked, typeDirectory, typeKey, validateComposition, withTypeKey } from "./schema.js";

const minimal = { name: "demo", type: "orchestration", version: "1.0.0", description: "What it is for" };

describe("validateComposition", () => {
  it("accepts the minimal document", () => {
    expect(validateComposition(minimal)).toEqual({ ok: true, composition: minimal });
  });

  it("accepts every optional core field and keeps unknown sections as they are", () => {
    const full = {
      ...minimal,
      type: "profile",
      author: "someone",
      extends: "base@1.0.0",
      mixins: ["judging_panel", "round_timeouts@1.0.0"],
      components: [{ name: "judge", profile: "judge", extra: { deep: [1] } }],
      variables: { rounds: { type: "integer", default: 3, description: "how many" }, plain: 5, list: [1, 2], map_value: { a: 1 } },
      metadata: { tags: ["a"], capabilities_required: ["x"], use_cases: ["y"], selection_criteria: { participants: { min: 2 } }, custom: true },
      orchestration_logic: { description: "d", strategy: "s", extra: 1 },
      lineage: { parent: "x@1.0.0" },
      performance: { runs: 10, avg_score: 0.7, success_rate: 1, custom: "kept" },
      learnings: [{ insight: "i", confidence: 0, evidence: ["e"], discovered_by: "agent" }],
      forks: [{ name: "f" }],
      merges: [],
      agents: [{ id: "worker" }],
      routing: { rules: [] },
      transformers: { kept: true },
    };
    expect(validateComposition(full)).toEqual({ ok: true, composition: full });
  });

  it.each([
    ["a missing name", { ...minimal, name: undefined }, "name", /name is required/],
    ["a missing type", { ...minimal, type: undefined }, "type", /type is required/],
    ["a missing version", { ...minimal, version: undefined }, "version", /version is required/],
    ["a missing description", { ...minimal, description: undefined }, "description", /description is required/],
    ["an empty description", { ...minimal, description: "" }, "description", /describe/],
    ["a name with a slash", { ...minimal, name: "a/b" }, "name", /1-128 characters/],
    ["a name ..", { ...minimal, name: ".." }, "name", /1-128 characters/],
    ["an upper-case name", { ...minimal, name: "Demo" }, "name", /lower-case/],
    ["a 129-character name", { ...minimal, name: "a".repeat(129) }, "name", /1-128/],
    ["a decision-log name", { ...minimal, name: "demo_decisions" }, "name", /reserved/],
    ["a number as name", { ...minimal, name: 7 }, "name", /string/],
    ["an upper-case type", { ...minimal, type: "Orchestration" }, "type", /one lower-case word/],
    ["a type of two words", { ...minimal, type: "two words" }, "type", /one lower-case word/],
    ["a bad version", { ...minimal, version: "1.0" }, "version", /semantic version/],
    ["a number as version", { ...minimal, version: 1 }, "version", /string/],
    ["a bad extends ref", { ...minimal, extends: "base@1" }, "extends", /not a version/],
    ["a bad mixin", { ...minimal, mixins: ["ok", "Bad"] }, "mixins.1", /lower-case/],
    ["mixins not a list", { ...minimal, mixins: "ok" }, "mixins", /array/],
    ["a component without a name", { ...minimal, components: [{ name: "a" }, { prompt: "x" }] }, "components.1.name", /required/],
    ["a tag that is not a string", { ...minimal, metadata: { tags: ["a", 1] } }, "metadata.tags.1", /string/],
    ["a success rate above 1", { ...minimal, performance: { success_rate: 1.5 } }, "performance.success_rate", /1/],
    ["negative runs", { ...minimal, performance: { runs: -1 } }, "performance.runs", /0/],
    ["a learning without insight", { ...minimal, learnings: [{ confidence: 0.5 }] }, "learnings.0.insight", /required/],
    ["a learning confidence above 1", { ...minimal, learnings: [{ insight: "i", confidence: 2 }] }, "learnings.0.confidence", /1/],
    ["variables as a list", { ...minimal, variables: ["x"] }, "variables", /record|object/],
  ])("reports %s at its path", (_label, doc, path, message) => {
    const result = validateComposition(doc);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const issue = result.issues.find((i) => i.path === path);
    expect(issue, JSON.stringify(result.issues)).toBeDefined();
    expect(issue!.message).toMatch(message);
  });

  it("reports every problem at once", () => {
    const result = validateComposition({ name: "Bad", version: "x" });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => i.path).sort()).toEqual(["description", "name", "type", "version"]);
  });

  it.each([null, [], "text", 3])("refuses %j as a document", (value) => {
    expect(validateComposition(value).ok).toBe(false);
  });
});

describe("validateComposition: KSI's files as they are", () => {
  it.each([
    ["component_type where type is absent", { name: "p", component_type: "persona", version: "1.0.0", description: "d" }, "persona"],
    ["type when both are there", { ...minimal, component_type: "persona" }, "orchestration"],
    ["a null type beside component_type", { ...minimal, type: null, component_type: "agent" }, "agent"],
  ])("takes %s", (_label, doc, type) => {
    const result = validateComposition(doc);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.composition.type).toBe(type);
  });

  it("reports a bad component_type at component_type", () => {
    const result = validateComposition({ name: "p", component_type: "Persona", version: "1.0.0", description: "d" });
    expect(result).toEqual({ ok: false, issues: [{ path: "component_type", message: expect.stringMatching(/one lower-case word/) }] });
  });

  it("reads a null as absent, at any depth", () => {
    const doc = { ...minimal, extends: null, mixins: null, author: null, performance: { success_rate: null, runs: 2 }, learnings: [{ insight: "i", confidence: null }] };
    expect(validateComposition(doc)).toEqual({ ok: true, composition: { ...minimal, performance: { runs: 2 }, learnings: [{ insight: "i" }] } });
  });

  it("takes orchestration_logic as a text block (KSI's DSL)", () => {
    expect(validateComposition({ ...minimal, orchestration_logic: "STATE a\nEVENT b\n" }).ok).toBe(true);
    expect(validateComposition({ ...minimal, orchestration_logic: 3 }).ok).toBe(false);
  });

  it("checks only the common fields of a type it does not know", () => {
    const free = { ...minimal, type: "evaluation", components: ["a"], metadata: ["x"], performance: "good", learnings: "many" };
    expect(validateComposition(free).ok).toBe(true);
    expect(validateComposition({ ...free, components: ["a"], type: "orchestration" }).ok).toBe(false);
    expect(validateComposition({ ...free, extends: "Bad" })).toMatchObject({ ok: false, issues: [{ path: "extends" }] });
  });

  it("requires a description of a new pattern, not of a stored file", () => {
    const without = { name: minimal.name, type: minimal.type, version: minimal.version };
    expect(validateComposition(without)).toMatchObject({ ok: false, issues: [{ path: "description" }] });
    expect(validateComposition(without, "stored")).toEqual({ ok: true, composition: { ...without, description: "" } });
    expect(validateComposition({ ...without, description: null }, "stored").ok).toBe(true);
  });
});

describe("typeKey / withTypeKey: a save keeps the type field the file has, never two", () => {
  it.each([
    [{ type: "a" }, "type"],
    [{ component_type: "a" }, "component_type"],
    [{ type: null, component_type: "a" }, "component_type"],
    [{ type: "a", component_type: "b" }, "type"],
  ])("typeKey(%j) = %s", (data, key) => {
    expect(typeKey(data)).toBe(key);
  });

  it.each([
    ["renames type to the file's component_type, in its place", { name: "x", type: "agent", version: "1" }, "component_type", { name: "x", component_type: "agent", version: "1" }],
    ["renames component_type to the file's type", { component_type: "agent", name: "x" }, "type", { type: "agent", name: "x" }],
    ["drops the second field, keeping the file's value", { type: "agent", component_type: "persona" }, "component_type", { component_type: "persona" }],
    ["leaves a document with only the file's field alone", { type: "agent" }, "type", { type: "agent" }],
  ])("%s", (_label, data, key, expected) => {
    const out = withTypeKey(data, key as "type" | "component_type");
    expect(out).toEqual(expected);
    expect(Object.keys(out)).toEqual(Object.keys(expected));
  });
});

describe("typeDirectory (where a NEW pattern goes)", () => {
  it.each([
    ["orchestration", "orchestrations"],
    ["profile", "profiles"],
    ["prompt", "prompts"],
    ["capability", "capabilities"],
    ["strategy", "strategies"],
    ["key", "keys"],
  ])("%s → %s", (type, dir) => {
    expect(typeDirectory(type)).toBe(dir);
  });
});

describe("checkTypeAsked: a type no pattern has, close to one that patterns have, is a typo", () => {
  const known = new Set(["orchestration", "profile", "capability"]);
  it.each([
    ["orchestrations", ["orchestration"]],
    ["orchestraton", ["orchestration"]],
    ["Profile", ["profile"]],
    ["profiles", ["profile"]],
    ["capabilities", ["capability"]],
  ])("%s → invalid_params, did you mean %j", (type, close) => {
    let error: unknown;
    try {
      checkTypeAsked(type, known);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DaemonError);
    const { code, message, details } = error as DaemonError;
    expect(code).toBe("invalid_params");
    expect(message).toBe(`no pattern has type ${type}; did you mean ${close.join(", ")}? (types in the store: capability, orchestration, profile)`);
    expect(details).toEqual({ issues: [{ path: "type", message }], suggestions: close, types: ["capability", "orchestration", "profile"] });
  });

  it.each([
    ["a type some pattern has", "profile", known],
    ["no type asked", undefined, known],
    ["a type far from every known one (none yet, not a typo)", "prompt", known],
    ["an empty store", "orchestrations", new Set<string>()],
  ])("%s: no error", (_what, type, types) => {
    expect(() => checkTypeAsked(type, types)).not.toThrow();
  });
});
