/**
 * The event log (SPEC §6): one JSON line per routed event in
 * var/log/events/YYYY-MM-DD.ndjson (UTC day), written in batches, large
 * `data` truncated; and the reader behind monitor:get_events, which scans
 * files newest first, from their ends, so recent queries stay cheap.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { open, readdir } from "node:fs/promises";
import { join } from "node:path";
import { appendWhole } from "../../core/atomic-file.js";
import type { RoutedEvent } from "../../core/bus.js";
import type { Clock, TimerHandle } from "../../core/clock.js";
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
/** Records reach the file at most this long after they are routed... */
const FLUSH_INTERVAL_MS = 20;
/** ...or as soon as this much is waiting. */
const FLUSH_BYTES = 256 * 1024;

export class EventLog {
  private fd: number | null = null;
  private day = "";
  private pending: string[] = [];
  private pendingBytes = 0;
  private flushTimer: TimerHandle | null = null;
  /** The ISO text of the last millisecond seen: consecutive events mostly share it. */
  private isoMs = -1;
  private iso = "";
  /** The file's last line was cut short by a crash: the next write starts a fresh one. */
  private torn = false;
  /** Writes are failing (a full or read-only disk); logged once, not per flush. */
  private failing = false;
  /** Records lost because the disk could not take them, since start (system:health). */
  dropped = 0;

  /** `dir` must exist (the daemon creates its var/ tree at start). */
  constructor(
    private readonly dir: string,
    private readonly maxDataBytes: number,
    private readonly log: Log,
    private readonly clock: Clock,
  ) {}

  append(event: RoutedEvent): void {
    if (event.ts !== this.isoMs) {
      this.isoMs = event.ts;
      this.iso = new Date(event.ts).toISOString();
    }
    const day = this.iso.slice(0, 10);
    if (day !== this.day) {
      this.writePending();
      this.rotate(day);
    }
    const line = this.serialize(event, this.iso);
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.writePending();
    else this.flushTimer ??= this.clock.setTimer(() => this.writePending(), FLUSH_INTERVAL_MS);
  }

  /** Writes everything appended so far to the file. */
  flush(): Promise<void> {
    this.writePending();
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.writePending();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.day = "";
    return Promise.resolve();
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
    let json = JSON.stringify(event.data) ?? "null";
    event.dataJson = json;
    // The limit is in bytes: length alone under-counts multi-byte text.
    if (json.length > this.maxDataBytes || Buffer.byteLength(json) > this.maxDataBytes) {
      json = JSON.stringify({ _truncated: true, bytes: Buffer.byteLength(json), preview: utf8Prefix(json, this.maxDataBytes) });
    }
    // Built as text: this runs for every routed event, and an object plus stringify costs twice as much.
    let line = `{"ts":"${ts}","seq":${event.seq},"event":${JSON.stringify(event.event)},"id":${JSON.stringify(event.id)},"agent_id":${event.agentId === undefined ? "null" : JSON.stringify(event.agentId)}`;
    if (event.meta !== undefined) {
      for (const [key, value] of Object.entries(event.meta)) line += `,${JSON.stringify(key)}:${JSON.stringify(value) ?? "null"}`;
    }
    line += `,"ok":${event.ok}`;
    if (event.code !== undefined) line += `,"code":"${event.code}"`;
    return `${line},"ms":${Math.round(event.ms * 1000) / 1000},"data":${json}}\n`;
  }

  private rotate(day: string): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.day = day;
    this.open();
  }

  /** Opens the day's file; false (logged once per outage) when it cannot be, and the next flush tries again. */
  private open(): boolean {
    const path = join(this.dir, `${this.day}.ndjson`);
    try {
      this.fd = openSync(path, "a+");
      // A crash may have left a torn last line: start a fresh one so the next record is not glued to it.
      this.torn = endsMidLine(this.fd);
      return true;
    } catch (err) {
      if (this.fd !== null) closeSync(this.fd);
      this.fd = null;
      this.failed(err, path);
      return false;
    }
  }

  /**
   * Synchronous on purpose: a small append to the page cache costs less than
   * the thread-pool round trip of an async write, which doubled the
   * daemon's context switches per request. A disk that cannot take the
   * records (full, read-only) loses them, counted; the next flush tries again.
   */
  private writePending(): void {
    if (this.flushTimer !== null) this.clock.clearTimer(this.flushTimer);
    this.flushTimer = null;
    if (this.pending.length === 0) return;
    const text = this.pending.join("");
    const lines = this.pending.length;
    this.pending = [];
    this.pendingBytes = 0;
    if (this.fd === null && !this.open()) {
      this.dropped += lines;
      return;
    }
    try {
      // All of the batch or none of it: a full disk leaves no torn line for readers.
      appendWhole(this.fd!, this.torn ? `\n${text}` : text);
    } catch (err) {
      this.dropped += lines;
      this.failed(err, join(this.dir, `${this.day}.ndjson`));
      return;
    }
    this.torn = false;
    if (this.failing) {
      this.failing = false;
      this.log.warn({ dropped: this.dropped }, "event log writing again");
    }
  }

  private failed(err: unknown, path: string): void {
    if (this.failing) return;
    this.failing = true;
    this.log.error({ err, path }, "event log cannot be written; records are dropped (counted in system:health) until it can");
  }
}

/** The longest prefix of `text` that fits in `maxBytes` of UTF-8 without splitting a character. */
function utf8Prefix(text: string, maxBytes: number): string {
  const head = Buffer.from(text.slice(0, maxBytes), "utf8").subarray(0, maxBytes);
  // In streaming mode an incomplete last character is held back instead of decoded as U+FFFD.
  return new TextDecoder().decode(head, { stream: true });
}

/** True when the open file is not empty and does not end with a newline. */
function endsMidLine(fd: number): boolean {
  const size = fstatSync(fd).size;
  if (size === 0) return false;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return last[0] !== 0x0a;
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
