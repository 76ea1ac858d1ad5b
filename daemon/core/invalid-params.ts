/**
 * A schema's refusal as an `invalid_params` error that says what to do
 * (pure). Agents read these messages as well as people, so they name
 * fields as the data does, never as a client's flags: a missing field is
 * "name is required (e.g. "tournament")", the example taken from the
 * event's own example when it has a value there; a wrong type says what
 * was expected and what came.
 */
import type { z } from "zod";
import type { WireError } from "./errors.js";

export interface ParamsIssue {
  path: string;
  message: string;
}

/** How a missing field's message starts; clients that know flags (pat send) turn its example into their own form. */
export const REQUIRED = " is required";

export function invalidParams(event: string, error: z.ZodError, data: unknown, example: unknown): WireError {
  const issues = error.issues.map((issue) => describeIssue(issue, data, example));
  const first = issues[0]!;
  // "name is required" names its field already.
  const where = first.path === "" || isMissing(error.issues[0]!, data) ? "" : ` at "${first.path}"`;
  const others = issues.slice(1).map((issue) => (issue.path === "" ? "(top level)" : issue.path));
  const more = others.length > 0 ? ` (and ${others.length} more: ${[...new Set(others)].join(", ")})` : "";
  return {
    code: "invalid_params",
    message: `invalid data for ${event}${where}: ${first.message}${more}`,
    details: { issues },
  };
}

type ZodIssue = z.ZodError["issues"][number];

export function describeIssue(issue: ZodIssue, data: unknown, example: unknown): ParamsIssue {
  const path = issue.path.map(String).join(".");
  if (isMissing(issue, data)) {
    const shown = valueAt(example, issue.path);
    return { path, message: `${path}${REQUIRED}${shown.found ? ` (e.g. ${JSON.stringify(shown.value)})` : ""}` };
  }
  // zod's own wording ("Invalid input: expected string, received number") minus its preamble; a schema's own message stays as written.
  return { path, message: issue.message.replace(/^Invalid input: (?=expected)/, "") };
}

/** The issue is about a field the data does not have (whatever zod says about it: a type, a union, a literal). */
function isMissing(issue: ZodIssue, data: unknown): boolean {
  return issue.path.length > 0 && !valueAt(data, issue.path).found;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): { found: boolean; value?: unknown } {
  let current = root;
  for (const segment of path) {
    if (typeof current !== "object" || current === null || typeof segment === "symbol" || !Object.hasOwn(current, segment)) return { found: false };
    current = (current as Record<string | number, unknown>)[segment];
  }
  return { found: current !== undefined, value: current };
}
