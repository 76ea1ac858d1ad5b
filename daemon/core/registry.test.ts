import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineEvent, type EventDef } from "./event.js";
import { Registry } from "./registry.js";

const noop = () => ({});

function event(name: string, params: z.ZodType = z.strictObject({})): EventDef {
  return defineEvent({ name, summary: `${name} summary`, params, handler: noop });
}

describe("Registry", () => {
  it("refuses an event registered twice", () => {
    const registry = new Registry();
    registry.add(event("a:one"));
    expect(() => registry.add(event("a:one"))).toThrow(/twice/);
  });

  it("lists events sorted, optionally by namespace (whole segment only)", () => {
    const registry = new Registry();
    for (const name of ["b:two", "a:two", "ab:one", "a:one"]) registry.add(event(name));
    expect(registry.names()).toEqual(["a:one", "a:two", "ab:one", "b:two"]);
    expect(registry.list("a").map((def) => def.name)).toEqual(["a:one", "a:two"]);
    expect(registry.list().map((def) => def.name)).toEqual(["a:one", "a:two", "ab:one", "b:two"]);
    expect(registry.list("c")).toEqual([]);
    expect(registry.get("a:one")?.name).toBe("a:one");
    expect(registry.get("a:three")).toBeUndefined();
  });

  it("suggests close names for a typo", () => {
    const registry = new Registry();
    for (const name of ["monitor:subscribe", "monitor:unsubscribe", "system:health"]) registry.add(event(name));
    expect(registry.suggestionsFor("monitor:subscrbe")).toContain("monitor:subscribe");
    expect(registry.suggestionsFor("system:helth")).toEqual(["system:health"]);
  });
});

describe("Registry.jsonSchema: what a client must send (zod input side)", () => {
  const params = z.strictObject({
    name: z.string().min(1),
    limit: z.number().int().min(1).max(100).default(10),
    format: z.enum(["json", "yaml"]).optional(),
    nested: z.strictObject({ deep: z.boolean().default(false), need: z.string() }).optional(),
    when: z
      .string()
      .transform((s) => s.length)
      .optional(),
  });
  const registry = new Registry();
  const def = event("x:get", params);
  registry.add(def);
  const schema = registry.jsonSchema(def) as {
    type: string;
    required?: string[];
    additionalProperties?: unknown;
    properties: Record<string, Record<string, unknown> & { required?: string[]; additionalProperties?: unknown }>;
    $schema?: string;
  };

  it.each<[string, () => unknown, unknown]>([
    ["is an object", () => schema.type, "object"],
    ["requires only fields without defaults", () => schema.required, ["name"]],
    ["rejects unknown keys (strict object)", () => schema.additionalProperties, false],
    ["nested strict objects reject unknown keys", () => schema.properties.nested!.additionalProperties, false],
    ["nested defaults are not required", () => schema.properties.nested!.required, ["need"]],
    ["keeps the default value", () => schema.properties.limit!.default, 10],
    ["keeps the bounds", () => [schema.properties.limit!.minimum, schema.properties.limit!.maximum], [1, 100]],
    ["keeps enums", () => schema.properties.format!.enum, ["json", "yaml"]],
    ["describes a transform by its input type", () => schema.properties.when!.type, "string"],
    ["drops the $schema key", () => "$schema" in schema, false],
  ])("%s", (_name, pick, expected) => {
    expect(pick()).toEqual(expected);
  });

  it("computes the schema once and describes the event with it", () => {
    expect(registry.jsonSchema(def)).toBe(schema);
    expect(registry.describe(def)).toEqual({ event: "x:get", summary: "x:get summary", effect: "write", parameters: expect.any(Object), params: schema });
  });

  it("gives the effect an event declares; one that does not say counts as a write", () => {
    const reader = defineEvent({ name: "x:read", summary: "s", effect: "read", params: z.strictObject({}), handler: noop });
    const remover = defineEvent({ name: "x:drop", summary: "s", effect: "destroy", params: z.strictObject({}), handler: noop });
    expect([reader, remover, event("x:write")].map((def) => registry.describe(def).effect)).toEqual(["read", "destroy", "write"]);
  });

  it("describes the parameters as KSI's table beside the JSON Schema", () => {
    const { parameters } = registry.describe(def);
    expect(parameters.name).toEqual({ type: "str", required: true, min_length: 1 });
    expect(parameters.limit).toEqual({ type: "int", required: false, default: 10, min: 1, max: 100 });
    expect(parameters.format).toMatchObject({ type: "str", required: false, allowed_values: ["json", "yaml"] });
  });
});

describe("Registry.describeByNamespace: system:discover's shape", () => {
  it("groups events by namespace, each sorted; one namespace when asked; none for an unknown one", () => {
    const registry = new Registry();
    for (const name of ["b:two", "a:two", "ab:one", "a:one"]) registry.add(event(name));
    const all = registry.describeByNamespace();
    expect(Object.keys(all).sort()).toEqual(["a", "ab", "b"]);
    expect(all.a!.map((e) => e.event)).toEqual(["a:one", "a:two"]);
    expect(all.a![0]).toEqual({ event: "a:one", summary: "a:one summary", effect: "write", parameters: {}, params: registry.jsonSchema(registry.get("a:one")!) });
    expect(Object.keys(registry.describeByNamespace("a"))).toEqual(["a"]);
    expect(registry.describeByNamespace("c")).toEqual({});
  });
});
