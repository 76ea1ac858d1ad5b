import { describe, expect, it } from "vitest";
import { DaemonError } from "../../../core/errors.js";
import { merge3, type MergeOptions } from "./merge3.js";

type Doc = Record<string, unknown>;

const strategyLines = Array.from({ length: 10 }, (_, i) => `${i + 1}. step ${i + 1} of the tournament`);
const strategy = (edit: (lines: string[]) => void = () => {}) => {
  const lines = [...strategyLines];
  edit(lines);
  return `${lines.join("\n")}\n`;
};

const base: Doc = {
  name: "tournament",
  type: "orchestration",
  version: "1.0.0",
  description: "Round robin",
  components: [
    { name: "judge", prompt: "Score each answer.", model: "big" },
    { name: "writer", prompt: "Write an answer." },
  ],
  orchestration_logic: { description: "pairs compete", strategy: strategy() },
  metadata: { tags: ["tournament"], use_cases: ["ranking"] },
};

/** `base` with `edit` applied to a copy. */
const edited = (edit: (doc: Doc) => void): Doc => {
  const doc = structuredClone(base);
  edit(doc);
  return doc;
};
const logic = (doc: Doc) => doc.orchestration_logic as Doc;
const components = (doc: Doc) => doc.components as Doc[];

describe("merge3: text line by line", () => {
  const ours = edited((d) => (logic(d).strategy = strategy((l) => (l[1] = "2. step two, rewritten by ours"))));
  const theirs = edited((d) => (logic(d).strategy = strategy((l) => (l[7] = "8. step eight, rewritten by theirs"))));

  it("keeps edits to different lines of a strategy from both sides", () => {
    const result = merge3(base, ours, theirs);
    expect(result.conflicts).toEqual([]);
    expect(logic(result.merged as Doc).strategy).toBe(
      strategy((l) => {
        l[1] = "2. step two, rewritten by ours";
        l[7] = "8. step eight, rewritten by theirs";
      }),
    );
    expect(result.changes).toEqual([{ op: "replace", path: "orchestration_logic.strategy", from: logic(ours).strategy, to: logic(result.merged as Doc).strategy }]);
  });

  it("keeps edits to adjacent lines, an insertion and a deletion from both sides", () => {
    const mine = edited((d) => (logic(d).strategy = strategy((l) => l.splice(3, 1, "4. four (ours)"))));
    const yours = edited((d) => (logic(d).strategy = strategy((l) => l.splice(4, 2, "5+6. merged steps", "5b. an extra step"))));
    const result = merge3(base, mine, yours);
    expect(result.conflicts).toEqual([]);
    expect(logic(result.merged as Doc).strategy).toBe(strategy((l) => l.splice(3, 3, "4. four (ours)", "5+6. merged steps", "5b. an extra step")));
  });

  it("reports the same line edited differently as one conflict with the whole field's three values", () => {
    const mine = edited((d) => (logic(d).strategy = strategy((l) => (l[4] = "5. ours"))));
    const yours = edited((d) => (logic(d).strategy = strategy((l) => (l[4] = "5. theirs"))));
    const result = merge3(base, mine, yours);
    expect(result.conflicts).toEqual([{ path: "orchestration_logic.strategy", base: logic(base).strategy, ours: logic(mine).strategy, theirs: logic(yours).strategy }]);
  });

  it("conflicts when both sides insert different lines at one place", () => {
    const mine = edited((d) => (logic(d).strategy = strategy((l) => l.splice(2, 0, "ours inserted"))));
    const yours = edited((d) => (logic(d).strategy = strategy((l) => l.splice(2, 0, "theirs inserted"))));
    expect(merge3(base, mine, yours).conflicts.map((c) => c.path)).toEqual(["orchestration_logic.strategy"]);
  });

  it("takes an identical edit made on both sides once", () => {
    const both = strategy((l) => (l[4] = "5. the same on both sides"));
    const mine = edited((d) => (logic(d).strategy = strategy((l) => l.splice(0, 5, "1. ours too", ...l.slice(1, 4), "5. the same on both sides"))));
    const yours = edited((d) => (logic(d).strategy = both));
    const result = merge3(base, mine, yours);
    expect(result.conflicts).toEqual([]);
    expect(logic(result.merged as Doc).strategy).toBe(logic(mine).strategy);
    expect(result.changes).toEqual([]);
  });

  describe("a strategy resolves the conflicting region only; the other side's other hunks survive", () => {
    const mine = edited((d) => (logic(d).strategy = strategy((l) => l.splice(0, 5, "1. ours only", ...l.slice(1, 4), "5. ours"))));
    const yours = edited((d) => (logic(d).strategy = strategy((l) => l.splice(4, 6, "5. theirs", ...l.slice(5, 9), "10. theirs only"))));

    it.each([
      ["ours", "5. ours"],
      ["theirs", "5. theirs"],
    ] as const)("%s", (side, line5) => {
      const result = merge3(base, mine, yours, { strategy: side });
      expect(result.conflicts).toEqual([]);
      expect(logic(result.merged as Doc).strategy).toBe(
        strategy((l) => {
          l[0] = "1. ours only";
          l[4] = line5;
          l[9] = "10. theirs only";
        }),
      );
    });

    it("auto builds what ours would, and lists the conflict", () => {
      const auto = merge3(base, mine, yours);
      expect(auto.merged).toEqual(merge3(base, mine, yours, { strategy: "ours" }).merged);
      expect(auto.conflicts).toHaveLength(1);
    });
  });

  it("merges a text both sides added", () => {
    const result = merge3({}, { notes: "a\nb\n" }, { notes: "a\nc\n" });
    expect(result.conflicts).toEqual([{ path: "notes", base: undefined, ours: "a\nb\n", theirs: "a\nc\n" }]);
  });
});

describe("merge3: structure", () => {
  it("merges components added on both sides with different names: ours' order, then theirs' new ones", () => {
    const ours = edited((d) => components(d).splice(1, 0, { name: "critic", prompt: "Find faults." }));
    const theirs = edited((d) => components(d).push({ name: "scribe", prompt: "Keep notes." }, { name: "timer", prompt: "Watch time." }));
    const result = merge3(base, ours, theirs);
    expect(result.conflicts).toEqual([]);
    expect(components(result.merged as Doc).map((c) => c.name)).toEqual(["judge", "critic", "writer", "scribe", "timer"]);
    expect(result.changes.map((c) => `${c.op} ${c.path}`)).toEqual(["add components.scribe", "add components.timer"]);
  });

  it("merges a component changed on both sides in different fields", () => {
    const ours = edited((d) => (components(d)[0]!.prompt = "Score each answer from 1 to 10."));
    const theirs = edited((d) => (components(d)[0]!.model = "small"));
    const result = merge3(base, ours, theirs);
    expect(result.conflicts).toEqual([]);
    expect(components(result.merged as Doc)[0]).toEqual({ name: "judge", prompt: "Score each answer from 1 to 10.", model: "small" });
    expect(result.changes).toEqual([{ op: "replace", path: "components.judge.model", from: "big", to: "small" }]);
  });

  it("reports a component's field changed differently at the field's path", () => {
    const ours = edited((d) => (components(d)[0]!.model = "medium"));
    const theirs = edited((d) => (components(d)[0]!.model = "small"));
    expect(merge3(base, ours, theirs).conflicts).toEqual([{ path: "components.judge.model", base: "big", ours: "medium", theirs: "small" }]);
  });

  it("takes a component removed on one side and left alone on the other", () => {
    const theirs = edited((d) => components(d).splice(1, 1));
    const result = merge3(base, base, theirs);
    expect(components(result.merged as Doc).map((c) => c.name)).toEqual(["judge"]);
    expect(result.changes).toEqual([{ op: "remove", path: "components.writer", from: components(base)[1] }]);
  });

  describe("deletion against an edit is a conflict", () => {
    const deleted = edited((d) => components(d).splice(0, 1));
    const changed = edited((d) => (components(d)[0]!.prompt = "Score harder."));
    const judge = components(base)[0];

    it("of a component", () => {
      expect(merge3(base, deleted, changed).conflicts).toEqual([{ path: "components.judge", base: judge, ours: undefined, theirs: components(changed)[0] }]);
      expect(merge3(base, changed, deleted).conflicts).toEqual([{ path: "components.judge", base: judge, ours: components(changed)[0], theirs: undefined }]);
    });

    it("of a key, resolved by a strategy either way", () => {
      const ours = edited((d) => delete d.metadata);
      const theirs = edited((d) => ((d.metadata as Doc).tags = ["tournament", "swiss"]));
      expect(merge3(base, ours, theirs).conflicts.map((c) => c.path)).toEqual(["metadata"]);
      expect((merge3(base, ours, theirs, { strategy: "ours" }).merged as Doc).metadata).toBeUndefined();
      expect((merge3(base, ours, theirs, { strategy: "theirs" }).merged as Doc).metadata).toEqual(theirs.metadata);
      expect(merge3(base, ours, theirs, { strategy: "theirs" }).conflicts).toEqual([]);
    });

    it("of a component, resolved by a strategy (one ours deleted comes back after ours' items)", () => {
      expect(components(merge3(base, deleted, changed, { strategy: "theirs" }).merged as Doc).map((c) => c.prompt)).toEqual(["Write an answer.", "Score harder."]);
      expect(components(merge3(base, deleted, changed, { strategy: "ours" }).merged as Doc).map((c) => c.name)).toEqual(["writer"]);
    });
  });

  it.each<[string, unknown, unknown, unknown, unknown, string[]]>([
    ["a scalar changed differently", { a: 1 }, { a: 2 }, { a: 3 }, { a: 2 }, ["a"]],
    ["an unnamed list changed differently", { t: ["a"] }, { t: ["a", "b"] }, { t: ["c", "a"] }, { t: ["a", "b"] }, ["t"]],
    ["a list of unnamed maps", { l: [{ insight: "x" }] }, { l: [{ insight: "y" }] }, { l: [{ insight: "z" }] }, { l: [{ insight: "y" }] }, ["l"]],
    ["a map against a scalar", { a: { b: 1 } }, { a: { b: 2 } }, { a: "gone" }, { a: { b: 2 } }, ["a"]],
    ["one-line text is a value", { d: "x" }, { d: "y" }, { d: "z" }, { d: "y" }, ["d"]],
    ["the same change on both sides", { a: 1 }, { a: 2 }, { a: 2 }, { a: 2 }, []],
    ["a key removed on both sides", { a: 1, b: 2 }, { b: 2 }, { b: 2 }, { b: 2 }, []],
    ["a map added on both sides merges by key", {}, { m: { x: 1 } }, { m: { y: 2 } }, { m: { x: 1, y: 2 } }, []],
    ["named lists added on both sides merge by name", {}, { c: [{ name: "a" }] }, { c: [{ name: "b" }] }, { c: [{ name: "a" }, { name: "b" }] }, []],
    ["null is a value", { a: 1 }, { a: null }, { a: 1 }, { a: null }, []],
  ])("%s", (_label, b, ours, theirs, merged, conflictPaths) => {
    const result = merge3(b, ours, theirs);
    expect(result.merged).toEqual(merged);
    expect(result.conflicts.map((c) => c.path)).toEqual(conflictPaths);
  });

  it("keeps ours' key order, then theirs' new keys in theirs' order", () => {
    const result = merge3({ a: 1, b: 1 }, { b: 2, a: 1, c: 1 }, { z: 1, a: 1, b: 1, y: 1 });
    expect(Object.keys(result.merged as Doc)).toEqual(["b", "a", "c", "z", "y"]);
  });

  it("merges sections it does not know (agents, routing) like any other", () => {
    const withSections = edited((d) => {
      d.agents = { planner: { model: "big", tools: ["search"] } };
      d.routing = { rules: [{ name: "to_judge", when: "score" }] };
    });
    const ours = structuredClone(withSections);
    ((ours.agents as Doc).planner as Doc).model = "medium";
    const theirs = structuredClone(withSections);
    ((theirs.agents as Doc).planner as Doc).tools = ["search", "browse"];
    (theirs.routing as Doc).rules = [{ name: "to_judge", when: "score" }, { name: "to_writer", when: "draft" }];
    const result = merge3(withSections, ours, theirs);
    expect(result.conflicts).toEqual([]);
    expect((result.merged as Doc).agents).toEqual({ planner: { model: "medium", tools: ["search", "browse"] } });
    expect((result.merged as Doc).routing).toEqual({ rules: [{ name: "to_judge", when: "score" }, { name: "to_writer", when: "draft" }] });
    expect(result.changes.map((c) => c.path)).toEqual(["agents.planner.tools", "routing.rules.to_writer"]);
  });
});

describe("merge3: resolve settles named conflicts in the same merge", () => {
  const ours = edited((d) => {
    logic(d).strategy = strategy((l) => (l[4] = "5. ours"));
    components(d)[0]!.model = "medium";
    d.description = "Round robin, ours";
  });
  const theirs = edited((d) => {
    logic(d).strategy = strategy((l) => {
      l[4] = "5. theirs";
      l[8] = "9. theirs, far from the conflict";
    });
    components(d)[0]!.model = "small";
    components(d)[1]!.prompt = "Write a better answer.";
    d.description = "Round robin, theirs";
  });
  const refused = (options: MergeOptions, b: Doc = base, o: Doc = ours, t: Doc = theirs): DaemonError => {
    try {
      merge3(b, o, t, options);
    } catch (err) {
      if (err instanceof DaemonError) return err;
      throw err;
    }
    throw new Error("merge3 should have refused");
  };

  it("puts each resolution at its conflict, whole, and keeps every clean merge around it", () => {
    const text = "1. all\n2. new\n";
    const result = merge3(base, ours, theirs, { resolve: { "orchestration_logic.strategy": text, "components.judge.model": "large", description: "Round robin" } });
    expect(result.conflicts).toEqual([]);
    expect(result.resolved.map((c) => c.path)).toEqual(["description", "components.judge.model", "orchestration_logic.strategy"]);
    expect(result.resolved[1]).toEqual({ path: "components.judge.model", base: "big", ours: "medium", theirs: "small" });
    const merged = result.merged as Doc;
    expect(logic(merged).strategy).toBe(text);
    expect(components(merged)).toEqual([
      { name: "judge", prompt: "Score each answer.", model: "large" },
      { name: "writer", prompt: "Write a better answer." },
    ]);
    expect(merged.description).toBe("Round robin");
    expect(merged.metadata).toEqual(base.metadata);
  });

  it("leaves the conflicts it does not name open under auto, and to the strategy otherwise", () => {
    const result = merge3(base, ours, theirs, { resolve: { "components.judge.model": "large" } });
    expect(result.conflicts.map((c) => c.path)).toEqual(["description", "orchestration_logic.strategy"]);
    expect(result.resolved.map((c) => c.path)).toEqual(["components.judge.model"]);
    // The unresolved text still takes theirs' clean hunk (line 9) around ours' side of the conflict.
    expect(logic(result.merged as Doc).strategy).toBe(strategy((l) => ((l[4] = "5. ours"), (l[8] = "9. theirs, far from the conflict"))));
    const byTheirs = merge3(base, ours, theirs, { strategy: "theirs", resolve: { "components.judge.model": "large" } });
    expect(byTheirs.conflicts).toEqual([]);
    expect(components(byTheirs.merged as Doc)[0]!.model).toBe("large");
    expect((byTheirs.merged as Doc).description).toBe("Round robin, theirs");
  });

  it("null leaves the key, or the component, out", () => {
    const deleted = edited((d) => components(d).splice(0, 1));
    const changed = edited((d) => (components(d)[0]!.prompt = "Score harder."));
    expect(components(merge3(base, deleted, changed, { resolve: { "components.judge": null } }).merged as Doc).map((c) => c.name)).toEqual(["writer"]);
    const kept = merge3(base, deleted, changed, { resolve: { "components.judge": { name: "judge", prompt: "Score, gently." } } });
    expect(components(kept.merged as Doc)).toEqual([{ name: "writer", prompt: "Write an answer." }, { name: "judge", prompt: "Score, gently." }]);
    const noKey = merge3({ a: 1, b: 1 }, { a: 2, b: 1 }, { a: 3, b: 1 }, { resolve: { a: null } });
    expect(noKey.merged).toEqual({ b: 1 });
    expect(noKey.changes).toEqual([{ op: "remove", path: "a", from: 2 }]);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ["a path with no conflict", { "metadata.tags": ["x"] }, ["metadata.tags"]],
    ["a parent of a conflict", { orchestration_logic: {} }, ["orchestration_logic"]],
    ["a child of a conflict", { "components.judge.model.size": 1 }, ["components.judge.model.size"]],
    ["one stray among good ones", { description: "d", "components.judge.modle": "x" }, ["components.judge.modle"]],
  ])("refuses %s as invalid_params naming the actual conflicts", (_label, resolve, stray) => {
    const err = refused({ resolve });
    expect(err.code).toBe("invalid_params");
    expect(err.message).toContain(`resolve names ${stray.join(", ")}`);
    expect(err.message).toContain("the conflicts are description, components.judge.model, orchestration_logic.strategy");
    expect(err.details).toEqual({
      issues: stray.map((path) => ({ path: `resolve.${path}`, message: expect.stringContaining(`${path} is not a conflict of this merge`) })),
      conflicts: ["description", "components.judge.model", "orchestration_logic.strategy"],
    });
  });

  it("refuses a resolve of a merge with no conflicts, and checks it under a strategy too", () => {
    expect(refused({ resolve: { a: 1 } }, { a: 1 }, { a: 2 }, { a: 1 }).message).toContain("this merge has no conflicts");
    expect(refused({ strategy: "ours", resolve: { nope: 1 } }).details?.conflicts).toEqual(["description", "components.judge.model", "orchestration_logic.strategy"]);
  });

  it("refuses a component's resolution that is not that component", () => {
    const deleted = edited((d) => components(d).splice(0, 1));
    const changed = edited((d) => (components(d)[0]!.prompt = "Score harder."));
    for (const value of ["judge", { name: "critic" }, { prompt: "no name" }]) {
      const err = refused({ resolve: { "components.judge": value } }, base, deleted, changed);
      expect(err.code).toBe("invalid_params");
      expect(err.message).toContain('a map with name: "judge"');
    }
  });
});

describe("merge3: no-ops and determinism", () => {
  it("with no change on either side gives ours", () => {
    const result = merge3(base, structuredClone(base), structuredClone(base));
    expect(result).toEqual({ merged: base, conflicts: [], resolved: [], changes: [] });
  });

  it("is idempotent: merging theirs into an ours that already has it changes nothing", () => {
    const theirs = edited((d) => {
      logic(d).strategy = strategy((l) => (l[2] = "3. changed"));
      components(d).push({ name: "critic" });
    });
    const once = merge3(base, base, theirs);
    expect(once.changes).not.toEqual([]);
    const twice = merge3(base, once.merged, theirs);
    expect(twice).toEqual({ merged: once.merged, conflicts: [], resolved: [], changes: [] });
  });

  it("takes theirs whole when ours is unchanged", () => {
    const theirs = edited((d) => (d.description = "Swiss rounds"));
    const result = merge3(base, base, theirs);
    expect(result.merged).toEqual(theirs);
    expect(result.changes).toEqual([{ op: "replace", path: "description", from: "Round robin", to: "Swiss rounds" }]);
  });

  it("does not change its inputs and gives the same result every time", () => {
    const ours = edited((d) => (logic(d).strategy = strategy((l) => (l[4] = "5. ours"))));
    const theirs = edited((d) => {
      logic(d).strategy = strategy((l) => (l[4] = "5. theirs"));
      components(d).reverse();
    });
    const [b, o, t] = structuredClone([base, ours, theirs]);
    const first = merge3(base, ours, theirs, { strategy: "theirs" });
    expect([base, ours, theirs]).toEqual([b, o, t]);
    expect(merge3(b, o, t, { strategy: "theirs" })).toEqual(first);
  });

  it("keeps a `__proto__` key a key", () => {
    const b = JSON.parse('{"m": {}}') as Doc;
    const theirs = JSON.parse('{"m": {"__proto__": {"polluted": true}}}') as Doc;
    const ours = JSON.parse('{"m": {"x": 1}}') as Doc;
    const merged = merge3(b, ours, theirs).merged as Doc;
    expect(Object.keys(merged.m as Doc)).toEqual(["x", "__proto__"]);
    expect(({} as Doc).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(merged.m)).toBe(Object.prototype);
  });
});

describe("merge3: text properties over random edits", () => {
  let seed = 3;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = (n: number) => Math.floor(next() * n);
  /** Random deletions, insertions and rewrites of the lines in [from, to). */
  const scramble = (lines: string[], from: number, to: number, tag: string) =>
    lines.flatMap((line, i) => {
      if (i < from || i >= to) return [line];
      const r = next();
      if (r < 0.15) return [];
      if (r < 0.3) return [line, `${tag} new ${pick(5)}`];
      if (r < 0.45) return [`${tag} rewrote ${pick(5)}`];
      return [line];
    });

  it("keeps both sides' edits when they are lines apart, and is symmetric whenever nothing conflicts", () => {
    for (let round = 0; round < 300; round++) {
      const lines = Array.from({ length: 4 + pick(20) }, (_, i) => `line ${i} ${pick(3)}`);
      const cut = 1 + pick(lines.length - 2);
      const text = (l: string[]) => l.join("\n");
      const ours = scramble(lines, 0, cut, "o");
      const theirs = scramble(lines, cut + 1, lines.length, "t");
      const expected = [...ours.slice(0, ours.length - (lines.length - cut)), ...theirs.slice(cut)];
      const result = merge3({ s: text(lines) }, { s: text(ours) }, { s: text(theirs) });
      expect(result.conflicts).toEqual([]);
      expect((result.merged as Doc).s).toBe(text(expected));

      const wild = [scramble(lines, 0, lines.length, "a"), scramble(lines, 0, lines.length, "b")].map(text);
      const forward = merge3({ s: text(lines) }, { s: wild[0] }, { s: wild[1] });
      const backward = merge3({ s: text(lines) }, { s: wild[1] }, { s: wild[0] });
      expect(forward.conflicts.length).toBe(backward.conflicts.length);
      if (forward.conflicts.length === 0) expect(forward.merged).toEqual(backward.merged);
      else expect(merge3({ s: text(lines) }, { s: wild[0] }, { s: wild[1] }, { strategy: "theirs" }).merged).toEqual(merge3({ s: text(lines) }, { s: wild[1] }, { s: wild[0] }, { strategy: "ours" }).merged);
    }
  });
});
