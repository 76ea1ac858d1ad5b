import { describe, expect, it } from "vitest";
import { checkSchema, validate } from "./json-schema.js";

describe("checkSchema: what a handler may register", () => {
  it.each([
    [{}, []],
    [{ type: "object", properties: { n: { type: "integer", minimum: 0 } }, required: ["n"], additionalProperties: false }, []],
    [{ type: "object", title: "t", description: "d", $schema: "https://json-schema.org/draft/2020-12/schema", properties: { s: { type: "string", format: "email" } } }, []],
    [{ properties: { a: { anyOf: [{ type: "string" }, { type: "null" }] }, b: { type: "array", items: { enum: [1, 2] }, maxItems: 3 } } }, []],
  ])("accepts %j", (schema, issues) => {
    expect(checkSchema(schema)).toEqual(issues);
  });

  it.each([
    [{ type: "string" }, "type", /always an object/],
    [{ properties: { s: { type: "string", pattern: "^(a+)+$" } } }, "properties.s.pattern", /regular expressions/],
    [{ $ref: "#/defs/x" }, "$ref", /unsupported keyword \$ref/],
    [{ properties: { n: { type: "int" } } }, "properties.n.type", /type is one of/],
    [{ required: "n" }, "required", /list of property names/],
    [{ properties: { n: { minimum: "0" } } }, "properties.n.minimum", /is a number/],
    [{ properties: { n: { maxLength: -1 } } }, "properties.n.maxLength", /whole number/],
    [{ anyOf: [] }, "anyOf", /non-empty list/],
    [{ enum: [] }, "enum", /non-empty list/],
    [{ properties: { n: 5 } }, "properties.n", /a schema is an object/],
    ["object", "", /a schema is an object/],
  ])("refuses %j at %s", (schema, path, message) => {
    const issues = checkSchema(schema);
    expect(issues[0]?.path).toBe(path);
    expect(issues[0]?.message).toMatch(message);
  });

  it("refuses schemas nested absurdly deep", () => {
    let schema: Record<string, unknown> = { type: "string" };
    for (let i = 0; i < 40; i++) schema = { type: "object", properties: { a: schema } };
    expect(checkSchema(schema).some((issue) => /nest at most/.test(issue.message))).toBe(true);
  });
});

const SCORE = {
  type: "object",
  properties: {
    text: { type: "string", minLength: 1, maxLength: 5 },
    score: { type: "number", minimum: 0, maximum: 1 },
    n: { type: "integer", exclusiveMinimum: 0, multipleOf: 2 },
    tags: { type: "array", items: { type: "string" }, uniqueItems: true, minItems: 1 },
    mode: { enum: ["fast", "slow"] },
    fixed: { const: { a: 1 } },
    either: { oneOf: [{ type: "string" }, { type: "integer" }] },
    never: false,
    not_null: { not: { type: "null" } },
    nested: { type: "object", properties: { x: { type: "boolean" } }, additionalProperties: { type: "number" } },
  },
  required: ["text"],
  additionalProperties: false,
};

describe("validate", () => {
  it.each([
    [{ text: "hi" }, []],
    [{ text: "hi", score: 0.5, n: 4, tags: ["a", "b"], mode: "fast", fixed: { a: 1 }, either: 3, not_null: 0, nested: { x: true, y: 2 } }, []],
    [{}, [{ path: "text", message: "text is required" }]],
    [{ text: 5 }, [{ path: "text", message: "expected string, got an integer" }]],
    [{ text: "" }, [{ path: "text", message: "must have at least 1 characters" }]],
    [{ text: "toolong" }, [{ path: "text", message: "must have at most 5 characters" }]],
    [{ text: "ok", score: 2 }, [{ path: "score", message: "must be ≤ 1" }]],
    [{ text: "ok", n: 0 }, [{ path: "n", message: "must be > 0" }]],
    [{ text: "ok", n: 3 }, [{ path: "n", message: "must be a multiple of 2" }]],
    [{ text: "ok", n: 2.5 }, [{ path: "n", message: "expected integer, got a number" }]],
    [{ text: "ok", tags: [] }, [{ path: "tags", message: "must have at least 1 items" }]],
    [{ text: "ok", tags: ["a", "a"] }, [{ path: "tags", message: "items must be unique" }]],
    [{ text: "ok", tags: ["a", 1] }, [{ path: "tags.1", message: "expected string, got an integer" }]],
    [{ text: "ok", mode: "medium" }, [{ path: "mode", message: 'expected one of "fast", "slow"' }]],
    [{ text: "ok", fixed: { a: 2 } }, [{ path: "fixed", message: 'expected {"a":1}' }]],
    [{ text: "ok", either: true }, [{ path: "either", message: "must match exactly one of the allowed forms (oneOf)" }]],
    [{ text: "ok", never: 1 }, [{ path: "never", message: "no value is allowed here" }]],
    [{ text: "ok", not_null: null }, [{ path: "not_null", message: "matches a form that is not allowed (not)" }]],
    [{ text: "ok", nested: { x: 1, y: "z" } }, [{ path: "nested.x", message: "expected boolean, got an integer" }, { path: "nested.y", message: "expected number, got a string" }]],
    [{ text: "ok", extra: 1 }, [{ path: "extra", message: "unknown key extra" }]],
  ])("%j", (value, issues) => {
    expect(validate(SCORE, value)).toEqual(issues);
  });

  it("enum and const compare JSON values, not object identity or key order", () => {
    expect(validate({ enum: [{ a: 1, b: 2 }] }, { b: 2, a: 1 })).toEqual([]);
  });

  it("counts characters, not UTF-16 units", () => {
    expect(validate({ type: "string", maxLength: 2 }, "😀😀")).toEqual([]);
  });
});
