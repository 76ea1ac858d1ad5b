/**
 * git's index file, read and written without a process (pure: bytes in,
 * bytes out), in the split form git itself uses for large work trees
 * (`core.splitIndex`): a shared index holding most entries, named by its
 * checksum, and a small index file holding the entries that replace, join
 * or leave it, with two EWAH bitmaps saying which. Writing a change then
 * costs the size of the change, not of the index: the reason the store
 * writes it itself (a `git add` on 100 000 entries reads, hashes and
 * rewrites 11 MB, and walks the folder: 140 ms here).
 *
 * Versions 2 and 3 only (4 compresses names against the previous entry, so
 * an entry cannot be taken out alone); an index this does not take is
 * reported as such, and the caller lets git stage. Formats: git's
 * Documentation/gitformat-index.txt.
 */
import { createHash } from "node:crypto";
import type { HashAlgorithm } from "./git-objects.js";
import { compareKeys } from "./tree-folder.js";

export interface IndexEntry {
  name: string;
  /** The entry as written, from its ctime to its flags (and v3's extended flags), name length bits included. */
  fixed: Buffer;
}

export interface Extension {
  signature: string;
  data: Buffer;
}

export interface ParsedIndex {
  entries: IndexEntry[];
  /** The extensions but `link`, in file order. */
  extensions: Extension[];
  /** A split index: the shared index it names, and the bitmaps. */
  link: { shared: string; deleted: number[]; replaced: number[] } | null;
  /** The file's checksum (a shared index is named by it). */
  checksum: string;
}

/** Why an index file is not one this module writes (the caller lets git stage). */
export class UnsupportedIndex extends Error {}

const STAT_BYTES = 40;
const EXTENDED_FLAG = 0x4000;
const NAME_MASK = 0x0fff;

/** Offset of the 16-bit flags in an entry: after stat data and the object id. */
const flagsAt = (idBytes: number) => STAT_BYTES + idBytes;

export function stageOf(entry: IndexEntry, idBytes: number): number {
  return (entry.fixed.readUInt16BE(flagsAt(idBytes)) >> 12) & 3;
}

export function entryId(entry: IndexEntry, idBytes: number): string {
  return entry.fixed.toString("hex", STAT_BYTES, STAT_BYTES + idBytes);
}

export function entryMode(entry: IndexEntry): string {
  return entry.fixed.readUInt32BE(24).toString(8);
}

/** A stage-0 entry for a file: its stat data (from an lstat with bigint), mode 100644 or 100755, blob id. */
export function fileEntry(name: string, stat: FileStat, executable: boolean, id: string): IndexEntry {
  const idBytes = id.length / 2;
  const fixed = Buffer.alloc(STAT_BYTES + idBytes + 2);
  const seconds = (ns: bigint) => Number((ns / 1_000_000_000n) & 0xffffffffn);
  const nanos = (ns: bigint) => Number(ns % 1_000_000_000n);
  const low32 = (value: bigint) => Number(value & 0xffffffffn);
  fixed.writeUInt32BE(seconds(stat.ctimeNs), 0);
  fixed.writeUInt32BE(nanos(stat.ctimeNs), 4);
  fixed.writeUInt32BE(seconds(stat.mtimeNs), 8);
  fixed.writeUInt32BE(nanos(stat.mtimeNs), 12);
  fixed.writeUInt32BE(low32(stat.dev), 16);
  fixed.writeUInt32BE(low32(stat.ino), 20);
  fixed.writeUInt32BE(executable ? 0o100755 : 0o100644, 24);
  fixed.writeUInt32BE(low32(stat.uid), 28);
  fixed.writeUInt32BE(low32(stat.gid), 32);
  fixed.writeUInt32BE(low32(stat.size), 36);
  fixed.write(id, STAT_BYTES, "hex");
  return { name, fixed };
}

export interface FileStat {
  ctimeNs: bigint;
  mtimeNs: bigint;
  dev: bigint;
  ino: bigint;
  uid: bigint;
  gid: bigint;
  size: bigint;
}

/** Reads an index file (a split one's own file or a shared index); throws UnsupportedIndex for what it does not take. */
export function parseIndex(file: Buffer, algorithm: HashAlgorithm): ParsedIndex {
  const idBytes = algorithm === "sha1" ? 20 : 32;
  if (file.length < 12 + idBytes || file.toString("latin1", 0, 4) !== "DIRC") throw new UnsupportedIndex("not an index file");
  const checksum = file.toString("hex", file.length - idBytes);
  if (createHash(algorithm).update(file.subarray(0, file.length - idBytes)).digest("hex") !== checksum) throw new UnsupportedIndex("its checksum does not match");
  const version = file.readUInt32BE(4);
  if (version !== 2 && version !== 3) throw new UnsupportedIndex(`index version ${version}`);
  const count = file.readUInt32BE(8);
  const entries: IndexEntry[] = [];
  const flags = flagsAt(idBytes);
  let at = 12;
  for (let i = 0; i < count; i++) {
    const extended = (file.readUInt16BE(at + flags) & EXTENDED_FLAG) !== 0;
    const nameAt = at + flags + (extended ? 4 : 2);
    const end = file.indexOf(0, nameAt);
    if (end === -1 || end >= file.length - idBytes) throw new UnsupportedIndex("an entry runs past the end");
    entries.push({ name: file.toString("utf8", nameAt, end), fixed: Buffer.from(file.subarray(at, nameAt)) });
    // NUL-padded to a multiple of 8 from the entry's start (at least one NUL).
    at += (end - at + 8) & ~7;
  }
  const extensions: Extension[] = [];
  let link: ParsedIndex["link"] = null;
  while (at + 8 <= file.length - idBytes) {
    const signature = file.toString("latin1", at, at + 4);
    const size = file.readUInt32BE(at + 4);
    const data = file.subarray(at + 8, at + 8 + size);
    at += 8 + size;
    if (signature === "link") link = parseLink(data, idBytes);
    else if (signature === "TREE" || signature === "REUC") extensions.push({ signature, data: Buffer.from(data) });
    else if (!/^[A-Z]/.test(signature)) throw new UnsupportedIndex(`index extension ${signature}`);
    // Other optional extensions (untracked cache, fsmonitor, offset tables) describe the file as it was: dropped, as git allows.
  }
  return { entries, extensions, link, checksum };
}

function parseLink(data: Buffer, idBytes: number): NonNullable<ParsedIndex["link"]> {
  const shared = data.toString("hex", 0, idBytes);
  if (data.length === idBytes) return { shared, deleted: [], replaced: [] };
  const deleted = readEwah(data, idBytes);
  const replaced = readEwah(data, deleted.end);
  return { shared, deleted: deleted.bits, replaced: replaced.bits };
}

/** Two runs of entries, each in index order, as one (name, then stage). */
export function mergeSorted(a: readonly IndexEntry[], b: readonly IndexEntry[], idBytes: number): IndexEntry[] {
  if (b.length === 0) return [...a];
  const out: IndexEntry[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const order = compareKeys(a[i]!.name, b[j]!.name) || stageOf(a[i]!, idBytes) - stageOf(b[j]!, idBytes);
    out.push(order <= 0 ? a[i++]! : b[j++]!);
  }
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

/** The entry under `name`, its flags' name length set for it (a split index's replacement carries none). */
export function withName(entry: IndexEntry, name: string, idBytes: number): IndexEntry {
  return { name, fixed: withNameLength(entry.fixed, name, idBytes) };
}

/** The entry's fixed part with its flags' name length set for `name`. */
function withNameLength(fixed: Buffer, name: string, idBytes: number): Buffer {
  const copy = Buffer.from(fixed);
  const at = flagsAt(idBytes);
  const length = Math.min(Buffer.byteLength(name), NAME_MASK);
  copy.writeUInt16BE((copy.readUInt16BE(at) & ~NAME_MASK) | length, at);
  return copy;
}

/** An index file: the entries (written with their names, or nameless where `nameless` says: a split index's replacements), extensions, checksum. */
export function encodeIndex(entries: readonly IndexEntry[], extensions: readonly Extension[], algorithm: HashAlgorithm, nameless = 0): Buffer {
  const idBytes = algorithm === "sha1" ? 20 : 32;
  const version = entries.some((entry) => (entry.fixed.readUInt16BE(flagsAt(idBytes)) & EXTENDED_FLAG) !== 0) ? 3 : 2;
  const parts: Buffer[] = [];
  const header = Buffer.alloc(12);
  header.write("DIRC", 0, "latin1");
  header.writeUInt32BE(version, 4);
  header.writeUInt32BE(entries.length, 8);
  parts.push(header);
  entries.forEach((entry, i) => {
    const name = i < nameless ? "" : entry.name;
    const nameBytes = Buffer.from(name);
    const fixed = withNameLength(entry.fixed, name, idBytes);
    const padded = (fixed.length + nameBytes.length + 8) & ~7;
    parts.push(fixed, nameBytes, Buffer.alloc(padded - fixed.length - nameBytes.length));
  });
  for (const { signature, data } of extensions) {
    const head = Buffer.alloc(8);
    head.write(signature, 0, "latin1");
    head.writeUInt32BE(data.length, 4);
    parts.push(head, data);
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, createHash(algorithm).update(body).digest()]);
}

/** The `link` extension: the shared index's checksum and the delete and replace bitmaps. */
export function linkExtension(shared: string, deleted: readonly number[], replaced: readonly number[]): Extension {
  return { signature: "link", data: Buffer.concat([Buffer.from(shared, "hex"), writeEwah(deleted), writeEwah(replaced)]) };
}

/**
 * The cache tree (`TREE`) with every folder on `paths` marked invalid (-1,
 * no id), as git does when it changes an entry; null (dropped: git
 * rebuilds it) when a path leaves (its folder may be gone).
 */
export function invalidateCacheTree(data: Buffer, paths: readonly string[], idBytes: number, removed: boolean): Buffer | null {
  if (removed) return null;
  const folders = new Set<string>([""]);
  for (const path of paths) {
    const parts = path.split("/");
    for (let depth = 1; depth < parts.length; depth++) folders.add(parts.slice(0, depth).join("/"));
  }
  const out: Buffer[] = [];
  let at = 0;
  // Each node: name NUL, entry count SP subtree count LF, then its id when the count is not negative; depth-first.
  const node = (prefix: string | null): void => {
    const start = at;
    const nul = data.indexOf(0, at);
    const lf = data.indexOf(10, nul);
    if (nul === -1 || lf === -1) throw new UnsupportedIndex("a cache tree cut short");
    const name = data.toString("utf8", at, nul);
    const [count, subtrees] = data.toString("latin1", nul + 1, lf).split(" ").map(Number) as [number, number];
    const path = prefix === null ? "" : prefix === "" ? name : `${prefix}/${name}`;
    at = lf + 1 + (count >= 0 ? idBytes : 0);
    out.push(folders.has(path) ? Buffer.from(`${name}\0-1 ${subtrees}\n`) : data.subarray(start, at));
    for (let i = 0; i < subtrees; i++) node(path);
  };
  node(null);
  return Buffer.concat(out);
}

// ---------------------------------------------------------------- EWAH

const MAX_LITERALS = 0x7fffffff;
const RUN_AND_FILL = 0x1ffffffffn;
// git's compressed bitmaps: 32-bit bit count, 32-bit word count, the 64-bit
// words, 32-bit position of the last marker word. A marker word holds a
// fill bit (bit 0), a count of fill words (bits 1–32) and a count of
// literal words that follow it (bits 33–63). Bit n is bit n % 64 of word n / 64.

/** The set positions of the bitmap at `from`, and where it ends. */
export function readEwah(data: Buffer, from: number): { bits: number[]; end: number } {
  if (from + 8 > data.length) throw new UnsupportedIndex("a bitmap cut short");
  const words = data.readUInt32BE(from + 4);
  const end = from + 8 + words * 8 + 4;
  if (end > data.length) throw new UnsupportedIndex("a bitmap cut short");
  const bits: number[] = [];
  let word = 0;
  for (let i = 0; i < words; ) {
    const marker = data.readBigUInt64BE(from + 8 + i * 8);
    const fill = (marker & 1n) === 1n;
    const run = Number((marker >> 1n) & 0xffffffffn);
    const literals = Number(marker >> 33n);
    if (fill) for (let bit = word * 64; bit < (word + run) * 64; bit++) bits.push(bit);
    word += run;
    i++;
    for (let k = 0; k < literals; k++, i++, word++) {
      const literal = data.readBigUInt64BE(from + 8 + i * 8);
      for (let bit = 0; bit < 64; bit++) if ((literal >> BigInt(bit)) & 1n) bits.push(word * 64 + bit);
    }
  }
  return { bits, end };
}

/** A bitmap with `positions` set (ascending), as git writes one: a marker, then for each run of zero words a marker, then literals. */
export function writeEwah(positions: readonly number[]): Buffer {
  const words: bigint[] = [0n];
  let marker = 0;
  let next = 0;
  const literalsOf = (word: bigint) => Number(word >> 33n);
  for (let i = 0; i < positions.length; ) {
    const wordIndex = Math.floor(positions[i]! / 64);
    let literal = 0n;
    while (i < positions.length && Math.floor(positions[i]! / 64) === wordIndex) literal |= 1n << BigInt(positions[i++]! % 64);
    const gap = wordIndex - next;
    if ((gap > 0 && literalsOf(words[marker]!) > 0) || literalsOf(words[marker]!) === MAX_LITERALS) {
      marker = words.length;
      words.push(0n);
    }
    // A marker gets its run of zero words before any literal, so only a fresh one takes a gap.
    if (gap > 0) words[marker] = BigInt(gap) << 1n;
    words[marker] = (words[marker]! & RUN_AND_FILL) | (BigInt(literalsOf(words[marker]!) + 1) << 33n);
    words.push(literal);
    next = wordIndex + 1;
  }
  const out = Buffer.alloc(8 + words.length * 8 + 4);
  out.writeUInt32BE(positions.length === 0 ? 0 : positions[positions.length - 1]! + 1, 0);
  out.writeUInt32BE(words.length, 4);
  words.forEach((word, i) => out.writeBigUInt64BE(word, 8 + i * 8));
  out.writeUInt32BE(marker, 8 + words.length * 8);
  return out;
}
