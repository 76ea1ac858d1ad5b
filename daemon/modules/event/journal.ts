/**
 * var/lib/schedule.ndjson: the durable record of pending delayed emits.
 * Appends are group-committed (one write + fdatasync for everything queued
 * meanwhile) and each caller resolves once its records are on disk. The
 * file is rewritten with only the live schedules when dead records pile up.
 */
import { open, readFile, type FileHandle } from "node:fs/promises";
import { writeAtomic } from "../../core/atomic-file.js";
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

/** Rewrite once this many records were appended beyond twice the live count. */
const COMPACT_MIN_RECORDS = 10_000;

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

export class Journal {
  private queue: string[] = [];
  private waiters: Waiter[] = [];
  private running = false;
  private appendedSinceCompaction = 0;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => undefined;

  private constructor(
    private readonly path: string,
    private file: FileHandle,
    private readonly live: () => Schedule[],
    private readonly liveCount: () => number,
    private readonly log: Log,
  ) {}

  /** Reads the journal, rewrites it with only the live schedules, and opens it for appends. */
  static async open(path: string, live: () => Schedule[], liveCount: () => number, log: Log): Promise<{ journal: Journal; replay: Replay }> {
    const replay = await readJournal(path);
    await writeAtomic(path, replay.schedules.map((s) => JSON.stringify({ op: "add", ...s }) + "\n").join(""));
    const file = await open(path, "a");
    return { journal: new Journal(path, file, live, liveCount, log), replay };
  }

  /** Resolves once the records are on disk. */
  append(records: readonly JournalRecord[]): Promise<void> {
    // Nothing to write: a waiter queued now would wait for someone else's batch.
    if (records.length === 0) return Promise.resolve();
    for (const record of records) this.queue.push(JSON.stringify(record) + "\n");
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.running) {
      this.running = true;
      this.idle = new Promise((resolve) => (this.markIdle = resolve));
      // Let the rest of this burst (one socket chunk of requests) join the batch.
      setImmediate(() => void this.drain());
    }
    return done;
  }

  /** Waits for every queued append, then closes the file. */
  async close(): Promise<void> {
    await this.idle;
    await this.file.close();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const text = this.queue.join("");
      const count = this.queue.length;
      const waiters = this.waiters;
      this.queue = [];
      this.waiters = [];
      try {
        await this.file.write(text);
        await this.file.datasync();
        this.appendedSinceCompaction += count;
        for (const waiter of waiters) waiter.resolve();
      } catch (err) {
        this.log.error({ err, path: this.path }, "schedule journal write failed");
        for (const waiter of waiters) waiter.reject(err);
      }
      if (this.appendedSinceCompaction > COMPACT_MIN_RECORDS + 2 * this.liveCount()) await this.compact();
    }
    this.running = false;
    this.markIdle();
  }

  /** Runs inside drain(), so no append interleaves with the rewrite. */
  private async compact(): Promise<void> {
    const live = this.live();
    try {
      await writeAtomic(this.path, live.map((s) => JSON.stringify({ op: "add", ...s }) + "\n").join(""));
      await this.file.close();
      this.file = await open(this.path, "a");
      this.appendedSinceCompaction = 0;
      this.log.info({ live: live.length }, "schedule journal compacted");
    } catch (err) {
      this.log.error({ err, path: this.path }, "schedule journal compaction failed; appending to the old file");
    }
  }
}

async function readJournal(path: string): Promise<Replay> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { schedules: [], records: 0, skipped: 0 };
    throw err;
  }
  const live = new Map<string, Schedule>();
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
      const schedule: Schedule = { ...record };
      delete (schedule as Partial<JournalRecord>).op;
      if (schedule.key !== undefined) {
        const previous = byKey.get(schedule.key);
        if (previous !== undefined) live.delete(previous);
        byKey.set(schedule.key, schedule.schedule_id);
      }
      live.set(schedule.schedule_id, schedule);
    } else {
      live.delete(record.schedule_id);
    }
  }
  return { schedules: [...live.values()], records, skipped };
}
