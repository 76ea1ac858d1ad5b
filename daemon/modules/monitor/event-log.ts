/**
 * The event log (SPEC §6): one JSON line per routed event in
 * var/log/events/YYYY-MM-DD.ndjson (UTC day), written in batches, large
 * `data` truncated; and the reader behind monitor:get_events, which scans
 * files newest first, from their ends, so recent queries stay cheap.
 */
import { closeSync, createWriteStream, fstatSync, openSync, readSync, type WriteStream } from "node:fs";
import { open, readdir } from "node:fs/promises";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import type { RoutedEvent } from "../../core/bus.js";
import type { Log } from "../../core/log.js";

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

export interface EventQuery {
  matches(record: EventRecord): boolean;
  /** Epoch ms bounds, inclusive. */
  since?: number | undefined;
  until?: number | undefined;
  limit: number;
}

const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.ndjson$/;
const READ_CHUNK = 64 * 1024;

export class EventLog {
  private stream: WriteStream | null = null;
  private day = "";
  private pending: string[] = [];
  private flushScheduled = false;
  /** Settles once the streams of previous days have written everything and closed. */
  private retired: Promise<unknown> = Promise.resolve();

  /** `dir` must exist (the daemon creates its var/ tree at start). */
  constructor(
    private readonly dir: string,
    private readonly maxDataBytes: number,
    private readonly log: Log,
  ) {}

  append(event: RoutedEvent): void {
    const iso = new Date(event.ts).toISOString();
    const day = iso.slice(0, 10);
    if (day !== this.day) {
      this.writePending();
      this.rotate(day);
    }
    this.pending.push(this.serialize(event, iso));
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.writePending());
    }
  }

  /** Resolves once everything appended so far is handed to the file. */
  async flush(): Promise<void> {
    this.writePending();
    await this.retired;
    const stream = this.stream;
    if (stream === null || stream.writableLength === 0) return;
    await new Promise<void>((resolve) => stream.write("", () => resolve()));
  }

  async close(): Promise<void> {
    await this.flush();
    const stream = this.stream;
    this.stream = null;
    if (stream !== null) await new Promise<void>((resolve) => stream.end(resolve));
  }

  /** Matching records, newest last. */
  async read(query: EventQuery): Promise<EventRecord[]> {
    await this.flush();
    const days = (await readdir(this.dir).catch(() => [] as string[]))
      .map((name) => DAY_FILE.exec(name)?.[1])
      .filter((day): day is string => day !== undefined)
      .sort()
      .reverse();
    const sinceDay = query.since === undefined ? "" : new Date(query.since).toISOString().slice(0, 10);
    const untilDay = query.until === undefined ? "9999" : new Date(query.until).toISOString().slice(0, 10);
    const found: EventRecord[] = [];
    for (const day of days) {
      if (day > untilDay) continue;
      if (day < sinceDay) break;
      const done = await this.scanBackward(join(this.dir, `${day}.ndjson`), query, found);
      if (done) break;
    }
    return found.reverse();
  }

  /** Appends matches (newest first) to `found`; true when the query is satisfied. */
  private async scanBackward(path: string, query: EventQuery, found: EventRecord[]): Promise<boolean> {
    let done = false;
    await readLinesBackward(path, (line) => {
      let record: EventRecord;
      try {
        record = JSON.parse(line) as EventRecord;
      } catch {
        return true; // a torn last line after a crash: skip it
      }
      const ts = Date.parse(record.ts);
      if (query.until !== undefined && ts > query.until) return true;
      if (query.since !== undefined && ts < query.since) {
        done = true;
        return false;
      }
      if (query.matches(record)) found.push(record);
      done = found.length >= query.limit;
      return !done;
    });
    return done;
  }

  private serialize(event: RoutedEvent, ts: string): string {
    let data: unknown = event.data;
    let json = JSON.stringify(data) ?? "null";
    // The limit is in bytes: length alone under-counts multi-byte text.
    if (json.length > this.maxDataBytes || Buffer.byteLength(json) > this.maxDataBytes) {
      data = { _truncated: true, bytes: Buffer.byteLength(json), preview: utf8Prefix(json, this.maxDataBytes) };
      json = JSON.stringify(data);
    }
    const record: Record<string, unknown> = {
      ts,
      seq: event.seq,
      event: event.event,
      id: event.id,
      agent_id: event.agentId ?? null,
      ...event.meta,
      ok: event.ok,
      ...(event.code === undefined ? {} : { code: event.code }),
      ms: Math.round(event.ms * 1000) / 1000,
    };
    // `data` is spliced in as already-serialised text so it is stringified once.
    return `${JSON.stringify(record).slice(0, -1)},"data":${json}}\n`;
  }

  private rotate(day: string): void {
    const previous = this.stream;
    if (previous !== null) {
      previous.end();
      this.retired = Promise.all([this.retired, finished(previous).catch(() => undefined)]);
    }
    this.day = day;
    const path = join(this.dir, `${day}.ndjson`);
    const stream = createWriteStream(path, { flags: "a" });
    stream.on("error", (err) => this.log.error({ err }, "event log write failed"));
    // A crash may have left a torn last line: start a fresh one so the next record is not glued to it.
    if (endsMidLine(path)) stream.write("\n");
    this.stream = stream;
  }

  private writePending(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0 || this.stream === null) return;
    this.stream.write(this.pending.join(""));
    this.pending = [];
  }
}

/** The longest prefix of `text` that fits in `maxBytes` of UTF-8 without splitting a character. */
function utf8Prefix(text: string, maxBytes: number): string {
  const head = Buffer.from(text.slice(0, maxBytes), "utf8").subarray(0, maxBytes);
  // In streaming mode an incomplete last character is held back instead of decoded as U+FFFD.
  return new TextDecoder().decode(head, { stream: true });
}

/** True when the file exists and does not end with a newline. Runs once per day file opened; never throws (it runs in a bus listener). */
function endsMidLine(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const size = fstatSync(fd).size;
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } catch {
    return false; // missing (a new day) or unreadable: the write stream reports real trouble
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Calls `onLine` for each line from the end of the file; stops when it returns false. */
async function readLinesBackward(path: string, onLine: (line: string) => boolean): Promise<void> {
  const file = await open(path, "r").catch(() => null);
  if (file === null) return;
  try {
    let position = (await file.stat()).size;
    let carry = Buffer.alloc(0);
    while (position > 0) {
      const size = Math.min(READ_CHUNK, position);
      position -= size;
      const chunk = Buffer.alloc(size);
      await file.read(chunk, 0, size, position);
      const buffer = carry.length === 0 ? chunk : Buffer.concat([chunk, carry]);
      let end = buffer.length;
      for (let nl = buffer.lastIndexOf(0x0a, end - 1); nl !== -1; nl = buffer.lastIndexOf(0x0a, end - 1)) {
        if (end - nl > 1 && !onLine(buffer.toString("utf8", nl + 1, end))) return;
        end = nl;
        if (end === 0) break;
      }
      carry = Buffer.from(buffer.subarray(0, end));
    }
    if (carry.length > 0) onLine(carry.toString("utf8"));
  } finally {
    await file.close();
  }
}
