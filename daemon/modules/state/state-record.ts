/**
 * The lines of var/lib/state.ndjson (pure): the state as a journal of
 * changes, one JSON record a line, the last record of a key winning.
 *
 *   {"op":"meta","highest_deleted_version":3}
 *   {"op":"set","key":"run_42.status","version":2,"value":"done"}
 *   {"op":"delete","key":"gone","version":3}
 *
 * A set carries the version it gives the key; a delete the version it
 * retires, so a key set again starts above it (versions never repeat for a
 * key, across restarts too). A compacted journal starts with a meta record
 * holding the highest version a deleted key had, then one set per key.
 *
 * A last line without its newline was torn by a crash in the middle of an
 * append (never acknowledged: a reply waits for the fsync of the whole
 * line): it is reported as torn, for the caller to cut off. Any other line
 * that is not a record is damage the daemon cannot repair without losing a
 * change, so replaying throws, naming the line.
 */
import { keyProblem } from "./kv.js";

export interface ReplayedState {
  values: Map<string, unknown>;
  versions: Map<string, number>;
  /** Each key's bytes counted against the state's byte cap (stateBytes). */
  sizes: Map<string, number>;
  /** The highest version any deleted key had: a key set again starts above it. */
  highestDeletedVersion: number;
  /** Where the whole lines end: the torn line, if any, starts here. */
  wholeBytes: number;
  /** A last line cut short by a crash (no newline): cut off by the caller. */
  torn?: { line: number; offset: number; bytes: number };
}

const NEWLINE = 0x0a;
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });
const EXCERPT_CHARS = 80;

/** What a key and its value count against the byte cap: the key's bytes and its value's JSON bytes. */
export function stateBytes(key: string, valueJson: string): number {
  return key.length + Buffer.byteLength(valueJson);
}

/** A set record's line (with its newline); `valueJson` is JSON.stringify(value), computed once by the caller. Keys need no escaping (kv.ts). */
export function setLine(key: string, version: number, valueJson: string): string {
  return `{"op":"set","key":"${key}","version":${version},"value":${valueJson}}\n`;
}

export function deleteLine(key: string, version: number): string {
  return `{"op":"delete","key":"${key}","version":${version}}\n`;
}

export function metaLine(highestDeletedVersion: number): string {
  return `{"op":"meta","highest_deleted_version":${highestDeletedVersion}}\n`;
}

/** Roughly what a key's set line adds beyond stateBytes (`{"op":"set","key":"","version":N,"value":}` and the newline). */
export const SET_LINE_OVERHEAD = 48;

/** The state the journal's bytes hold; throws an Error naming the first damaged line. */
export function replayJournal(bytes: Uint8Array): ReplayedState {
  const state: ReplayedState = { values: new Map(), versions: new Map(), sizes: new Map(), highestDeletedVersion: 0, wholeBytes: 0 };
  let line = 0;
  for (let start = 0; start < bytes.length; ) {
    line++;
    const newline = bytes.indexOf(NEWLINE, start);
    if (newline === -1) {
      state.torn = { line, offset: start, bytes: bytes.length - start };
      break;
    }
    if (newline > start) {
      const text = decode(bytes.subarray(start, newline), line, start);
      let record: unknown;
      try {
        record = JSON.parse(text);
      } catch (err) {
        throw damaged(line, start, text, `not JSON: ${(err as Error).message}`);
      }
      const problem = apply(state, record, text);
      if (problem !== undefined) throw damaged(line, start, text, problem);
    }
    start = newline + 1;
    state.wholeBytes = start;
  }
  return state;
}

/** Applies one record; returns why it is not a record, or undefined. */
function apply(state: ReplayedState, record: unknown, text: string): string | undefined {
  if (!isObject(record)) return "not a record object";
  if (record.op === "meta") {
    if (!isVersion(record.highest_deleted_version)) return "highest_deleted_version must be a whole number ≥ 0";
    state.highestDeletedVersion = Math.max(state.highestDeletedVersion, record.highest_deleted_version);
    return undefined;
  }
  if (record.op !== "set" && record.op !== "delete") return `op must be set, delete or meta (got ${JSON.stringify(record.op)})`;
  if (typeof record.key !== "string") return "key must be a string";
  // The file is outside the daemon's control: a key like "__proto__.x" would reach Object.prototype in the nested view.
  const keyIssue = keyProblem(record.key);
  if (keyIssue !== null) return `the key ${JSON.stringify(record.key)}: ${keyIssue}`;
  if (!isVersion(record.version) || record.version === 0) return "version must be a whole number ≥ 1";
  const { key, version } = record;
  if (record.op === "delete") {
    state.values.delete(key);
    state.versions.delete(key);
    state.sizes.delete(key);
    state.highestDeletedVersion = Math.max(state.highestDeletedVersion, version);
    return undefined;
  }
  if (!("value" in record)) return "a set needs a value";
  state.values.set(key, record.value);
  state.versions.set(key, version);
  // The value's JSON as the daemon wrote it: the line minus the record around it (setLine's layout), without a second stringify.
  const valueJson = text.slice(text.indexOf('"value":') + 8, -1);
  state.sizes.set(key, stateBytes(key, text.startsWith(`{"op":"set","key":"${key}","version":${version},"value":`) ? valueJson : JSON.stringify(record.value)));
  return undefined;
}

function decode(bytes: Uint8Array, line: number, offset: number): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    throw damaged(line, offset, new TextDecoder().decode(bytes), "not UTF-8 text");
  }
}

function damaged(line: number, offset: number, text: string, problem: string): Error {
  const chars = [...text.slice(0, EXCERPT_CHARS * 2)];
  const excerpt = chars.length <= EXCERPT_CHARS ? chars.join("") : chars.slice(0, EXCERPT_CHARS).join("") + "…";
  return new Error(`line ${line} (byte ${offset}) is not a state record: ${problem}: ${excerpt}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isVersion(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
