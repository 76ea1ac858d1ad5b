/**
 * The event log (SPEC §6): one JSON line per routed event in
 * var/log/events/YYYY-MM-DD.ndjson (UTC day), written in batches, large
 * `data` truncated; old day files deleted by the retention policy (at
 * start, on a new day, every hour, and whenever a sixteenth of the size
 * cap has been written since the last check); queries answered by
 * EventLogReader through its block indexes.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { DEFAULT_EVENT_LOG_RETENTION, type EventLogRetention } from "../../config.js";
import { appendWhole } from "../../core/atomic-file.js";
import type { RoutedEvent } from "../../core/bus.js";
import type { Clock, TimerHandle } from "../../core/clock.js";
import type { Log } from "../../core/log.js";
import { EventLogReader, type EventQuery, type EventRecord } from "./event-log-reader.js";
import { expiredDays, type DayFile } from "./retention.js";

export type { EventQuery, EventRecord };

/** Records reach the file at most this long after they are routed... */
const FLUSH_INTERVAL_MS = 20;
/** ...or as soon as this much is waiting. */
const FLUSH_BYTES = 256 * 1024;
/** The background indexing of the files found at start begins this long after it. */
const WARM_AFTER_MS = 2_000;
/** Retention is checked this often even when nothing else calls for it. */
const RETENTION_CHECK_MS = 60 * 60_000;
/** ...and after this share of the size cap has been written: the cap is overshot by little more. */
const RETENTION_WRITE_SHARE = 16;

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
  private readonly reader: EventLogReader;
  private warming: Promise<void> = Promise.resolve();
  private warmTimer: TimerHandle | null = null;
  /** The retention checks, one after another; `retentionQueued` while one waits to run. */
  private retaining: Promise<void> = Promise.resolve();
  private retentionQueued = false;
  private retentionTimer: TimerHandle | null = null;
  private bytesSinceRetention = 0;
  private closed = false;

  /** `dir` must exist (the daemon creates its var/ tree at start). */
  constructor(
    private readonly dir: string,
    private readonly maxDataBytes: number,
    private readonly log: Log,
    private readonly clock: Clock,
    private readonly retention: EventLogRetention = DEFAULT_EVENT_LOG_RETENTION,
  ) {
    this.reader = new EventLogReader(dir);
  }

  /**
   * Applies retention before the daemon serves; a little later summarises
   * the remaining files in the background, so that the first queries find
   * them indexed without taking the CPU from the rest of the start (a query
   * before then indexes the files it needs itself).
   */
  async start(): Promise<void> {
    this.checkRetention();
    await this.retaining;
    this.warmTimer = this.clock.setTimer(() => {
      this.warmTimer = null;
      this.warming = this.reader.warm().catch((err: unknown) => this.log.warn({ err }, "event log could not be indexed; queries index it as they go"));
    }, WARM_AFTER_MS);
  }

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

  async close(): Promise<void> {
    this.closed = true;
    if (this.retentionTimer !== null) this.clock.clearTimer(this.retentionTimer);
    this.retentionTimer = null;
    if (this.warmTimer !== null) this.clock.clearTimer(this.warmTimer);
    this.warmTimer = null;
    this.reader.stop();
    this.writePending();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.day = "";
    await Promise.all([this.warming, this.retaining]);
  }

  /** Matching records, newest last. */
  async read(query: EventQuery): Promise<EventRecord[]> {
    await this.flush();
    return this.reader.read(query);
  }

  /**
   * Queues one retention check (while one waits to run, more calls add
   * nothing). After each check the next is due within the hour. Failures are
   * logged; the next check tries again.
   */
  private checkRetention(): void {
    if (this.closed || this.retentionQueued) return;
    this.retentionQueued = true;
    this.bytesSinceRetention = 0;
    this.retaining = this.retaining
      .then(() => {
        this.retentionQueued = false;
        return this.applyRetention();
      })
      .catch((err: unknown) => this.log.warn({ err }, "event log retention check failed; the next one tries again"))
      .finally(() => {
        if (this.retentionTimer !== null) this.clock.clearTimer(this.retentionTimer);
        this.retentionTimer = this.closed ? null : this.clock.setTimer(() => this.checkRetention(), RETENTION_CHECK_MS);
      });
  }

  /** Deletes the day files the policy expires (never today's or the one being written), each logged. */
  private async applyRetention(): Promise<void> {
    const files = (
      await Promise.all(
        (await this.reader.days()).map(async (day): Promise<DayFile | null> => {
          const info = await stat(this.pathOf(day)).catch(() => null);
          return info === null ? null : { day, bytes: info.size };
        }),
      )
    ).filter((file): file is DayFile => file !== null);
    const today = new Date(this.clock.now()).toISOString().slice(0, 10);
    for (const file of expiredDays(files, this.retention, today, this.day === "" ? [] : [this.day])) {
      try {
        await unlink(this.pathOf(file.day));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") this.log.warn({ err, file: this.pathOf(file.day) }, "event log day file could not be deleted");
        continue;
      } finally {
        this.reader.forget(file.day);
      }
      const { maxBytes, maxDays } = this.retention;
      this.log.info({ file: this.pathOf(file.day), bytes: file.bytes, reason: file.reason, max_bytes: maxBytes, max_days: maxDays }, "event log day file deleted (retention)");
    }
  }

  private pathOf(day: string): string {
    return join(this.dir, `${day}.ndjson`);
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
    const previous = this.day;
    this.day = day;
    this.open();
    // A new day: the oldest may now be past the age cap.
    if (previous !== "") this.checkRetention();
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
    this.bytesSinceRetention += text.length;
    if (this.bytesSinceRetention > this.retention.maxBytes / RETENTION_WRITE_SHARE) this.checkRetention();
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
