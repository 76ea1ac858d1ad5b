import { describe, expect, it } from "vitest";
import { annotationsFor, composeGetSchema, CURATED, NEVER_EXPOSED, toolName } from "./tools.js";

describe("the curated tools", () => {
  it("are named after their events in the form MCP allows, once each", () => {
    const names = CURATED.map((tool) => toolName(tool.event));
    for (const name of names) expect(name).toMatch(/^[a-zA-Z0-9_-]+$/);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain("composition_select");
  });

  it("never include what MCP must not reach", () => {
    for (const tool of CURATED) expect(NEVER_EXPOSED.has(tool.event)).toBe(false);
  });

  it("say when to use them and what they return", () => {
    for (const tool of CURATED) expect(tool.guide).toMatch(/^Use .*Returns /s);
  });
});

describe("annotationsFor", () => {
  it.each([
    ["read", true, false],
    ["write", false, false],
    ["destroy", false, true],
  ] as const)("%s → readOnlyHint %s, destructiveHint %s", (effect, readOnly, destructive) => {
    expect(annotationsFor(effect)).toMatchObject({ readOnlyHint: readOnly, destructiveHint: destructive, openWorldHint: false });
  });
});

describe("composeGetSchema", () => {
  it("adds compose's variables and strict to get's parameters, keeping get's own", () => {
    const get = { type: "object", properties: { name: { type: "string" }, format: { enum: ["json", "yaml"] } }, required: ["name"], additionalProperties: false };
    const compose = { type: "object", properties: { name: { type: "string" }, variables: { type: "object" }, strict: { type: "boolean", description: "fail when a placeholder is left" } } };
    const schema = composeGetSchema(get, compose) as { properties: Record<string, { description?: string }>; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(["name", "format", "variables", "strict"]);
    expect(schema.required).toEqual(["name"]);
    expect(schema.properties.variables!.description).toMatch(/composed/);
    expect(schema.properties.strict!.description).toMatch(/^fail when a placeholder is left; given, the pattern is composed/);
  });
});
