/**
 * Reading a decision log's text back (SPEC §4.6, pure): the whole of it
 * (parseLog), or a piece of it on its own (readLogChunk), which is how the
 * daemon keeps up with a log that only grows without reading it again
 * (store/decision-reader.ts) and indexes a long one a piece per turn
 * (lastItemStart cuts the pieces), and the items of records read back one
 * by one.
 *
 * A record's text is one block-sequence item ending in a newline (see
 * decisions.ts): an append cut short by a crash therefore either lacks its
 * final newline or has an id but lacks keys, so a torn tail is always
 * recognised, reported, and never read as a record, and the records before
 * it are kept.
 */
import { readSequence, readSequenceWithAliases } from "./document.js";
import { RECORD_KEYS, type DecisionRecord } from "./decisions.js";

export interface LogIssue {
  /** 1-based line where the item starts; absent when the log is not laid out one item per `- ` line. */
  line?: number;
  message: string;
}

/**
 * The records of a log, oldest first, and what could not be read. Items
 * that are not records are reported and skipped; when the YAML itself is
 * broken, each item is read on its own so one bad item costs only itself.
 * A log that does not end in a newline ends in a torn append (see the
 * module comment), and that last item is reported, not read.
 */
export function parseLog(text: string): { records: DecisionRecord[]; issues: LogIssue[] } {
  const starts = itemStarts(text);
  const torn = !text.endsWith("\n") && starts.length > 0 ? starts.pop()! : undefined;
  const issues: LogIssue[] = [];
  const records: DecisionRecord[] = [];
  for (const item of readItems(torn === undefined ? text : text.slice(0, torn.offset), starts, issues)) {
    const record = readRecord(item.value, item.line, issues);
    if (record !== undefined) records.push(record);
  }
  if (torn !== undefined) issues.push(tornIssue(torn.line));
  return { records, issues };
}

/** The record an item holds; what is wrong with it goes to `issues`, at its line when it has one. */
function readRecord(value: unknown, line: number | undefined, issues: LogIssue[]): DecisionRecord | undefined {
  const read = asRecord(value);
  const at = (message: string): LogIssue => (line === undefined ? { message } : { line, message: `line ${line}: ${message}` });
  if (typeof read === "string") {
    issues.push(at(`not a decision record: ${read}`));
    return undefined;
  }
  if (read.note !== undefined) issues.push(at(read.note));
  return read.record;
}

function tornIssue(line: number): LogIssue {
  return { line, message: `line ${line}: the last record is cut off (no newline at its end), an append was interrupted; the records before it are kept` };
}

/** A record of a chunk and where its item is, in bytes from the chunk's start. */
export interface ChunkRecord {
  record: DecisionRecord;
  offset: number;
  bytes: number;
}

/**
 * A piece of a log read on its own. `bytes` and `lines` say how much of it
 * was read, whole items only: a torn last item is left for later (it is
 * reported in `torn`, and read once an append or a person ends it).
 */
export type LogChunk = { clean: true; records: ChunkRecord[]; issues: LogIssue[]; bytes: number; lines: number; torn: LogIssue | null } | { clean: false };

/**
 * Anything at a line's left edge but an item, a comment or a blank line
 * (`...`, `---`, a directive, a key, a scalar) changes how the lines after
 * it read, so a log holding one is read whole.
 */
const FOREIGN_LINE = /^(?![ \t#]|-(?:[ \t\r]|$)|\r?$)/m;

/** What may come before a log's first item and leave the items after it readable on their own: comments, blank lines, a document start. */
const HEAD = /^(?:(?:[ \t]*(?:#.*)?|---[ \t]*)\r?\n)*$/;

/**
 * The records and issues of `text`, a piece of a log starting at line
 * `firstLine` — exactly what parseLog gives for these items within the whole
 * log — when the piece reads the same on its own as within the log, and
 * `clean: false` otherwise: then only a parse of the whole log is right.
 * It does when it parses as a whole with one item per `- ` line (parseLog's
 * own first reading, so line numbers are the same), has no aliases (an item
 * then reads alone as it does in the log), has no line at the left edge
 * but items, comments and blank lines, and, when it `continues` the items
 * read before it, starts with an item (at the log's start, only comments,
 * blank lines and a document start may come before the first item).
 */
export function readLogChunk(text: string, firstLine: number, continues: boolean): LogChunk {
  const starts = itemStarts(text);
  const ended = text === "" || text.endsWith("\n");
  if (!ended && starts.length === 0) return { clean: false };
  const torn = ended ? undefined : starts.pop()!;
  const body = torn === undefined ? text : text.slice(0, torn.offset);
  const first = starts[0]?.offset ?? body.length;
  if (continues && first !== 0 && body !== "") return { clean: false };
  if (!HEAD.test(body.slice(0, first)) || FOREIGN_LINE.test(body.slice(first))) return { clean: false };
  const read = readSequenceWithAliases(body);
  if (!read.ok || read.aliases || read.items.length !== starts.length) return { clean: false };
  const ascii = Buffer.byteLength(body) === body.length;
  const byteAt = (offset: number) => (ascii ? offset : Buffer.byteLength(body.slice(0, offset)));
  const issues: LogIssue[] = [];
  const records: ChunkRecord[] = [];
  let offset = byteAt(first);
  read.items.forEach((value, i) => {
    const end = byteAt(starts[i + 1]?.offset ?? body.length);
    const record = readRecord(value, firstLine + starts[i]!.line - 1, issues);
    if (record !== undefined) records.push({ record, offset, bytes: end - offset });
    offset = end;
  });
  let lines = 0;
  for (let at = body.indexOf("\n"); at !== -1; at = body.indexOf("\n", at + 1)) lines++;
  return { clean: true, records, issues, bytes: byteAt(body.length), lines, torn: torn === undefined ? null : tornIssue(firstLine + torn.line - 1) };
}

/** Bytes after a line's `-` that make it an item's start (itemStarts). */
const ITEM_GAP = new Set([0x20, 0x09, 0x0d, 0x0a]);

/**
 * Where the last item that starts after the first byte of `bytes` (a piece
 * of a log's UTF-8) starts, in bytes: the piece up to there is whole items
 * (and what comes before the first), and what follows starts with an item,
 * as readLogChunk needs. 0 when no item starts after the first byte (an
 * item at the very end, with nothing after its `-`, is not counted).
 */
export function lastItemStart(bytes: Uint8Array): number {
  for (let at = bytes.length - 3; at >= 0; at--) {
    if (bytes[at] === 0x0a && bytes[at + 1] === 0x2d && ITEM_GAP.has(bytes[at + 2]!)) return at + 1;
  }
  return 0;
}

/**
 * The records of items read back by where they are (`text`: their items,
 * one after another), as the log they were indexed from has them; null
 * when the text is no longer those records (the file changed meanwhile).
 */
export function readRecordItems(text: string, count: number): DecisionRecord[] | null {
  const read = readSequence(text);
  if (!read.ok || read.items.length !== count) return null;
  const records: DecisionRecord[] = [];
  for (const value of read.items) {
    const record = asRecord(value);
    if (typeof record === "string") return null;
    records.push(record.record);
  }
  return records;
}

interface ItemStart {
  offset: number;
  line: number;
}

/** Where each item of a top-level block sequence starts: a line beginning with `-` and a space, a tab or its end. */
function itemStarts(text: string): ItemStart[] {
  const starts: ItemStart[] = [];
  let line = 1;
  let counted = 0;
  for (const match of text.matchAll(/^-(?=[ \t\r\n]|$)/gm)) {
    for (let at = text.indexOf("\n", counted); at !== -1 && at < match.index; at = text.indexOf("\n", at + 1)) line++;
    counted = match.index;
    starts.push({ offset: match.index, line });
  }
  return starts;
}

function readItems(body: string, starts: readonly ItemStart[], issues: LogIssue[]): { value: unknown; line?: number }[] {
  const whole = readSequence(body);
  if (whole.ok) {
    const aligned = whole.items.length === starts.length;
    return whole.items.map((value, i) => (aligned ? { value, line: starts[i]!.line } : { value }));
  }
  const items: { value: unknown; line?: number }[] = [];
  const head = readSequence(body.slice(0, starts[0]?.offset ?? body.length));
  if (!head.ok || head.items.length > 0) {
    const detail = head.ok ? "it is not comments" : head.issues[0]!.message;
    const what = starts.length === 0 ? "not a decision log (a YAML list of records)" : "the text before the first record is not part of one";
    issues.push({ line: 1, message: `line 1: ${what}: ${detail}` });
  }
  starts.forEach((start, i) => {
    const chunk = readSequence(body.slice(start.offset, starts[i + 1]?.offset ?? body.length));
    if (chunk.ok && chunk.items.length === 1) items.push({ value: chunk.items[0], line: start.line });
    else {
      const problem = chunk.ok ? "not one list item" : chunk.issues[0]!.message.replace(/^line (\d+)/, (_, n: string) => `line ${Number(n) + start.line - 1}`);
      issues.push({ line: start.line, message: `line ${start.line}: unreadable record: ${problem}` });
    }
  });
  return items;
}

/**
 * The record an item holds, or what is wrong with it. An item with an id is
 * patternd's and has every key (one without all of them is a torn append);
 * one without is KSI's and needs only a pattern and a decision, the rest
 * being null when absent. Keys beyond the record's are dropped. A
 * confidence that is no number from 0 to 1 (nor a string of one, as KSI
 * writes them) leaves the record readable without it, with a note.
 */
function asRecord(item: unknown): { record: DecisionRecord; note?: string } | string {
  if (typeof item !== "object" || item === null || Array.isArray(item)) return "an item is a map of record fields";
  const fields = item as Record<string, unknown>;
  const ours = Object.hasOwn(fields, "id");
  const missing = (ours ? RECORD_KEYS : (["pattern", "decision"] as const)).filter((key) => !Object.hasOwn(fields, key));
  if (missing.length > 0) return `missing ${missing.join(", ")}`;
  const { id, pattern, pattern_version, decision, context = null, outcome = null, agent_id = null, timestamp = null } = fields;
  if (ours && (typeof id !== "string" || id === "")) return "id is not a string";
  if (typeof pattern !== "string" || typeof decision !== "string") return "pattern and decision are strings";
  if (pattern_version !== undefined && typeof pattern_version !== "string") return "pattern_version is a string";
  if (timestamp !== null && typeof timestamp !== "string") return "timestamp is an ISO-8601 string";
  if (agent_id !== null && typeof agent_id !== "string") return "agent_id is a string or null";
  if (outcome !== null && typeof outcome !== "string") return "outcome is a string or null";
  const confidence = confidenceOf(fields.confidence);
  const record: DecisionRecord = {
    ...(ours ? { id: id as string } : {}),
    pattern,
    decision,
    context,
    outcome,
    confidence: confidence ?? null,
    agent_id,
    timestamp,
    ...(pattern_version === undefined ? {} : { pattern_version }),
  };
  if (confidence !== undefined) return { record };
  return { record, note: `confidence ${JSON.stringify(fields.confidence)} is not a number from 0 to 1; the record is read without it` };
}

/** A confidence as a number: a number or numeric string from 0 to 1; null when absent or null; undefined when it is something else. */
function confidenceOf(value: unknown): number | null | undefined {
  if (value === undefined || value === null) return null;
  const number = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
  return Number.isFinite(number) && number >= 0 && number <= 1 ? number : undefined;
}
