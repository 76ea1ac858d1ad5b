/**
 * JSON Logic rules from clients (emit conditions, discover's `where`),
 * pure: one engine, an allow-listed operator set, bounds on a rule's size
 * and depth, and no path that reaches a prototype. A rule is checked when
 * it arrives, so a bad one is invalid_params then, not a surprise later;
 * that includes a rule that is no rule at all (text, a number), which the
 * engine would otherwise take as a constant (core/rule-param.ts is the
 * parameter schema built on the check).
 */
import { defaultMethods, LogicEngine } from "json-logic-engine";
import { comparisonRule, jsonOrText, parseComparison } from "./comparison.js";
import { suggest } from "./suggest.js";

/** Operators a condition may use: comparison, logic, arithmetic, strings, arrays and data access. */
export const ALLOWED_OPERATORS = [
  "var", "val", "missing", "missing_some", "exists",
  "==", "===", "!=", "!==", "<", "<=", ">", ">=",
  "!", "!!", "and", "or", "if", "?:", "??",
  "+", "-", "*", "/", "%", "min", "max",
  "cat", "substr", "in", "length",
  "merge", "some", "all", "none", "filter", "map", "reduce",
] as const;

export const RULE_LIMITS = { maxDepth: 32, maxNodes: 2_000, maxStringBytes: 4_096 } as const;

/** Path segments that would reach an object's prototype. */
const FORBIDDEN_SEGMENTS = new Set(["__proto__", "prototype", "constructor"]);
const DATA_ACCESS = new Set(["var", "val", "missing", "missing_some", "exists"]);

const allowed: Record<string, unknown> = {};
for (const name of ALLOWED_OPERATORS) {
  const method = (defaultMethods as Record<string, unknown>)[name];
  allowed[name] = DATA_ACCESS.has(name) ? guarded(method as EngineMethod) : method;
}
const engine = new LogicEngine(allowed);
/**
 * For rules compilePathRule rewrote: their only data access is `var` of
 * its own slot names on its own context, so the engine's `var` may run
 * unguarded, which it compiles inline instead of calling per document.
 */
const slotEngine = new LogicEngine({ ...allowed, var: (defaultMethods as Record<string, unknown>).var });

interface EngineMethod {
  method(args: unknown, ...rest: unknown[]): unknown;
  optimizeUnary?: boolean;
}

/**
 * checkRule sees only literal paths; one computed at run time
 * (`{"var": {"cat": ["__pro", "to__"]}}`) is checked here, and no data
 * access hands out a function. A fresh object on purpose: the engine reads
 * var/val inline, bypassing `method`, when they carry its "original
 * implementation" marker, and that includes computed paths it folded into
 * constants.
 */
function guarded(original: EngineMethod): EngineMethod & { deterministic: boolean } {
  return {
    optimizeUnary: original.optimizeUnary === true,
    deterministic: false,
    method(args: unknown, ...rest: unknown[]): unknown {
      const path = forbiddenPath(args);
      if (path !== undefined) throw new Error(`path "${path}" reaches an object's prototype`);
      const result = original.method(args, ...rest);
      return typeof result === "function" ? null : result;
    },
  };
}

function forbiddenPath(args: unknown): string | undefined {
  if (typeof args === "string") return reachesPrototype(args) ? args : undefined;
  if (Array.isArray(args)) {
    for (const arg of args) {
      const found = forbiddenPath(arg);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * Segments as the engine may read a path: split on dots, and on the slash
 * of a `../` scope climb. One regular expression, no array: data access
 * runs it for every document a discover `where` is tried on.
 */
const FORBIDDEN_PATH = new RegExp(`(?:^|[./])(?:${[...FORBIDDEN_SEGMENTS].join("|")})(?:$|[./])`);

function reachesPrototype(path: string): boolean {
  return FORBIDDEN_PATH.test(path);
}

export interface RuleIssue {
  path: string;
  message: string;
}

/** The object form shown when a rule is not one and nothing better is known. */
const RULE_EXAMPLE = { "==": [{ var: "state.a.b" }, 4] };

/**
 * Problems with a rule, each with the path inside the rule; empty when it
 * may be used. A rule is a JSON Logic object or true/false: anything else
 * is a constant to the engine (text and numbers always hold, an empty list
 * never), so a rule typed as text, or a number or list sent by mistake,
 * would hold always or never without a word. `example` is the object form
 * shown when the mistake gives nothing better to show.
 */
export function checkRule(rule: unknown, example: object = RULE_EXAMPLE): RuleIssue[] {
  if (typeof rule !== "boolean" && (typeof rule !== "object" || rule === null || Array.isArray(rule))) {
    return [{ path: "", message: notARule(rule, example) }];
  }
  const issues: RuleIssue[] = [];
  let nodes = 0;
  // Iterative walk: a rule is client input and its depth is what is being checked.
  const stack: { node: unknown; path: string; depth: number; access: boolean }[] = [{ node: rule, path: "", depth: 0, access: false }];
  while (stack.length > 0 && issues.length < 10) {
    const { node, path, depth, access } = stack.pop()!;
    if (++nodes > RULE_LIMITS.maxNodes) {
      issues.push({ path, message: `rule has more than ${RULE_LIMITS.maxNodes} nodes` });
      break;
    }
    if (depth > RULE_LIMITS.maxDepth) {
      issues.push({ path, message: `rule is nested deeper than ${RULE_LIMITS.maxDepth} levels` });
      continue;
    }
    if (typeof node === "string") {
      if (Buffer.byteLength(node) > RULE_LIMITS.maxStringBytes) issues.push({ path, message: `string longer than ${RULE_LIMITS.maxStringBytes} bytes` });
      if (access && reachesPrototype(node)) {
        issues.push({ path, message: `path "${node}" reaches an object's prototype; use plain data keys` });
      }
      continue;
    }
    if (Array.isArray(node)) {
      node.forEach((item, i) => stack.push({ node: item, path: join(path, String(i)), depth: depth + 1, access }));
      continue;
    }
    if (typeof node !== "object" || node === null) continue;
    const keys = Object.keys(node);
    if (keys.length !== 1) {
      issues.push({ path, message: `a rule object has exactly one operator, found ${keys.length === 0 ? "none" : keys.join(", ")}` });
      continue;
    }
    const operator = keys[0]!;
    if (!(ALLOWED_OPERATORS as readonly string[]).includes(operator)) {
      const close = closeOperators(operator);
      const guess = close.length > 0 ? `did you mean ${close.map((name) => `"${name}"`).join(" or ")}? ` : "";
      issues.push({ path, message: `operator "${operator}" is not allowed; ${guess}allowed: ${ALLOWED_OPERATORS.join(" ")}` });
      continue;
    }
    const args = (node as Record<string, unknown>)[operator];
    stack.push({ node: args, path: join(path, operator), depth: depth + 1, access: DATA_ACCESS.has(operator) });
  }
  return issues;
}

/** Operators as other languages spell them. */
const SPELLINGS: Record<string, string> = { "=": "==", "=<": "<=", "=>": ">=", "<>": "!=", "&&": "and", "||": "or", not: "!", "!!!": "!", eq: "==", ne: "!=" };
const WORD_OPERATORS = ALLOWED_OPERATORS.filter((name) => /^[a-z_]+$/.test(name));

/** The allowed operators a mistyped one probably meant: letters swapped (`vra`) first, then by edit distance. */
function closeOperators(operator: string): string[] {
  const lower = operator.toLowerCase();
  const spelled = SPELLINGS[lower];
  if (spelled !== undefined) return [spelled];
  if (!/^[a-z_]+$/.test(lower)) return [];
  const letters = (word: string) => [...word].sort().join("");
  const swapped = WORD_OPERATORS.filter((name) => letters(name) === letters(lower));
  return [...new Set([...swapped, ...suggest(lower, WORD_OPERATORS, 2)])].slice(0, 2);
}

/**
 * Why `value` is no rule, with the object form to send instead: the rule
 * a `path OP value` text means (the short form `pat find --where` takes),
 * the object a text holding JSON holds, else `example`.
 */
function notARule(value: unknown, example: object): string {
  const lead = "a rule is a JSON Logic object ({operator: arguments}) or true/false";
  if (typeof value === "string") {
    const held = jsonOrText(value);
    if (typeof held === "object" && held !== null) return `${lead}, not text holding one: send ${shorten(JSON.stringify(held))} itself, not as a string`;
    const parsed = parseComparison(value);
    if (parsed.ok) return `${lead}, not text: write ${JSON.stringify(value)} as ${JSON.stringify(comparisonRule(parsed.comparison))}`;
    return `${lead} such as ${JSON.stringify(example)}; got the text ${shorten(JSON.stringify(value))}`;
  }
  const kind = value === null ? "null" : Array.isArray(value) ? "a list" : `the ${typeof value} ${JSON.stringify(value)}`;
  return `${lead} such as ${JSON.stringify(example)}; got ${kind}, which the engine would take as a constant`;
}

function shorten(text: string): string {
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

/** Evaluates a checked rule; JSON Logic truthiness (empty arrays are false). A rule that fails at run time is false. */
export function evaluateCondition(rule: unknown, context: object): { value: boolean; error?: string } {
  try {
    const result = evaluateRule(rule, context);
    return { value: Array.isArray(result) ? result.length > 0 : Boolean(result) };
  } catch (err) {
    return { value: false, error: describe(err) };
  }
}

/**
 * A checked rule built once into a function, for evaluating it against
 * many contexts (discover's `where` over every pattern: about ten times
 * faster than interpreting it each time). Same verdicts as
 * evaluateCondition: truthiness, and false when it fails at run time.
 */
export function compileRule(rule: unknown): (context: object) => boolean {
  return compileOn(engine, rule);
}

function compileOn(on: LogicEngine, rule: unknown): (context: object) => boolean {
  let run: (context: object) => unknown;
  try {
    run = on.build(rule) as (context: object) => unknown;
  } catch {
    return () => false;
  }
  return (context) => {
    try {
      const result = run(context);
      return Array.isArray(result) ? result.length > 0 : Boolean(result);
    } catch {
      return false;
    }
  };
}

/** Operators whose inner rules read each item rather than the document. */
const ITERATORS = new Set(["some", "all", "none", "filter", "map", "reduce"]);
const PLAIN_PATH = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

/**
 * A checked rule that reads the document only through `var` of plain
 * literal paths (`metadata.tags`, with or without a default), outside any
 * iterator, compiled to read those paths' values from the caller: `holds`
 * takes them in `paths` order, each as `readPath` gives it. A caller that
 * keeps the values as columns (discover over the same catalog) then tests
 * ten thousand documents without walking any of them: walking documents
 * of as many different shapes was most of a `where` query. Null for any
 * other rule (compileRule then).
 */
export function compilePathRule(rule: unknown): { paths: string[][]; holds: (values: readonly unknown[]) => boolean } | null {
  const slots = new Map<string, string>();
  let plain = true;
  let defaults = false;
  const rewrite = (node: unknown): unknown => {
    if (!plain || typeof node !== "object" || node === null) return node;
    if (Array.isArray(node)) return node.map(rewrite);
    const [operator, args] = Object.entries(node)[0] ?? [];
    if (operator === undefined || ITERATORS.has(operator) || (DATA_ACCESS.has(operator) && operator !== "var")) {
      plain = false;
      return node;
    }
    if (operator !== "var") return { [operator]: rewrite(args) };
    const [path, ...fallback] = Array.isArray(args) ? (args as unknown[]) : [args];
    if (typeof path !== "string" || !PLAIN_PATH.test(path) || reachesPrototype(path) || fallback.length > 1 || (fallback.length === 1 && typeof fallback[0] === "object" && fallback[0] !== null)) {
      plain = false;
      return node;
    }
    let slot = slots.get(path);
    if (slot === undefined) slots.set(path, (slot = `p${slots.size}`));
    if (fallback.length === 0) return { var: slot };
    defaults = true;
    return { var: [slot, fallback[0]] };
  };
  const rewritten = rewrite(rule);
  if (!plain) return null;
  // The engine's inline `var` gives a default for a null found, its method only for a missing path:
  // with a default, the method, as the whole document would be read.
  const holds = compileOn(defaults ? engine : slotEngine, rewritten);
  const names = [...slots.values()];
  // One context for every call, always of the same shape: the values are set, the rule runs, nothing keeps it.
  const context: Record<string, unknown> = Object.fromEntries(names.map((name) => [name, undefined]));
  return {
    paths: [...slots.keys()].map((path) => path.split(".")),
    holds(values) {
      for (let i = 0; i < names.length; i++) context[names[i]!] = values[i];
      return holds(context);
    },
  };
}

/**
 * What `{"var": "a.b"}` reads from `context` for a plain path: undefined
 * when the path is not there (so a default applies), a value found as is,
 * and never a function.
 */
export function readPath(context: unknown, segments: readonly string[]): unknown {
  let at = context;
  for (const segment of segments) {
    if (at === null || at === undefined) return undefined;
    at = (at as Record<string, unknown>)[segment];
    if (at === undefined) return undefined;
  }
  return typeof at === "function" ? null : at;
}

/** The rule's raw value; throws when the rule fails at run time. */
export function evaluateRule(rule: unknown, context: object): unknown {
  return engine.run(rule, context);
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === "object" && err !== null) return JSON.stringify(err);
  return String(err);
}

function join(path: string, segment: string): string {
  return path === "" ? segment : `${path}.${segment}`;
}
