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
import { appendFileSync, closeSync, fdatasync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { promisify } from "node:util";
import { syncDirectory } from "../../../core/atomic-file.js";
import type { Clock, TimerHandle } from "../../../core/clock.js";
import type { Log } from "../../../core/log.js";
import { evidenceOf, parseLog, type DecisionRecord, type Evidence } from "../model/decisions.js";
import { DECISIONS_SUFFIX } from "../model/ref.js";
import { formatCommitMessage } from "../model/trailers.js";
import type { StoreFiles } from "./files.js";
import type { GitRepo } from "./git.js";

/** A batch is committed at most this long after its first append. */
const COMMIT_DELAY_MS = 1_000;

const fdatasyncAsync = promisify(fdatasync);

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

  /** Appends `text` (whole records) and resolves once it is on disk. */
  async append(path: string, text: string, pattern: string, records: number, agentId: string | undefined): Promise<void> {
    const absolute = this.files.resolve(path);
    const created = !this.checked.has(path) && this.closeTornEnd(absolute);
    this.checked.add(path);
    appendFileSync(absolute, text, { mode: 0o644 });
    // Whatever the log held is no longer its whole evidence; the next read counts again.
    this.evidenceCache.delete(path);
    const batch = this.pending.get(path) ?? { records: 0, pattern, agents: new Set<string>() };
    batch.records += records;
    if (agentId !== undefined) batch.agents.add(agentId);
    this.pending.set(path, batch);
    this.commitSoon();
    await this.sync(path, absolute);
    if (created) await syncDirectory(dirname(absolute));
  }

  /** The log's text; undefined when there is none. */
  read(path: string): string | undefined {
    try {
      return readFileSync(this.files.resolve(path), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
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
    const evidence = evidenceOf(this.records(path).records);
    this.evidenceCache.set(path, { evidence, size: statSync(this.files.resolve(path), { throwIfNoEntry: false })?.size ?? -1 });
    return evidence;
  }

  /** The watcher saw the log change: forget its evidence unless the size is what was read (the daemon's own append, already counted). */
  changed(path: string): void {
    const cached = this.evidenceCache.get(path);
    if (cached === undefined) return;
    const size = statSync(this.files.resolve(path), { throwIfNoEntry: false })?.size ?? -1;
    if (size !== cached.size) this.evidenceCache.delete(path);
  }

  /** Commits what is pending now (at stop; tests). */
  async flush(): Promise<void> {
    if (this.commitTimer !== null) this.clock.clearTimer(this.commitTimer);
    this.commitTimer = null;
    await this.commitPending();
  }

  /** Commits logs a crash left changed but uncommitted (at start, before anything is appended). */
  async recover(): Promise<void> {
    const changed = await this.git.exclusive(() => this.git.changedFiles(`*${DECISIONS_SUFFIX}.yaml`));
    if (changed.length === 0) return;
    const message = formatCommitMessage({
      subject: `decisions: ${changed.length} log${changed.length === 1 ? "" : "s"} committed at start (appended before a stop that did not commit them)`,
      trailers: { Op: "decisions", Logs: changed.join(", "), Agent: "" },
    });
    await this.git.exclusive(() => this.git.commitPaths(changed, message, undefined));
    this.log.info({ logs: changed }, "uncommitted decision logs committed at start");
  }

  /**
   * True when the file did not exist. A file that does not end in a newline
   * (a crash in the middle of an append, or a hand edit) gets one first, so
   * the new record starts on a line of its own.
   */
  private closeTornEnd(absolute: string): boolean {
    const size = statSync(absolute, { throwIfNoEntry: false })?.size;
    if (size === undefined) return true;
    if (size === 0) return false;
    const fd = openSync(absolute, "r");
    const last = Buffer.alloc(1);
    try {
      readSync(fd, last, 0, 1, size - 1);
    } finally {
      closeSync(fd);
    }
    if (last[0] !== 0x0a) appendFileSync(absolute, "\n");
    return false;
  }

  private sync(path: string, absolute: string): Promise<void> {
    const shared = this.syncs.get(path);
    if (shared !== undefined) return shared;
    const sync = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      this.syncs.delete(path);
      const fd = openSync(absolute, "r");
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
      const batch = this.pending;
      this.pending = new Map();
      // Every append already acknowledged is synced by now: a commit never holds half a record.
      await Promise.all([...this.syncs.values()]);
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
      } catch (err) {
        // The previous batch's commit took the files as they were when it ran, records appended
        // while it waited included: then this batch is already in git.
        if (/nothing to commit/.test((err as Error).message)) return;
        // Not lost: the records are on disk; they go into the next batch's commit (or the next start's).
        this.log.error({ err, paths }, "decision logs not committed; retrying with the next batch");
        for (const [path, b] of batch) {
          const later = this.pending.get(path);
          this.pending.set(path, later === undefined ? b : { ...later, records: later.records + b.records });
        }
      }
    });
    return this.committing;
  }
}
