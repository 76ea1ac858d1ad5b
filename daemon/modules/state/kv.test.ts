import { describe, expect, it } from "vitest";
import { keyProblem, nest, underPrefix } from "./kv.js";

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

describe("nest", () => {
  it.each<[string, [string, unknown][], Record<string, unknown>]>([
    ["empty", [], {}],
    ["a flat key", [["a", 1]], { a: 1 }],
    ["dots nest", [["run_1.status", "done"], ["run_1.attempts", 2], ["run_2.status", "running"]], { run_1: { status: "done", attempts: 2 }, run_2: { status: "running" } }],
    ["deep dots", [["a.b.c.d", true]], { a: { b: { c: { d: true } } } }],
    ["a longer key wins over a scalar", [["run.status", "done"], ["run.status.code", 0]], { run: { status: { code: 0 } } }],
    ["a longer key wins whatever the insertion order", [["run.status.code", 0], ["run.status", "done"]], { run: { status: { code: 0 } } }],
    ["a longer key wins over an array", [["a", [1, 2]], ["a.0", "x"]], { a: { "0": "x" } }],
    ["a longer key wins over null", [["a", null], ["a.b", 1]], { a: { b: 1 } }],
    ["a longer key merges into an object value", [["a", { x: 1, b: { y: 2 } }], ["a.b.z", 3]], { a: { x: 1, b: { y: 2, z: 3 } } }],
    ["a longer key replaces a field of an object value", [["a", { b: "old" }], ["a.b", "new"]], { a: { b: "new" } }],
    ["JSON values of every kind", [["s", "x"], ["n", 1.5], ["t", true], ["z", null], ["l", [1, { m: 2 }]], ["o", {}]], { s: "x", n: 1.5, t: true, z: null, l: [1, { m: 2 }], o: {} }],
    ["sibling keys that sort around a dot", [["a-b", 1], ["a.b", 2], ["a_b", 3]], { "a-b": 1, a: { b: 2 }, a_b: 3 }],
  ])("%s", (_label, entries, expected) => {
    expect(nest(new Map(entries))).toEqual(expected);
  });

  it("never mutates the stored values, also across repeated calls", () => {
    const inner = { y: 2 };
    const object = { x: 1, b: inner };
    const list = [1, 2];
    const entries = new Map<string, unknown>([
      ["a", object],
      ["a.b.z", 3],
      ["a.c", "added"],
      ["l", list],
      ["l.0", "x"],
    ]);
    const before = structuredClone([...entries]);
    const expected = { a: { x: 1, b: { y: 2, z: 3 }, c: "added" }, l: { "0": "x" } };
    const first = nest(entries);
    expect(first).toEqual(expected);
    expect([...entries]).toEqual(before);
    expect(object).toEqual({ x: 1, b: { y: 2 } });
    expect(inner).toEqual({ y: 2 });
    expect(list).toEqual([1, 2]);
    // Mutating the nested view does not reach the stored values either.
    ((first.a as Record<string, unknown>).b as Record<string, unknown>).y = 99;
    expect(inner.y).toBe(2);
    expect(nest(entries)).toEqual(expected);
  });

  it("does not mutate the map", () => {
    const entries = new Map<string, unknown>([["b.c", 1], ["a", 2]]);
    nest(entries);
    expect([...entries.keys()]).toEqual(["b.c", "a"]);
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
