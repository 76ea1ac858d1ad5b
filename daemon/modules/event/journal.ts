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
 * compacts only when the scheduler says nothing is about to fire. The
 * rewrite runs off the loop (issue 22): the live lines as they were when it
 * began go to a temp file a chunk at a time, while appends still go to the
 * journal (so each is safe the moment it returns) and are also kept for the
 * temp file; that is synced, and then, with the sync worker held (nothing is
 * acknowledged meanwhile), what was appended since is copied in and synced,
 * the rest written in the same turn as the rename, so no append falls
 * between the two files. Up to the rename the journal is whole and holds
 * everything; after it, the new file does. A leftover temp file is removed
 * at the next open.
 *
 * Lines that cannot be read are skipped (the rest of the schedules still
 * fire), but never silently: before the file is rewritten without them, a
 * byte-identical copy is kept beside it (`schedule.ndjson.damaged-<time>`,
 * the newest few), and a warning names each skipped line.
 */
import { closeSync, constants, fdatasyncSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { fdatasync, readFile, write } from "node:fs";
import { unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { appendWhole, closeTornLine, removeLeftoverTemps, syncDirectory } from "../../core/atomic-file.js";
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
   * forced compaction runs, since its writes and fsyncs would compete with
   * the syncs of the burst's done records, and every record the burst
   * appends meanwhile would be carried into the new file as well. A burst
   * is bounded by the pending schedules, so the compaction follows soon
   * after.
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

/** Compaction writes the live lines to its temp file a chunk of about this many characters per turn of the loop (~1 ms to join and encode). */
const CHUNK_CHARS = 1 << 20;

const fdatasyncAsync = promisify(fdatasync);
const readFileAsync = promisify(readFile);
const writeAsync = promisify(write);

/**
 * Compaction's temp file becomes the journal: opened like it (appends only,
 * readable for closeTornLine), created or truncated, never through a link
 * planted at its name.
 */
const TEMP_FLAGS = constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC | constants.O_APPEND | constants.O_NOFOLLOW;

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
  /** What the records of this append replaced in liveLines (undefined: nothing), to put back if they never become durable. */
  undo: [string, string | undefined][];
}

/** A compaction under way. */
interface Compaction {
  /** The text of every append since it began, for the new file; emptied as it is copied there, null once appends go to the new file. */
  carried: string[] | null;
  /** How many records that text holds: they count toward the next compaction. */
  carriedRecords: number;
  /** A sync failed (the live lines were rewritten without refused records) or the journal is closing: the temp file is dropped. */
  aborted: boolean;
  done: Promise<void>;
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
  private compaction: Compaction | null = null;
  /** A compaction's last step, run by the sync worker between two rounds. */
  private swap: (() => Promise<void>) | null = null;

  private constructor(
    private readonly path: string,
    private fd: number,
    /** schedule_id → its "add" line, for every live schedule. */
    private readonly liveLines: Map<string, string>,
    private readonly options: JournalOptions,
  ) {}

  /** Reads the journal and opens it for appends; rewrites it first only if it holds dead records or unreadable lines (after keeping a copy). */
  static async open(path: string, options: JournalOptions): Promise<{ journal: Journal; replay: Replay }> {
    const left = await removeLeftoverTemps(path);
    if (left.length > 0) options.log.info({ removed: left }, "removed the temp file of a schedule journal rewrite a killed daemon left");
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
      const text = lines.length === 1 ? `${lines[0]!}\n` : `${lines.join("\n")}\n`;
      appendWhole(this.fd, text);
      if (this.compaction?.carried != null) {
        this.compaction.carried.push(text);
        this.compaction.carriedRecords += records.length;
      }
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

  /** Stops a compaction (its temp file removed), waits for the last sync, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.compaction !== null) {
      this.compaction.aborted = true;
      await this.compaction.done;
    }
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
    // Every kick syncs at least once: appendNow's records have no waiter, and need the sync all the same.
    for (let syncDue = true; syncDue || this.unsynced.length > 0 || this.swap !== null; ) {
      if (this.swap !== null) {
        const swap = this.swap;
        this.swap = null;
        await swap();
        syncDue = true;
        continue;
      }
      syncDue = false;
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
      if (this.shouldCompact()) this.startCompaction();
    }
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
    // A compaction under way may have copied the refused records: it is dropped.
    if (this.compaction !== null) this.compaction.aborted = true;
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
    if (this.compaction !== null || this.closed) return false;
    const threshold = COMPACT_MIN_RECORDS + 2 * this.liveLines.size;
    if (this.appendedSinceCompaction <= threshold || this.options.isBursting?.() === true) return false;
    return this.appendedSinceCompaction > COMPACT_FORCE_FACTOR * threshold || (this.unsynced.length === 0 && this.options.isQuiet());
  }

  private startCompaction(): void {
    const compaction: Compaction = { carried: [], carriedRecords: 0, aborted: false, done: Promise.resolve() };
    this.compaction = compaction;
    compaction.done = this.compact(compaction)
      .catch((err: unknown) => {
        if (compaction.aborted) this.options.log.info({ path: this.path }, "schedule journal compaction stopped: a sync failed or the daemon is stopping");
        else this.options.log.error({ err, path: this.path }, "schedule journal compaction failed; appending to the old file");
      })
      .finally(() => (this.compaction = null));
  }

  /** Writes the live lines to a temp file off the loop, then has the sync worker swap it in. */
  private async compact(compaction: Compaction): Promise<void> {
    const started = performance.now();
    // The live lines now (references, not copies); everything appended from here on is carried.
    const snapshot = [...this.liveLines.values()];
    const temp = join(dirname(this.path), `.${basename(this.path)}.compaction.${process.pid}.tmp`);
    const tempFd = openSync(temp, TEMP_FLAGS, 0o600);
    let swapped = false;
    const check = () => {
      if (compaction.aborted) throw new Error("schedule journal compaction stopped: a sync failed or the daemon is stopping");
    };
    try {
      await writeSlices(tempFd, snapshot, check);
      await writeAll(tempFd, Buffer.from(carriedText(compaction)));
      await fdatasyncAsync(tempFd);
      check();
      await new Promise<void>((resolve, reject) => {
        this.swap = () =>
          this.swapIn(tempFd, temp, compaction, check).then(() => {
            swapped = true;
            resolve();
          }, reject);
        this.scheduleSync();
      });
    } finally {
      if (!swapped) {
        closeSync(tempFd);
        await unlink(temp).catch(() => undefined);
      }
    }
    this.options.log.info({ live: snapshot.length, carried: compaction.carriedRecords, ms: Math.round(performance.now() - started) }, "schedule journal compacted");
  }

  /**
   * Run by the sync worker between two rounds, so nothing is acknowledged
   * meanwhile: what was appended since the temp file's sync is copied and
   * synced, then, in one turn, the few records appended during that sync
   * are written, the temp file renamed over the journal, and appends go to
   * it. Those last records are synced by the worker's next round, which
   * acknowledges them; every record acknowledged before is in the synced
   * part. The directory is synced before that round, so no acknowledgement
   * rests on a rename a power loss could undo.
   */
  private async swapIn(tempFd: number, temp: string, compaction: Compaction, check: () => void): Promise<void> {
    check();
    await writeAll(tempFd, Buffer.from(carriedText(compaction)));
    await fdatasyncAsync(tempFd);
    check();
    appendWhole(tempFd, carriedText(compaction));
    renameSync(temp, this.path);
    closeSync(this.fd);
    this.fd = tempFd;
    this.tailUnsure = false;
    compaction.carried = null;
    this.appendedSinceCompaction = compaction.carriedRecords;
    await syncDirectory(dirname(this.path)).catch((err: unknown) => {
      // The new file is in place and whole; only its name may not survive a power loss.
      this.options.log.error({ err, path: this.path }, "schedule journal compacted, but its directory could not be synced");
    });
  }
}

/** The text appended since the last call, taken out of the compaction's keeping. */
function carriedText(compaction: Compaction): string {
  return compaction.carried!.splice(0).join("");
}

/** Writes `lines` (a newline after each) to `fd` in chunks of about CHUNK_CHARS, the loop served between two. */
async function writeSlices(fd: number, lines: readonly string[], check: () => void): Promise<void> {
  for (let from = 0; from < lines.length; ) {
    let to = from;
    for (let chars = 0; to < lines.length && chars < CHUNK_CHARS; to++) chars += lines[to]!.length + 1;
    await writeAll(fd, Buffer.from(lines.slice(from, to).join("\n") + "\n"));
    check();
    from = to;
  }
}

async function writeAll(fd: number, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length; ) done += (await writeAsync(fd, bytes, done)).bytesWritten;
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

/** What a start replays from the journal's bytes (pure). */
export function readJournal(bytes: Buffer): { replay: Replay; liveLines: Map<string, string> } {
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
