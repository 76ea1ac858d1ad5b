/**
 * The reader behind monitor:get_events (I/O): the day files newest first,
 * each through its block index (event-index.ts), reading only the blocks
 * that can hold a match, newest first, and stopping once `limit` records
 * are found. Indexes live in memory: a file is summarised the first time
 * it is needed (or by `warm` after the start), and afterwards only what
 * was appended since is read, so the work of a query follows what it
 * returns and what was written since the last one, not the log's length.
 * Every read is asynchronous, in chunks, so other clients are served in
 * between (the ~10 ms rule, issue 22).
 */
import { readdir, open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { FileIndex, keyMatches, memoize, recordKey, type KeyQuery } from "./event-index.js";

export interface EventRecord {
  ts: string;
  seq: number;
  event: string;
  id: string | number | null;
  agent_id: string | null;
  ok: boolean;
  code?: string;
  ms: number;
  data: unknown;
  [extra: string]: unknown;
}

export interface EventQuery extends KeyQuery {
  limit: number;
}

export const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.ndjson$/;
/** How much of the log one step of indexing reads. */
const INDEX_CHUNK = 256 * 1024;
/** Bytes of a line decoded to find its key: the head fields come first and are short. */
const HEAD_BYTES = 512;

interface IndexedFile {
  ino: number;
  index: FileIndex;
  /** The last extension queued: extensions of one file run one after another. */
  extending: Promise<void>;
}

export class EventLogReader {
  private readonly files = new Map<string, IndexedFile>();
  private stopping = false;

  constructor(private readonly dir: string) {}

  /** The days that have a file, oldest first. */
  async days(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names
      .map((name) => DAY_FILE.exec(name)?.[1])
      .filter((day): day is string => day !== undefined)
      .sort();
  }

  /** Matching records, newest last; the same records a scan of every line would find. */
  async read(query: EventQuery): Promise<EventRecord[]> {
    const sinceDay = query.since === undefined ? "" : new Date(query.since).toISOString().slice(0, 10);
    const untilDay = query.until === undefined ? "9999" : new Date(query.until).toISOString().slice(0, 10);
    const nameMatches = memoize(query.matchesName);
    const keyQuery = { ...query, matchesName: nameMatches };
    const found: EventRecord[] = [];
    for (const day of (await this.days()).reverse()) {
      if (day > untilDay) continue;
      if (day < sinceDay) break;
      const file = await open(join(this.dir, `${day}.ndjson`), "r").catch(() => null);
      if (file === null) continue; // deleted since the listing
      try {
        const index = await this.indexOf(day, file);
        for (const block of index.candidates(keyQuery, nameMatches)) {
          const buffer = Buffer.alloc(block.end - block.start);
          await file.read(buffer, 0, buffer.length, block.start);
          if (collectBackward(buffer, keyQuery, found)) return found.reverse();
        }
      } finally {
        await file.close();
      }
    }
    return found.reverse();
  }

  /** Summarises every file not summarised yet, newest first, until done or `stop`. */
  async warm(): Promise<void> {
    for (const day of (await this.days()).reverse()) {
      if (this.stopping) return;
      const file = await open(join(this.dir, `${day}.ndjson`), "r").catch(() => null);
      if (file === null) continue;
      try {
        await this.indexOf(day, file);
      } finally {
        await file.close();
      }
    }
  }

  /** The day's file is gone (retention): its index goes too. */
  forget(day: string): void {
    this.files.delete(day);
  }

  /** Ends `warm` between two chunks. */
  stop(): void {
    this.stopping = true;
  }

  /** The day's index, brought up to the file's current end. A file replaced or cut short (by a person) is summarised anew. */
  private async indexOf(day: string, file: FileHandle): Promise<FileIndex> {
    const { ino, size } = await file.stat();
    let entry = this.files.get(day);
    if (entry === undefined || entry.ino !== ino || size < entry.index.covered) {
      entry = { ino, index: new FileIndex(), extending: Promise.resolve() };
      this.files.set(day, entry);
    }
    const { index } = entry;
    const extended = entry.extending.then(() => this.extend(index, file, size));
    // A failed read fails this query only; the next one tries again from where the index stands.
    entry.extending = extended.catch(() => undefined);
    await extended;
    return index;
  }

  /** Adds the whole lines of bytes [index.covered, size) to the index; a torn last line waits for its end. */
  private async extend(index: FileIndex, file: FileHandle, size: number): Promise<void> {
    let carry = Buffer.alloc(0);
    let position = index.covered;
    while (position < size && !this.stopping) {
      const chunk = Buffer.alloc(Math.min(INDEX_CHUNK, size - position));
      const { bytesRead } = await file.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      const buffer = carry.length === 0 ? chunk.subarray(0, bytesRead) : Buffer.concat([carry, chunk.subarray(0, bytesRead)]);
      const base = position - buffer.length;
      let start = 0;
      for (let nl = buffer.indexOf(0x0a, start); nl !== -1; nl = buffer.indexOf(0x0a, start)) {
        index.add(nl > start ? keyOf(buffer, start, nl) : null, base + start, base + nl + 1);
        start = nl + 1;
      }
      carry = Buffer.from(buffer.subarray(start));
    }
  }
}

/** The key of the line at buffer[start, end) (no newline), decoding only its head when that is enough. */
function keyOf(buffer: Buffer, start: number, end: number): ReturnType<typeof recordKey> {
  if (end - start <= HEAD_BYTES) return recordKey(buffer.toString("utf8", start, end));
  return recordKey(buffer.toString("utf8", start, start + HEAD_BYTES)) ?? recordKey(buffer.toString("utf8", start, end));
}

/** Appends the block's matching records to `found`, newest first; true once `limit` are found. */
function collectBackward(buffer: Buffer, query: EventQuery, found: EventRecord[]): boolean {
  let end = buffer.length;
  if (buffer[end - 1] === 0x0a) end--;
  while (end > 0) {
    const nl = buffer.lastIndexOf(0x0a, end - 1);
    const start = nl + 1;
    if (end > start) {
      const key = keyOf(buffer, start, end);
      const record = key !== null && keyMatches(key, query) ? parseRecord(buffer.toString("utf8", start, end)) : null;
      if (record !== null) {
        found.push(record);
        if (found.length >= query.limit) return true;
      }
    }
    end = nl;
  }
  return false;
}

/** null for a line cut short by a crash (its head may still read well). */
function parseRecord(line: string): EventRecord | null {
  try {
    return JSON.parse(line) as EventRecord;
  } catch {
    return null;
  }
}
