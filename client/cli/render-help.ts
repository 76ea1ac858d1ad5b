/**
 * `pat help EVENT` on a terminal: what system:help answers, as a page (pure).
 * Params as `--name` lines typed for a person (enum values, what an
 * any-typed param takes), the reply's fields, then one example to paste.
 */

export interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  format?: string;
  /** "dotted-paths": a map whose keys are dotted paths. */
  "x-keys"?: string;
}

export interface HelpResult {
  event: string;
  summary: string;
  description: string;
  params: JsonSchema;
  /** The reply's JSON Schema; absent for an event a connected handler answers. */
  result?: JsonSchema;
  example: { event: string; data: unknown };
}

export function renderHelp(help: HelpResult): string {
  const lines = [`${help.event} — ${help.summary}`];
  if (help.description !== help.summary) lines.push("", help.description);
  const properties = Object.entries(help.params.properties ?? {});
  lines.push("", properties.length === 0 ? "params: none" : "params:");
  const width = Math.max(0, ...properties.map(([name]) => name.length));
  for (const [name, schema] of properties) {
    const required = help.params.required?.includes(name) ? " (required)" : "";
    const fallback = schema.default === undefined ? "" : ` [default ${JSON.stringify(schema.default)}]`;
    const type = typeName(schema);
    const described = schema.description ?? schema.items?.description;
    // An object param shows its fields (--collect: {max, wait_ms, reduce}); a description saying only the type is left out.
    const notes = [described === type ? undefined : described, fieldsOf(schema)].filter((note) => note !== undefined).join("; ");
    lines.push(`  --${name.padEnd(width)}  ${type}${required}${fallback}${notes === "" ? "" : `  ${notes}`}`);
  }
  if (help.result !== undefined) lines.push("", ...renderReply(help.result));
  lines.push("", "example:", `  pat send ${help.example.event} ${shellQuote(JSON.stringify(help.example.data))}`);
  return lines.join("\n");
}

/** The reply's fields, `name?` when a reply may leave it out; a reply of several shapes lists each under what tells it apart. */
function renderReply(result: JsonSchema): string[] {
  const alternatives = result.anyOf ?? result.oneOf;
  if (alternatives === undefined) return ["reply:", ...fieldLines(result, "  ")];
  return ["reply, one of:", ...alternatives.flatMap((alternative) => [`  ${alternative.description ?? "otherwise"}:`, ...fieldLines(alternative, "    ")])];
}

function fieldLines(schema: JsonSchema, indent: string): string[] {
  const fields = Object.entries(schema.properties ?? {}).map(([name, field]) => [schema.required?.includes(name) ? name : `${name}?`, field] as const);
  if (fields.length === 0) return [`${indent}${typeName(schema)}`];
  const width = Math.max(...fields.map(([name]) => name.length));
  const typeWidth = Math.max(...fields.map(([, field]) => typeName(field).length));
  return fields.map(([name, field]) => {
    const notes = [field.description, fieldsOf(field)].filter((note) => note !== undefined).join("; ");
    return `${indent}${name.padEnd(width)}  ${notes === "" ? typeName(field) : `${typeName(field).padEnd(typeWidth)}  ${notes}`}`.trimEnd();
  });
}

/** A nested object's field names (an array's items'), so the shape shows without a page per level. */
function fieldsOf(schema: JsonSchema): string | undefined {
  const properties = schema.properties ?? schema.items?.properties;
  if (properties === undefined) return undefined;
  return `${schema.items === undefined ? "" : "each "}{${Object.keys(properties).join(", ")}}`;
}

/** Single-quoted for a POSIX shell, so the line can be pasted as it is. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, "'\\''")}'`;
}

/** What a value must be, said for a person: enum values by name, and what an open param takes. */
export function typeName(schema: JsonSchema): string {
  if (schema.format === "json-logic") return "JSON Logic rule (object or true/false)";
  if (schema.enum !== undefined) return `one of ${schema.enum.map(literal).join(", ")}`;
  if (schema.const !== undefined) return literal(schema.const);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives !== undefined) return isAnyJson(alternatives) ? "any JSON value" : alternatives.map(typeName).join(" | ");
  if (schema.type === undefined) return "any JSON value";
  const type = Array.isArray(schema.type) ? schema.type.join(" | ") : schema.type;
  if (type === "array") return schema.items === undefined ? "array" : `array of ${typeName(schema.items)}`;
  if (type === "object" && schema.properties === undefined) {
    if (schema["x-keys"] === "dotted-paths") return "object {dotted.path: value}";
    return typeof schema.additionalProperties === "object" && schema.additionalProperties.type !== undefined
      ? `object {key: ${typeName(schema.additionalProperties)}}`
      : "JSON object";
  }
  return type;
}

function literal(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** zod's z.json() comes out as every JSON type side by side: one word for it. */
function isAnyJson(alternatives: readonly JsonSchema[]): boolean {
  const types = new Set(alternatives.flatMap((a) => (Array.isArray(a.type) ? a.type : a.type === undefined ? [] : [a.type])));
  return ["string", "number", "boolean", "null", "array", "object"].every((type) => types.has(type));
}
