/**
 * var/lib/schedule.ndjson: the durable record of pending delayed emits.
 *
 * Writes are synchronous appends in call order (a few hundred bytes to the
 * page cache cost microseconds), so a record is in the file — safe from a
 * killed daemon — the moment `append` or `appendNow` returns; the fdatasync
 * that makes it safe from a power loss is group-committed in the background,
 * and `append`'s promise resolves after it.
 *
 * The journal keeps the line of every live schedule, so rewriting the file
 * with only those (compaction) is a join, not a re-serialisation; it
 * compacts only when the scheduler says nothing is about to fire.
 */
import { closeSync, fdatasyncSync, fsyncSync, openSync, renameSync, writeFileSync } from "node:fs";
import { fdatasync, readFile } from "node:fs";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import { appendWhole } from "../../core/atomic-file.js";
import { asUnavailable } from "../../core/disk-fault.js";
import type { Log } from "../../core/log.js";
import type { Schedule } from "./schedule-book.js";

export type JournalRecord =
  | ({ op: "add" } & Schedule)
  | { op: "cancel"; schedule_id: string }
  | { op: "done"; schedule_id: string };

export interface Replay {
  /** Live schedules in journal order. */
  schedules: Schedule[];
  records: number;
  /** Lines that could not be read (a torn last line after a crash). */
  skipped: number;
}

export interface JournalOptions {
  /** True when no schedule is due soon: the moment to compact. */
  isQuiet(): boolean;
  log: Log;
}

/** Compact once this many records were appended beyond twice the live count... */
const COMPACT_MIN_RECORDS = 10_000;
/** ...and, if it never gets quiet, anyway at this multiple of that. */
const COMPACT_FORCE_FACTOR = 4;

const fdatasyncAsync = promisify(fdatasync);
const readFileAsync = promisify(readFile);

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

export class Journal {
  /** Records written but not yet synced, and who waits for that. */
  private unsynced: Waiter[] = [];
  private syncing = false;
  private closed = false;
  private appendedSinceCompaction = 0;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => undefined;

  private constructor(
    private readonly path: string,
    private fd: number,
    /** schedule_id → its "add" line, for every live schedule. */
    private readonly liveLines: Map<string, string>,
    private readonly options: JournalOptions,
  ) {}

  /** Reads the journal and opens it for appends; rewrites it first only if it holds dead records. */
  static async open(path: string, options: JournalOptions): Promise<{ journal: Journal; replay: Replay }> {
    const { replay, liveLines } = await readJournal(path);
    if (replay.records > liveLines.size || replay.skipped > 0 || liveLines.size === 0) rewrite(path, liveLines);
    return { journal: new Journal(path, openSync(path, "a"), liveLines, options), replay };
  }

  /** Appends now and resolves once the records are synced to disk. */
  append(records: readonly JournalRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error("the schedule journal is closed"));
    if (records.length === 0) return Promise.resolve();
    this.appendNow(records);
    const synced = new Promise<void>((resolve, reject) => this.unsynced.push({ resolve, reject }));
    this.scheduleSync();
    return synced;
  }

  /**
   * Appends now, synchronously: on return the records survive a killed
   * daemon. A write the disk cannot take leaves nothing behind and throws
   * (`unavailable` for a full or read-only disk).
   */
  appendNow(records: readonly JournalRecord[]): void {
    if (this.closed) throw new Error("the schedule journal is closed");
    const lines = records.map((record) => JSON.stringify(record));
    try {
      appendWhole(this.fd, lines.length === 1 ? `${lines[0]!}\n` : `${lines.join("\n")}\n`);
    } catch (err) {
      throw asUnavailable(err, this.path);
    }
    records.forEach((record, i) => {
      if (record.op === "add") this.liveLines.set(record.schedule_id, lines[i]!);
      else this.liveLines.delete(record.schedule_id);
    });
    this.appendedSinceCompaction += records.length;
    this.scheduleSync();
  }

  /** Waits for the last sync, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle;
    fdatasyncSync(this.fd);
    closeSync(this.fd);
  }

  private scheduleSync(): void {
    if (this.syncing) return;
    this.syncing = true;
    this.idle = new Promise((resolve) => (this.markIdle = resolve));
    // Let the rest of this burst (one socket chunk of requests) share the sync.
    setImmediate(() => void this.syncLoop());
  }

  private async syncLoop(): Promise<void> {
    do {
      const waiters = this.unsynced;
      this.unsynced = [];
      try {
        await fdatasyncAsync(this.fd);
        for (const waiter of waiters) waiter.resolve();
      } catch (err) {
        this.options.log.error({ err, path: this.path }, "schedule journal sync failed");
        const refused = asUnavailable(err, this.path);
        for (const waiter of waiters) waiter.reject(refused);
      }
      if (this.shouldCompact()) this.compact();
    } while (this.unsynced.length > 0);
    this.syncing = false;
    this.markIdle();
  }

  private shouldCompact(): boolean {
    const threshold = COMPACT_MIN_RECORDS + 2 * this.liveLines.size;
    if (this.appendedSinceCompaction <= threshold) return false;
    return this.appendedSinceCompaction > COMPACT_FORCE_FACTOR * threshold || (this.unsynced.length === 0 && this.options.isQuiet());
  }

  /** Synchronous, so no append can land in the old file after the snapshot (~10 ms per 100 000 live). */
  private compact(): void {
    try {
      rewrite(this.path, this.liveLines);
      closeSync(this.fd);
      this.fd = openSync(this.path, "a");
      this.appendedSinceCompaction = 0;
      this.options.log.info({ live: this.liveLines.size }, "schedule journal compacted");
    } catch (err) {
      this.options.log.error({ err, path: this.path }, "schedule journal compaction failed; appending to the old file");
    }
  }
}

/** Replaces the file with the live lines: temp + fsync + rename + directory fsync. */
function rewrite(path: string, lines: Map<string, string>): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(temp, "w", 0o600);
  try {
    writeFileSync(fd, lines.size === 0 ? "" : [...lines.values()].join("\n") + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  const dir = openSync(dirname(path), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** Field by field: one object shape for every schedule, and cheaper than a spread and a delete. */
function toSchedule(record: Schedule): Schedule {
  return {
    schedule_id: record.schedule_id,
    event: record.event,
    data: record.data,
    fire_at: record.fire_at,
    key: record.key,
    condition: record.condition,
    agent_id: record.agent_id,
    created_at: record.created_at,
  };
}

async function readJournal(path: string): Promise<{ replay: Replay; liveLines: Map<string, string> }> {
  let text: string;
  try {
    text = await readFileAsync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { replay: { schedules: [], records: 0, skipped: 0 }, liveLines: new Map() };
    throw err;
  }
  const live = new Map<string, Schedule>();
  const liveLines = new Map<string, string>();
  const byKey = new Map<string, string>();
  let records = 0;
  let skipped = 0;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    let record: JournalRecord;
    try {
      record = JSON.parse(line) as JournalRecord;
    } catch {
      skipped++;
      continue;
    }
    records++;
    if (record.op === "add") {
      if (record.key !== undefined) {
        const previous = byKey.get(record.key);
        if (previous !== undefined) {
          live.delete(previous);
          liveLines.delete(previous);
        }
        byKey.set(record.key, record.schedule_id);
      }
      live.set(record.schedule_id, toSchedule(record));
      liveLines.set(record.schedule_id, line);
    } else {
      live.delete(record.schedule_id);
      liveLines.delete(record.schedule_id);
    }
  }
  return { replay: { schedules: [...live.values()], records, skipped }, liveLines };
}
