/**
 * Reads decision logs for composition:decisions and select's evidence
 * (issue 22), keeping an index of each (model/decision-index.ts) that
 * follows the log as it grows instead of reading it whole per query.
 *
 * A log only grows while the daemon appends, so what was indexed stays
 * true: the daemon's own appends are added as they are written, and any
 * other change (a person's edit, a `git checkout` or revert, another
 * writer) is seen by the file's identity (inode, size, ctime, mtime): then
 * the bytes already indexed are hashed again, and unless they are what was
 * indexed (then only what follows them is read), the log is indexed anew.
 *
 * Indexing is sliced (SliceQueue): pieces of whole items, at most ~5 ms or
 * 1 MiB per turn of the event loop, so a log of 30 000 records never
 * stalls the other connections. There is one build per log: queries and
 * select wait for it, and go before the logs indexed in the background
 * after a start (warm). The daemon's appends during a build are left for
 * the build to read (it reads to the file's end); any other change during
 * it has what was read hashed again, as above.
 *
 * A log whose pieces do not read on their own as within the whole
 * (readLogChunk: broken YAML, aliases, a key at the left edge) is read
 * whole per query, as before; its evidence once per change. That parse is
 * not sliced.
 */
import { createHash, type Hash } from "node:crypto";
import { closeSync, constants, fstatSync, readSync, type BigIntStats } from "node:fs";
import type { Clock } from "../../../core/clock.js";
import { DecisionIndex } from "../model/decision-index.js";
import { lastItemStart, parseLog, readLogChunk, readRecordItems, type LogIssue } from "../model/decision-log-text.js";
import { evidenceOf, queryDecisions, type DecisionRecord, type DecisionsQuery, type DecisionStats, type Evidence } from "../model/decisions.js";
import type { StoreFiles } from "./files.js";
import { SliceQueue, type SliceBudget, type SliceLimits } from "./slice-queue.js";

const { O_RDONLY } = constants;

/** How much indexing one turn does; pieces are the unit read and parsed at once (16 KiB: ~2 ms). */
export interface IndexSlice extends SliceLimits {
  pieceBytes: number;
}

const INDEX_SLICE: IndexSlice = { budgetMs: 5, maxBytes: 1024 * 1024, pieceBytes: 16 * 1024 };

/** What the file was when it was last read: a change by anyone changes ctime. */
type Identity = string;

interface Indexed {
  kind: "indexed";
  identity: Identity;
  index: DecisionIndex;
  /** Bytes of whole items indexed; a torn last item starts here. */
  end: number;
  /** Newlines in those bytes. */
  lines: number;
  /** Of the bytes indexed. */
  hash: Hash;
  issues: LogIssue[];
  torn: LogIssue | null;
}

/** A log read whole per query; its evidence counted once per change. */
interface Whole {
  kind: "whole";
  identity: Identity;
  evidence: Evidence;
}

type Known = Indexed | Whole;

/** A log being (re)indexed, a slice per turn. */
interface Build {
  /** What is indexed so far; its identity is set when it is done. */
  into: Indexed;
  /** The file at the start of the last slice, or as the daemon's appends since left it; null before the first. */
  seen: Identity | null;
  /** The bytes indexed before the file changed, hashed again up to `at`; null when they need no check. */
  check: { at: number; hash: Hash } | null;
  /** Resolves when the build is done or dropped (waiters then look again), rejects when the log cannot be read. */
  settled: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface DecisionsAnswer {
  decisions: DecisionRecord[];
  stats: DecisionStats;
  issues: LogIssue[];
}

const NO_EVIDENCE: Evidence = { successes: 0, failures: 0, total: 0, mean_confidence: null };
/** Bytes of what was indexed hashed again per read. */
const HASH_BLOCK = 256 * 1024;

export class DecisionReader {
  private readonly known = new Map<string, Known | null>();
  /** Logs the watcher saw change: their evidence is checked against the file again before it is used. */
  private readonly unchecked = new Set<string>();
  private readonly builds = new Map<string, Build>();
  private readonly queue: SliceQueue<string>;

  constructor(
    private readonly files: StoreFiles,
    clock: Clock,
    private readonly slice: IndexSlice = INDEX_SLICE,
  ) {
    this.queue = new SliceQueue(clock, slice);
  }

  /**
   * A log's outcomes for ranking, when known now; undefined while it is
   * being indexed (`indexed` says when to ask again). Trusted as known
   * until the daemon or the watcher reports a change (select asks for many
   * patterns' evidence per query; the file is checked only when one of
   * them changed).
   */
  evidenceNow(path: string): Evidence | undefined {
    if (this.building(path)) return undefined;
    const known = this.known.get(path);
    if (known !== undefined && !this.unchecked.has(path)) return known === null ? NO_EVIDENCE : evidenceIn(known);
    const identity = this.withFile(path, (_fd, info) => identityOf(info));
    this.unchecked.delete(path);
    if (identity === undefined) {
      this.known.set(path, null);
      return NO_EVIDENCE;
    }
    if (known != null && known.identity === identity) return evidenceIn(known);
    this.build(path, true);
    return undefined;
  }

  /** composition:decisions over a log, always checked against the file (empty when there is no log). */
  async query(path: string, query: DecisionsQuery): Promise<DecisionsAnswer> {
    for (;;) {
      const answer = this.answerNow(path, query);
      if (answer !== undefined) return answer;
      await this.indexed(path);
    }
  }

  /** Settles when the log's build (if any) is done or dropped: rejects when the log could not be read. */
  indexed(path: string): Promise<void> {
    return this.builds.get(path)?.settled ?? Promise.resolve();
  }

  /** Indexes these logs in the background, after any a request waits for: the first query after a start finds them indexed. */
  warm(paths: Iterable<string>): void {
    for (const path of paths) if (!this.known.has(path)) this.build(path, false);
  }

  /**
   * The daemon appended `text` to a log: `before` is the file as it was
   * just before (and before a torn line was closed), `after` right after
   * the append. Only an append right after what was indexed is added; any
   * other leaves the log to be checked when next read. During a build, the
   * build reads it when it gets there.
   */
  appended(path: string, before: BigIntStats, text: string, after: BigIntStats): void {
    const build = this.builds.get(path);
    if (build !== undefined) {
      if (build.seen === identityOf(before)) build.seen = identityOf(after);
      return;
    }
    const known = this.known.get(path);
    // A log known to be absent has just been made: checked when next asked, without waiting for the watcher to say so.
    if (known === null) this.unchecked.add(path);
    if (known?.kind !== "indexed" || known.identity !== identityOf(before) || known.torn !== null || Number(before.size) !== known.end) return;
    const bytes = Buffer.from(text);
    if (Number(after.size) !== known.end + bytes.length) return;
    if (!take(known, bytes)) return;
    known.identity = identityOf(after);
  }

  /**
   * Logs the store's listing did not have (the watcher was already running,
   * so one made since is reported): known absent without opening each, as
   * the first select after a start would otherwise do for every candidate.
   */
  absent(paths: Iterable<string>): void {
    for (const path of paths) if (!this.known.has(path) && !this.building(path)) this.known.set(path, null);
  }

  /** The watcher saw a log change: its evidence is checked before it is used again. */
  changed(path: string): void {
    this.unchecked.add(path);
  }

  /** Forgets one log (its appends were taken back) or all (the store may be another one now); builds under way are dropped. */
  forget(path?: string): void {
    for (const key of path === undefined ? [...this.builds.keys()] : [path]) this.drop(key)?.resolve();
    if (path === undefined) this.known.clear();
    else this.known.delete(path);
  }

  /** The answer from what is known, or undefined when the log must be indexed first (its build is then under way). */
  private answerNow(path: string, query: DecisionsQuery): DecisionsAnswer | undefined {
    if (this.building(path)) return undefined;
    const answer = this.withFile(path, (fd, info): DecisionsAnswer | null => {
      const known = this.known.get(path);
      if (known == null || known.identity !== identityOf(info)) return null;
      if (known.kind === "indexed") return this.answer(known, fd, query) ?? null;
      const { records, issues } = parseLog(readAt(fd, 0, Number(info.size)).toString("utf8"));
      return { ...queryDecisions(records, query), issues };
    });
    if (answer === undefined) return { ...queryDecisions([], query), issues: [] };
    if (answer === null) this.build(path, true);
    return answer ?? undefined;
  }

  private building(path: string): boolean {
    if (!this.builds.has(path)) return false;
    this.queue.promote(path);
    return true;
  }

  /** Starts indexing a log anew, from what was indexed of it before (checked again first). */
  private build(path: string, waitedFor: boolean): void {
    const before = this.known.get(path);
    this.known.delete(path);
    const fromBefore = before?.kind === "indexed" && before.end > 0;
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const settled = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A background build nobody waits for fails quietly: the next query reads the log and says why.
    settled.catch(() => undefined);
    const build: Build = { into: fromBefore ? before : emptyIndex(), seen: null, check: fromBefore ? newCheck() : null, settled, resolve, reject };
    this.builds.set(path, build);
    this.queue.add(path, (budget) => this.step(path, build, budget), waitedFor);
  }

  /** One slice of a build; true when it is done (or failed). */
  private step(path: string, build: Build, budget: SliceBudget): boolean {
    try {
      const done = this.withFile(path, (fd, info) => {
        const identity = identityOf(info);
        const size = Number(info.size);
        // Changed by someone else since the last slice: what was read of it is checked again.
        if (build.seen !== null && build.seen !== identity && build.into.end > 0) build.check = newCheck();
        build.seen = identity;
        if (build.check !== null && !this.verify(fd, build, size, budget)) return false;
        const read = this.indexPieces(fd, build.into, size, budget);
        if (read === "more") return false;
        const known: Known = read === "whole" ? wholeLog(readAt(fd, 0, size), identity) : { ...build.into, identity };
        this.finish(path, known)?.resolve();
        return true;
      });
      if (done === undefined) this.finish(path, null)?.resolve();
      return done ?? true;
    } catch (err) {
      this.drop(path)?.reject(err);
      return true;
    }
  }

  /**
   * Hashes the next bytes of what was indexed before the file changed;
   * true once all are checked: then the build goes on after them when they
   * are the same, and from the start when not.
   */
  private verify(fd: number, build: Build, size: number, budget: SliceBudget): boolean {
    const check = build.check!;
    const end = build.into.end;
    while (check.at < end && size >= end) {
      if (budget.spent) return false;
      const block = readAt(fd, check.at, Math.min(HASH_BLOCK, end - check.at));
      if (block.length === 0) break;
      check.hash.update(block);
      check.at += block.length;
      budget.count(block.length);
    }
    build.check = null;
    if (check.at === end && check.hash.digest().equals(build.into.hash.copy().digest())) build.into.torn = null;
    else build.into = emptyIndex();
    return true;
  }

  /** Indexes the items after `into.end` up to `size`, a piece at a time, until the budget is spent; "whole" when a piece does not read on its own. */
  private indexPieces(fd: number, into: Indexed, size: number, budget: SliceBudget): "done" | "more" | "whole" {
    while (into.end < size) {
      if (budget.spent) return "more";
      const piece = readPiece(fd, into.end, size, this.slice.pieceBytes);
      budget.count(piece.bytes.length);
      if (!take(into, piece.bytes)) return "whole";
      if (piece.last) break;
    }
    return "done";
  }

  /** The build is done: what it found is known (null: no log). */
  private finish(path: string, known: Known | null): Build | undefined {
    const build = this.drop(path);
    this.known.set(path, known);
    return build;
  }

  private drop(path: string): Build | undefined {
    const build = this.builds.get(path);
    this.builds.delete(path);
    this.queue.remove(path);
    return build;
  }

  /** Runs `read` on the open log and its stat; undefined when there is no log. A link is refused (unsafe_path). */
  private withFile<T>(path: string, read: (fd: number, info: BigIntStats) => T): T | undefined {
    let fd: number;
    try {
      fd = this.files.open(path, O_RDONLY);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
    try {
      const info = fstatSync(fd, { bigint: true });
      if (!info.isFile()) throw new Error(`${path} is not a regular file`);
      return read(fd, info);
    } finally {
      closeSync(fd);
    }
  }

  /** The query's answer from the index, reading back only the records it returns; undefined when the file changed meanwhile. */
  private answer(known: Indexed, fd: number, query: DecisionsQuery): DecisionsAnswer | undefined {
    const { picks, stats, firstSeen, lastSeen } = known.index.query(query);
    const wanted = [...new Set([...picks, ...(firstSeen === null ? [] : [firstSeen]), ...(lastSeen === null ? [] : [lastSeen])])].sort((a, b) => a - b);
    const records = readBack(fd, wanted.map((number) => known.index.place(number)));
    if (records === null || identityOf(fstatSync(fd, { bigint: true })) !== known.identity) return undefined;
    const byNumber = new Map(wanted.map((number, i) => [number, records[i]!]));
    const timestamp = (number: number | null) => (number === null ? null : (byNumber.get(number)!.timestamp ?? null));
    return {
      decisions: picks.map((number) => byNumber.get(number)!),
      stats: {
        total: stats.total,
        by_decision: stats.by_decision,
        by_outcome: stats.by_outcome,
        mean_confidence: stats.mean_confidence,
        first_seen: timestamp(firstSeen),
        last_seen: timestamp(lastSeen),
        successes: stats.successes,
        failures: stats.failures,
      },
      issues: known.torn === null ? [...known.issues] : [...known.issues, known.torn],
    };
  }
}

/**
 * Adds `bytes` (whole items right after what was indexed, or a torn last
 * one) to the index; false when the log must be read whole instead.
 */
function take(known: Indexed, bytes: Buffer): boolean {
  const text = bytes.toString("utf8");
  if (Buffer.byteLength(text) !== bytes.length) return false;
  const chunk = readLogChunk(text, known.lines + 1, known.end > 0);
  if (!chunk.clean) return false;
  for (const { record, offset, bytes: length } of chunk.records) known.index.add(record, { offset: known.end + offset, bytes: length });
  known.hash.update(bytes.subarray(0, chunk.bytes));
  known.issues.push(...chunk.issues);
  known.end += chunk.bytes;
  known.lines += chunk.lines;
  known.torn = chunk.torn;
  return true;
}

function emptyIndex(): Indexed {
  return { kind: "indexed", identity: "", index: new DecisionIndex(), end: 0, lines: 0, hash: createHash("sha1"), issues: [], torn: null };
}

function newCheck(): { at: number; hash: Hash } {
  return { at: 0, hash: createHash("sha1") };
}

/** A log whose pieces do not read on their own: parsed whole, its evidence kept. */
function wholeLog(buffer: Buffer, identity: Identity): Whole {
  return { kind: "whole", identity, evidence: evidenceOf(parseLog(buffer.toString("utf8")).records) };
}

function evidenceIn(known: Known): Evidence {
  return known.kind === "indexed" ? known.index.evidence() : known.evidence;
}

function identityOf(info: BigIntStats): Identity {
  return `${info.dev}:${info.ino}:${info.size}:${info.ctimeNs}:${info.mtimeNs}`;
}

/**
 * The next piece of a log from `from`: whole items, cut where the last item
 * that starts in `pieceBytes` starts (a longer item is read whole), or all
 * that is left up to `size` (`last`).
 */
function readPiece(fd: number, from: number, size: number, pieceBytes: number): { bytes: Buffer; last: boolean } {
  for (let length = pieceBytes; ; length *= 2) {
    const want = Math.min(length, size - from);
    const bytes = readAt(fd, from, want);
    // Shorter than its stat said: cut meanwhile; the next read of the log sees it changed.
    if (from + want >= size || bytes.length < want) return { bytes, last: true };
    const cut = lastItemStart(bytes);
    if (cut > 0) return { bytes: bytes.subarray(0, cut), last: false };
  }
}

function readAt(fd: number, offset: number, length: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const read = readSync(fd, buffer, filled, length - filled, offset + filled);
    if (read === 0) break;
    filled += read;
  }
  return filled === length ? buffer : buffer.subarray(0, filled);
}

/** The records whose items are at `places` (in file order), each run of adjacent items read at once; null when they no longer read as records. */
function readBack(fd: number, places: readonly { offset: number; bytes: number }[]): DecisionRecord[] | null {
  const parts: Buffer[] = [];
  for (let i = 0; i < places.length; ) {
    let j = i + 1;
    while (j < places.length && places[j]!.offset === places[j - 1]!.offset + places[j - 1]!.bytes) j++;
    const end = places[j - 1]!.offset + places[j - 1]!.bytes;
    parts.push(readAt(fd, places[i]!.offset, end - places[i]!.offset));
    i = j;
  }
  return places.length === 0 ? [] : readRecordItems(Buffer.concat(parts).toString("utf8"), places.length);
}
