/**
 * The only writer of decision logs, `<type>s/<pattern>_decisions.yaml`
 * (SPEC §4.6): appends, never rewrites.
 *
 * An append is one synchronous write of the whole record, so records of
 * concurrent requests follow each other whole and in arrival order; the
 * fdatasync that makes them durable is shared by the appends of one turn
 * of the event loop, and each reply waits for it. Git trails behind: logs
 * appended to are committed together, one `Op: decisions` commit at most
 * about a second after the first append of a batch, again when the daemon
 * stops, and at start for whatever a crash left uncommitted.
 */
import { closeSync, constants, fdatasync, fstatSync, ftruncateSync, readSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { promisify } from "node:util";
import { appendWhole, closeTornLine, syncDirectory } from "../../../core/atomic-file.js";
import { asUnavailable } from "../../../core/disk-fault.js";
import { DaemonError } from "../../../core/errors.js";
import type { Clock, TimerHandle } from "../../../core/clock.js";
import type { Log } from "../../../core/log.js";
import type { DecisionsQuery, Evidence } from "../model/decisions.js";
import { DECISIONS_SUFFIX } from "../model/ref.js";
import { stemOf } from "../model/store-layout.js";
import { formatCommitMessage } from "../model/trailers.js";
import { isUnsafePath } from "./confined-path.js";
import { DecisionReader, type DecisionsAnswer, type IndexSlice } from "./decision-reader.js";
import type { StoreFiles } from "./files.js";
import type { GitRepo } from "./git.js";
import { isNothingToCommit } from "./start-recovery.js";

/** A batch is committed at most this long after its first append. */
const COMMIT_DELAY_MS = 1_000;

const fdatasyncAsync = promisify(fdatasync);

const { O_APPEND, O_CREAT, O_RDONLY, O_RDWR } = constants;

interface Pending {
  records: number;
  pattern: string;
  agents: Set<string>;
  /**
   * The records appended since the last commit, as written: a person's git
   * command can put the file back as a commit has it (`git rebase --abort`
   * does, silently) while the store is busy, and what was acknowledged is
   * then appended again before the commit. `at` is where each began.
   */
  texts: { at: number; text: string }[];
}

export class DecisionLogs {
  /** Paths appended to since the last commit. */
  private pending = new Map<string, Pending>();
  private commitTimer: TimerHandle | null = null;
  private committing: Promise<void> = Promise.resolve();
  /** The last batch's commit failed (a full disk): logged once, retried until one works. */
  private commitFailing = false;
  /** The last batch waits for the store (store_busy: off its branch; store_missing): said once at warn, and at info when committed. */
  private waitingForStore = false;
  /** Per path: the sync that the appends of this turn will share. */
  private readonly syncs = new Map<string, Promise<void>>();
  /** Paths whose end was checked in this process (a torn last line is closed before the first append). */
  private readonly checked = new Set<string>();
  /** Set while a sync rewrites logs (holdingAppends): appends wait for it. */
  private hold: Promise<void> | null = null;
  /** Reads the logs for queries and evidence, keeping up with the appends made here. */
  private readonly reader: DecisionReader;

  constructor(
    private readonly files: StoreFiles,
    private readonly git: GitRepo,
    private readonly clock: Clock,
    private readonly log: Log,
    /** Makes a log's appends durable (default: fdatasync); a disk that fails it is part of the world a test injects. */
    private readonly syncFile: (fd: number) => Promise<void> = fdatasyncAsync,
    /** How much indexing of a log one turn does (default: ~5 ms or 1 MiB); tests make it countable. */
    indexSlice?: IndexSlice,
  ) {
    this.reader = new DecisionReader(files, clock, indexSlice);
  }

  /** The log beside a pattern file: `orchestrations/x.yaml` (or `.yml`, `.md`) → `orchestrations/x_decisions.yaml`. */
  static pathFor(patternPath: string): string {
    return `${patternPath.slice(0, patternPath.lastIndexOf("/") + 1)}${stemOf(patternPath)}${DECISIONS_SUFFIX}.yaml`;
  }

  /** The pattern a log is named for: `orchestrations/x_decisions.yaml` → `x`. */
  static patternOf(logPath: string): string {
    return patternOfLog(logPath);
  }

  /**
   * Appends `text` (whole records) and resolves once it is on disk. A log
   * that is a link, or under one, is refused (unsafe_path) before a byte is written.
   */
  async append(path: string, text: string, pattern: string, records: number, agentId: string | undefined): Promise<void> {
    while (this.hold !== null) await this.hold;
    let fd: number;
    try {
      fd = this.files.open(path, O_RDWR | O_APPEND | O_CREAT, 0o644);
    } catch (err) {
      throw asUnavailable(err, this.files.resolve(path));
    }
    let created = false;
    let start: number;
    try {
      const before = fstatSync(fd, { bigint: true });
      // Once per process, and again after a failed append: a torn last line is closed first.
      created = !this.checked.has(path) && closeTornLine(fd) === 0;
      this.checked.add(path);
      start = fstatSync(fd).size;
      // All of the record or none of it: a full disk leaves no half record behind.
      appendWhole(fd, text);
      // The index of the log takes the record in now: the next query or select reads nothing of the file again.
      this.reader.appended(path, before, text, fstatSync(fd, { bigint: true }));
    } catch (err) {
      this.checked.delete(path);
      // A log this append created stays only with a record in it (an empty file would be an untracked change).
      if (created) rmSync(this.files.resolve(path), { force: true });
      throw asUnavailable(err, this.files.resolve(path));
    } finally {
      closeSync(fd);
    }
    const batch = this.pending.get(path) ?? { records: 0, pattern, agents: new Set<string>(), texts: [] };
    batch.records += records;
    const written = { at: start, text };
    batch.texts.push(written);
    if (agentId !== undefined) batch.agents.add(agentId);
    this.pending.set(path, batch);
    this.commitSoon();
    try {
      await this.sync(path, start);
      if (created) await syncDirectory(dirname(this.files.resolve(path)));
    } catch (err) {
      this.takeBack(path, batch, records, written);
      throw asUnavailable(err, this.files.resolve(path));
    }
  }

  /** An append refused after it was written (its sync failed, the record cut back out by sync()): no longer counted, nor written again by restoreRecords. */
  private takeBack(path: string, batch: Pending, records: number, written: Pending["texts"][number]): void {
    if (this.pending.get(path) === batch) {
      batch.records -= records;
      const at = batch.texts.indexOf(written);
      if (at !== -1) batch.texts.splice(at, 1);
    }
    // The log was cut back (or kept records the index does not expect): indexed again when next read.
    this.reader.forget(path);
  }

  /** The log's text; undefined when there is none; unsafe_path when it is a link or under one. */
  read(path: string): string | undefined {
    return this.files.read(path, Number.MAX_SAFE_INTEGER);
  }

  /**
   * composition:decisions over a log (nothing when there is none): its
   * records filtered, newest first, its stats and what could not be read
   * of it; unsafe_path when it is a link or under one. A log not indexed
   * yet (the first read after a start, or after a person's rewrite) is
   * indexed a slice per turn first, other requests served meanwhile.
   */
  query(path: string, query: DecisionsQuery): Promise<DecisionsAnswer> {
    return this.reader.query(path, query);
  }

  /**
   * A log's outcomes for ranking (none when it is a link: reload lists it
   * as ignored), from its index: the daemon's own appends are in it as they
   * are written, and the watcher's report of any other change has the file
   * checked again first. Undefined while the log is being indexed: ask
   * again once `indexed` settles.
   */
  evidenceNow(path: string): Evidence | undefined {
    try {
      return this.reader.evidenceNow(path);
    } catch (err) {
      if (!isUnsafePath(err)) throw err;
      return { successes: 0, failures: 0, total: 0, mean_confidence: null };
    }
  }

  /** Resolves when the log's indexing under way (if any) is over (a link: at once; evidenceNow then says none). */
  async indexed(path: string): Promise<void> {
    try {
      await this.reader.indexed(path);
    } catch (err) {
      if (!isUnsafePath(err)) throw err;
    }
  }

  /** Indexes these logs in the background (sliced, after any a request waits for). */
  warm(paths: Iterable<string>): void {
    this.reader.warm(paths);
  }

  /** Logs the store's listing did not have: known absent without a look (see the reader's absent). */
  absent(paths: Iterable<string>): void {
    this.reader.absent(paths);
  }

  /** The watcher saw the log change (a person's edit, or the daemon's own append). */
  changed(path: string): void {
    this.reader.changed(path);
  }

  /**
   * Runs `work` with appends held back, after every record appended so far
   * is committed: a sync rewrites logs (issue 19), and a record appended to
   * the file it replaces would be lost. An append meanwhile waits (the
   * sync's network I/O is outside; only its local merge is held).
   */
  async holdingAppends<T>(work: () => Promise<T>): Promise<T> {
    while (this.hold !== null) await this.hold;
    let release: () => void = () => undefined;
    this.hold = new Promise((resolve) => (release = resolve));
    try {
      await this.flush();
      return await work();
    } finally {
      this.hold = null;
      release();
    }
  }

  /** Commits what is pending now (at stop; tests). */
  async flush(): Promise<void> {
    if (this.commitTimer !== null) this.clock.clearTimer(this.commitTimer);
    this.commitTimer = null;
    await this.commitPending();
    // A batch that failed is not retried after the stop: the next start commits it (recover).
    if (this.commitTimer !== null) this.clock.clearTimer(this.commitTimer);
    this.commitTimer = null;
  }

  /** Commits logs a crash left changed but uncommitted (at start, before anything is appended). */
  async recover(): Promise<void> {
    const changed = this.safe(await this.git.exclusive(() => this.git.changedFiles(`*${DECISIONS_SUFFIX}.yaml`)));
    if (changed.length === 0) return;
    const message = formatCommitMessage({
      subject: `decisions: ${changed.length} log${changed.length === 1 ? "" : "s"} committed at start (appended before a stop that did not commit them)`,
      trailers: { Op: "decisions", Logs: changed.join(", "), Agent: "" },
    });
    try {
      await this.git.exclusive(() => this.git.commitPaths(changed, message, undefined));
    } catch (err) {
      // The logs are as HEAD has them (a person staged a change, then put the file back): nothing is left to do.
      if (isNothingToCommit(err)) return;
      if (!isStoreWait(err)) throw err;
      // On disk they stay; committed with the first batch once the store is back on its branch.
      this.waitForStore(err, changed);
      this.requeue(changed.map((path) => [path, { records: 0, pattern: patternOfLog(path), agents: new Set<string>(), texts: [] }]));
      this.commitSoon();
      return;
    }
    this.log.info({ logs: changed }, "uncommitted decision logs committed at start");
  }

  /** Forgets what was read of the logs (the store was removed and is back: they may be other files now). */
  forget(): void {
    this.checked.clear();
    this.reader.forget();
  }

  /** Says once, at warn, that decision logs wait for the store, and why. */
  private waitForStore(err: DaemonError, paths: readonly string[]): void {
    if (this.waitingForStore) return;
    this.waitingForStore = true;
    this.log.warn(
      { paths, code: err.code, ...err.details },
      `decision logs are not committed while the store cannot be written (${err.message}); their records stay on disk and are committed once it is back`,
    );
  }

  /**
   * Appends again the records of the batch that are no longer in their log
   * (a person's git command put the file back while the store was busy):
   * acknowledged records are never lost. The caller holds git.exclusive and
   * has checked the store is there.
   */
  private async restoreRecords(batch: ReadonlyMap<string, Pending>): Promise<void> {
    for (const [path, pending] of batch) {
      if (pending.texts.length === 0 || this.allWhereWritten(path, pending.texts)) continue;
      const text = this.read(path) ?? "";
      const missing = pending.texts.map((written) => written.text).filter((record) => !text.includes(record));
      if (missing.length === 0) continue;
      const fd = this.files.open(path, O_RDWR | O_APPEND | O_CREAT, 0o644);
      try {
        closeTornLine(fd);
        appendWhole(fd, missing.join(""));
        await this.syncFile(fd);
      } finally {
        closeSync(fd);
      }
      this.reader.changed(path);
      this.log.warn({ path, records: missing.length }, "acknowledged decision records were no longer in their log (a git command put the file back); they are appended again");
    }
  }

  /**
   * Whether each record is still at the offset it was appended at: then none
   * is missing, found by reading only the batch's own bytes (the whole log,
   * megabytes, is searched only after someone else changed the file).
   */
  private allWhereWritten(path: string, texts: Pending["texts"]): boolean {
    let fd: number;
    try {
      fd = this.files.open(path, O_RDONLY);
    } catch {
      return false;
    }
    try {
      const size = fstatSync(fd).size;
      return texts.every(({ at, text }) => {
        const expected = Buffer.from(text);
        if (at + expected.length > size) return false;
        const found = Buffer.alloc(expected.length);
        return readSync(fd, found, 0, found.length, at) === found.length && found.equals(expected);
      });
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The paths that are no link and under none; each other one is logged and
   * left out of the commit (a person replaced the log with a link: what it
   * points at is never committed).
   */
  private safe(paths: readonly string[]): string[] {
    return paths.filter((path) => {
      try {
        this.files.resolve(path);
        return true;
      } catch (err) {
        if (!isUnsafePath(err)) throw err;
        this.log.warn({ path, target: err.details?.target }, "a decision log is a symbolic link now; it is not committed");
        return false;
      }
    });
  }

  /**
   * The sync the appends of this turn share; `start` is where the first of
   * them began. When it fails they are all refused, so all of them are cut
   * back out of the log (issue 24: a refused record must not be counted,
   * committed or read after a restart) — unless a record was appended after
   * the sync began, which is left there with them (logged).
   */
  private sync(path: string, start: number): Promise<void> {
    const shared = this.syncs.get(path);
    if (shared !== undefined) return shared;
    const sync = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      this.syncs.delete(path);
      const fd = this.files.open(path, O_RDWR);
      const end = fstatSync(fd).size;
      try {
        await this.syncFile(fd);
      } catch (err) {
        const size = fstatSync(fd).size;
        // A log these appends created goes again (an empty file would be an untracked change).
        if (size === end && start === 0) rmSync(this.files.resolve(path), { force: true });
        else if (size === end) ftruncateSync(fd, start);
        else this.log.error({ path, start, end, size }, "decision records refused (their sync failed) stay in the log: records were appended after them");
        throw err;
      } finally {
        closeSync(fd);
      }
    });
    this.syncs.set(path, sync);
    return sync;
  }

  private commitSoon(): void {
    this.commitTimer ??= this.clock.setTimer(() => {
      this.commitTimer = null;
      void this.commitPending();
    }, COMMIT_DELAY_MS);
  }

  private commitPending(): Promise<void> {
    this.committing = this.committing.then(async () => {
      if (this.pending.size === 0) return;
      const all = this.pending;
      this.pending = new Map();
      // Every append already acknowledged is synced by now: a commit never holds half a record.
      await Promise.allSettled([...this.syncs.values()]);
      const safe = new Set(this.safe([...all.keys()]));
      const batch = new Map([...all].filter(([path]) => safe.has(path)));
      // A log that is a link now waits for the next batch (or the stop): put back as it was, it is committed then.
      this.requeue([...all].filter(([path]) => !safe.has(path)));
      if (batch.size === 0) return;
      const paths = [...batch.keys()];
      const records = [...batch.values()].reduce((sum, b) => sum + b.records, 0);
      const agents = new Set([...batch.values()].flatMap((b) => [...b.agents]));
      const author = agents.size === 1 ? [...agents][0] : undefined;
      const counts = [...batch.values()].map((b) => `${b.pattern} ${b.records}`).join(", ");
      const message = formatCommitMessage({
        subject: `decisions: ${records} record${records === 1 ? "" : "s"} (${counts})`,
        trailers: { Op: "decisions", Patterns: [...batch.values()].map((b) => b.pattern).join(", "), Records: String(records), Agent: [...agents].join(", ") },
      });
      try {
        await this.git.exclusive(async () => {
          // Off its branch or gone: wait, before a record is appended again into a folder that may not be there.
          this.git.writable();
          await this.restoreRecords(batch);
          return this.git.commitPaths(paths, message, author);
        });
        if (this.commitFailing) this.log.warn({ paths }, "decision logs committed again");
        if (this.waitingForStore) this.log.info({ paths }, "decision logs kept while the store could not be written are committed");
        this.commitFailing = false;
        this.waitingForStore = false;
      } catch (err) {
        if (isStoreWait(err)) {
          this.waitForStore(err, paths);
          this.requeue([...batch]);
          this.commitSoon();
          return;
        }
        // The previous batch's commit took the files as they were when it ran, records appended
        // while it waited included: then this batch is already in git.
        if (isNothingToCommit(err)) return;
        // Not lost: the records are on disk; the batch is tried again a moment later (a full disk
        // that gets room again), with any records appended meanwhile, or at the stop or the next start.
        // commitPaths left the index as it was: what `git add` staged (a log swapped for a link meanwhile) stays out of it.
        // A branch moved under the batch is no fault: a warning, once.
        if (!this.commitFailing) {
          if (isBranchMoved(err)) this.log.warn({ err, paths }, "decision logs wait for the store: they are on disk and are committed once it is free again");
          else this.log.error({ err, paths }, "decision logs not committed; retrying every second until it works");
        }
        this.commitFailing = true;
        this.requeue([...batch]);
        this.commitSoon();
      }
    });
    return this.committing;
  }

  /** Puts logs back among the pending ones, their records counted with any appended since. */
  private requeue(entries: readonly [string, Pending][]): void {
    for (const [path, b] of entries) {
      const later = this.pending.get(path);
      this.pending.set(path, later === undefined ? b : { ...later, records: later.records + b.records, texts: [...b.texts, ...later.texts] });
    }
  }
}

/** The store is busy (off its branch) or gone: the batch waits for it, quietly. */
function isStoreWait(err: unknown): err is DaemonError {
  return err instanceof DaemonError && (err.code === "store_busy" || err.code === "store_missing");
}

/** The branch moved under the batch and changed one of its logs: the next try goes on from there. */
function isBranchMoved(err: unknown): boolean {
  return err instanceof DaemonError && err.code === "conflict";
}

/** `orchestrations/x_decisions.yaml` → `x`. */
function patternOfLog(path: string): string {
  return (path.split("/").pop() ?? path).replace(/\.yaml$/, "").slice(0, -DECISIONS_SUFFIX.length);
}

