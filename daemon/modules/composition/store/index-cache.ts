/**
 * The catalog saved under var/lib, so that a restart re-reads only the
 * pattern files whose state changed (listing.ts): parsing is nearly all of an
 * index build (about 1 ms a file), and reading the cache is not. One JSON
 * line per entry after a header line, written in chunks (a store of 10 000
 * patterns as one JSON string cost 150 MB of peak memory) to a temp file
 * that replaces the old one atomically. A cache for another store, another
 * format or a damaged line is ignored (that entry is read from its file).
 */
import { readFile } from "node:fs/promises";
import { writeAtomic } from "../../../core/atomic-file.js";
import type { CachedEntry } from "./catalog.js";

// 3: entries carry their warnings, and paths may be any depth, .yml or .md. 4: states carry ctime, inode and when they were taken.
// 5: entries carry their text's blob id instead of the text.
const FORMAT = 5;
const LINES_PER_WRITE = 500;

export async function readIndexCache(path: string, store: string): Promise<CachedEntry[]> {
  // Bytes, cut into lines before decoding: a cache of 100 000 patterns (~300 MB) can be longer than
  // the longest string V8 makes, so reading it as one string failed and every start read every file.
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    return [];
  }
  const lines = lineRanges(bytes);
  try {
    const header = JSON.parse(lines.next().value ?? "") as { format?: number; store?: string };
    if (header.format !== FORMAT || header.store !== store) return [];
  } catch {
    return [];
  }
  const entries: CachedEntry[] = [];
  for (const line of lines) {
    if (line === "") continue;
    try {
      const value: unknown = JSON.parse(line);
      // A line of another shape (damage, a hand edit) would stop the start: that file is simply read again, like a torn one.
      if (isCachedEntry(value)) entries.push(value);
    } catch {
      // a damaged line: that file is simply read again
    }
  }
  return entries;
}

/** Each line of `bytes` as text, decoded one at a time. */
function* lineRanges(bytes: Buffer): Generator<string, undefined> {
  for (let start = 0; start < bytes.length; ) {
    const end = bytes.indexOf(0x0a, start);
    const stop = end === -1 ? bytes.length : end;
    yield bytes.toString("utf8", start, stop);
    start = stop + 1;
  }
  return undefined;
}

/** The fields restore() and reconcile() rely on, with their types. */
function isCachedEntry(value: unknown): value is CachedEntry {
  if (typeof value !== "object" || value === null) return false;
  const { entry, state } = value as Partial<Record<keyof CachedEntry, Record<string, unknown> | null>>;
  if (typeof entry !== "object" || entry === null || typeof state !== "object" || state === null) return false;
  const strings = ["name", "type", "version", "description", "path", "textId"].every((key) => typeof entry[key] === "string");
  const data = typeof entry.data === "object" && entry.data !== null && !Array.isArray(entry.data);
  return strings && data && ["mtimeMs", "ctimeMs", "size", "ino", "seenAt"].every((key) => Number.isFinite(state[key]));
}

export async function writeIndexCache(path: string, store: string, entries: readonly CachedEntry[]): Promise<void> {
  await writeAtomic(path, chunks(store, entries));
}

function* chunks(store: string, entries: readonly CachedEntry[]): Generator<string> {
  yield JSON.stringify({ format: FORMAT, store }) + "\n";
  for (let i = 0; i < entries.length; i += LINES_PER_WRITE) {
    yield entries
      .slice(i, i + LINES_PER_WRITE)
      .map((e) => JSON.stringify(e) + "\n")
      .join("");
  }
}
