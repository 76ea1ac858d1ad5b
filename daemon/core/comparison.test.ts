import { describe, expect, it } from "vitest";
import { comparisonRule, parseComparison, type Comparison } from "./comparison.js";

describe("parseComparison", () => {
  it.each<[string, Comparison]>([
    ["performance.avg_score>0.7", { path: "performance.avg_score", op: ">", value: 0.7 }],
    ["performance.runs >= 10", { path: "performance.runs", op: ">=", value: 10 }],
    ["x<=3", { path: "x", op: "<=", value: 3 }],
    ["x<-1", { path: "x", op: "<", value: -1 }],
    ["author!=orch_7f3e", { path: "author", op: "!=", value: "orch_7f3e" }],
    ['version=="2.0.0"', { path: "version", op: "==", value: "2.0.0" }],
    ["tags=tournament", { path: "tags", op: null, value: "tournament" }],
    ["description~blind judges", { path: "description", op: "contains", value: "blind judges" }],
    ["expr=a=b", { path: "expr", op: null, value: "a=b" }],
    ["band=rock and roll", { path: "band", op: null, value: "rock and roll" }],
    // Text that starts with an operator, quoted as JSON, is taken as it is.
    ['note=">1"', { path: "note", op: null, value: ">1" }],
    ['x>"=y"', { path: "x", op: ">", value: "=y" }],
    ['cmd="a && b"', { path: "cmd", op: null, value: "a && b" }],
  ])("%s", (text, expected) => {
    expect(parseComparison(text)).toEqual({ ok: true, comparison: expected });
  });

  it.each<[string, RegExp]>([
    // A doubled or misspelt operator: the second half would be compared as text.
    ["a>>0.7", /the value ">0.7" after > starts with an operator character: one operator per comparison \(quote text that starts with one as JSON: a>'">0.7"'\)/],
    ["a=>1", /the value ">1" after = starts with an operator/],
    ["a=<1", /the value "<1" after = starts/],
    ["a<>1", /the value ">1" after < starts/],
    ["a===1", /the value "=1" after == starts/],
    ["a = = 1", /the value "= 1" after = starts/],
    ["a~=x", /the value "=x" after ~ starts/],
    ["a=!draft", /the value "!draft" after = starts/],
    // Two comparisons in one.
    ["a>1 && b<2", /the value "1 && b<2" joins another comparison on/],
    ["a>1 || b<2", /joins another comparison on/],
    ["a>1 and b<2", /joins another comparison on/],
    ["a>1 OR b=2", /joins another comparison on/],
    // No comparison at all.
    ["a<", /^no value after </],
    ["a=", /^no value after =/],
    [">1", /^not a comparison$/],
    ["=1", /^not a comparison$/],
    ["a", /^not a comparison$/],
    ["x!1", /^not a comparison$/],
    ["two words>1", /^not a comparison$/],
    ['{"==": [1, 1]}', /^not a comparison$/],
    ["tags[0]=x", /^not a comparison$/],
    ["a..b>1", /"a\.\.b" is not a dotted path/],
    [".a=1", /is not a dotted path/],
    ["__proto__>1", /is not a usable path/],
    ["metadata.constructor=1", /is not a usable path/],
  ])("refuses %j", (text, problem) => {
    const parsed = parseComparison(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatch(problem);
  });
});

describe("comparisonRule", () => {
  it.each<[string, unknown]>([
    ["state.a.b == 4", { "==": [{ var: "state.a.b" }, 4] }],
    ["performance.avg_score>0.7", { ">": [{ var: "performance.avg_score" }, 0.7] }],
    ["x<=3", { "<=": [{ var: "x" }, 3] }],
    ["status!=done", { "!=": [{ var: "status" }, "done"] }],
    ["tags=tournament", { "==": [{ var: "tags" }, "tournament"] }],
    ["tags~swiss", { in: ["swiss", { var: "tags" }] }],
  ])("%s", (text, rule) => {
    const parsed = parseComparison(text);
    if (!parsed.ok) throw new Error(parsed.problem);
    expect(comparisonRule(parsed.comparison)).toEqual(rule);
  });
});
