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

export const compositionSchema = z.looseObject({
  name: nameSchema,
  type: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, "a type is one lower-case word, e.g. orchestration or profile"),
  version: versionSchema,
  description: z.string().min(1, "describe what the pattern is for"),
  author: z.string().optional(),
  extends: refSchema.optional(),
  mixins: z.array(refSchema).optional(),
  components: z.array(z.looseObject({ name: z.string().min(1) })).optional(),
  variables: z.record(z.string(), variable).optional(),
  metadata: z
    .looseObject({
      tags: z.array(z.string()).optional(),
      capabilities_required: z.array(z.string()).optional(),
      use_cases: z.array(z.string()).optional(),
      selection_criteria: z.unknown().optional(),
    })
    .optional(),
  orchestration_logic: z.looseObject({ description: z.string().optional(), strategy: z.string().optional() }).optional(),
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

export type Composition = z.infer<typeof compositionSchema>;

export function validateComposition(data: unknown): { ok: true; composition: Composition } | { ok: false; issues: Issue[] } {
  // reportInput: without it zod 4 leaves `input` off every issue, and a wrong type would read as "is required".
  const parsed = compositionSchema.safeParse(data, { reportInput: true });
  if (parsed.success) return { ok: true, composition: parsed.data };
  return {
    ok: false,
    issues: parsed.error.issues.map((issue) => ({
      path: issue.path.map(String).join("."),
      message: issue.code === "invalid_type" && issue.input === undefined ? `${issue.path.map(String).join(".") || "field"} is required` : issue.message,
    })),
  };
}

/** Store directory for a type: orchestration → orchestrations/. */
export function typeDirectory(type: string): string {
  return `${type}s`;
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
