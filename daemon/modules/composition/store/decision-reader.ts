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
 * A log whose pieces do not read on their own as within the whole
 * (readLogChunk: broken YAML, aliases, a key at the left edge) is read
 * whole per query, as before; its evidence once per change.
 *
 * Kept per log: the index, the running hash of the bytes indexed, the
 * issues of its items and the file's identity when last checked.
 */
import { createHash, type Hash } from "node:crypto";
import { closeSync, constants, fstatSync, readSync, type BigIntStats } from "node:fs";
import { DecisionIndex } from "../model/decision-index.js";
import { parseLog, readLogChunk, readRecordItems, type LogIssue } from "../model/decision-log-text.js";
import { evidenceOf, queryDecisions, type DecisionRecord, type DecisionsQuery, type DecisionStats, type Evidence } from "../model/decisions.js";
import type { StoreFiles } from "./files.js";

const { O_RDONLY } = constants;

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

export interface DecisionsAnswer {
  decisions: DecisionRecord[];
  stats: DecisionStats;
  issues: LogIssue[];
}

const NO_EVIDENCE: Evidence = { successes: 0, failures: 0, total: 0, mean_confidence: null };

export class DecisionReader {
  private readonly known = new Map<string, Known | null>();
  /** Logs the watcher saw change: their evidence is checked against the file again before it is used. */
  private readonly unchecked = new Set<string>();

  constructor(private readonly files: StoreFiles) {}

  /**
   * A log's outcomes for ranking. Trusted as known until the daemon or the
   * watcher reports a change (select asks for many patterns' evidence per
   * query; the file is checked only when one of them changed).
   */
  evidence(path: string): Evidence {
    const known = this.known.get(path);
    if (known !== undefined && !this.unchecked.has(path)) return known === null ? NO_EVIDENCE : evidenceIn(known);
    const read = this.withFile(path, (fd, info) => evidenceIn(this.refresh(path, fd, info)));
    this.unchecked.delete(path);
    if (read === undefined) this.known.set(path, null);
    return read ?? NO_EVIDENCE;
  }

  /** composition:decisions over a log, always checked against the file (undefined when there is no log). */
  query(path: string, query: DecisionsQuery): DecisionsAnswer {
    const answer = this.withFile(path, (fd, info) => {
      const known = this.refresh(path, fd, info);
      return known.kind === "indexed" ? this.answer(known, fd, query) : undefined;
    });
    if (answer !== undefined) return answer;
    // No log, a log read whole, or one that changed while it was read: parsed whole, as it is now.
    const text = this.withFile(path, (fd, info) => readAll(fd, Number(info.size)).toString("utf8"));
    const { records, issues } = text === undefined ? { records: [], issues: [] } : parseLog(text);
    return { ...queryDecisions(records, query), issues };
  }

  /**
   * The daemon appended `text` to a log: `before` is the file as it was
   * just before (and before a torn line was closed), `after` right after
   * the append. Only an append right after what was indexed is added; any
   * other leaves the log to be checked when next read.
   */
  appended(path: string, before: BigIntStats, text: string, after: BigIntStats): void {
    const known = this.known.get(path);
    if (known?.kind !== "indexed" || known.identity !== identityOf(before) || known.torn !== null || Number(before.size) !== known.end) return;
    const bytes = Buffer.from(text);
    if (Number(after.size) !== known.end + bytes.length) return;
    if (!this.take(known, bytes, text)) return;
    known.identity = identityOf(after);
  }

  /** The watcher saw a log change: its evidence is checked before it is used again. */
  changed(path: string): void {
    this.unchecked.add(path);
  }

  /** Forgets one log (its appends were taken back) or all (the store may be another one now). */
  forget(path?: string): void {
    if (path === undefined) this.known.clear();
    else this.known.delete(path);
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

  /** What is known of the log, brought up to the file as it is (see the module comment). */
  private refresh(path: string, fd: number, info: BigIntStats): Known {
    const identity = identityOf(info);
    const known = this.known.get(path);
    if (known !== undefined && known !== null && known.identity === identity) return known;
    const buffer = readAll(fd, Number(info.size));
    if (known?.kind === "indexed" && buffer.length >= known.end && sameHash(known.hash, buffer.subarray(0, known.end))) {
      const rest = buffer.subarray(known.end);
      if (this.take(known, rest, rest.toString("utf8"))) {
        known.identity = identity;
        return known;
      }
    }
    const fresh = indexWhole(buffer, identity);
    this.known.set(path, fresh);
    return fresh;
  }

  /** Adds `text` (the bytes right after what was indexed) to the index; false when it must be read with the whole log. */
  private take(known: Indexed, bytes: Buffer, text: string): boolean {
    if (Buffer.byteLength(text) !== bytes.length) return false;
    const chunk = readLogChunk(text, known.lines + 1, true);
    if (!chunk.clean) return false;
    for (const { record, offset, bytes: length } of chunk.records) known.index.add(record, { offset: known.end + offset, bytes: length });
    known.hash.update(bytes.subarray(0, chunk.bytes));
    known.issues.push(...chunk.issues);
    known.end += chunk.bytes;
    known.lines += chunk.lines;
    known.torn = chunk.torn;
    return true;
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

/** A log indexed from its start, or read whole when its pieces do not read on their own. */
function indexWhole(buffer: Buffer, identity: Identity): Known {
  const text = buffer.toString("utf8");
  const chunk = Buffer.byteLength(text) === buffer.length ? readLogChunk(text, 1, false) : { clean: false as const };
  if (!chunk.clean) return { kind: "whole", identity, evidence: evidenceOf(parseLog(text).records) };
  const index = new DecisionIndex();
  for (const { record, offset, bytes } of chunk.records) index.add(record, { offset, bytes });
  const hash = createHash("sha1").update(buffer.subarray(0, chunk.bytes));
  return { kind: "indexed", identity, index, end: chunk.bytes, lines: chunk.lines, hash, issues: chunk.issues, torn: chunk.torn };
}

function evidenceIn(known: Known): Evidence {
  return known.kind === "indexed" ? known.index.evidence() : known.evidence;
}

function identityOf(info: BigIntStats): Identity {
  return `${info.dev}:${info.ino}:${info.size}:${info.ctimeNs}:${info.mtimeNs}`;
}

function sameHash(hash: Hash, bytes: Buffer): boolean {
  return hash.copy().digest().equals(createHash("sha1").update(bytes).digest());
}

function readAll(fd: number, size: number): Buffer {
  return readAt(fd, 0, size);
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
