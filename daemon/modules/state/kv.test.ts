import { describe, expect, it } from "vitest";
import { keyProblem, underPrefix } from "./kv.js";

describe("keyProblem", () => {
  it.each<[string, RegExp | null]>([
    ["run_42.status", null],
    ["a", null],
    ["A-b_c:d.0.e", null],
    ["orchestration:run_1.steps.3", null],
    ["", /dot-separated segments/],
    [".a", /dot-separated segments/],
    ["a.", /dot-separated segments/],
    ["a..b", /dot-separated segments/],
    ["a b", /dot-separated segments/],
    ["a/b", /dot-separated segments/],
    ["ä", /dot-separated segments/],
    ["a.b\n", /dot-separated segments/],
    ["__proto__", /__proto__, prototype and constructor/],
    ["run.__proto__.x", /__proto__, prototype and constructor/],
    ["constructor", /__proto__, prototype and constructor/],
    ["a.prototype", /__proto__, prototype and constructor/],
    ["my_constructor.prototypes", null],
  ])("%j → %s", (key, expected) => {
    const problem = keyProblem(key);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });
});

describe("underPrefix", () => {
  const entries = new Map<string, unknown>([
    ["run_10.status", "x"],
    ["run_1.status", "done"],
    ["run_1", "top"],
    ["run_1.steps.2", 7],
    ["run_1x", "no"],
    ["run", "no"],
    ["other", 0],
  ]);

  it.each<[string | undefined, string[]]>([
    ["run_1", ["run_1", "run_1.status", "run_1.steps.2"]],
    ["run_1.", ["run_1.status", "run_1.steps.2"]],
    ["run_1.steps", ["run_1.steps.2"]],
    ["run_10", ["run_10.status"]],
    ["run", ["run"]],
    ["ru", []],
    ["nothing", []],
    [undefined, ["other", "run", "run_1", "run_1.status", "run_1.steps.2", "run_10.status", "run_1x"]],
    ["", ["other", "run", "run_1", "run_1.status", "run_1.steps.2", "run_10.status", "run_1x"]],
  ])("prefix %j → %j, sorted by key", (prefix, keys) => {
    const matches = underPrefix(entries, prefix);
    expect(matches.map((m) => m.key)).toEqual(keys);
    for (const match of matches) expect(match.value).toBe(entries.get(match.key));
  });
});
