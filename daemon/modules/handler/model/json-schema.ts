/**
 * A small, safe subset of JSON Schema (pure): what a handler may register as
 * its event's `params` (issue 14), checked once at registration and then
 * used to validate every caller's data.
 *
 * Why not a library: ajv, the usual choice, compiles schemas with
 * `new Function`, which this daemon does not run on input from clients.
 * Interpreting a schema is a few dozen lines for the keywords callers need.
 *
 * Supported: type (one or a list), enum, const, properties, required,
 * additionalProperties (boolean or schema), items (one schema),
 * minItems/maxItems, uniqueItems, minLength/maxLength, minimum/maximum,
 * exclusiveMinimum/exclusiveMaximum (numbers), multipleOf, anyOf, oneOf,
 * allOf, not; annotations ($schema, $id, $comment, title, description,
 * default, examples, deprecated, readOnly, writeOnly, format) are kept and
 * not checked. Anything else — `pattern` (a client's regular expression
 * could stall the daemon), `$ref`, `if` — is refused at registration, so a
 * schema never silently checks less than its author meant.
 */

export type JsonSchema = Record<string, unknown>;

export interface SchemaIssue {
  path: string;
  message: string;
}

const TYPES = new Set(["string", "number", "integer", "boolean", "object", "array", "null"]);
const ANNOTATIONS = new Set(["$schema", "$id", "$comment", "title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly", "format"]);
const NUMBER_KEYWORDS = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"] as const;
const COUNT_KEYWORDS = ["minItems", "maxItems", "minLength", "maxLength"] as const;
const SCHEMA_LISTS = ["anyOf", "oneOf", "allOf"] as const;
const KNOWN = new Set<string>([
  ...ANNOTATIONS,
  ...NUMBER_KEYWORDS,
  ...COUNT_KEYWORDS,
  ...SCHEMA_LISTS,
  "type",
  "enum",
  "const",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "uniqueItems",
  "not",
]);

/** The keywords a registered schema may use, for error messages. */
export const SUPPORTED_KEYWORDS = [...KNOWN].filter((k) => !ANNOTATIONS.has(k)).sort();

/** Deeper schemas are refused: a schema is a description, not a data structure. */
const MAX_SCHEMA_DEPTH = 32;

/** What is wrong with `schema` as a registered params schema (empty when it is usable). Its root must describe an object. */
export function checkSchema(schema: unknown): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  checkNode(schema, "", 0, issues);
  if (issues.length === 0 && isObject(schema) && schema.type !== undefined && schema.type !== "object") {
    issues.push({ path: "type", message: 'the params schema describes the event\'s data, which is always an object: type must be "object"' });
  }
  return issues;
}

function checkNode(node: unknown, path: string, depth: number, issues: SchemaIssue[]): void {
  if (typeof node === "boolean") return;
  if (!isObject(node)) {
    issues.push({ path, message: "a schema is an object (or true/false)" });
    return;
  }
  if (depth > MAX_SCHEMA_DEPTH) {
    issues.push({ path, message: `schemas nest at most ${MAX_SCHEMA_DEPTH} deep` });
    return;
  }
  const at = (key: string) => (path === "" ? key : `${path}.${key}`);
  for (const [key, value] of Object.entries(node)) {
    if (!KNOWN.has(key)) {
      const why = key === "pattern" || key === "patternProperties" ? " (regular expressions from clients are not run by the daemon)" : "";
      issues.push({ path: at(key), message: `unsupported keyword ${key}${why}; supported: ${SUPPORTED_KEYWORDS.join(", ")}` });
      continue;
    }
    if (key === "type") {
      const types = Array.isArray(value) ? value : [value];
      if (types.length === 0 || !types.every((t) => typeof t === "string" && TYPES.has(t))) {
        issues.push({ path: at(key), message: `type is one of ${[...TYPES].join(", ")}, or a list of them` });
      }
    } else if (key === "enum") {
      if (!Array.isArray(value) || value.length === 0) issues.push({ path: at(key), message: "enum is a non-empty list of values" });
    } else if (key === "required") {
      if (!Array.isArray(value) || !value.every((name) => typeof name === "string")) issues.push({ path: at(key), message: "required is a list of property names" });
    } else if (key === "properties") {
      if (!isObject(value)) issues.push({ path: at(key), message: "properties maps names to schemas" });
      else for (const [name, property] of Object.entries(value)) checkNode(property, at(`${key}.${name}`), depth + 1, issues);
    } else if (key === "additionalProperties" || key === "items" || key === "not") {
      checkNode(value, at(key), depth + 1, issues);
    } else if ((SCHEMA_LISTS as readonly string[]).includes(key)) {
      if (!Array.isArray(value) || value.length === 0) issues.push({ path: at(key), message: `${key} is a non-empty list of schemas` });
      else value.forEach((option, index) => checkNode(option, at(`${key}.${index}`), depth + 1, issues));
    } else if ((NUMBER_KEYWORDS as readonly string[]).includes(key)) {
      if (typeof value !== "number" || !Number.isFinite(value) || (key === "multipleOf" && value <= 0)) {
        issues.push({ path: at(key), message: `${key} is a ${key === "multipleOf" ? "positive " : ""}number` });
      }
    } else if ((COUNT_KEYWORDS as readonly string[]).includes(key)) {
      if (!Number.isInteger(value) || (value as number) < 0) issues.push({ path: at(key), message: `${key} is a whole number ≥ 0` });
    } else if (key === "uniqueItems" && typeof value !== "boolean") {
      issues.push({ path: at(key), message: "uniqueItems is true or false" });
    }
  }
}

/**
 * Issues of `value` against a schema that passed checkSchema: paths are
 * dotted (array indexes as numbers), as invalid_params reports them.
 */
export function validate(schema: unknown, value: unknown): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  validateNode(schema, value, [], issues);
  return issues;
}

function validateNode(schema: unknown, value: unknown, path: (string | number)[], issues: SchemaIssue[]): void {
  if (schema === false) {
    push(issues, path, "no value is allowed here");
    return;
  }
  if (!isObject(schema)) return;
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((type) => hasType(value, type))) {
      push(issues, path, `expected ${types.join(" or ")}, got ${typeOf(value)}`);
      return;
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((option) => sameJson(option, value))) {
    push(issues, path, `expected one of ${schema.enum.map((option) => JSON.stringify(option)).join(", ")}`);
  }
  if (Object.hasOwn(schema, "const") && !sameJson(schema.const, value)) push(issues, path, `expected ${JSON.stringify(schema.const)}`);
  if (typeof value === "number") checkNumber(schema, value, path, issues);
  if (typeof value === "string") checkLength(schema.minLength, schema.maxLength, [...value].length, "characters", path, issues);
  if (Array.isArray(value)) checkArray(schema, value, path, issues);
  else if (isObject(value)) checkObject(schema, value, path, issues);
  checkCombinations(schema, value, path, issues);
}

function checkNumber(schema: JsonSchema, value: number, path: (string | number)[], issues: SchemaIssue[]): void {
  if (typeof schema.minimum === "number" && value < schema.minimum) push(issues, path, `must be ≥ ${schema.minimum}`);
  if (typeof schema.maximum === "number" && value > schema.maximum) push(issues, path, `must be ≤ ${schema.maximum}`);
  if (typeof schema.exclusiveMinimum === "number" && value <= schema.exclusiveMinimum) push(issues, path, `must be > ${schema.exclusiveMinimum}`);
  if (typeof schema.exclusiveMaximum === "number" && value >= schema.exclusiveMaximum) push(issues, path, `must be < ${schema.exclusiveMaximum}`);
  if (typeof schema.multipleOf === "number") {
    const quotient = value / schema.multipleOf;
    if (Math.abs(quotient - Math.round(quotient)) > 1e-9) push(issues, path, `must be a multiple of ${schema.multipleOf}`);
  }
}

function checkLength(min: unknown, max: unknown, length: number, unit: string, path: (string | number)[], issues: SchemaIssue[]): void {
  if (typeof min === "number" && length < min) push(issues, path, `must have at least ${min} ${unit}`);
  if (typeof max === "number" && length > max) push(issues, path, `must have at most ${max} ${unit}`);
}

function checkArray(schema: JsonSchema, value: unknown[], path: (string | number)[], issues: SchemaIssue[]): void {
  checkLength(schema.minItems, schema.maxItems, value.length, "items", path, issues);
  if (schema.uniqueItems === true) {
    const seen = new Set<string>();
    for (const item of value) {
      const key = canonicalJson(item);
      if (seen.has(key)) {
        push(issues, path, "items must be unique");
        break;
      }
      seen.add(key);
    }
  }
  if (schema.items !== undefined) value.forEach((item, index) => validateNode(schema.items, item, [...path, index], issues));
}

function checkObject(schema: JsonSchema, value: Record<string, unknown>, path: (string | number)[], issues: SchemaIssue[]): void {
  const properties = isObject(schema.properties) ? schema.properties : {};
  if (Array.isArray(schema.required)) {
    for (const name of schema.required as string[]) {
      if (!Object.hasOwn(value, name)) push(issues, [...path, name], `${[...path, name].join(".")} is required`);
    }
  }
  for (const [name, item] of Object.entries(value)) {
    if (Object.hasOwn(properties, name)) validateNode(properties[name], item, [...path, name], issues);
    else if (schema.additionalProperties === false) push(issues, [...path, name], `unknown key ${name}`);
    else if (schema.additionalProperties !== undefined) validateNode(schema.additionalProperties, item, [...path, name], issues);
  }
}

function checkCombinations(schema: JsonSchema, value: unknown, path: (string | number)[], issues: SchemaIssue[]): void {
  if (Array.isArray(schema.allOf)) for (const option of schema.allOf) validateNode(option, value, path, issues);
  const passing = (options: unknown[]) => options.filter((option) => validate(option, value).length === 0).length;
  if (Array.isArray(schema.anyOf) && passing(schema.anyOf) === 0) push(issues, path, "matches none of the allowed forms (anyOf)");
  if (Array.isArray(schema.oneOf) && passing(schema.oneOf) !== 1) push(issues, path, "must match exactly one of the allowed forms (oneOf)");
  if (schema.not !== undefined && validate(schema.not, value).length === 0) push(issues, path, "matches a form that is not allowed (not)");
}

function push(issues: SchemaIssue[], path: (string | number)[], message: string): void {
  issues.push({ path: path.join("."), message });
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "object":
      return isObject(value);
    case "array":
      return Array.isArray(value);
    case "null":
      return value === null;
    default:
      return typeof value === type;
  }
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (Number.isInteger(value)) return "an integer";
  return `a ${typeof value}`;
}

function sameJson(a: unknown, b: unknown): boolean {
  return a === b || canonicalJson(a) === canonicalJson(b);
}

/** JSON with object keys sorted: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
