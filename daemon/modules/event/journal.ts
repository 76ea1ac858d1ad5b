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
 *
 * Lines that cannot be read are skipped (the rest of the schedules still
 * fire), but never silently: before the file is rewritten without them, a
 * byte-identical copy is kept beside it (`schedule.ndjson.damaged-<time>`,
 * the newest few), and a warning names each skipped line.
 */
import { closeSync, fdatasyncSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { fdatasync, readFile } from "node:fs";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import { appendWhole, closeTornLine } from "../../core/atomic-file.js";
import { asUnavailable } from "../../core/disk-fault.js";
import type { Log } from "../../core/log.js";
import { readJournalLines, type DamagedLine, type JournalRecord } from "./journal-record.js";
import type { Schedule } from "./schedule-book.js";

export type { JournalRecord };

export interface Replay {
  /** Live schedules in journal order. */
  schedules: Schedule[];
  records: number;
  /** Lines that could not be read (a torn last line after a crash, damage): `damaged.length`. */
  skipped: number;
  /** Each skipped line: where it is in the file as it was read, and what was wrong with it. */
  damaged: DamagedLine[];
  /** Where the file as it was read was kept, when lines were skipped (and the copy could be written). */
  damagedCopy?: string;
}

export interface JournalOptions {
  /** True when no schedule is due soon: the moment to compact. */
  isQuiet(): boolean;
  /**
   * True while a burst of due schedules fires in slices: then not even a
   * forced compaction runs, since its synchronous rewrite and fsyncs would
   * stall every client between two slices. A burst is bounded by the
   * pending schedules, so the compaction follows soon after.
   */
  isBursting?(): boolean;
  log: Log;
  /** Epoch ms (the daemon's clock): names the copy of a damaged journal. */
  now(): number;
  /** Makes the appended records durable (default: fdatasync); a disk that fails it is part of the world a test injects. */
  syncFile?: (fd: number) => Promise<void>;
}

/** Copies of damaged journals kept beside it; an older one is removed when a newer one is made. */
export const DAMAGED_COPIES_KEPT = 3;
/** Skipped lines listed in the warning (all are counted). */
const DAMAGED_LINES_LOGGED = 20;

/** Compact once this many records were appended beyond twice the live count... */
const COMPACT_MIN_RECORDS = 10_000;
/** ...and, if it never gets quiet, anyway at this multiple of that. */
const COMPACT_FORCE_FACTOR = 4;

const fdatasyncAsync = promisify(fdatasync);
const readFileAsync = promisify(readFile);

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
  /** What the records of this append replaced in liveLines (undefined: nothing), to put back if they never become durable. */
  undo: [string, string | undefined][];
}

export class Journal {
  /** Records written but not yet synced, and who waits for that. */
  private unsynced: Waiter[] = [];
  private syncing = false;
  private closed = false;
  private appendedSinceCompaction = 0;
  /** An append failed: the file's end is checked before the next one. */
  private tailUnsure = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => undefined;

  private constructor(
    private readonly path: string,
    private fd: number,
    /** schedule_id → its "add" line, for every live schedule. */
    private readonly liveLines: Map<string, string>,
    private readonly options: JournalOptions,
  ) {}

  /** Reads the journal and opens it for appends; rewrites it first only if it holds dead records or unreadable lines (after keeping a copy). */
  static async open(path: string, options: JournalOptions): Promise<{ journal: Journal; replay: Replay }> {
    const bytes = await readBytes(path);
    const { replay, liveLines } = readJournal(bytes);
    if (replay.skipped > 0) {
      replay.damagedCopy = keepDamagedCopy(path, bytes, options);
      warnDamaged(path, replay, options.log);
    }
    if (replay.records > liveLines.size || replay.skipped > 0 || liveLines.size === 0) rewrite(path, liveLines);
    return { journal: new Journal(path, openSync(path, "a+"), liveLines, options), replay };
  }

  /** Appends now and resolves once the records are synced to disk. */
  append(records: readonly JournalRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error("the schedule journal is closed"));
    if (records.length === 0) return Promise.resolve();
    const undo = this.appendNow(records);
    const synced = new Promise<void>((resolve, reject) => this.unsynced.push({ resolve, reject, undo }));
    this.scheduleSync();
    return synced;
  }

  /**
   * Appends now, synchronously: on return the records survive a killed
   * daemon. A write the disk cannot take leaves nothing behind and throws
   * (`unavailable` for a full or read-only disk). Returns what the records
   * replaced among the live lines, for append() to put back.
   */
  appendNow(records: readonly JournalRecord[]): [string, string | undefined][] {
    if (this.closed) throw new Error("the schedule journal is closed");
    const lines = records.map((record) => JSON.stringify(record));
    try {
      // After a failed append whose cut-back failed too, a torn line may end the file: closed first.
      if (this.tailUnsure) closeTornLine(this.fd);
      this.tailUnsure = false;
      appendWhole(this.fd, lines.length === 1 ? `${lines[0]!}\n` : `${lines.join("\n")}\n`);
    } catch (err) {
      this.tailUnsure = true;
      throw asUnavailable(err, this.path);
    }
    const undo: [string, string | undefined][] = [];
    records.forEach((record, i) => {
      undo.push([record.schedule_id, this.liveLines.get(record.schedule_id)]);
      if (record.op === "add") this.liveLines.set(record.schedule_id, lines[i]!);
      else this.liveLines.delete(record.schedule_id);
    });
    this.appendedSinceCompaction += records.length;
    this.scheduleSync();
    return undo;
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
        await (this.options.syncFile ?? fdatasyncAsync)(this.fd);
        for (const waiter of waiters) waiter.resolve();
      } catch (err) {
        this.options.log.error({ err, path: this.path }, "schedule journal sync failed");
        this.takeBack(waiters);
        const refused = asUnavailable(err, this.path);
        for (const waiter of waiters) waiter.reject(refused);
      }
      if (this.shouldCompact()) this.compact();
    } while (this.unsynced.length > 0);
    this.syncing = false;
    this.markIdle();
  }

  /**
   * The records of appends whose sync failed are refused: they must not be
   * replayed by the next start either (issue 24). Their effect on the live
   * lines is undone, newest first, and the file is rewritten from the live
   * lines (temp + fsync + rename), which keeps every other record, those
   * appended since included.
   */
  private takeBack(waiters: readonly Waiter[]): void {
    for (const { undo } of [...waiters].reverse()) {
      for (const [id, line] of [...undo].reverse()) {
        if (line === undefined) this.liveLines.delete(id);
        else this.liveLines.set(id, line);
      }
    }
    try {
      this.reopenRewritten();
    } catch (err) {
      this.options.log.error({ err, path: this.path }, "schedule journal could not be rewritten without the refused records; a restart may replay them");
    }
  }

  /** Replaces the file with the live lines and appends to the new one from now on. */
  private reopenRewritten(): void {
    rewrite(this.path, this.liveLines);
    closeSync(this.fd);
    this.fd = openSync(this.path, "a+");
    this.appendedSinceCompaction = 0;
  }

  private shouldCompact(): boolean {
    const threshold = COMPACT_MIN_RECORDS + 2 * this.liveLines.size;
    if (this.appendedSinceCompaction <= threshold || this.options.isBursting?.() === true) return false;
    return this.appendedSinceCompaction > COMPACT_FORCE_FACTOR * threshold || (this.unsynced.length === 0 && this.options.isQuiet());
  }

  /** Synchronous, so no append can land in the old file after the snapshot (~10 ms per 100 000 live). */
  private compact(): void {
    try {
      this.reopenRewritten();
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

async function readBytes(path: string): Promise<Buffer> {
  try {
    return await readFileAsync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return Buffer.alloc(0);
    throw err;
  }
}

function readJournal(bytes: Buffer): { replay: Replay; liveLines: Map<string, string> } {
  const live = new Map<string, Schedule>();
  const liveLines = new Map<string, string>();
  const byKey = new Map<string, string>();
  let records = 0;
  const damaged = readJournalLines(bytes, (record, line) => {
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
  });
  return { replay: { schedules: [...live.values()], records, skipped: damaged.length, damaged }, liveLines };
}

/**
 * Writes `bytes` (the journal as read) to a new `<journal>.damaged-<time>`
 * beside it, never over an earlier copy, then removes all but the newest
 * DAMAGED_COPIES_KEPT. Returns its path, or undefined when it could not be
 * written: the journal is then still rewritten (a daemon that will not start
 * over a full disk helps nobody), and the warning keeps each line's excerpt.
 */
function keepDamagedCopy(path: string, bytes: Buffer, options: JournalOptions): string | undefined {
  const prefix = `${basename(path)}.damaged-`;
  const stamp = new Date(options.now()).toISOString().replace(/[-:]/g, "");
  try {
    let copy: string | undefined;
    for (let n = 0; copy === undefined; n++) {
      const candidate = join(dirname(path), `${prefix}${stamp}${n === 0 ? "" : `-${n}`}`);
      let fd: number;
      try {
        fd = openSync(candidate, "wx", 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") continue;
        throw err;
      }
      try {
        writeFileSync(fd, bytes);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      copy = candidate;
    }
    const copies = readdirSync(dirname(path)).filter((name) => name.startsWith(prefix)).sort(byAge);
    for (const old of copies.slice(0, -DAMAGED_COPIES_KEPT)) rmSync(join(dirname(path), old), { force: true });
    return copy;
  } catch (err) {
    options.log.error({ err, path }, "could not keep a copy of the damaged schedule journal; rewriting it without the skipped lines anyway");
    return undefined;
  }
}

/** Copy names by time, then by the counter of copies made in the same millisecond (`…Z` < `…Z-1` < `…Z-2` < `…Z-10`). */
function byAge(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

function warnDamaged(path: string, replay: Replay, log: Log): void {
  const lines = replay.damaged.slice(0, DAMAGED_LINES_LOGGED);
  const more = replay.damaged.length - lines.length;
  const where = lines.map((d) => `line ${d.line} at byte ${d.offset}`).join(", ") + (more > 0 ? ` and ${more} more` : "");
  const kept = replay.damagedCopy === undefined ? "no copy could be kept" : `the file as it was is kept at ${replay.damagedCopy}`;
  log.warn(
    { path, copy: replay.damagedCopy, skipped: replay.skipped, loaded: replay.schedules.length, lines, ...(more > 0 ? { more } : {}) },
    `schedule journal damaged: skipped ${replay.skipped} unreadable line(s) (${where}); the other schedules still fire; ${kept}`,
  );
}
