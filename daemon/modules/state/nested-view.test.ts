import { describe, expect, it } from "vitest";
import { NestedView } from "./nested-view.js";

/**
 * The nested view as it was defined before it was kept incrementally
 * (issue 22): the keys sorted, each value written at its dotted path, an
 * object in the way copied, anything else in the way replaced by an
 * object. The incremental view must equal it after every change.
 */
function reference(entries: ReadonlyMap<string, unknown>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const key of [...entries.keys()].sort()) {
    const path = key.split(".");
    let node = root;
    for (const segment of path.slice(0, -1)) {
      const next = node[segment];
      if (typeof next !== "object" || next === null || Array.isArray(next)) node[segment] = {};
      node = node[segment] as Record<string, unknown>;
    }
    const value = entries.get(key);
    node[path[path.length - 1]!] = typeof value === "object" && value !== null && !Array.isArray(value) ? structuredClone(value) : value;
  }
  return root;
}

const CASES: [string, [string, unknown][], Record<string, unknown>][] = [
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
  ["a field that is a list is replaced by an object", [["a", { b: [1], c: 2 }], ["a.b.0", "x"]], { a: { b: { "0": "x" }, c: 2 } }],
  ["a prototype's name is no field of an object value", [["a", { x: 1 }], ["a.toString.y", 1]], { a: { x: 1, toString: { y: 1 } } }],
  ["JSON values of every kind", [["s", "x"], ["n", 1.5], ["t", true], ["z", null], ["l", [1, { m: 2 }]], ["o", {}]], { s: "x", n: 1.5, t: true, z: null, l: [1, { m: 2 }], o: {} }],
  ["sibling keys that sort around a dot", [["a-b", 1], ["a.b", 2], ["a_b", 3]], { "a-b": 1, a: { b: 2 }, a_b: 3 }],
];

describe("NestedView", () => {
  it.each(CASES)("%s (keys set in order, and in reverse)", (_label, entries, expected) => {
    expect(reference(new Map(entries))).toStrictEqual(expected);
    expect(NestedView.of(new Map(entries)).current()).toStrictEqual(expected);
    expect(NestedView.of(new Map([...entries].reverse())).current()).toStrictEqual(expected);
  });

  it.each<[string, [string, unknown][], string[], Record<string, unknown>]>([
    ["a longer key deleted brings back the field of the object value", [["a", { b: "old", c: 1 }], ["a.b", "new"]], ["a.b"], { a: { b: "old", c: 1 } }],
    ["a longer key deleted brings back a list", [["a", [1, 2]], ["a.0", "x"]], ["a.0"], { a: [1, 2] }],
    ["a longer key deleted takes its field away when the shorter one never had it", [["a", { c: 1 }], ["a.b", 2]], ["a.b"], { a: { c: 1 } }],
    ["the shorter key deleted leaves the longer one in an object", [["a", { b: "old", c: 1 }], ["a.b", "new"]], ["a"], { a: { b: "new" } }],
    ["deep keys deleted leave no empty objects behind", [["a.b.c", 1], ["x", 2]], ["a.b.c"], { x: 2 }],
    ["the shorter key deleted below a deeper one that stays", [["a", { b: { c: 1, d: 2 } }], ["a.b.c", 9]], ["a"], { a: { b: { c: 9 } } }],
    ["a key deleted between a shorter and a longer one", [["a", { b: { c: 1, d: 2 } }], ["a.b", { c: 5 }], ["a.b.c", 9]], ["a.b"], { a: { b: { c: 9, d: 2 } } }],
    ["a missing key deleted changes nothing", [["a.b", 1]], ["a", "a.b.c", "z"], { a: { b: 1 } }],
  ])("%s", (_label, entries, deleted, expected) => {
    const view = NestedView.of(new Map(entries));
    for (const key of deleted) view.delete(key);
    const left = new Map(entries);
    for (const key of deleted) left.delete(key);
    expect(reference(left)).toStrictEqual(expected);
    expect(view.current()).toStrictEqual(expected);
  });

  /** Keys that nest in each other every way, and values that are objects with the same fields, lists, null and scalars. */
  const KEYS = ["a", "a.b", "a.b.c", "a.b.d", "a.c", "a.0", "a.toString", "b", "b.a", "b.a.b", "c.d.e", "c.d", "a-b", "a_b"];
  const VALUES: unknown[] = [
    1,
    "s",
    null,
    true,
    [1, 2],
    [{ b: 1 }],
    {},
    { b: 1 },
    { b: { c: 2, d: [3] }, c: "x" },
    { 0: "zero", b: null },
    { a: { b: { c: 1 } }, d: 4 },
    { d: { e: "deep" } },
  ];

  /** A small seeded generator (mulberry32): a failing sequence can be run again from its seed. */
  function random(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it.each(Array.from({ length: 200 }, (_, seed) => seed))("random sets and deletes of nesting keys equal a fresh build after every step (seed %i)", (seed) => {
    const next = random(seed);
    const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
    const entries = new Map<string, unknown>();
    const view = new NestedView();
    const steps: string[] = [];
    for (let step = 0; step < 60; step++) {
      const key = pick(KEYS);
      if (next() < 0.35) {
        entries.delete(key);
        view.delete(key);
        steps.push(`delete ${key}`);
      } else {
        // A fresh copy each time: a value is stored as the state holds it, never shared between keys.
        const value = structuredClone(pick(VALUES));
        entries.set(key, value);
        view.set(key, value);
        steps.push(`set ${key} ${JSON.stringify(value)}`);
      }
      const stored = structuredClone([...entries]);
      expect(view.current(), steps.join("\n")).toStrictEqual(reference(entries));
      // The view never writes into a stored value.
      expect([...entries], steps.join("\n")).toStrictEqual(stored);
      expect(view.current(), "a fresh build from the same entries").toStrictEqual(NestedView.of(entries).current());
    }
  });

  it("a change costs its own path: the objects of other keys stay the very same", () => {
    const view = NestedView.of(new Map<string, unknown>([["run_1.status", "done"], ["run_2.status", "running"], ["big", { list: [1, 2, 3] }]]));
    const before = view.current();
    const run1 = before.run_1;
    const big = before.big;
    view.set("run_2.status", "done");
    view.delete("run_2.status");
    view.set("run_3", 1);
    expect(view.current()).toBe(before); // updated in place
    expect(before.run_1).toBe(run1);
    expect(before.big).toBe(big);
    expect(before).toStrictEqual({ run_1: { status: "done" }, big: { list: [1, 2, 3] }, run_3: 1 });
  });
});
