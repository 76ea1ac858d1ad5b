import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parameterTable, type Parameter } from "./parameters.js";

/** The table of one parameter `p`, from a zod schema as the registry turns it into JSON Schema. */
function tableOf(param: z.ZodType, optional = false): Parameter {
  const params = z.strictObject({ p: optional ? param.optional() : param });
  const schema = z.toJSONSchema(params, { io: "input", unrepresentable: "any" });
  return parameterTable(schema).p!;
}

describe("parameterTable: KSI's discovery shape from JSON Schema", () => {
  it.each<[string, z.ZodType, Parameter]>([
    ["a string", z.string(), { type: "str", required: true }],
    ["a string with limits and a description", z.string().min(1).max(64).describe("the name"), { type: "str", required: true, description: "the name", min_length: 1, max_length: 64 }],
    ["a regex is left out (JavaScript's dialect, not Python's)", z.string().regex(/^[a-z]+$/), { type: "str", required: true }],
    ["an integer with bounds", z.number().int().min(1).max(1000), { type: "int", required: true, min: 1, max: 1000 }],
    ["an integer without an upper bound says none", z.number().int().min(0), { type: "int", required: true, min: 0 }],
    ["a number 0..1", z.number().min(0).max(1), { type: "float", required: true, min: 0, max: 1 }],
    ["a boolean", z.boolean(), { type: "bool", required: true }],
    ["a list with a size limit", z.array(z.string()).min(1).max(8), { type: "list", required: true, min_items: 1, max_items: 8 }],
    ["a map", z.record(z.string(), z.unknown()), { type: "dict", required: true }],
    ["an enum gives its allowed values", z.enum(["json", "yaml"]), { type: "str", required: true, allowed_values: ["json", "yaml"] }],
    ["a default makes it optional and is shown", z.number().int().default(5), { type: "int", required: false, default: 5 }],
    ["a union of types", z.union([z.string(), z.number()]), { type: "str|float", required: true }],
    ["several JSON types", z.union([z.record(z.string(), z.unknown()), z.boolean()]), { type: "dict|bool", required: true }],
    ["anything", z.unknown(), { type: "Any", required: true }],
    ["a nullable string", z.string().nullable(), { type: "str|None", required: true }],
  ])("%s", (_label, param, expected) => {
    expect(tableOf(param)).toEqual(expected);
  });

  it("optional parameters are not required", () => {
    expect(tableOf(z.string(), true)).toEqual({ type: "str", required: false });
  });

  it("every property, in order; none for a schema without properties", () => {
    const schema = z.toJSONSchema(z.strictObject({ b: z.string(), a: z.number().optional() }), { io: "input" });
    expect(Object.keys(parameterTable(schema))).toEqual(["b", "a"]);
    expect(parameterTable({ type: "object" })).toEqual({});
  });
});
