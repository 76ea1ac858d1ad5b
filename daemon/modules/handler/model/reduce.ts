/**
 * Reducers of `event:emit {collect}` (pure): several handlers answered one
 * call; a reducer picks the decision (issue 14, Amplifier's
 * emit_and_collect). Responses come in arrival order.
 *
 * - `all`: every successful answer's data, in arrival order.
 * - `first`: the first successful answer `{handler_id, data}`; the collect
 *   ends as soon as it arrives.
 * - `highest:<dotted.path>`: the successful answer with the largest number
 *   at the path `{handler_id, data, value}`; ties go to the earlier answer.
 * - `majority:<dotted.path>`: the value more than half of the answers that
 *   have one at the path agree on `{value, votes, of, handler_ids}`.
 * Nothing qualifies (no success, no number, no majority): no `reduced`.
 */
import { canonicalJson } from "./json-schema.js";

export type Reducer = { kind: "all" } | { kind: "first" } | { kind: "highest" | "majority"; path: string[] };

export interface CollectedResponse {
  handler_id: string;
  ok: boolean;
  data?: unknown;
  error?: { code: string; message: string; details?: Record<string, unknown> };
  ms: number;
}

/** The grammar of `reduce`, for the schema of event:emit. */
export const REDUCE_PATTERN = /^(all|first|(highest|majority):[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)$/;

/** A reducer from its text form (already checked against REDUCE_PATTERN). */
export function parseReducer(text: string): Reducer {
  if (text === "all" || text === "first") return { kind: text };
  const colon = text.indexOf(":");
  const kind = text.slice(0, colon) as "highest" | "majority";
  return { kind, path: text.slice(colon + 1).split(".") };
}

/** The reduced decision, or undefined when nothing qualifies. */
export function reduce(reducer: Reducer, responses: readonly CollectedResponse[]): unknown {
  const answers = responses.filter((response) => response.ok);
  switch (reducer.kind) {
    case "all":
      return answers.map((answer) => answer.data);
    case "first":
      return answers.length === 0 ? undefined : { handler_id: answers[0]!.handler_id, data: answers[0]!.data };
    case "highest":
      return highest(answers, reducer.path);
    case "majority":
      return majority(answers, reducer.path);
  }
}

/** True when the collect may end before every handler answered: `first` once one succeeded. */
export function isDecided(reducer: Reducer | undefined, responses: readonly CollectedResponse[]): boolean {
  return reducer?.kind === "first" && responses.some((response) => response.ok);
}

function highest(answers: readonly CollectedResponse[], path: string[]): unknown {
  let best: { handler_id: string; data: unknown; value: number } | undefined;
  for (const answer of answers) {
    const value = valueAt(answer.data, path);
    if (typeof value !== "number" || !Number.isFinite(value)) continue;
    if (best === undefined || value > best.value) best = { handler_id: answer.handler_id, data: answer.data, value };
  }
  return best;
}

function majority(answers: readonly CollectedResponse[], path: string[]): unknown {
  const tally = new Map<string, { value: unknown; handler_ids: string[] }>();
  let of = 0;
  for (const answer of answers) {
    const value = valueAt(answer.data, path);
    if (value === undefined) continue;
    of++;
    const key = canonicalJson(value);
    const entry = tally.get(key);
    if (entry === undefined) tally.set(key, { value, handler_ids: [answer.handler_id] });
    else entry.handler_ids.push(answer.handler_id);
  }
  for (const { value, handler_ids } of tally.values()) {
    if (handler_ids.length * 2 > of) return { value, votes: handler_ids.length, of, handler_ids };
  }
  return undefined;
}

function valueAt(data: unknown, path: readonly string[]): unknown {
  let node = data;
  for (const key of path) {
    if (typeof node !== "object" || node === null || Array.isArray(node) || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
