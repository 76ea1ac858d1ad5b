/**
 * `path OP value` comparisons (pure): the short form `pat find --where`
 * takes and sends as a metadata_filter. One grammar for both sides: the
 * CLI parses with it, and the daemon recognizes such text sent where a
 * JSON Logic rule belongs and shows the rule it would be (issue 12).
 */

export type ComparisonOperator = ">" | ">=" | "<" | "<=" | "==" | "!=" | "contains";

/** `op` null is `=`: the plain-value form (equality, or membership for a list field). */
export interface Comparison {
  path: string;
  op: ComparisonOperator | null;
  value: unknown;
}

export type ParsedComparison = { ok: true; comparison: Comparison } | { ok: false; problem: string };

/** The accepted forms, for messages. */
export const COMPARISON_FORMS = "path OP value with OP one of >= <= != == > < = ~ (~ is contains)";

/** Path, then the operator (two-character ones first), then the value; no quotes, brackets or braces in a path. */
const COMPARISON = /^\s*([^\s<>=!~"'()[\]{}]+)\s*(>=|<=|!=|==|>|<|=|~)\s*(.*?)\s*$/s;
const OPERATOR_CHARACTER = /^[<>=!~]/;
/** A second comparison joined on: `x>1 && y<2`, `x>1 and y<2`. */
const JOINED = /&&|\|\||\s(?:and|or)\s+[^\s<>=!~]+\s*(?:>=|<=|!=|==|>|<|=|~)/i;
const FORBIDDEN_SEGMENTS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Parses `path OP value`; the value is JSON when it parses as JSON, else
 * the text. Text that starts with an operator character (`a>>0.7`,
 * `a=>1`, `a===1`) is a mistyped operator, and text that joins another
 * comparison on (`a>1 && b<2`) is two of them: both would otherwise be
 * compared as text and match nothing, or everything. Quoted as JSON
 * (`a='">1"'`) such text is taken as it is.
 */
export function parseComparison(text: string): ParsedComparison {
  const match = COMPARISON.exec(text);
  if (match === null) return { ok: false, problem: "not a comparison" };
  const [, path, operator, valueText] = match as unknown as [string, string, string, string];
  const segments = path.split(".");
  if (segments.some((segment) => segment === "")) return { ok: false, problem: `${JSON.stringify(path)} is not a dotted path` };
  if (segments.some((segment) => FORBIDDEN_SEGMENTS.has(segment))) return { ok: false, problem: `${JSON.stringify(path)} is not a usable path` };
  if (valueText === "") return { ok: false, problem: `no value after ${operator} (quote an empty text as '""')` };
  const value = jsonOrText(valueText);
  if (typeof value === "string" && value === valueText) {
    if (OPERATOR_CHARACTER.test(valueText)) {
      return {
        ok: false,
        problem: `the value ${JSON.stringify(valueText)} after ${operator} starts with an operator character: one operator per comparison (quote text that starts with one as JSON: ${path}${operator}'${JSON.stringify(valueText)}')`,
      };
    }
    if (JOINED.test(valueText)) {
      return { ok: false, problem: `the value ${JSON.stringify(valueText)} joins another comparison on: give one comparison each (all of them must hold)` };
    }
  }
  const op = operator === "=" ? null : operator === "~" ? "contains" : (operator as ComparisonOperator);
  return { ok: true, comparison: { path, op, value } };
}

/** The JSON Logic rule testing the same thing on a document read as written (`=` as `==`, `~` as `in`). */
export function comparisonRule({ path, op, value }: Comparison): Record<string, unknown> {
  const field = { var: path };
  if (op === "contains") return { in: [value, field] };
  return { [op ?? "=="]: [field, value] };
}

/** JSON literals (numbers, booleans, null, objects, arrays, "quoted text") as such, anything else as the text. */
export function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
