/**
 * The lines of var/lib/schedule.ndjson (pure): one JSON record per line,
 * checked field by field (a schedule with a text `fire_at` would sit in the
 * heap forever, a `null` line would stop the daemon). A line that is not a
 * whole, valid record (torn by a crash, or damaged) is reported with where
 * it is, so that a person can find it in the kept copy.
 */
import type { Schedule } from "./schedule-book.js";

export type JournalRecord =
  | ({ op: "add" } & Schedule)
  | { op: "cancel"; schedule_id: string }
  | { op: "done"; schedule_id: string };

/** A line that was skipped: where it is in the file, how it starts, and what is wrong with it. */
export interface DamagedLine {
  /** 1-based. */
  line: number;
  /** Byte offset of the line's first byte. */
  offset: number;
  /** The line's start, at most EXCERPT_CHARS characters (… when cut). */
  excerpt: string;
  problem: string;
}

const EXCERPT_CHARS = 80;
const NEWLINE = 0x0a;
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });
/** For the excerpt of a line that is not UTF-8: bad bytes shown as U+FFFD. */
const LENIENT_UTF8 = new TextDecoder("utf-8");

/**
 * Calls `onRecord` for each valid record in file order, with the line's
 * text (kept as written, for compaction); returns the lines skipped.
 * Empty lines are no records and no damage.
 */
export function readJournalLines(bytes: Uint8Array, onRecord: (record: JournalRecord, text: string) => void): DamagedLine[] {
  const damaged: DamagedLine[] = [];
  let line = 0;
  for (let start = 0; start < bytes.length; ) {
    line++;
    const newline = bytes.indexOf(NEWLINE, start);
    const end = newline === -1 ? bytes.length : newline;
    if (end > start) {
      const found = readLine(bytes.subarray(start, end), newline === -1);
      if ("record" in found) onRecord(found.record, found.text);
      else damaged.push({ line, offset: start, excerpt: excerpt(found.text), problem: found.problem });
    }
    start = end + 1;
  }
  return damaged;
}

function readLine(bytes: Uint8Array, last: boolean): { record: JournalRecord; text: string } | { text: string; problem: string } {
  let text: string;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    return { text: LENIENT_UTF8.decode(bytes), problem: "not UTF-8 text" };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const torn = last ? "the last line has no end (torn by a crash?): " : "";
    return { text, problem: `${torn}not JSON: ${(err as Error).message}` };
  }
  const problem = recordProblem(value);
  if (problem !== undefined) return { text, problem };
  return { record: value as JournalRecord, text };
}

/** Why `value` is not a journal record, or undefined when it is one. */
export function recordProblem(value: unknown): string | undefined {
  if (!isObject(value)) return `not a record object: ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value}`;
  if (value.op !== "add" && value.op !== "cancel" && value.op !== "done") return `op must be add, cancel or done (got ${JSON.stringify(value.op)})`;
  if (typeof value.schedule_id !== "string" || value.schedule_id === "") return "schedule_id must be a non-empty string";
  if (value.op !== "add") return undefined;
  if (typeof value.event !== "string" || value.event === "") return "event must be a non-empty string";
  if (!isObject(value.data)) return "data must be an object";
  if (!Number.isFinite(value.fire_at)) return `fire_at must be a number of epoch milliseconds (got ${JSON.stringify(value.fire_at)})`;
  if (!Number.isFinite(value.created_at)) return `created_at must be a number of epoch milliseconds (got ${JSON.stringify(value.created_at)})`;
  for (const field of ["key", "agent_id"] as const) {
    if (value[field] !== undefined && typeof value[field] !== "string") return `${field} must be a string when present`;
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function excerpt(text: string): string {
  const chars = [...text];
  return chars.length <= EXCERPT_CHARS ? text : chars.slice(0, EXCERPT_CHARS).join("") + "…";
}
