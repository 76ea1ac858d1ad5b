/**
 * var/lib/state.ndjson: the state as a journal of changes (state-record.ts),
 * so that a change costs what its own record costs, not what the whole
 * state does (issue 22: a set on 9 MB of state re-serialised and rewrote
 * all of it).
 *
 * Each change is appended at once, in call order, and acknowledged once an
 * fdatasync covers it; changes appended while one sync runs share the next
 * (group commit). `settle(true)` runs synchronously when the sync returns,
 * in file order, so the caller's view of the state is always the replay of
 * the file's first `durableSize` bytes: what compaction builds on.
 *
 * Compaction, once the dead bytes exceed both twice the live bytes and
 * `compactMinDeadBytes`, writes the live records to a temp file in slices
 * (a chunk at a time, the loop served in between), copies over what was
 * appended since (read back from the journal), and renames it over the
 * journal with the sync worker held, so that no sync and no append runs
 * during the swap. Every step before the rename leaves the old journal
 * whole; the rename puts a file in its place that is fsync'd and holds
 * every change the old one held. A daemon killed at any point replays to
 * what was acknowledged, and a leftover temp file is removed at start.
 */
import { closeSync, constants, fdatasync, fdatasyncSync, fsyncSync, ftruncateSync, openSync, read, write } from "node:fs";
import { rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { appendWhole, syncDirectory } from "../../core/atomic-file.js";
import { asUnavailable } from "../../core/disk-fault.js";
import type { Log } from "../../core/log.js";

const fdatasyncAsync = promisify(fdatasync);
const readAsync = promisify(read);
const writeAsync = promisify(write);

/** The journal is only appended to; opened for reading too, to copy its tail during compaction. */
const JOURNAL_FLAGS = constants.O_RDWR | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW;
const TEMP_FLAGS = JOURNAL_FLAGS | constants.O_TRUNC;

/** Compaction writes the live records a chunk at a time: about this many bytes... */
const CHUNK_BYTES = 1 << 20;
/** ...or this much serialisation, whichever comes first, so no turn of the loop is spent on it for long. */
const SLICE_MS = 4;
/** The tail copied while the journal is held; larger tails are copied (and synced) beforehand. */
const HELD_TAIL_BYTES = 256 * 1024;
const CATCH_UP_ROUNDS = 4;
export const DEFAULT_COMPACT_MIN_DEAD_BYTES = 4 * 1024 * 1024;

/** The live state, as compaction reads it. */
export interface LiveRecords {
  /** The bytes its records take in a compacted journal (an estimate is fine: it decides when to compact). */
  bytes(): number;
  /**
   * Its records' lines (newline included), the meta record first. Iterated
   * across turns of the loop: a change applied meanwhile may or may not show
   * in them, which is fine, as its own record is copied in after them.
   */
  lines(): Iterable<string>;
}

export interface StateJournalOptions {
  log: Log;
  live: LiveRecords;
  compactMinDeadBytes?: number;
}

interface Waiter {
  settle(durable: boolean): void;
  resolve(): void;
  reject(err: unknown): void;
}

interface Compaction {
  aborted: boolean;
  done: Promise<void>;
}

export class StateJournal {
  private unsynced: Waiter[] = [];
  /** Appends that arrive while compaction swaps the file: written to the new one. */
  private held: { bytes: Buffer; waiter: Waiter }[] | null = null;
  private swap: (() => Promise<void>) | null = null;
  private working = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => undefined;
  private compaction: Compaction | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;
  /** An append failed and its cut-back may have failed too: the file is cut to `size` before the next one. */
  private tailUnsure = false;
  private compactions = 0;

  constructor(
    private readonly path: string,
    private fd: number,
    /** Bytes of whole records in the file. */
    private size: number,
    private readonly options: StateJournalOptions,
    /** Bytes an fdatasync has covered: the state the caller shows. */
    private durableSize = size,
  ) {}

  /** Opens the journal at `path` (made when missing) for appends after its first `size` bytes, cutting off anything past them. */
  static open(path: string, size: number, options: StateJournalOptions): StateJournal {
    const fd = openSync(path, JOURNAL_FLAGS, 0o600);
    try {
      ftruncateSync(fd, size);
      // A journal made just now must keep its name through a power loss before the first compaction renames one in.
      const dir = openSync(dirname(path), "r");
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return new StateJournal(path, fd, size, options);
  }

  /** The file's size, and how many compactions ran since start. */
  stats(): { bytes: number; compactions: number } {
    return { bytes: this.size, compactions: this.compactions };
  }

  /**
   * Appends `line` now and resolves once it is durable; `settle(true)` runs
   * right before (synchronously, in file order), `settle(false)` when it is
   * refused (the disk cannot take it): then nothing of it stays in the file.
   */
  append(line: string, settle: (durable: boolean) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { settle, resolve, reject };
      if (this.closed) return this.refuse([waiter], new Error("the state journal is closed"));
      const bytes = Buffer.from(line);
      if (this.held !== null) return void this.held.push({ bytes, waiter });
      try {
        this.write(bytes);
      } catch (err) {
        return this.refuse([waiter], err);
      }
      this.unsynced.push(waiter);
      this.kick();
    });
  }

  /** Waits for the syncs in flight, stops a compaction (its temp file removed), then closes the file; once, however often called. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    if (this.compaction !== null) {
      this.compaction.aborted = true;
      await this.compaction.done;
    }
    await this.idle;
    fdatasyncSync(this.fd);
    closeSync(this.fd);
  }

  private write(bytes: Buffer): void {
    try {
      if (this.tailUnsure) ftruncateSync(this.fd, this.size);
      this.tailUnsure = false;
      appendWhole(this.fd, bytes);
    } catch (err) {
      this.tailUnsure = true;
      throw asUnavailable(err, this.path);
    }
    this.size += bytes.length;
  }

  private kick(): void {
    if (this.working) return;
    this.working = true;
    this.idle = new Promise((resolve) => (this.markIdle = resolve));
    // The rest of this burst (one socket chunk of requests) shares the sync.
    setImmediate(() => void this.work());
  }

  /** One worker: sync rounds, and compaction's swap between two of them. */
  private async work(): Promise<void> {
    while (this.unsynced.length > 0 || this.swap !== null) {
      if (this.swap !== null) {
        const swap = this.swap;
        this.swap = null;
        await swap();
        continue;
      }
      const batch = this.unsynced;
      this.unsynced = [];
      const end = this.size;
      try {
        await fdatasyncAsync(this.fd);
      } catch (err) {
        this.options.log.error({ err, path: this.path }, "state journal sync failed; the changes it held are refused");
        this.cutBack([...batch, ...this.unsynced], err);
        this.unsynced = [];
        continue;
      }
      this.durableSize = end;
      for (const waiter of batch) waiter.settle(true);
      for (const waiter of batch) waiter.resolve();
      this.compactIfDue();
    }
    this.working = false;
    this.markIdle();
  }

  /**
   * A sync failed: the changes not yet durable are refused, so they must
   * not be replayed by the next start either (issue 24). The file is cut
   * back to what is durable, and a compaction under way is dropped (it may
   * have copied them).
   */
  private cutBack(waiters: Waiter[], err: unknown): void {
    if (this.compaction !== null) this.compaction.aborted = true;
    try {
      ftruncateSync(this.fd, this.durableSize);
      this.size = this.durableSize;
    } catch (cutErr) {
      this.tailUnsure = true;
      this.size = this.durableSize;
      this.options.log.error({ err: cutErr, path: this.path }, "state journal could not be cut back to its durable records; a restart may replay refused changes");
    }
    this.refuse(waiters, err);
  }

  private refuse(waiters: readonly Waiter[], err: unknown): void {
    const refused = asUnavailable(err, this.path);
    for (const waiter of waiters) waiter.settle(false);
    for (const waiter of waiters) waiter.reject(refused);
  }

  private compactIfDue(): void {
    if (this.compaction !== null || this.closed) return;
    const live = this.options.live.bytes();
    const dead = this.size - live;
    if (dead <= 2 * live || dead <= (this.options.compactMinDeadBytes ?? DEFAULT_COMPACT_MIN_DEAD_BYTES)) return;
    const compaction: Compaction = { aborted: false, done: Promise.resolve() };
    this.compaction = compaction;
    compaction.done = this.compact(compaction)
      .catch((err: unknown) => {
        if (this.closed) this.options.log.info({ path: this.path }, "state journal compaction stopped: the daemon is stopping");
        else this.options.log.error({ err, path: this.path }, "state journal compaction failed; appending to the journal as it is");
      })
      .finally(() => (this.compaction = null));
  }

  private async compact(compaction: Compaction): Promise<void> {
    const started = performance.now();
    const before = this.size;
    // The state shown now is the replay of the first durableSize bytes; everything after them is copied in afterwards.
    let copied = this.durableSize;
    const temp = join(dirname(this.path), `.${basename(this.path)}.${process.pid}.tmp`);
    const tempFd = openSync(temp, TEMP_FLAGS, 0o600);
    let swapped = false;
    const check = () => {
      if (compaction.aborted) throw new Error("compaction stopped: a sync failed or the daemon is stopping");
    };
    try {
      let written = await writeSlices(tempFd, this.options.live.lines(), check);
      for (let round = 0; this.size - copied > HELD_TAIL_BYTES && round < CATCH_UP_ROUNDS; round++) {
        const end = this.size;
        written += await copyRange(this.fd, tempFd, copied, end);
        copied = end;
        check();
      }
      await fdatasyncAsync(tempFd);
      check();
      await new Promise<void>((resolve, reject) => {
        this.swap = () =>
          this.swapIn(tempFd, temp, copied, written, compaction).then(() => {
            swapped = true;
            resolve();
          }, reject);
        this.kick();
      });
    } finally {
      if (!swapped) {
        closeSync(tempFd);
        await unlink(temp).catch(() => undefined);
      }
    }
    this.compactions++;
    this.options.log.info({ path: this.path, before, after: this.size, ms: Math.round(performance.now() - started) }, "state journal compacted");
  }

  /**
   * Run by the worker between two syncs, appends held: the rest of the
   * tail copied and synced, the temp file renamed over the journal, and
   * appends go to it from then on. Everything in it is durable, so the
   * changes the old file held unsynced are acknowledged with it.
   */
  private async swapIn(tempFd: number, temp: string, copied: number, written: number, compaction: Compaction): Promise<void> {
    this.held = [];
    let renamed = false;
    try {
      if (compaction.aborted) throw new Error("compaction stopped: a sync failed or the daemon is stopping");
      written += await copyRange(this.fd, tempFd, copied, this.size);
      await fdatasyncAsync(tempFd);
      await rename(temp, this.path);
      renamed = true;
      await syncDirectory(dirname(this.path));
    } catch (err) {
      if (!renamed) {
        this.release();
        throw err;
      }
      // The new file is in place and whole; only its name may not survive a power loss.
      this.options.log.error({ err, path: this.path }, "state journal compacted, but its directory could not be synced");
    }
    closeSync(this.fd);
    this.fd = tempFd;
    this.size = written;
    this.durableSize = written;
    const synced = this.unsynced;
    this.unsynced = [];
    for (const waiter of synced) waiter.settle(true);
    for (const waiter of synced) waiter.resolve();
    this.release();
  }

  /** Writes the appends held during a swap to the journal (whichever it now is). */
  private release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const { bytes, waiter } of held) {
      try {
        this.write(bytes);
        this.unsynced.push(waiter);
      } catch (err) {
        this.refuse([waiter], err);
      }
    }
  }
}

/** Writes `lines` to `fd` a chunk at a time, yielding between chunks; returns the bytes written. */
async function writeSlices(fd: number, lines: Iterable<string>, check: () => void): Promise<number> {
  let written = 0;
  let chunk: string[] = [];
  let chunkChars = 0;
  let sliceStart = performance.now();
  const flush = async () => {
    const bytes = Buffer.from(chunk.join(""));
    chunk = [];
    chunkChars = 0;
    await writeAll(fd, bytes);
    written += bytes.length;
    check();
    sliceStart = performance.now();
  };
  for (const line of lines) {
    chunk.push(line);
    chunkChars += line.length;
    if (chunkChars >= CHUNK_BYTES || performance.now() - sliceStart > SLICE_MS) await flush();
  }
  if (chunk.length > 0) await flush();
  return written;
}

/** Copies bytes [from, to) of the file at `source` to the end of `target`; returns how many. */
async function copyRange(source: number, target: number, from: number, to: number): Promise<number> {
  const buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(0, to - from)));
  for (let at = from; at < to; ) {
    const { bytesRead } = await readAsync(source, buffer, 0, Math.min(buffer.length, to - at), at);
    if (bytesRead === 0) throw new Error(`the state journal ended at byte ${at}, before ${to}`);
    await writeAll(target, buffer.subarray(0, bytesRead));
    at += bytesRead;
  }
  return to - from;
}

async function writeAll(fd: number, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length; ) done += (await writeAsync(fd, bytes, done)).bytesWritten;
}
