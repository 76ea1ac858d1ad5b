/**
 * Daemon replies as MCP tool results (pure): the reply as structuredContent,
 * a text block a model reads (one summary line, then the JSON), and both
 * kept under a budget a model's context can take: the largest lists and
 * texts are cut first, and what was cut is said in `truncated`.
 */

/** About 20 000 tokens at roughly four characters a token. */
export const RESULT_BUDGET_CHARS = 80_000;

export interface Cut {
  /** Dotted path of the list or text that was shortened ("" for the whole value). */
  path: string;
  total: number;
  kept: number;
}

export interface ToolResult {
  [key: string]: unknown;
  content: { type: "text"; text: string }[];
  structuredContent: Record<string, unknown>;
  isError?: true;
}

/** The value with its largest lists and strings shortened until its JSON fits `budget` characters. */
export function fitToBudget(value: unknown, budget: number): { value: unknown; cuts: Cut[] } {
  let current = value;
  const cuts = new Map<string, Cut>();
  for (let round = 0; round < 64 && JSON.stringify(current).length > budget; round++) {
    const largest = largestPart(current, []);
    if (largest === null) break;
    const { path, size, length, total } = largest;
    const excess = JSON.stringify(current).length - budget;
    // Keep the share of the part that fits, never less than half of a list's items gone per round.
    const keepShare = Math.max(0, Math.min(0.5, (size - excess) / size));
    const kept = Math.floor(length * keepShare);
    current = replaceAt(current, path, (part) => (Array.isArray(part) ? part.slice(0, kept) : `${(part as string).slice(0, kept)}…`));
    const shown = path.join(".");
    const previous = cuts.get(shown);
    cuts.set(shown, { path: shown, total: previous?.total ?? total, kept });
  }
  return { value: current, cuts: [...cuts.values()] };
}

interface Part {
  path: readonly string[];
  size: number;
  length: number;
  total: number;
}

/** The list or string with the longest JSON in the value; sizes are summed bottom-up in one walk. */
function largestPart(value: unknown, path: readonly string[]): Part | null {
  return measure(value, path).best;
}

function measure(value: unknown, path: readonly string[]): { size: number; best: Part | null } {
  let best: Part | null = null;
  const consider = (part: Part | null) => {
    if (part !== null && (best === null || part.size > best.size)) best = part;
  };
  if (Array.isArray(value)) {
    let size = 2 + Math.max(0, value.length - 1);
    value.forEach((item, index) => {
      const inner = measure(item, [...path, String(index)]);
      size += inner.size;
      consider(inner.best);
    });
    if (value.length > 1) consider({ path, size, length: value.length, total: value.length });
    return { size, best };
  }
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value);
    let size = 2 + Math.max(0, entries.length - 1);
    for (const [key, item] of entries) {
      const inner = measure(item, [...path, key]);
      size += JSON.stringify(key).length + 1 + inner.size;
      consider(inner.best);
    }
    return { size, best };
  }
  const size = JSON.stringify(value ?? null).length;
  if (typeof value === "string" && value.length > 64) consider({ path, size, length: value.length, total: value.length });
  return { size, best };
}

function replaceAt(value: unknown, path: readonly string[], change: (part: unknown) => unknown): unknown {
  if (path.length === 0) return change(value);
  const [key = "", ...rest] = path;
  if (Array.isArray(value)) {
    const copy: unknown[] = [...(value as unknown[])];
    copy[Number(key)] = replaceAt(copy[Number(key)], rest, change);
    return copy;
  }
  const record = value as Record<string, unknown>;
  return { ...record, [key]: replaceAt(record[key], rest, change) };
}

/** One line naming the call and its scalar results: what a person skimming a transcript needs. */
export function summaryLine(event: string, data: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(data)) {
    if (Array.isArray(value)) parts.push(`${key}: ${value.length} item${value.length === 1 ? "" : "s"}`);
    else if (value === null || typeof value !== "object") parts.push(`${key}: ${JSON.stringify(typeof value === "string" && value.length > 80 ? `${value.slice(0, 77)}...` : value)}`);
    if (parts.length === 6) break;
  }
  return `${event} ok${parts.length > 0 ? ` (${parts.join(", ")})` : ""}`;
}

/** A successful reply as a tool result; a reply that is not an object is given as {result}. */
export function okResult(event: string, data: unknown, budget = RESULT_BUDGET_CHARS): ToolResult {
  const structured = typeof data === "object" && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : { result: data };
  // structuredContent and the text each carry the reply: half the budget each. Most replies fit as they are: stringified once.
  const whole = JSON.stringify(structured);
  const { value, cuts } = whole.length <= Math.floor(budget / 2) ? { value: structured, cuts: [] } : fitToBudget(structured, Math.floor(budget / 2));
  const fitted = { ...(value as Record<string, unknown>), ...(cuts.length > 0 ? { truncated: cuts } : {}) };
  const note =
    cuts.length > 0
      ? `\nThe reply was cut to fit: ${cuts.map((cut) => `${cut.path || "the reply"} keeps ${cut.kept} of ${cut.total}`).join("; ")}. Ask for less (limit, offset, fields, a narrower filter) to see the rest.`
      : "";
  return {
    content: [{ type: "text", text: `${summaryLine(event, structured)}${note}\n${cuts.length > 0 ? JSON.stringify(fitted) : whole}` }],
    structuredContent: fitted,
  };
}

/** A daemon error (or a bridge refusal) as a tool error the model reads: its stable code first. */
export function errorResult(code: string, message: string, details?: Record<string, unknown>): ToolResult {
  const error = details === undefined ? { code, message } : { code, message, details };
  const shown = details === undefined ? "" : `\ndetails: ${JSON.stringify(fitToBudget(details, RESULT_BUDGET_CHARS / 4).value)}`;
  return { content: [{ type: "text", text: `${code}: ${message}${shown}` }], structuredContent: { error }, isError: true };
}
