/**
 * How deep maps and lists may sit inside one another in a pattern or a
 * decision log (pure). Deeper, the YAML parser and every recursive walk
 * after it (validation, compose, the index cache) run out of stack, and a
 * person read "Maximum call stack size exceeded" (issue 24); the bound is
 * the one a request line's JSON has (config maxDepth).
 */
import type { Issue } from "./document.js";

export const MAX_NESTING = 128;

export const NESTING_MESSAGE = `maps and lists nested deeper than ${MAX_NESTING} levels`;

/** True for the engine's message when a parser ran out of stack: only nesting far past MAX_NESTING does that. */
export function isStackOverflow(message: string): boolean {
  return /Maximum call stack size exceeded|too much recursion/.test(message);
}

/**
 * The first place where maps and lists nest deeper than MAX_NESTING, as an
 * issue naming the top-level key it is under; null when none does. A walk
 * with its own stack, so the check itself never runs out of one.
 */
export function nestingProblem(value: unknown): Issue | null {
  const stack: { value: unknown; depth: number; top: string }[] = [{ value, depth: 0, top: "" }];
  while (stack.length > 0) {
    const { value: node, depth, top } = stack.pop()!;
    if (typeof node !== "object" || node === null) continue;
    if (depth >= MAX_NESTING) return { path: top, message: top === "" ? NESTING_MESSAGE : `${NESTING_MESSAGE} (under ${top})` };
    for (const [key, child] of Object.entries(node)) stack.push({ value: child, depth: depth + 1, top: depth === 0 ? key : top });
  }
  return null;
}
