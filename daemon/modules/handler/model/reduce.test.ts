import { describe, expect, it } from "vitest";
import { isDecided, parseReducer, reduce, REDUCE_PATTERN, type CollectedResponse } from "./reduce.js";

const ok = (handler_id: string, data: unknown): CollectedResponse => ({ handler_id, ok: true, data, ms: 1 });
const failed = (handler_id: string): CollectedResponse => ({ handler_id, ok: false, error: { code: "handler_failed", message: "no" }, ms: 1 });

describe("REDUCE_PATTERN and parseReducer", () => {
  it.each([
    ["all", { kind: "all" }],
    ["first", { kind: "first" }],
    ["highest:score", { kind: "highest", path: ["score"] }],
    ["majority:verdict.label", { kind: "majority", path: ["verdict", "label"] }],
  ])("%s parses", (text, reducer) => {
    expect(REDUCE_PATTERN.test(text)).toBe(true);
    expect(parseReducer(text)).toEqual(reducer);
  });

  it.each(["", "any", "highest", "highest:", "highest:a..b", "majority:.a", "lowest:score", "first:x"])("%j is refused", (text) => {
    expect(REDUCE_PATTERN.test(text)).toBe(false);
  });
});

describe("reduce", () => {
  it.each([
    { reducer: "all", responses: [ok("a", 1), failed("b"), ok("c", 3)], reduced: [1, 3] },
    { reducer: "all", responses: [failed("a")], reduced: [] },
    { reducer: "first", responses: [failed("a"), ok("b", { x: 1 }), ok("c", 2)], reduced: { handler_id: "b", data: { x: 1 } } },
    { reducer: "first", responses: [failed("a")], reduced: undefined },
    {
      reducer: "highest:score",
      responses: [ok("a", { score: 0.2 }), ok("b", { score: 0.9 }), ok("c", { score: 0.5 })],
      reduced: { handler_id: "b", data: { score: 0.9 }, value: 0.9 },
    },
    {
      reducer: "highest:score",
      responses: [ok("a", { score: 0.9 }), ok("b", { score: 0.9 })],
      reduced: { handler_id: "a", data: { score: 0.9 }, value: 0.9 },
    },
    { reducer: "highest:score", responses: [ok("a", { score: "high" }), ok("b", {}), failed("c")], reduced: undefined },
    {
      reducer: "highest:eval.score",
      responses: [ok("a", { eval: { score: 3 } }), ok("b", { eval: { score: 7 } }), ok("c", { eval: null })],
      reduced: { handler_id: "b", data: { eval: { score: 7 } }, value: 7 },
    },
    {
      reducer: "majority:pick",
      responses: [ok("a", { pick: "x" }), ok("b", { pick: "y" }), ok("c", { pick: "x" })],
      reduced: { value: "x", votes: 2, of: 3, handler_ids: ["a", "c"] },
    },
    {
      reducer: "majority:pick",
      responses: [ok("a", { pick: { b: 1, a: 2 } }), ok("b", { pick: { a: 2, b: 1 } }), failed("c")],
      reduced: { value: { b: 1, a: 2 }, votes: 2, of: 2, handler_ids: ["a", "b"] },
    },
    { reducer: "majority:pick", responses: [ok("a", { pick: "x" }), ok("b", { pick: "y" })], reduced: undefined },
    { reducer: "majority:pick", responses: [ok("a", {}), ok("b", { pick: "y" })], reduced: { value: "y", votes: 1, of: 1, handler_ids: ["b"] } },
  ])("$reducer over $responses.length responses", ({ reducer, responses, reduced }) => {
    expect(reduce(parseReducer(reducer), responses)).toEqual(reduced);
  });
});

describe("isDecided: only first ends a collect early", () => {
  it.each([
    { reducer: "first", responses: [failed("a")], decided: false },
    { reducer: "first", responses: [failed("a"), ok("b", 1)], decided: true },
    { reducer: "all", responses: [ok("a", 1)], decided: false },
    { reducer: "highest:s", responses: [ok("a", { s: 1 })], decided: false },
  ])("$reducer", ({ reducer, responses, decided }) => {
    expect(isDecided(parseReducer(reducer), responses)).toBe(decided);
  });
  it("no reducer never decides early", () => expect(isDecided(undefined, [ok("a", 1)])).toBe(false));
});
