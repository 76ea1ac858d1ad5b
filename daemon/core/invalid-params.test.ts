import { describe, expect, it } from "vitest";
import { z } from "zod";
import { invalidParams } from "./invalid-params.js";

const params = z.strictObject({
  name: z.string(),
  parent: z.string(),
  rounds: z.number().int().optional(),
  format: z.enum(["yaml", "json"]).optional(),
  nested: z.strictObject({ deep: z.string(), plain: z.boolean() }).optional(),
  choice: z.union([z.string(), z.number()]).optional(),
});
const example = { name: "tournament", parent: "tournament@2.0.0", nested: { deep: "x" } };

function refuse(data: Record<string, unknown>) {
  const parsed = params.safeParse(data);
  if (parsed.success) throw new Error("expected the schema to refuse the data");
  return invalidParams("test:fork", parsed.error, data, example);
}

describe("invalidParams", () => {
  it.each<[string, Record<string, unknown>, { path: string; message: string }]>([
    ["a missing field with an example value", { parent: "p" }, { path: "name", message: 'name is required (e.g. "tournament")' }],
    ["a missing nested field with an example value", { name: "n", parent: "p", nested: { plain: true } }, { path: "nested.deep", message: 'nested.deep is required (e.g. "x")' }],
    ["a missing nested field without one", { name: "n", parent: "p", nested: { deep: "d" } }, { path: "nested.plain", message: "nested.plain is required" }],
    ["a wrong type: what was expected and what came", { name: 5, parent: "p" }, { path: "name", message: "expected string, received number" }],
    ["a null where text goes", { name: null, parent: "p" }, { path: "name", message: "expected string, received null" }],
    ["a whole number expected", { name: "n", parent: "p", rounds: 1.5 }, { path: "rounds", message: expect.stringMatching(/int/) }],
    ["an enum value", { name: "n", parent: "p", format: "xml" }, { path: "format", message: expect.stringContaining('"yaml"') }],
    ["an unknown key", { name: "n", parent: "p", extra: 1 }, { path: "", message: expect.stringContaining("extra") }],
  ])("%s", (_label, data, issue) => {
    const error = refuse(data);
    expect(error.code).toBe("invalid_params");
    expect((error.details as { issues: unknown[] }).issues[0]).toEqual(issue);
    expect(error.message).not.toContain("Invalid input: expected");
  });

  it("a message led by a missing field names it once, then lists the other fields", () => {
    const error = refuse({});
    expect(error.message).toBe('invalid data for test:fork: name is required (e.g. "tournament") (and 1 more: parent)');
    expect(error.details).toEqual({
      issues: [
        { path: "name", message: 'name is required (e.g. "tournament")' },
        { path: "parent", message: 'parent is required (e.g. "tournament@2.0.0")' },
      ],
    });
  });

  it("a message led by a wrong value says where it is", () => {
    expect(refuse({ name: 5, parent: "p" }).message).toBe('invalid data for test:fork at "name": expected string, received number');
  });
});
