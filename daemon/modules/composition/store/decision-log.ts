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
import { closeSync, constants, fdatasync, fstatSync, readSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { promisify } from "node:util";
import { appendWhole, syncDirectory } from "../../../core/atomic-file.js";
import { asUnavailable } from "../../../core/disk-fault.js";
import { DaemonError } from "../../../core/errors.js";
import type { Clock, TimerHandle } from "../../../core/clock.js";
import type { Log } from "../../../core/log.js";
import { evidenceOf, parseLog, type DecisionRecord, type Evidence } from "../model/decisions.js";
import { DECISIONS_SUFFIX } from "../model/ref.js";
import { formatCommitMessage } from "../model/trailers.js";
import { isUnsafePath } from "./confined-path.js";
import type { StoreFiles } from "./files.js";
import type { GitRepo } from "./git.js";

/** A batch is committed at most this long after its first append. */
const COMMIT_DELAY_MS = 1_000;

const fdatasyncAsync = promisify(fdatasync);

const { O_APPEND, O_CREAT, O_RDONLY, O_RDWR } = constants;

interface Pending {
  records: number;
  pattern: string;
  agents: Set<string>;
}

export class DecisionLogs {
  /** Paths appended to since the last commit. */
  private pending = new Map<string, Pending>();
  private commitTimer: TimerHandle | null = null;
  private committing: Promise<void> = Promise.resolve();
  /** The last batch's commit failed (a full disk): logged once, retried until one works. */
  private commitFailing = false;
  /** Per path: the sync that the appends of this turn will share. */
  private readonly syncs = new Map<string, Promise<void>>();
  /** Paths whose end was checked in this process (a torn last line is closed before the first append). */
  private readonly checked = new Set<string>();
  /** Per path: the evidence of its records and the file size it was read at (no file: size -1). */
  private readonly evidenceCache = new Map<string, { evidence: Evidence; size: number }>();

  constructor(
    private readonly files: StoreFiles,
    private readonly git: GitRepo,
    private readonly clock: Clock,
    private readonly log: Log,
  ) {}

  /** The log beside a pattern file: `orchestrations/x.yaml` → `orchestrations/x_decisions.yaml`. */
  static pathFor(patternPath: string): string {
    return `${patternPath.slice(0, -".yaml".length)}${DECISIONS_SUFFIX}.yaml`;
  }

  /**
   * Appends `text` (whole records) and resolves once it is on disk. A log
   * that is a link, or under one, is refused (unsafe_path) before a byte is written.
   */
  async append(path: string, text: string, pattern: string, records: number, agentId: string | undefined): Promise<void> {
    let fd: number;
    try {
      fd = this.files.open(path, O_RDWR | O_APPEND | O_CREAT, 0o644);
    } catch (err) {
      throw asUnavailable(err, this.files.resolve(path));
    }
    let created = false;
    try {
      created = !this.checked.has(path) && closeTornEnd(fd);
      this.checked.add(path);
      // All of the record or none of it: a full disk leaves no half record behind.
      appendWhole(fd, text);
    } catch (err) {
      // A log this append created stays only with a record in it (an empty file would be an untracked change).
      if (created) rmSync(this.files.resolve(path), { force: true });
      throw asUnavailable(err, this.files.resolve(path));
    } finally {
      closeSync(fd);
    }
    // Whatever the log held is no longer its whole evidence; the next read counts again.
    this.evidenceCache.delete(path);
    const batch = this.pending.get(path) ?? { records: 0, pattern, agents: new Set<string>() };
    batch.records += records;
    if (agentId !== undefined) batch.agents.add(agentId);
    this.pending.set(path, batch);
    this.commitSoon();
    try {
      await this.sync(path);
      if (created) await syncDirectory(dirname(this.files.resolve(path)));
    } catch (err) {
      throw asUnavailable(err, this.files.resolve(path));
    }
  }

  /** The log's text; undefined when there is none; unsafe_path when it is a link or under one. */
  read(path: string): string | undefined {
    return this.files.read(path, Number.MAX_SAFE_INTEGER);
  }

  /** The records of a log (none when there is no log) and what could not be read of it. */
  records(path: string): { records: DecisionRecord[]; issues: { message: string }[] } {
    const text = this.read(path);
    return text === undefined ? { records: [], issues: [] } : parseLog(text);
  }

  /**
   * A log's outcomes for ranking, read once per change of the file: the
   * daemon's own appends and the watcher's report of a hand edit both
   * make the next call read it again.
   */
  evidence(path: string): Evidence {
    const cached = this.evidenceCache.get(path);
    if (cached !== undefined) return cached.evidence;
    let records: DecisionRecord[] = [];
    try {
      records = this.records(path).records;
    } catch (err) {
      // A log that is a link counts as no evidence (reload lists it as ignored); any other fault is a fault.
      if (!isUnsafePath(err)) throw err;
    }
    const evidence = evidenceOf(records);
    this.evidenceCache.set(path, { evidence, size: this.files.state(path)?.size ?? -1 });
    return evidence;
  }

  /** The watcher saw the log change: forget its evidence unless the size is what was read (the daemon's own append, already counted). */
  changed(path: string): void {
    const cached = this.evidenceCache.get(path);
    if (cached === undefined) return;
    if ((this.files.state(path)?.size ?? -1) !== cached.size) this.evidenceCache.delete(path);
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
    await this.git.exclusive(() => this.git.commitPaths(changed, message, undefined));
    this.log.info({ logs: changed }, "uncommitted decision logs committed at start");
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

  private sync(path: string): Promise<void> {
    const shared = this.syncs.get(path);
    if (shared !== undefined) return shared;
    const sync = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      this.syncs.delete(path);
      const fd = this.files.open(path, O_RDONLY);
      try {
        await fdatasyncAsync(fd);
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
      await Promise.all([...this.syncs.values()]);
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
        await this.git.exclusive(() => this.git.commitPaths(paths, message, author));
        if (this.commitFailing) this.log.warn({ paths }, "decision logs committed again");
        this.commitFailing = false;
      } catch (err) {
        // The previous batch's commit took the files as they were when it ran, records appended
        // while it waited included: then this batch is already in git.
        if (/nothing to commit/.test((err as Error).message)) return;
        // Not lost: the records are on disk; the batch is tried again a moment later (a full disk
        // that gets room again), with any records appended meanwhile, or at the stop or the next start.
        // commitPaths left the index as it was: what `git add` staged (a log swapped for a link meanwhile) stays out of it.
        // A store a person is busy with (their index.lock) or a branch moved under the batch is no fault: a warning, once.
        if (!this.commitFailing) {
          if (isStoreBusy(err)) this.log.warn({ err, paths }, "decision logs wait for the store: they are on disk and are committed once it is free again");
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
      this.pending.set(path, later === undefined ? b : { ...later, records: later.records + b.records });
    }
  }
}

/** The store is someone else's for now (store_busy) or moved under the batch (conflict): the next try goes on from there. */
function isStoreBusy(err: unknown): boolean {
  return err instanceof DaemonError && (err.code === "store_busy" || err.code === "conflict");
}

/**
 * True when the file is empty (new, as a rule: its folder entry needs a sync). A
 * file that does not end in a newline (a crash in the middle of an append,
 * or a hand edit) gets one first, so the next record starts on a line of its own.
 */
function closeTornEnd(fd: number): boolean {
  const size = fstatSync(fd).size;
  if (size === 0) return true;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  if (last[0] !== 0x0a) appendWhole(fd, "\n");
  return false;
}
