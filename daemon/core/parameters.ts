/**
 * An event's parameters as a flat table, `{<name>: {type, required,
 * description?, ...}}`, from its JSON Schema (pure): the shape KSI's
 * daemon answers in system:discover, which KSI's own client reads to
 * document an event and check a call before sending it (SPEC §3).
 *
 * Types are KSI's Python names (str, int, float, bool, list, dict; `a|b`
 * for a union, which KSI's client does not check; Any when the schema says
 * nothing). Limits keep KSI's names (min_length, max_length, min, max,
 * min_items, max_items, allowed_values). A regex `pattern` is left out: it
 * is written for JavaScript and KSI's client would run it with Python's
 * `re`; the daemon checks it anyway.
 */

export interface Parameter {
  type: string;
  required: boolean;
  description?: string;
  default?: unknown;
  allowed_values?: string[];
  min_length?: number;
  max_length?: number;
  min?: number;
  max?: number;
  min_items?: number;
  max_items?: number;
}

type Schema = Record<string, unknown>;

const PYTHON_TYPES: Record<string, string> = {
  string: "str",
  integer: "int",
  number: "float",
  boolean: "bool",
  array: "list",
  object: "dict",
  null: "None",
};

/** The parameter table of an object schema's properties; empty when it has none. */
export function parameterTable(schema: Schema): Record<string, Parameter> {
  const properties = isSchema(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  const table: Record<string, Parameter> = {};
  for (const [name, property] of Object.entries(properties)) {
    if (isSchema(property)) table[name] = parameter(property, required.has(name));
  }
  return table;
}

function parameter(schema: Schema, required: boolean): Parameter {
  const entry: Parameter = { type: typeName(schema), required };
  if (typeof schema.description === "string") entry.description = schema.description;
  if (Object.hasOwn(schema, "default")) entry.default = schema.default;
  if (Array.isArray(schema.enum) && schema.enum.every((value) => typeof value === "string")) entry.allowed_values = schema.enum;
  const limits: [keyof Parameter, string][] = [
    ["min_length", "minLength"],
    ["max_length", "maxLength"],
    ["min", "minimum"],
    ["max", "maximum"],
    ["min_items", "minItems"],
    ["max_items", "maxItems"],
  ];
  for (const [ours, theirs] of limits) {
    const value = schema[theirs];
    // Number.MAX_SAFE_INTEGER and the like say "no limit" in JSON Schema: not worth a line.
    if (typeof value === "number" && Number.isFinite(value) && Math.abs(value) < Number.MAX_SAFE_INTEGER) (entry as unknown as Schema)[ours] = value;
  }
  return entry;
}

function typeName(schema: Schema): string {
  const types = new Set<string>();
  collectTypes(schema, types);
  if (types.size === 0 || types.has("Any")) return "Any";
  return [...types].join("|");
}

function collectTypes(schema: Schema, into: Set<string>): void {
  if (Array.isArray(schema.enum)) {
    for (const value of schema.enum) into.add(value === null ? "None" : (PYTHON_TYPES[typeof value === "number" ? "number" : typeof value] ?? "Any"));
    return;
  }
  const declared = typeof schema.type === "string" ? [schema.type] : Array.isArray(schema.type) ? schema.type : [];
  for (const type of declared) into.add(typeof type === "string" ? (PYTHON_TYPES[type] ?? "Any") : "Any");
  const alternatives = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : [];
  for (const alternative of alternatives) if (isSchema(alternative)) collectTypes(alternative, into);
  if (declared.length === 0 && alternatives.length === 0) into.add("Any");
}

function isSchema(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
