import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ruleParam } from "./rule-param.js";

const plain = z.strictObject({ rule: ruleParam({ example: { var: "ready" } }).optional() });
const hinted = z.strictObject({
  rule: ruleParam({ example: { var: "ready" }, comparisonHint: ({ path }, text) => `see ${path} in ${text}` }).optional(),
});

function issues(schema: z.ZodType, rule: unknown): { path: string; message: string }[] {
  const parsed = schema.safeParse({ rule });
  return parsed.success ? [] : parsed.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
}

describe("ruleParam", () => {
  it.each<[string, unknown]>([
    ["true", true],
    ["false", false],
    ["a comparison", { "==": [{ var: "a.b" }, 4] }],
    ["logic over comparisons", { and: [{ ">": [{ var: "x" }, 1] }, { in: ["t", { var: "tags" }] }] }],
  ])("accepts %s", (_label, rule) => {
    expect(issues(plain, rule)).toEqual([]);
  });

  it.each<[string, unknown, string, RegExp]>([
    ["text", "anything", "rule", /such as \{"var":"ready"\}; got the text "anything"/],
    ["a comparison as text", "a.b == 4", "rule", /not text: write "a\.b == 4" as \{"==":\[\{"var":"a\.b"\},4\]\}$/],
    ["a number", 1, "rule", /got the number 1/],
    ["a list", [true], "rule", /got a list/],
    ["null", null, "rule", /got null/],
    ["an unknown operator, nested", { and: [{ "=": [1, 1] }] }, "rule.and.0", /operator "=" is not allowed; did you mean "=="\?/],
  ])("refuses %s, at its path", (_label, rule, path, message) => {
    const found = issues(plain, rule);
    expect(found).toHaveLength(1);
    expect(found[0]!.path).toBe(path);
    expect(found[0]!.message).toMatch(message);
  });

  it("adds the parameter's own advice to a comparison sent as text, and only there", () => {
    expect(issues(hinted, "x>1")[0]!.message).toMatch(/as \{">":\[\{"var":"x"\},1\]\}; see x in x>1$/);
    expect(issues(hinted, "plain")[0]!.message).not.toMatch(/see/);
    expect(issues(hinted, 3)[0]!.message).not.toMatch(/see/);
  });

  it("describes itself as an object or boolean in the json-logic format", () => {
    const schema = z.toJSONSchema(plain, { io: "input", unrepresentable: "any" }) as { properties: Record<string, unknown> };
    expect(schema.properties.rule).toEqual({ type: ["object", "boolean"], format: "json-logic" });
  });
});
