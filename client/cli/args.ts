/**
 * Command-line arguments (pure): globals anywhere, positionals, and
 * `--key value` pairs typed by the event's JSON Schema, dotted keys nesting
 * (except inside a parameter keyed by dotted paths: there the rest of the
 * key is one path, `--modifications.variables.rounds.default 4`).
 */
import { COMPARISON_FORMS, jsonOrText, parseComparison as parseComparisonText, type Comparison } from "../../daemon/core/comparison.js";
import { suggest } from "../../daemon/core/suggest.js";

export type { Comparison };

export class UsageError extends Error {
  /**
   * `showUsage`: pat prints the verb's usage line under the message. A
   * mistyped name (an option, a command) is said in one line: the
   * suggestion is all that helps, as git and gh do.
   */
  constructor(
    message: string,
    readonly showUsage = true,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

/** What `-o/--output` takes; `--json` is `-o json`. */
export const OUTPUT_FORMATS = ["text", "json", "yaml"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface Globals {
  home?: string;
  socket?: string;
  agentId?: string;
  /** As asked for; unset, the command's default decides (context.ts). */
  output?: OutputFormat;
  /** --no-color: plain text even on a terminal. */
  noColor?: true;
  help: boolean;
}

export interface Pair {
  key: string;
  value: string | true;
}

export interface Argv {
  globals: Globals;
  positionals: string[];
  pairs: Pair[];
}

const VALUED_GLOBALS: Record<string, "home" | "socket" | "agentId"> = {
  "--home": "home",
  "--socket": "socket",
  "--agent-id": "agentId",
};

/** Every option any verb takes besides its own (without the leading --). */
export const GLOBAL_OPTIONS: readonly string[] = ["home", "socket", "agent-id", "output", "json", "no-color", "help"];

/** `--key` is none of `known` (a verb's options): a usage error suggesting the closest of them or of the globals. */
export function unknownOption(key: string, known: Iterable<string>): UsageError {
  const close = suggest(key, new Set([...known, ...GLOBAL_OPTIONS]));
  return new UsageError(`unknown option --${key}${close.length > 0 ? `; did you mean ${close.map((option) => `--${option}`).join(", ")}?` : ""}`, false);
}

const NO_FLAGS: ReadonlySet<string> = new Set();

/**
 * Splits argv; `--` ends option parsing (everything after is positional).
 * `flagsOf(verb)` names the verb's on/off options (`dry-run`): after the verb
 * (the first positional) such an option never takes the next word as its
 * value, so `pat merge --dry-run fork` keeps `fork` positional
 * (`--dry-run=false` still works).
 */
export function splitArgv(argv: readonly string[], flagsOf: (verb: string) => ReadonlySet<string> = () => NO_FLAGS): Argv {
  const globals: Globals = { help: false };
  const positionals: string[] = [];
  const pairs: Pair[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--") || arg === "--") {
      if (arg === "-h") globals.help = true;
      else if (arg === "-o") globals.output = outputFormat(argv[++i], "-o");
      else if (/^-o./.test(arg)) globals.output = outputFormat(arg.slice(arg[2] === "=" ? 3 : 2), "-o");
      else positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const next = argv[i + 1];
    const takeValue = (): string | true => {
      if (inline !== undefined) return inline;
      if (next !== undefined && !next.startsWith("--")) {
        i++;
        return next;
      }
      return true;
    };
    if (flag === "--json") {
      if (inline === undefined || inline === "true") globals.output = "json";
      else if (globals.output === "json") delete globals.output;
    } else if (flag === "--output") globals.output = outputFormat(inline ?? argv[++i], "--output");
    else if (flag === "--no-color") globals.noColor = true;
    else if (flag === "--help") globals.help = true;
    else if (flag in VALUED_GLOBALS) {
      const value = takeValue();
      if (value === true) throw new UsageError(`${flag} needs a value`);
      globals[VALUED_GLOBALS[flag]!] = value;
    } else {
      const key = flag.slice(2);
      if (key === "") throw new UsageError(`empty option ${arg}`);
      const isFlag = positionals.length > 0 && flagsOf(positionals[0]!).has(key);
      pairs.push({ key, value: isFlag ? (inline ?? true) : takeValue() });
    }
  }
  return { globals, positionals, pairs };
}

function outputFormat(value: string | undefined, flag: string): OutputFormat {
  if (value === undefined || value.startsWith("--")) throw new UsageError(`${flag} needs a value: ${OUTPUT_FORMATS.join(", ")}`);
  if (!(OUTPUT_FORMATS as readonly string[]).includes(value)) throw new UsageError(`${flag} must be one of ${OUTPUT_FORMATS.join(", ")} (got ${value})`);
  return value as OutputFormat;
}

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  /** "dotted-paths": a map whose keys are dotted paths (fork modifications, update set, metadata_filter). */
  "x-keys"?: string;
  format?: string;
  additionalProperties?: unknown;
};

/**
 * A `--key` whose first segment the params do not have, when they list
 * theirs and take no others: a usage error with the closest of them, before
 * anything is sent (the daemon would only answer invalid_params).
 */
export function refuseUnknownKeys(pairs: readonly Pair[], schema: unknown): void {
  const params = schema as JsonSchema | undefined;
  if (params?.properties === undefined || params.additionalProperties !== false) return;
  const known = Object.keys(params.properties);
  for (const { key } of pairs) {
    const first = key.split(".")[0]!;
    if (!known.includes(first)) throw unknownOption(first, known);
  }
}

/** Applies `--key value` pairs onto `base`, each value typed by `schema` (the event's params). */
export function applyPairs(base: Record<string, unknown>, pairs: readonly Pair[], schema: unknown): Record<string, unknown> {
  const result = structuredClone(base);
  const appended = new Set<string>();
  for (const { key, value } of pairs) {
    const segments = key.split(".");
    if (segments.some((segment) => segment === "" || segment === "__proto__" || segment === "constructor" || segment === "prototype")) {
      throw new UsageError(`--${key} is not a usable key`);
    }
    const path = pathKeyed(schema as JsonSchema | undefined, segments);
    const property = schemaAt(schema as JsonSchema, path);
    const typed = coerce(value, property, key);
    const isArray = property !== undefined && typesOf(property).has("array");
    if (isArray && !Array.isArray(typed)) {
      // Repeating an array option appends: --patterns a --patterns b
      const current = appended.has(key) ? getDotted(result, path) : undefined;
      setDotted(result, path, [...(Array.isArray(current) ? (current as unknown[]) : []), typed]);
      appended.add(key);
    } else {
      setDotted(result, path, typed);
    }
  }
  return result;
}

/** The key's segments, with everything after a parameter keyed by dotted paths joined into one key. */
function pathKeyed(schema: JsonSchema | undefined, segments: readonly string[]): string[] {
  for (let i = 1; i < segments.length; i++) {
    const at = schemaAt(schema, segments.slice(0, i));
    const options = at === undefined ? [] : [at, ...(at.anyOf ?? []), ...(at.oneOf ?? [])];
    if (options.some((option) => option["x-keys"] === "dotted-paths")) return [...segments.slice(0, i), segments.slice(i).join(".")];
  }
  return [...segments];
}

function schemaAt(schema: JsonSchema | undefined, path: readonly string[]): JsonSchema | undefined {
  let current = schema;
  for (const segment of path) {
    if (current === undefined) return undefined;
    const options = [current, ...(current.anyOf ?? []), ...(current.oneOf ?? [])];
    current = options.map((option) => option.properties?.[segment]).find((found) => found !== undefined);
  }
  return current;
}

function typesOf(schema: JsonSchema): Set<string> {
  const types = new Set<string>();
  const visit = (s: JsonSchema) => {
    if (typeof s.type === "string") types.add(s.type);
    else if (Array.isArray(s.type)) s.type.forEach((t) => types.add(t));
    if (s.enum !== undefined || s.const !== undefined) {
      for (const v of s.enum ?? [s.const]) types.add(v === null ? "null" : typeof v);
    }
    for (const option of [...(s.anyOf ?? []), ...(s.oneOf ?? [])]) visit(option);
  };
  visit(schema);
  return types;
}

/** One option's value typed by `schema` (a JSON Schema fragment such as `{type: "integer"}`); a UsageError names `--key`. */
export function coerce(raw: string | true, schema: JsonSchema | undefined, key: string): unknown {
  const types = schema === undefined ? new Set<string>() : typesOf(schema);
  if (raw === true) {
    if (types.size === 0 || types.has("boolean")) return true;
    throw new UsageError(`--${key} needs a value (${[...types].join(" or ")})`);
  }
  if (types.size === 0) return jsonOrText(raw);
  if (types.has("boolean") && (raw === "true" || raw === "false")) return raw === "true";
  if ((types.has("number") || types.has("integer")) && raw.trim() !== "" && Number.isFinite(Number(raw))) {
    const number = Number(raw);
    if (types.has("integer") && !types.has("number") && !Number.isInteger(number)) {
      throw new UsageError(`--${key} expects a whole number, got ${raw}`);
    }
    return number;
  }
  if (types.has("null") && raw === "null") return null;
  if ((types.has("object") || types.has("array")) && /^\s*[[{]/.test(raw)) {
    try {
      return JSON.parse(raw) as unknown;
    } catch (err) {
      throw new UsageError(`--${key} expects JSON: ${(err as Error).message}`);
    }
  }
  // A JSON Logic rule typed as text (`state.a.b == 4`) goes on as typed: the daemon answers with the object form of what was typed.
  if (schema?.format === "json-logic") return jsonOrText(raw);
  if (types.has("string")) return raw;
  if (types.has("array")) return coerce(raw, schema?.items, key);
  throw new UsageError(`--${key} expects ${[...types].join(" or ")}, got ${JSON.stringify(raw)}`);
}

/**
 * `path=value` (a `--set`): split at the first `=`; the value is JSON when it
 * parses as JSON (numbers, booleans, null, arrays, objects, "quoted text"),
 * else the text as it is.
 */
export function parseAssignment(raw: string | true, option: string): [path: string, value: unknown] {
  const eq = raw === true ? -1 : raw.indexOf("=");
  if (raw === true || eq === -1) {
    throw new UsageError(`--${option} needs path=value, e.g. --${option} metadata.tags='["swiss"]' or --${option} variables.rounds.default=3`);
  }
  const path = raw.slice(0, eq).trim();
  if (path === "" || path.split(".").some((segment) => segment === "")) throw new UsageError(`--${option} ${raw}: ${JSON.stringify(path)} is not a dotted path`);
  return [path, jsonOrText(raw.slice(eq + 1))];
}

const WHERE_FORMS = `${COMPARISON_FORMS}, e.g. --where 'performance.avg_score>0.7' or --where tags=tournament`;

/**
 * `path OP value` (a `--where`, core/comparison.ts): the value typed like
 * `--set` (JSON when it parses, else the text); `=` is the plain-value
 * form, `~` is `contains`.
 */
export function parseComparison(raw: string | true, option: string): Comparison {
  if (raw === true) throw new UsageError(`--${option} needs a value: it takes ${WHERE_FORMS}`);
  const parsed = parseComparisonText(raw);
  if (!parsed.ok) throw new UsageError(`--${option} ${JSON.stringify(raw)}: ${parsed.problem}; it takes ${WHERE_FORMS}`);
  return parsed.comparison;
}

/**
 * Adds one comparison to a metadata_filter (`{path: value}` or `{path: {op: value}}`).
 * Several on one path must all hold: operators join one object, plain values
 * one list (a list field then holds all of them). A plain map value becomes
 * `{"==": map}` (a bare map would read as operators). Mixing `=` with
 * operators on one path, or repeating an operator there, is a usage error.
 */
export function addComparison(filter: Record<string, unknown>, { path, op, value }: Comparison, option: string): void {
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  const condition = op === null ? (isMap(value) ? { "==": value } : value) : { [op]: value };
  if (!Object.hasOwn(filter, path)) {
    filter[path] = condition;
    return;
  }
  const current = filter[path];
  if (isMap(current) && isMap(condition)) {
    const repeated = Object.keys(condition).find((key) => Object.hasOwn(current, key) && JSON.stringify(current[key]) !== JSON.stringify(condition[key]));
    if (repeated !== undefined) {
      const shown = repeated === "contains" ? "~" : repeated;
      throw new UsageError(`--${option}: ${path}${shown} is given twice (${JSON.stringify(current[repeated])} and ${JSON.stringify(condition[repeated])}); give each operator once per path`);
    }
    filter[path] = { ...current, ...condition };
  } else if (!isMap(current) && !isMap(condition)) {
    const items = (v: unknown) => (Array.isArray(v) ? (v as unknown[]) : [v]);
    const all = [...items(current), ...items(condition)];
    filter[path] = all.filter((item, i) => all.findIndex((other) => JSON.stringify(other) === JSON.stringify(item)) === i);
  } else {
    throw new UsageError(`--${option}: ${path}=value cannot be combined with other comparisons of ${path}; use == (exact equality) or ~ (contains) instead of =`);
  }
}

function getDotted(target: Record<string, unknown>, path: readonly string[]): unknown {
  let current: unknown = target;
  for (const segment of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

export function setDotted(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let current = target;
  for (const segment of path.slice(0, -1)) {
    const next = current[segment];
    if (typeof next !== "object" || next === null || Array.isArray(next)) current[segment] = {};
    current = current[segment] as Record<string, unknown>;
  }
  current[path[path.length - 1]!] = value;
}
