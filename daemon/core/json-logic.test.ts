import { describe, expect, it } from "vitest";
import { checkRule, compilePathRule, compileRule, evaluateCondition, evaluateRule, readPath, RULE_LIMITS } from "./json-logic.js";

/** `{"!": {"!": … true}}` with `levels` operators. */
function nested(levels: number): unknown {
  let rule: unknown = true;
  for (let i = 0; i < levels; i++) rule = { "!": rule };
  return rule;
}

describe("checkRule", () => {
  it.each<[string, unknown, { path: string | RegExp; message: RegExp }[]]>([
    ["a comparison", { "!=": [{ var: "state.run_1.status" }, "done"] }, []],
    ["true", true, []],
    ["false", false, []],
    ["a constant comparison", { "==": [1, 1] }, []],
    ["a single var", { var: "data.flag" }, []],
    // Not a rule: the engine would take each as a constant that always (or never) holds.
    ["null", null, [{ path: "", message: /JSON Logic object .* or true\/false such as \{"==":\[\{"var":"state\.a\.b"\},4\]\}; got null/ }]],
    ["a number", 4, [{ path: "", message: /such as .*; got the number 4, which the engine would take as a constant/ }]],
    ["zero", 0, [{ path: "", message: /got the number 0/ }]],
    ["a list", [{ "==": [1, 1] }], [{ path: "", message: /got a list/ }]],
    ["an empty list", [], [{ path: "", message: /got a list/ }]],
    ["plain text", "yes", [{ path: "", message: /such as \{"==":.*; got the text "yes"/ }]],
    ["the text true", "true", [{ path: "", message: /got the text "true"/ }]],
    ["a comparison as text", "state.a.b == 4", [{ path: "", message: /not text: write "state\.a\.b == 4" as \{"==":\[\{"var":"state\.a\.b"\},4\]\}$/ }]],
    ["a comparison as text, no spaces", "performance.avg_score>0.7", [{ path: "", message: /as \{">":\[\{"var":"performance\.avg_score"\},0\.7\]\}/ }]],
    ["contains as text", "tags~swiss", [{ path: "", message: /as \{"in":\["swiss",\{"var":"tags"\}\]\}/ }]],
    ["a rule sent as a JSON string", '{"==": [{"var": "a"}, 1]}', [{ path: "", message: /not text holding one: send \{"==":\[\{"var":"a"\},1\]\} itself, not as a string/ }]],
    ["a long text, shortened", "x".repeat(500), [{ path: "", message: /got the text "x+…$/ }]],
    // Operators spelled as other languages spell them, or mistyped: refused with the likely one.
    ["= for ==", { "=": [{ var: "a" }, 1] }, [{ path: "", message: /operator "=" is not allowed; did you mean "=="\?/ }]],
    ["=> for >=", { and: [{ "=>": [{ var: "a" }, 1] }] }, [{ path: "and.0", message: /"=>" is not allowed; did you mean ">="\?/ }]],
    ["&& for and", { "&&": [true, true] }, [{ path: "", message: /did you mean "and"\?/ }]],
    ["a misspelt var", { "==": [{ vra: "a" }, 1] }, [{ path: "==.0", message: /"vra" is not allowed; did you mean .*"var"/ }]],
    ["a capitalised operator", { Var: "a" }, [{ path: "", message: /did you mean "var"/ }]],
    ["missing misspelt", { mising: ["a"] }, [{ path: "", message: /did you mean "missing"\?/ }]],
    ["an operator with nothing close", { frobnicate: 1 }, [{ path: "", message: /^operator "frobnicate" is not allowed; allowed: / }]],
    ["nested logic with arrays", { and: [{ in: ["a", { var: "data.tags" }] }, { or: [false, { "<": [1, 2, 3] }] }] }, []],
    ["iteration", { some: [{ var: "data.list" }, { ">": [{ var: "" }, 1] }] }, []],
    ["a path that merely contains a forbidden word", { var: "data.my_constructor.prototypes" }, []],
    ["a forbidden word outside data access", { "==": [{ var: "data.kind" }, "constructor"] }, []],
    ["an unknown operator", { eval: "1" }, [{ path: "", message: /operator "eval" is not allowed/ }]],
    ["an engine operator left out", { throw: "x" }, [{ path: "", message: /operator "throw" is not allowed/ }]],
    ["an unknown operator deep inside", { and: [true, { or: [{ preserve: 1 }] }] }, [{ path: "and.1.or.0", message: /"preserve" is not allowed/ }]],
    ["two keys in one object", { "==": [1, 1], "!=": [1, 2] }, [{ path: "", message: /exactly one operator, found ==, !=/ }]],
    ["an empty object", { and: [{}] }, [{ path: "and.0", message: /exactly one operator, found none/ }]],
    [`depth ${RULE_LIMITS.maxDepth + 8}`, nested(RULE_LIMITS.maxDepth + 8), [{ path: /^!(\.!){32}$/, message: /deeper than 32 levels/ }]],
    ["a string over 4096 bytes", { "==": [{ var: "data.x" }, "x".repeat(4_097)] }, [{ path: "==.1", message: /longer than 4096 bytes/ }]],
    ["a multi-byte string over 4096 bytes in 2049 characters", { cat: ["é".repeat(2_049)] }, [{ path: "cat.0", message: /longer than 4096 bytes/ }]],
    ["var __proto__", { var: "__proto__" }, [{ path: "var", message: /reaches an object's prototype/ }]],
    ["var constructor", { var: "constructor" }, [{ path: "var", message: /reaches an object's prototype/ }]],
    ["var prototype deep in a path", { var: "data.x.prototype" }, [{ path: "var", message: /"data.x.prototype" reaches/ }]],
    ["var a.__proto__.x", { var: "a.__proto__.x" }, [{ path: "var", message: /"a.__proto__.x" reaches/ }]],
    ["var in array form", { var: ["constructor"] }, [{ path: "var.0", message: /reaches an object's prototype/ }]],
    ["var with a default", { var: ["data.__proto__", 1] }, [{ path: "var.0", message: /reaches/ }]],
    ["missing", { missing: ["__proto__"] }, [{ path: "missing.0", message: /reaches/ }]],
    ["missing_some", { missing_some: [1, ["a", "constructor"]] }, [{ path: "missing_some.1.1", message: /reaches/ }]],
    ["val segments", { val: ["data", "__proto__"] }, [{ path: "val.1", message: /reaches/ }]],
    ["exists", { exists: "constructor" }, [{ path: "exists", message: /reaches/ }]],
    ["a scope climb to __proto__", { map: [{ var: "data.list" }, { var: "../__proto__" }] }, [{ path: "map.1.var", message: /reaches/ }]],
    ["a forbidden path nested in logic", { and: [true, { "!": { var: "data.constructor" } }] }, [{ path: "and.1.!.var", message: /reaches/ }]],
  ])("%s", (_label, rule, expected) => {
    const issues = checkRule(rule);
    expect(issues).toHaveLength(expected.length);
    expected.forEach((want, i) => {
      if (typeof want.path === "string") expect(issues[i]!.path).toBe(want.path);
      else expect(issues[i]!.path).toMatch(want.path);
      expect(issues[i]!.message).toMatch(want.message);
    });
  });

  it(`stops at ${RULE_LIMITS.maxNodes} nodes`, () => {
    expect(checkRule({ and: Array<boolean>(RULE_LIMITS.maxNodes - 2).fill(true) })).toEqual([]);
    const issues = checkRule({ and: Array<boolean>(RULE_LIMITS.maxNodes - 1).fill(true) });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.message).toMatch(/more than 2000 nodes/);
  });

  it(`accepts ${RULE_LIMITS.maxDepth} nested operators and rejects ${RULE_LIMITS.maxDepth + 1}`, () => {
    // The argument of the n-th operator is at depth n.
    expect(checkRule(nested(RULE_LIMITS.maxDepth))).toEqual([]);
    expect(checkRule(nested(RULE_LIMITS.maxDepth + 1))).toHaveLength(1);
  });

  it("does not overflow the stack on a very deep rule", () => {
    expect(checkRule(nested(100_000))[0]?.message).toMatch(/deeper than/);
  });

  it("shows the caller's example when the mistake gives nothing better", () => {
    expect(checkRule(7, { var: "metadata.ready" })[0]!.message).toMatch(/such as \{"var":"metadata\.ready"\}; got the number 7/);
  });

  it("reports at most 10 issues", () => {
    const rule = { and: Array.from({ length: 50 }, () => ({ var: "__proto__" })) };
    expect(checkRule(rule)).toHaveLength(10);
  });
});

const context = {
  data: { n: 5, name: "x", tags: ["a", "b"], empty: [], list: [1, 2, 3] },
  event: "orchestration:tick",
  now: 1_700_000_000_000,
  state: { run_1: { status: "running", attempts: 2 }, run_2: { status: "done" } },
  agent_id: "agent-7",
};

describe("evaluateCondition", () => {
  const rows: [string, unknown, boolean][] = [
    ["state.run_1.status != done (running)", { "!=": [{ var: "state.run_1.status" }, "done"] }, true],
    ["state.run_2.status != done (done)", { "!=": [{ var: "state.run_2.status" }, "done"] }, false],
    ["state of a run that does not exist != done", { "!=": [{ var: "state.run_9.status" }, "done"] }, true],
    ["and: both true", { and: [{ "==": [{ var: "event" }, "orchestration:tick"] }, { "==": [{ var: "agent_id" }, "agent-7"] }] }, true],
    ["and: one false", { and: [true, { "==": [{ var: "agent_id" }, "agent-8"] }] }, false],
    ["or: one true", { or: [false, { "==": [{ var: "data.name" }, "x"] }] }, true],
    ["or: none true", { or: [false, 0, ""] }, false],
    ["if: then branch", { if: [{ ">": [{ var: "state.run_1.attempts" }, 1] }, "yes", ""] }, true],
    ["if: else branch", { if: [{ ">": [{ var: "state.run_1.attempts" }, 5] }, "yes", ""] }, false],
    ["in: array member", { in: ["b", { var: "data.tags" }] }, true],
    ["in: not a member", { in: ["z", { var: "data.tags" }] }, false],
    ["in: substring of the event", { in: ["tick", { var: "event" }] }, true],
    ["arithmetic: n + 1 == 6", { "==": [{ "+": [{ var: "data.n" }, 1] }, 6] }, true],
    ["arithmetic: n * 2 - 10 is 0, falsy", { "-": [{ "*": [{ var: "data.n" }, 2] }, 10] }, false],
    ["arithmetic on now", { ">": [{ var: "now" }, { "-": [1_700_000_000_001, 2] }] }, true],
    ["modulo", { "==": [{ "%": [{ var: "data.n" }, 2] }, 1] }, true],
    ["a missing var is null", { "==": [{ var: "data.nope" }, null] }, true],
    ["a missing var alone is falsy", { var: "data.nope.deeper" }, false],
    ["a missing var with a default", { var: ["data.nope", "fallback"] }, true],
    ["an empty array is falsy", { var: "data.empty" }, false],
    ["a non-empty array is truthy", { var: "data.tags" }, true],
    ["missing: nothing missing is falsy", { missing: ["data.n", "state.run_1.status"] }, false],
    ["missing: something missing is truthy", { missing: ["data.n", "data.nope"] }, true],
    ["! of an empty array", { "!": { var: "data.empty" } }, true],
    ["some over a list", { some: [{ var: "data.list" }, { ">": [{ var: "" }, 2] }] }, true],
    ["all over a list", { all: [{ var: "data.list" }, { ">": [{ var: "" }, 2] }] }, false],
    ["a literal false", false, false],
    ["a literal true", true, true],
    ["0 as an argument is falsy", { "!!": 0 }, false],
    ["a string as an argument is truthy", { "!!": "yes" }, true],
  ];
  it.each(rows.map(([label, rule, expected]) => [`${label} → ${expected}`, rule, expected] as const))("%s", (_label, rule, expected) => {
    expect(checkRule(rule)).toEqual([]);
    expect(evaluateCondition(rule, context)).toEqual({ value: expected });
    expect(compileRule(rule)(context)).toBe(expected);
  });

  it.each<[string, unknown, RegExp]>([
    ["a comparison of a string with a number", { ">": [{ var: "data.name" }, 1] }, /NaN/],
    ["division by zero", { "/": [1, 0] }, /NaN/],
    ["length of a number", { length: 5 }, /Invalid Arguments/],
    ["an operator checkRule would reject", { throw: "boom" }, /Unknown Operator/],
    ["a path computed at run time that reaches __proto__", { var: { cat: ["__pro", "to__"] } }, /reaches an object's prototype/],
  ])("a rule that fails at run time is false with an error: %s", (_label, rule, error) => {
    const verdict = evaluateCondition(rule, context);
    expect(verdict.value).toBe(false);
    expect(verdict.error).toMatch(error);
    expect(compileRule(rule)(context)).toBe(false);
  });

  it("a compiled rule still refuses a path computed at run time to reach a prototype, on every call", () => {
    const polluting = compileRule({ some: [[1, 2], { "==": [{ var: { cat: ["__pro", "to__.polluted"] } }, null] }] });
    for (let i = 0; i < 3; i++) expect(polluting({})).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

/** Every object reachable through own properties, with the path that reached it. */
function* reachable(value: unknown, path = "$", seen = new Set<unknown>()): Generator<[string, unknown]> {
  yield [path, value];
  if ((typeof value !== "object" && typeof value !== "function") || value === null || seen.has(value)) return;
  seen.add(value);
  for (const key of Reflect.ownKeys(value)) {
    const descriptor = Reflect.getOwnPropertyDescriptor(value, key)!;
    if ("value" in descriptor) yield* reachable(descriptor.value, `${path}.${String(key)}`, seen);
  }
}

const prototypes = new Set<unknown>([Object.prototype, Array.prototype, Function.prototype, String.prototype, Number.prototype, Boolean.prototype]);

describe("evaluateRule never hands out a prototype or a function", () => {
  it("{var: ''} is the context itself, and nothing reachable from it is a prototype or a function", () => {
    expect(checkRule({ var: "" })).toEqual([]);
    const result = evaluateRule({ var: "" }, context);
    expect(result).toBe(context);
    for (const [path, value] of reachable(result)) {
      expect(prototypes.has(value), path).toBe(false);
      expect(typeof value, path).not.toBe("function");
    }
  });

  it.each<[string, unknown]>([
    ["{var: ''}", { var: "" }],
    ["{val: []}", { val: [] }],
    ["an inherited method by var", { var: "data.toString" }],
    ["an inherited method by val", { val: ["data", "hasOwnProperty"] }],
    ["an inherited method by unary val", { val: "toString" }],
    ["an array method", { var: "data.list.map" }],
    ["a string method", { var: "data.name.toUpperCase" }],
    ["a computed var path to __proto__", { var: { cat: ["__pro", "to__"] } }],
    ["a computed var path below data", { var: { cat: ["data.", "const", "ructor"] } }],
    ["a computed val path", { val: { cat: ["__pro", "to__"] } }],
    ["computed val segments", { val: [{ cat: ["con", "structor"] }, { cat: ["proto", "type"] }] }],
    ["a computed method name", { val: { cat: ["toStr", "ing"] } }],
    ["a computed missing path", { missing: [{ cat: ["__pro", "to__", ".x"] }] }],
    ["a computed exists path", { exists: { cat: ["__pro", "to__"] } }],
    ["a computed scope climb in map", { map: [{ var: "data.list" }, { var: { cat: ["../", "__proto__"] } }] }],
    ["a merge of data", { merge: [{ var: "data.list" }, { var: "state.run_1" }] }],
    ["a filter returning items", { filter: [{ var: "data.tags" }, true] }],
  ])("%s", (_label, rule) => {
    expect(checkRule(rule)).toEqual([]);
    let result: unknown;
    try {
      result = evaluateRule(rule, context);
    } catch (err) {
      // Refusing at run time is fine; handing something out is not.
      expect(String((err as Error).message)).toMatch(/reaches an object's prototype/);
      return;
    }
    for (const [path, value] of reachable(result)) {
      expect(prototypes.has(value), path).toBe(false);
      expect(typeof value, path).not.toBe("function");
    }
  });
});

describe("compilePathRule", () => {
  const documents: Record<string, unknown>[] = [
    { name: "a", metadata: { tags: ["x", "y"], runs: 120 }, performance: { runs: 5 } },
    { name: "bb", metadata: { tags: null, runs: "120" } },
    { name: "ccc", metadata: null },
    { name: "d", metadata: { tags: "x", runs: 0 }, performance: { runs: null } },
    {},
  ];

  it.each<[string, unknown]>([
    ["membership and a comparison", { and: [{ in: ["x", { var: "metadata.tags" }] }, { ">": [{ var: "metadata.runs" }, 100] }] }],
    ["defaults: missing, intermediate null, explicit null", { "==": [{ var: ["performance.runs", 9] }, 9] }],
    ["a default on a list item", { "==": [{ var: ["metadata.tags.1", "none"] }, "none"] }],
    ["into a string", { ">": [{ var: "name.length" }, 1] }],
    ["the same path twice", { or: [{ "!": { var: "metadata.tags" } }, { "==": [{ var: "metadata.tags" }, "x"] }] }],
    ["no data at all", { "==": [1, 1] }],
  ])("%s: the same verdicts as the rule over whole documents", (_, rule) => {
    const byPaths = compilePathRule(rule)!;
    expect(byPaths).not.toBeNull();
    const whole = compileRule(rule);
    for (const document of documents) {
      expect(byPaths.holds(byPaths.paths.map((segments) => readPath(document, segments)))).toBe(whole(document));
    }
  });

  it.each<[string, unknown]>([
    ["an iterator (its vars read items)", { some: [{ var: "metadata.tags" }, { "==": [{ var: "" }, "x"] }] }],
    ["a computed path", { var: { cat: ["meta", "data"] } }],
    ["another data access", { missing: ["name"] }],
    ["val", { val: ["metadata", "tags"] }],
    ["a path with escapes", { var: "a\\.b" }],
    ["a rule as a default", { var: ["name", { cat: ["a", "b"] }] }],
  ])("is null for %s", (_, rule) => {
    expect(compilePathRule(rule)).toBeNull();
  });
});
