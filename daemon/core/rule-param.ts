/**
 * A parameter that takes a JSON Logic rule (event:emit's `condition`,
 * composition:discover's `where`): one schema, so every such parameter is
 * checked by checkRule with the same messages. Its JSON Schema says
 * `{"type": ["object", "boolean"], "format": "json-logic"}`: the CLI passes
 * text typed for such a parameter on as text, and the daemon answers with
 * the object form of what was typed instead of a bare type error.
 */
import { z } from "zod";
import { parseComparison, type Comparison } from "./comparison.js";
import { checkRule } from "./json-logic.js";

/** The JSON Schema `format` of a rule parameter; client/cli/args.ts reads it. */
export const RULE_FORMAT = "json-logic";

export interface RuleParamOptions {
  /** The object form an error shows when the mistake gives nothing better to show. */
  example: object;
  /** Said after the error when the rule came as `path OP value` text (the parameter's own advice). */
  comparisonHint?: (comparison: Comparison, text: string) => string;
}

export function ruleParam({ example, comparisonHint }: RuleParamOptions): z.ZodType<unknown> {
  return z
    .unknown()
    .superRefine((value, ctx) => {
      const issues = checkRule(value, example);
      const parsed = typeof value === "string" && comparisonHint !== undefined ? parseComparison(value) : undefined;
      for (const [i, issue] of issues.entries()) {
        const hint = i === 0 && issue.path === "" && parsed?.ok === true ? `; ${comparisonHint!(parsed.comparison, value as string)}` : "";
        ctx.addIssue({ code: "custom", message: issue.message + hint, path: issue.path === "" ? [] : issue.path.split(".") });
      }
    })
    .meta({ type: ["object", "boolean"], format: RULE_FORMAT });
}
