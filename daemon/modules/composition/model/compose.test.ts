import { describe, expect, it } from "vitest";
import { DaemonError } from "../../../core/errors.js";
import { compose, inherited, merge, replacedDefinitions, type Loader } from "./compose.js";
import { formatRef, type Ref } from "./ref.js";

type Doc = Record<string, unknown>;

/** A loader over an in-memory library keyed by `name` or `name@version`; records what was asked for. */
function library(docs: Record<string, Doc>): Loader & { asked: string[] } {
  const asked: string[] = [];
  const load = (ref: Ref) => {
    asked.push(formatRef(ref));
    const doc = docs[formatRef(ref)];
    return Promise.resolve(doc === undefined ? undefined : structuredClone(doc));
  };
  return Object.assign(load, { asked });
}

const doc = (name: string, extra: Doc = {}): Doc => ({ name, type: "orchestration", version: "1.0.0", description: name, ...extra });

async function failure(promise: Promise<unknown>): Promise<DaemonError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DaemonError);
  return err as DaemonError;
}

describe("merge", () => {
  it.each([
    ["the child's scalar wins", { a: 1, b: 2 }, { b: 3 }, { a: 1, b: 3 }],
    ["maps merge deeply", { m: { x: 1, n: { y: 2, z: 3 } } }, { m: { n: { z: 4 }, w: 5 } }, { m: { x: 1, n: { y: 2, z: 4 }, w: 5 } }],
    ["other lists are replaced", { tags: ["a", "b"] }, { tags: ["c"] }, { tags: ["c"] }],
    ["lists of maps other than components are replaced", { learnings: [{ insight: "a" }] }, { learnings: [{ insight: "b" }] }, { learnings: [{ insight: "b" }] }],
    ["a map replaces a scalar", { a: 1 }, { a: { b: 2 } }, { a: { b: 2 } }],
    ["a scalar replaces a map", { a: { b: 2 } }, { a: 1 }, { a: 1 }],
    ["null in the child wins", { a: { b: 1 } }, { a: null }, { a: null }],
    ["the parent's keys come first", { a: 1, b: 2 }, { c: 3, a: 4 }, { a: 4, b: 2, c: 3 }],
    [
      "components merge by name: a replacement keeps its place, a new one is appended",
      { components: [{ name: "a", v: 1 }, { name: "b", v: 1 }, { name: "c", v: 1 }] },
      { components: [{ name: "d", v: 2 }, { name: "b", v: 2 }] },
      { components: [{ name: "a", v: 1 }, { name: "b", v: 2 }, { name: "c", v: 1 }, { name: "d", v: 2 }] },
    ],
    ["a replaced component is replaced whole, not merged", { components: [{ name: "a", x: 1 }] }, { components: [{ name: "a", y: 2 }] }, { components: [{ name: "a", y: 2 }] }],
  ])("%s", (_label, parent, child, expected) => {
    const parentBefore = structuredClone(parent);
    expect(merge(parent, child)).toEqual(expected);
    expect(parent).toEqual(parentBefore);
  });
});

describe("compose: extends and mixins", () => {
  it("resolves a three-level extends chain, child winning at each level", async () => {
    const load = library({
      grand: doc("grand", { metadata: { tags: ["g"], a: "grand", b: "grand", c: "grand" }, components: [{ name: "one", prompt: "g1" }] }),
      parent: doc("parent", { extends: "grand", metadata: { b: "parent", c: "parent" }, components: [{ name: "two", prompt: "p2" }] }),
      child: doc("child", { extends: "parent", metadata: { c: "child" }, components: [{ name: "one", prompt: "c1" }] }),
    });
    const { composition } = await compose({ name: "child" }, load);
    expect(composition).toEqual({
      name: "child",
      type: "orchestration",
      version: "1.0.0",
      description: "child",
      metadata: { tags: ["g"], a: "grand", b: "parent", c: "child" },
      components: [
        { name: "one", prompt: "c1" },
        { name: "two", prompt: "p2" },
      ],
    });
    expect(composition).not.toHaveProperty("extends");
  });

  it("applies the parent, then the mixins in order, then the document itself", async () => {
    const load = library({
      base: doc("base", { metadata: { order: ["base"], from: "base", base_only: true } }),
      m1: doc("m1", { metadata: { from: "m1", m1_only: true }, components: [{ name: "x", by: "m1" }] }),
      m2: doc("m2", { metadata: { from: "m2" }, components: [{ name: "x", by: "m2" }, { name: "y", by: "m2" }] }),
      top: doc("top", { extends: "base", mixins: ["m1", "m2"], components: [{ name: "z", by: "top" }] }),
    });
    const { composition } = await compose({ name: "top" }, load);
    expect(composition.metadata).toEqual({ order: ["base"], from: "m2", base_only: true, m1_only: true });
    expect(composition.components).toEqual([
      { name: "x", by: "m2" },
      { name: "y", by: "m2" },
      { name: "z", by: "top" },
    ]);
    expect(composition).not.toHaveProperty("mixins");
    expect(load.asked).toEqual(["top", "base", "m1", "m2"]);
  });

  it("the document's own fields win over its mixins", async () => {
    const load = library({ m: doc("m", { description: "from mixin", metadata: { x: "mixin" } }), top: doc("top", { mixins: ["m"], metadata: { x: "top" } }) });
    const { composition } = await compose({ name: "top" }, load);
    expect(composition).toMatchObject({ name: "top", description: "top", metadata: { x: "top" } });
  });

  it("loads a versioned parent by its ref", async () => {
    const load = library({ "base@1.0.0": doc("base", { old: true }), base: doc("base", { old: false }), top: doc("top", { extends: "base@1.0.0" }) });
    expect((await compose({ name: "top" }, load)).composition.old).toBe(true);
    expect(load.asked).toContain("base@1.0.0");
  });

  it("a shared ancestor reached twice (a diamond) is not a cycle", async () => {
    const load = library({ root: doc("root", { r: 1 }), left: doc("left", { extends: "root" }), right: doc("right", { extends: "root" }), top: doc("top", { extends: "left", mixins: ["right"] }) });
    expect((await compose({ name: "top" }, load)).composition.r).toBe(1);
  });

  it.each([
    ["a → b → a", { a: doc("a", { extends: "b" }), b: doc("b", { extends: "a" }) }, "a", ["a", "b", "a"]],
    ["a self-extends", { a: doc("a", { extends: "a" }) }, "a", ["a", "a"]],
    ["a cycle through a mixin", { a: doc("a", { mixins: ["b"] }), b: doc("b", { extends: "c" }), c: doc("c", { mixins: ["b"] }) }, "a", ["a", "b", "c", "b"]],
    ["a cycle through a versioned ref", { a: doc("a", { extends: "b@1.0.0" }), "b@1.0.0": doc("b", { extends: "a" }) }, "a", ["a", "b", "a"]],
  ])("a cycle (%s) is invalid_params naming it", async (_label, docs, start, cycle) => {
    const err = await failure(compose({ name: start }, library(docs)));
    expect(err.code).toBe("invalid_params");
    expect(err.message).toContain(cycle.join(" → "));
    expect(err.details).toMatchObject({ cycle, issues: [{ path: "extends", message: err.message }] });
  });

  it("a missing document is not_found", async () => {
    const err = await failure(compose({ name: "nothing" }, library({})));
    expect(err.code).toBe("not_found");
    expect(err.message).toContain("nothing");
  });

  it.each([
    ["a missing parent", { child: doc("child", { extends: "ghost" }) }, "ghost", "child"],
    ["a missing mixin", { child: doc("child", { mixins: ["ghost"] }) }, "ghost", "child"],
    ["a missing grandparent", { child: doc("child", { extends: "parent" }), parent: doc("parent", { extends: "ghost@2.0.0" }) }, "ghost@2.0.0", "parent"],
  ])("%s is not_found naming it and who needs it", async (_label, docs, missing, needer) => {
    const err = await failure(compose({ name: "child" }, library(docs)));
    expect(err.code).toBe("not_found");
    expect(err.message).toContain(missing);
    expect(err.message).toContain(`needed by ${needer}`);
    expect(err.details?.ref).toBe(missing);
  });

  it("an absurdly deep chain is refused instead of recursing forever", async () => {
    const docs: Record<string, Doc> = {};
    for (let i = 0; i < 40; i++) docs[`d${i}`] = doc(`d${i}`, { extends: `d${i + 1}` });
    docs.d40 = doc("d40");
    const err = await failure(compose({ name: "d0" }, library(docs)));
    expect(err.code).toBe("invalid_params");
    expect(err.message).toMatch(/deeper than/);
  });
});

describe("compose: variables", () => {
  const withVariables = (extra: Doc) =>
    library({
      v: doc("v", {
        variables: { rounds: { type: "integer", default: 3 }, judge: { default: "judge_a" }, plain: "plain value", flag: true, nodefault: { type: "string" } },
        ...extra,
      }),
    });

  it.each([
    ["a declared default", { text: "best of {{rounds}} with {{judge}}" }, {}, { text: "best of 3 with judge_a" }],
    ["a plain variable value", { text: "{{plain}}!" }, {}, { text: "plain value!" }],
    ["the caller overrides a default", { text: "{{judge}}" }, { judge: "judge_b" }, { text: "judge_b" }],
    ["the caller provides what has no default", { text: "{{nodefault}}" }, { nodefault: "given" }, { text: "given" }],
    ["spaces inside the braces", { text: "{{ rounds }}" }, {}, { text: 3 }],
    ["a whole-value placeholder keeps a number", { rounds: "{{rounds}}" }, {}, { rounds: 3 }],
    ["a whole-value placeholder keeps a boolean", { on: "{{flag}}" }, {}, { on: true }],
    ["a whole-value placeholder keeps a list", { list: "{{items}}" }, { items: [1, "two"] }, { list: [1, "two"] }],
    ["a non-string inside text is written as JSON", { text: "items: {{items}}" }, { items: [1, 2] }, { text: "items: [1,2]" }],
    ["placeholders in nested maps and lists", { deep: { list: ["{{judge}}", { x: "r{{rounds}}" }] } }, {}, { deep: { list: ["judge_a", { x: "r3" }] } }],
    ["placeholders in components", { components: [{ name: "c", prompt: "run {{rounds}}" }] }, {}, { components: [{ name: "c", prompt: "run 3" }] }],
    ["one pass: a substituted value is not expanded again", { text: "say {{judge}}" }, { judge: "{{rounds}}" }, { text: "say {{rounds}}" }],
    ["one pass: a whole-value substitution is not expanded again", { text: "{{judge}}" }, { judge: "{{rounds}}" }, { text: "{{rounds}}" }],
    ["text without placeholders is untouched", { text: "a { b } {{ c", n: 1, z: null }, {}, { text: "a { b } {{ c", n: 1, z: null }],
  ])("%s", async (_label, extra, variables, expected) => {
    const { composition } = await compose({ name: "v" }, withVariables(extra), variables);
    expect(composition).toMatchObject(expected);
  });

  it("the variables section is left as declared", async () => {
    const load = library({ v: doc("v", { variables: { a: { default: "{{b}}", description: "uses {{b}}" }, b: "x" }, text: "{{a}}" }) });
    const { composition } = await compose({ name: "v" }, load, { b: "y" });
    expect(composition.variables).toEqual({ a: { default: "{{b}}", description: "uses {{b}}" }, b: "x" });
    // a's default is used as it is: one pass, not a template language.
    expect(composition.text).toBe("{{b}}");
  });

  it("variables declared by a parent apply to the child", async () => {
    const load = library({
      base: doc("base", { variables: { who: { default: "parent default" } }, greeting: "hello {{who}}" }),
      child: doc("child", { extends: "base", variables: { who: { default: "child default" } } }),
    });
    expect((await compose({ name: "child" }, load)).composition.greeting).toBe("hello child default");
  });

  it.each([
    ["in text", { text: "hi {{ghost}}" }, "ghost", "text", { text: "hi {{ghost}}" }],
    ["as a whole value", { metadata: { list: ["ok", "{{ghost}}"] } }, "ghost", "metadata.list.1", { metadata: { list: ["ok", "{{ghost}}"] } }],
    ["declared without a default", { text: "{{nodefault}}" }, "nodefault", "text", { text: "{{nodefault}}" }],
    ["a path into a variable that has no such key", { text: "{{judge.name}}" }, "judge.name", "text", { text: "{{judge.name}}" }],
    ["with spaces inside the braces, kept as written", { text: "id {{ agent_id }}" }, "agent_id", "text", { text: "id {{ agent_id }}" }],
  ])("an unresolved placeholder %s stays as written and is listed with its path", async (_label, extra, name, path, expected) => {
    const { composition, unresolved } = await compose({ name: "v" }, withVariables(extra));
    expect(composition).toMatchObject(expected);
    expect(unresolved).toEqual([{ name, paths: [path] }]);
  });

  it("what is known is substituted and the rest listed once per name, paths in document order", async () => {
    const load = withVariables({
      agents: { a: { prompt: "You are {{agent_id}}; play {{rounds}} rounds in {{round_id}}" }, b: { prompt: "{{agent_id}} again", vars: { me: "{{agent_id}}" } } },
    });
    const { composition, unresolved } = await compose({ name: "v" }, load);
    expect(composition.agents).toEqual({
      a: { prompt: "You are {{agent_id}}; play 3 rounds in {{round_id}}" },
      b: { prompt: "{{agent_id}} again", vars: { me: "{{agent_id}}" } },
    });
    expect(unresolved).toEqual([
      { name: "agent_id", paths: ["agents.a.prompt", "agents.b.prompt", "agents.b.vars.me"] },
      { name: "round_id", paths: ["agents.a.prompt"] },
    ]);
  });

  it("nothing unresolved is an empty list", async () => {
    expect((await compose({ name: "v" }, withVariables({ text: "{{rounds}}" }))).unresolved).toEqual([]);
  });

  it.each([
    ["a function call", "at {{TIMESTAMP()}}"],
    ["an expression", "try {{attempts + 1}}"],
    ["a filter or default", "{{name|display_name}}"],
    ["an index", "{{stage_results[previous_stage]}}"],
    ["the whole data", "{{$}}"],
  ])("KSI's run-time template text (%s) is left alone and not listed", async (_label, text) => {
    const { composition, unresolved } = await compose({ name: "v" }, withVariables({ text }));
    expect(composition.text).toBe(text);
    expect(unresolved).toEqual([]);
  });

  it.each([
    ["a key of a map", { text: "{{judge.name}} by {{judge.model}}" }, { judge: { name: "j1", model: "m" } }, { text: "j1 by m" }],
    ["a whole value keeps its type", { n: "{{limits.rounds}}" }, { limits: { rounds: 7 } }, { n: 7 }],
    ["a list index", { first: "{{items.0}}" }, { items: ["a", "b"] }, { first: "a" }],
    ["a variable whose name has a dot wins over the path", { text: "{{a.b}}" }, { "a.b": "dotted", a: { b: "path" } }, { text: "dotted" }],
  ])("a dotted placeholder reads a path into a variable's value: %s", async (_label, extra, variables, expected) => {
    const { composition, unresolved } = await compose({ name: "v" }, withVariables(extra), variables);
    expect(composition).toMatchObject(expected);
    expect(unresolved).toEqual([]);
  });

  it("strict: an unresolved placeholder is invalid_params naming every one and its paths", async () => {
    const err = await failure(compose({ name: "v" }, withVariables({ text: "hi {{ghost}}", deep: ["{{nodefault}}"] }), {}, true));
    expect(err.code).toBe("invalid_params");
    expect(err.message).toContain("{{ghost}} at text");
    expect(err.message).toContain("{{nodefault}} at deep.0");
    expect(err.message).toContain("without strict");
    expect(err.details).toMatchObject({
      unresolved: [
        { name: "ghost", paths: ["text"] },
        { name: "nodefault", paths: ["deep.0"] },
      ],
      issues: [
        { path: "text", message: expect.stringContaining("{{ghost}}") },
        { path: "deep.0", message: expect.stringContaining("{{nodefault}}") },
      ],
    });
  });

  it("strict: the message names five and counts the rest", async () => {
    const text = Array.from({ length: 7 }, (_, i) => `{{g${i}}}`).join(" ");
    const err = await failure(compose({ name: "v" }, withVariables({ text }), {}, true));
    expect(err.message).toContain("7 placeholders");
    expect(err.message).toContain("and 2 more");
    expect((err.details?.unresolved as unknown[]).length).toBe(7);
  });

  it("strict with everything supplied composes", async () => {
    const { unresolved } = await compose({ name: "v" }, withVariables({ text: "{{nodefault}}" }), { nodefault: "x" }, true);
    expect(unresolved).toEqual([]);
  });

  it("a caller's undefined does not count as a value", async () => {
    const { unresolved } = await compose({ name: "v" }, withVariables({ text: "{{nodefault}}" }), { nodefault: undefined });
    expect(unresolved).toEqual([{ name: "nodefault", paths: ["text"] }]);
  });

  it("a name that only exists on Object.prototype is not a variable", async () => {
    const { composition, unresolved } = await compose({ name: "v" }, withVariables({ text: "{{constructor}} {{judge.constructor}}" }));
    expect(composition.text).toBe("{{constructor}} {{judge.constructor}}");
    expect(unresolved.map((u) => u.name)).toEqual(["constructor", "judge.constructor"]);
  });
});

describe("compose: profile prompt", () => {
  it("is the resolved components' prompt fields in order, parents' first", async () => {
    const load = library({
      base: { ...doc("base"), type: "profile", components: [{ name: "identity", prompt: "You are {{role}}.\n" }, { name: "rules", prompt: "Follow the rules." }] },
      agent: {
        ...doc("agent"),
        type: "profile",
        extends: "base",
        variables: { role: "a critic" },
        components: [{ name: "tools" }, { name: "identity", prompt: "You are {{role}}, sharp." }, { name: "style", prompt: "  Be brief.  " }],
      },
    });
    const result = await compose({ name: "agent" }, load);
    expect(result.prompt).toBe("You are a critic, sharp.\n\nFollow the rules.\n\nBe brief.");
  });

  it("a profile without components has an empty prompt", async () => {
    expect((await compose({ name: "p" }, library({ p: { ...doc("p"), type: "profile" } }))).prompt).toBe("");
  });

  it("other types have no prompt", async () => {
    const result = await compose({ name: "o" }, library({ o: doc("o", { components: [{ name: "c", prompt: "x" }] }) }));
    expect(result).not.toHaveProperty("prompt");
  });
});

describe("replacedDefinitions: an inherited variable definition replaced by a plain value", () => {
  const rounds = { type: "integer", default: 3, description: "how many rounds" };
  const load = library({
    base: doc("base", { variables: { rounds, judges: { type: "integer", description: "judges per match" }, seed: { default: 7 }, plain: 1 } }),
    panel: doc("panel", { variables: { panel_size: { type: "integer", default: 3 } } }),
  });

  it("compose alone loses the definition silently: the value replaces it whole", async () => {
    const child = doc("child", { extends: "base", variables: { rounds: 5 } });
    const composed = await compose({ name: "child" }, library({ base: (await load({ name: "base" }))!, child }));
    expect((composed.composition.variables as Doc).rounds).toBe(5);
  });

  const cases: { what: string; child: Doc; paths: string[] }[] = [
    { what: "a scalar over a definition", child: { extends: "base", variables: { rounds: 5 } }, paths: ["variables.rounds"] },
    { what: "null and a list count as values too", child: { extends: "base", variables: { rounds: null, judges: [1] } }, paths: ["variables.rounds", "variables.judges"] },
    { what: "from a mixin", child: { mixins: ["panel"], variables: { panel_size: 5 } }, paths: ["variables.panel_size"] },
    { what: "{default: v} keeps the definition", child: { extends: "base", variables: { rounds: { default: 5 } } }, paths: [] },
    { what: "a definition of only a default loses nothing", child: { extends: "base", variables: { seed: 9 } }, paths: [] },
    { what: "a value over a value", child: { extends: "base", variables: { plain: 2 } }, paths: [] },
    { what: "a variable the parent does not have", child: { extends: "base", variables: { other: 1 } }, paths: [] },
    { what: "no parent", child: { variables: { rounds: 5 } }, paths: [] },
  ];
  for (const c of cases) {
    it(c.what, async () => {
      const child = doc("child", c.child);
      expect(replacedDefinitions(child, await inherited(child, load)).map((issue) => issue.path)).toEqual(c.paths);
    });
  }

  it("says what the definition was, what is lost, and how to change only the default", async () => {
    const child = doc("child", { extends: "base", variables: { rounds: 5 } });
    expect(replacedDefinitions(child, await inherited(child, load))).toEqual([
      {
        path: "variables.rounds",
        message:
          'the definition of rounds inherited from base ({"type":"integer","default":3,"description":"how many rounds"}) is replaced by the value 5: ' +
          "its type and description are lost. To change only the default, write rounds: {default: 5}",
      },
    ]);
  });

  it("inherited leaves the document's own fields out", async () => {
    const child = doc("child", { extends: "base", variables: { rounds: 5 }, extra: true });
    const fields = await inherited(child, load);
    expect(fields.name).toBe("base");
    expect(fields.extra).toBeUndefined();
    expect((fields.variables as Doc).rounds).toEqual(rounds);
  });
});
