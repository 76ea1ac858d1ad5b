/**
 * The validated core of a composition document (SPEC §4.1). Every other
 * section is allowed and kept as written. Issues carry the YAML path an
 * agent can act on (`metadata.tags.1`).
 */
import { z } from "zod";
import { DaemonError } from "../../../core/errors.js";
import { suggest } from "../../../core/suggest.js";
import type { Issue } from "./document.js";
import { nameSchema, refSchema } from "./ref.js";
import { parseVersion } from "./version.js";

export const versionSchema = z.string().max(64).refine((v) => parseVersion(v) !== null, { message: "must be a semantic version like 1.2.0" });

const variable = z.union([
  z.looseObject({ type: z.string().optional(), default: z.unknown().optional(), description: z.string().optional() }),
  z.unknown(),
]);

/** The fields every composition has, whatever its type: all a type patternd does not know is checked for. */
const commonFields = {
  name: nameSchema,
  type: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, "a type is one lower-case word, e.g. orchestration or profile"),
  version: versionSchema,
  description: z.string().min(1, "describe what the pattern is for"),
  author: z.string().optional(),
  extends: refSchema.optional(),
  mixins: z.array(refSchema).optional(),
};

export const compositionSchema = z.looseObject({
  ...commonFields,
  components: z.array(z.looseObject({ name: z.string().min(1) })).optional(),
  variables: z.record(z.string(), variable).optional(),
  metadata: z
    .looseObject({
      tags: z.array(z.string()).optional(),
      capabilities_required: z.array(z.string()).optional(),
      use_cases: z.array(z.string()).optional(),
      /** How people ask for the pattern, in their own words: select searches them as a field of their own. */
      example_tasks: z.array(z.string()).optional(),
      selection_criteria: z.unknown().optional(),
    })
    .optional(),
  // KSI's DSL is a text block the LLM reads: free text, never parsed.
  orchestration_logic: z.union([z.string(), z.looseObject({ description: z.string().optional(), strategy: z.string().optional() })]).optional(),
  lineage: z.unknown().optional(),
  performance: z
    .looseObject({ runs: z.number().nonnegative().optional(), avg_score: z.number().optional(), success_rate: z.number().min(0).max(1).optional() })
    .optional(),
  learnings: z
    .array(z.looseObject({ insight: z.string(), confidence: z.number().min(0).max(1).optional(), evidence: z.unknown().optional(), discovered_by: z.string().optional() }))
    .optional(),
  forks: z.unknown().optional(),
  merges: z.unknown().optional(),
});

/** A type patternd does not know (KSI's persona, behavior, evaluation, ...): the common fields only, the rest free-form. */
const otherTypeSchema = z.looseObject(commonFields);

/** The types whose sections patternd reads (select, compose's prompt) and so checks. */
const KNOWN_TYPES: ReadonlySet<string> = new Set(["orchestration", "profile"]);

export type Composition = z.infer<typeof compositionSchema>;

/**
 * How a document is checked: `new`, a pattern an agent saves for the first
 * time (every rule); `stored`, a file already in the store (what KSI
 * accepts: a missing description is the caller's warning, not an issue).
 */
export type ValidationMode = "new" | "stored";

/**
 * The document's type field: `type`, else KSI's `component_type` (the field
 * a save keeps; a second one is never written).
 */
export function typeKey(data: Record<string, unknown>): "type" | "component_type" {
  return (data.type === undefined || data.type === null) && data.component_type !== undefined && data.component_type !== null ? "component_type" : "type";
}

/**
 * `data` with its type under `key` only, in the place of whichever type
 * field it has: a save keeps the field the file has (KSI's component_type
 * stays component_type) and never writes a second one.
 */
export function withTypeKey(data: Record<string, unknown>, key: "type" | "component_type"): Record<string, unknown> {
  const other = key === "type" ? "component_type" : "type";
  if (!Object.hasOwn(data, other)) return data;
  const value = data[key] ?? data[other];
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if (k === other) {
      if (!Object.hasOwn(data, key)) out[key] = value;
    } else {
      out[k] = k === key ? value : v;
    }
  }
  return out;
}

/**
 * Validates the core fields. A null means absent (`extends: null`, KSI's
 * `success_rate: null`), so nulls are dropped before the check and from the
 * composition returned; `type` there is KSI's `component_type` when the
 * document has that instead.
 */
export function validateComposition(data: unknown, mode: ValidationMode = "new"): { ok: true; composition: Composition } | { ok: false; issues: Issue[] } {
  const present = withoutNulls(data);
  const key = isMap(present) ? typeKey(present) : "type";
  const typed = isMap(present) && key === "component_type" ? { ...present, type: present.component_type } : present;
  const type = isMap(typed) ? typed.type : undefined;
  const schema = SCHEMAS[mode][typeof type === "string" && !KNOWN_TYPES.has(type) ? "other" : "known"];
  // reportInput: without it zod 4 leaves `input` off every issue, and a wrong type would read as "is required".
  const parsed = schema.safeParse(typed, { reportInput: true });
  if (parsed.success) return { ok: true, composition: { description: "", ...(parsed.data as object) } as Composition };
  return {
    ok: false,
    issues: parsed.error.issues.map((issue) => {
      const path = issue.path.map(String);
      if (path[0] === "type") path[0] = key;
      const where = path.join(".");
      return { path: where, message: issue.code === "invalid_type" && issue.input === undefined ? `${where || "field"} is required` : issue.message };
    }),
  };
}

/** A file already in the store may have no description (KSI indexes it with none): a warning then, never a refusal. */
const storedDescription = { description: z.string().optional() };
const SCHEMAS: Record<ValidationMode, { known: z.ZodType; other: z.ZodType }> = {
  new: { known: compositionSchema, other: otherTypeSchema },
  stored: { known: compositionSchema.extend(storedDescription), other: otherTypeSchema.extend(storedDescription) },
};

/** A copy without the null values of maps, at any depth (items of lists stay as they are, nulls included). */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item: unknown) => (item === null ? item : withoutNulls(item)));
  if (!isMap(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) if (item !== null) out[key] = withoutNulls(item);
  return out;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Where a NEW pattern of a type is written (SPEC §1): orchestration →
 * orchestrations/, capability → capabilities/. Only new files: an existing
 * pattern is read and written wherever its file is.
 */
export function typeDirectory(type: string): string {
  return /[^aeiou]y$/.test(type) ? `${type.slice(0, -1)}ies` : `${type}s`;
}

/**
 * A type asked for (list, discover, select) that no pattern has, but close
 * to one that patterns have (`orchestrations`, `orchestraton`), is taken for
 * a typo: invalid_params naming the close types, instead of an empty answer
 * that reads as "there are none". A type far from every known one may be
 * one no pattern has yet, and gets its empty answer.
 */
export function checkTypeAsked(type: string | undefined, known: ReadonlySet<string>, path = "type"): void {
  if (type === undefined || known.has(type)) return;
  const close = suggest(type, known);
  if (close.length === 0) return;
  const message = `no pattern has type ${type}; did you mean ${close.join(", ")}? (types in the store: ${[...known].sort().join(", ")})`;
  throw new DaemonError("invalid_params", message, { issues: [{ path, message }], suggestions: close, types: [...known].sort() });
}
