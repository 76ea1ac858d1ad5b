import { describe, expect, it } from "vitest";
import { firstAfter, firstAtOrAfter, NameOrderedMap } from "./name-order.js";

interface Item {
  name: string;
  type: string;
}

const item = (name: string, type = "orchestration"): Item => ({ name, type });

function mapOf(...items: Item[]): NameOrderedMap<Item> {
  const map = new NameOrderedMap<Item>((i) => i.type);
  for (const i of items) map.set(i.name, i);
  return map;
}

/** Walks every page of `limit` from the start, calling between(pageNumber) after each page; the names seen in order. */
function walk(map: NameOrderedMap<Item>, limit: number, group?: string, between: (page: number) => void = () => {}): string[] {
  const seen: string[] = [];
  let after: string | undefined;
  for (let page = 0; page < 10_000; page++) {
    const { values, more } = map.page(limit, after, group);
    seen.push(...values.map((v) => v.name));
    if (!more) return seen;
    after = values.at(-1)!.name;
    between(page);
  }
  throw new Error("the walk did not end");
}

describe("binary searches", () => {
  const names = ["b", "d", "f"];
  it.each([
    ["a", 0, 0],
    ["b", 0, 1],
    ["c", 1, 1],
    ["d", 1, 2],
    ["f", 2, 3],
    ["g", 3, 3],
  ])("%s: first ≥ at %i, first > at %i", (name, atOrAfter, after) => {
    expect(firstAtOrAfter(names, name)).toBe(atOrAfter);
    expect(firstAfter(names, name)).toBe(after);
  });
  it("an empty list", () => {
    expect(firstAtOrAfter([], "a")).toBe(0);
    expect(firstAfter([], "a")).toBe(0);
  });
});

describe("NameOrderedMap", () => {
  it("pages in name order (code-unit order, as <), with total and more", () => {
    const map = mapOf(item("b"), item("a"), item("Z"), item("é"), item("a-b"), item("a_b"));
    expect(map.names()).toEqual(["Z", "a", "a-b", "a_b", "b", "é"]);
    expect(map.page(2)).toMatchObject({ total: 6, more: true, values: [item("Z"), item("a")] });
    expect(map.page(2, "a")).toMatchObject({ more: true, values: [item("a-b"), item("a_b")] });
    expect(map.page(2, "a_b")).toMatchObject({ more: false, values: [item("b"), item("é")] });
    expect(map.page(2, "é")).toEqual({ total: 6, more: false, values: [] });
  });

  it("with a prefix, pages only the names that start with it, total counting those; a cursor goes on inside them", () => {
    const map = mapOf(item("tour"), item("tour_b"), item("tournament"), item("tot"), item("tp"), item("tour-a"), item("critic", "profile"));
    expect(map.page(10, undefined, undefined, "tour").values.map((v) => v.name)).toEqual(["tour", "tour-a", "tour_b", "tournament"]);
    expect(map.page(2, undefined, undefined, "tour")).toMatchObject({ total: 4, more: true, values: [item("tour"), item("tour-a")] });
    expect(map.page(2, "tour-a", undefined, "tour")).toMatchObject({ total: 4, more: false, values: [item("tour_b"), item("tournament")] });
    // A cursor before the run starts at the run; after it, nothing.
    expect(map.page(1, "a", undefined, "tour").values).toEqual([item("tour")]);
    expect(map.page(5, "zzz", undefined, "tour")).toEqual({ total: 4, more: false, values: [] });
    expect(map.page(5, undefined, undefined, "x")).toEqual({ total: 0, more: false, values: [] });
    expect(map.page(5, undefined, "profile", "c").values).toEqual([item("critic", "profile")]);
    expect(map.page(5, undefined, "orchestration", "c").values).toEqual([]);
  });

  it("a cursor name that is gone continues after where it was", () => {
    const map = mapOf(item("a"), item("c"), item("e"));
    expect(map.page(5, "b").values.map((v) => v.name)).toEqual(["c", "e"]);
    expect(map.page(5, "zzz").values).toEqual([]);
  });

  it.each([
    ["inserts before the cursor", (map: NameOrderedMap<Item>, page: number) => map.set(`a${page}`, item(`a${page}`))],
    ["inserts after the cursor", (map: NameOrderedMap<Item>, page: number) => map.set(`z${page}`, item(`z${page}`))],
    ["deletes before the cursor", (map: NameOrderedMap<Item>, page: number) => map.delete(`n${String(page).padStart(3, "0")}`)],
  ])("a walk with %s between pages gives every name there all along exactly once", (_what, change) => {
    const map = new NameOrderedMap<Item>((i) => i.type);
    const base = Array.from({ length: 100 }, (_, i) => `n${String(i).padStart(3, "0")}`);
    for (const name of [...base].reverse()) map.set(name, item(name));
    const seen = walk(map, 7, undefined, (page) => void change(map, page));
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual(seen);
    // Deletes before the cursor remove names already given; every name given was there when its page was read.
    for (const name of base) expect(seen).toContain(name);
  });

  it("a name deleted after the cursor is not given; a name created after it is", () => {
    const map = mapOf(...["a", "b", "c", "d", "e", "f"].map((n) => item(n)));
    const first = map.page(2);
    map.delete("d");
    map.set("dd", item("dd"));
    const rest = walk(map, 2).filter((n) => n > first.values.at(-1)!.name);
    expect(rest).toEqual(["c", "dd", "e", "f"]);
  });

  it("keeps a view per group, moved when a value's group changes", () => {
    const map = mapOf(item("a", "profile"), item("b"), item("c", "profile"), item("d"));
    expect(map.names("profile")).toEqual(["a", "c"]);
    expect(map.names("orchestration")).toEqual(["b", "d"]);
    map.set("b", item("b", "profile"));
    map.set("e", item("e", "profile"));
    map.delete("a");
    expect(map.names("profile")).toEqual(["b", "c", "e"]);
    expect(map.names("orchestration")).toEqual(["d"]);
    expect(map.page(10, undefined, "prompt")).toEqual({ values: [], more: false, total: 0 });
    expect(map.names()).toEqual(["b", "c", "d", "e"]);
  });

  it("a value replaced under its name (same group) keeps its place and gives the new value", () => {
    const map = mapOf(item("a"), item("b"));
    map.names();
    map.set("a", { name: "a", type: "orchestration" });
    expect(map.page(1).values[0]).toBe(map.get("a"));
    expect(map.names()).toEqual(["a", "b"]);
  });

  it("stays right through bursts of changes larger than a patch (sorted again) and after clear", () => {
    const map = new NameOrderedMap<Item>((i) => i.type);
    const names = Array.from({ length: 2_000 }, (_, i) => `p${(i * 7919) % 2_000}`);
    for (const name of names) map.set(name, item(name, name.endsWith("7") ? "profile" : "orchestration"));
    expect(map.names()).toEqual([...names].sort());
    for (const name of names.slice(0, 1_000)) map.delete(name);
    for (let i = 0; i < 10; i++) map.set(`q${i}`, item(`q${i}`, "profile"));
    expect(map.names()).toEqual([...map.keys()].sort());
    expect(map.names("profile")).toEqual([...map.values()].filter((v) => v.type === "profile").map((v) => v.name).sort());
    map.clear();
    expect(map.names()).toEqual([]);
    map.set("x", item("x"));
    expect(map.page(5)).toEqual({ values: [item("x")], more: false, total: 1 });
  });
});
