/**
 * What `pat lint` says of a pattern file (pure): what makes it invalid, and
 * what a valid pattern lacks to be found. A library's patterns are found by
 * select from the words people use, so an orchestration pattern or mixin
 * without `metadata.example_tasks` (how people ask for it, in their own
 * words) is found only by its own vocabulary: the bundled library has them
 * all, and lint holds any library to that.
 */
import type { Issue } from "./document.js";
import { validateComposition } from "./schema.js";

/** The types select ranks by their words: those a task asks for. */
const SELECTED_TYPES: ReadonlySet<string> = new Set(["orchestration", "mixin"]);

export function lintPattern(data: unknown): Issue[] {
  const valid = validateComposition(data);
  if (!valid.ok) return valid.issues;
  const doc = data as Record<string, unknown>;
  const type = typeof doc.type === "string" ? doc.type : "orchestration";
  if (!SELECTED_TYPES.has(type)) return [];
  const metadata = doc.metadata;
  const examples = typeof metadata === "object" && metadata !== null ? (metadata as Record<string, unknown>).example_tasks : undefined;
  if (Array.isArray(examples) && examples.some((item) => typeof item === "string" && item.trim() !== "")) return [];
  return [
    {
      path: "metadata.example_tasks",
      message:
        "no example_tasks: select finds this pattern only by its own words; list how people ask for it in theirs, " +
        'e.g. example_tasks: ["knock-out rounds between drafts", "which of these is best, head to head"]',
    },
  ];
}
