/**
 * One folder of a git tree, kept so that changing one of its entries costs
 * the same in a folder of 100 000 as in one of 10 (pure: bytes in, bytes
 * out). The entries are held in sorted chunks of up to CHUNK_ENTRIES, each
 * with its part of the tree body and that part deflated on its own (a
 * full flush: no back-references across chunks) with its Adler-32. A
 * change re-encodes and re-compresses only the chunks it falls in; the
 * loose object is the zlib header, the object header deflated, the chunks'
 * deflated parts as they are, an empty final block and the checksum
 * combined from the chunks'. Only the object's hash still reads the whole
 * body (a few ms at 100 000 entries, against ~50 ms to sort, encode and
 * deflate it whole).
 */
import { createHash } from "node:crypto";
import { constants, deflateRawSync } from "node:zlib";
import type { GitObject, HashAlgorithm, TreeEntry } from "./git-objects.js";

/** Entries per chunk once split; a chunk is split in two when it grows past twice this. */
const CHUNK_ENTRIES = 512;
const TREE_MODE = "40000";
/** zlib header: deflate, 32 KiB window, fastest (what git writes for core.looseCompression 1). */
const ZLIB_HEADER = Buffer.from([0x78, 0x01]);
/** A final, empty, fixed-Huffman deflate block. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);
const ADLER_MOD = 65521;

interface Chunk {
  /** Sort keys (a folder's name with a `/` after it, as git sorts it), ascending. */
  readonly keys: readonly string[];
  readonly names: readonly string[];
  readonly entries: readonly TreeEntry[];
  readonly body: Buffer;
  /** The body as raw deflate ending in a full flush; made when the object is first asked for. */
  deflated: Buffer | null;
  adler: number;
}

export class TreeFolder {
  private constructor(
    private readonly chunks: readonly Chunk[],
    readonly size: number,
  ) {}

  static empty(): TreeFolder {
    return new TreeFolder([], 0);
  }

  /** From entries in any order. */
  static of(entries: Iterable<[string, TreeEntry]>): TreeFolder {
    const named = [...entries].map(([name, entry]) => ({ key: sortKey(name, entry), name, entry }));
    named.sort((a, b) => compareKeys(a.key, b.key));
    return TreeFolder.sorted(named);
  }

  /** From entries already in git's order (as `git ls-tree` lists them); sorted first if they are not. */
  static listed(named: { key: string; name: string; entry: TreeEntry }[]): TreeFolder {
    for (let i = 1; i < named.length; i++) {
      if (compareKeys(named[i - 1]!.key, named[i]!.key) >= 0) {
        named.sort((a, b) => compareKeys(a.key, b.key));
        break;
      }
    }
    return TreeFolder.sorted(named);
  }

  private static sorted(named: readonly { key: string; name: string; entry: TreeEntry }[]): TreeFolder {
    const chunks: Chunk[] = [];
    for (let from = 0; from < named.length; from += CHUNK_ENTRIES) chunks.push(makeChunk(named.slice(from, from + CHUNK_ENTRIES)));
    return new TreeFolder(chunks, named.length);
  }

  get(name: string): TreeEntry | undefined {
    // A name may be a file's or a folder's: both keys are looked for.
    for (const key of [name, `${name}/`]) {
      const chunk = this.chunks[this.chunkFor(key)];
      if (chunk === undefined) continue;
      const at = search(chunk.keys, key);
      if (at >= 0 && chunk.names[at] === name) return chunk.entries[at];
    }
    return undefined;
  }

  /** Every entry, in git's order. */
  *entries(): IterableIterator<[string, TreeEntry]> {
    for (const chunk of this.chunks) for (let i = 0; i < chunk.names.length; i++) yield [chunk.names[i]!, chunk.entries[i]!];
  }

  /** This folder with `changes` (name → entry, or null: removed); this one is not modified. */
  with(changes: ReadonlyMap<string, TreeEntry | null>): TreeFolder {
    const chunks = [...this.chunks];
    const touched = new Map<number, Map<string, { name: string; entry: TreeEntry } | null>>();
    const edit = (key: string, value: { name: string; entry: TreeEntry } | null) => {
      const at = chunks.length === 0 ? 0 : this.chunkFor(key);
      let edits = touched.get(at);
      if (edits === undefined) touched.set(at, (edits = new Map<string, { name: string; entry: TreeEntry } | null>()));
      edits.set(key, value);
    };
    for (const [name, entry] of changes) {
      // The name leaves under the key it had (a file that becomes a folder changes key).
      const old = this.get(name);
      if (old !== undefined) edit(sortKey(name, old), null);
      if (entry !== null) edit(sortKey(name, entry), { name, entry });
    }
    let size = this.size;
    // Highest chunk first, so the indexes of the ones still to do hold.
    for (const at of [...touched.keys()].sort((a, b) => b - a)) {
      const chunk = chunks[at];
      const keys = [...(chunk?.keys ?? [])];
      const names = [...(chunk?.names ?? [])];
      const entries = [...(chunk?.entries ?? [])];
      for (const [key, value] of touched.get(at)!) {
        const found = search(keys, key);
        if (found >= 0) {
          if (value === null) {
            keys.splice(found, 1);
            names.splice(found, 1);
            entries.splice(found, 1);
            size--;
          } else {
            names[found] = value.name;
            entries[found] = value.entry;
          }
        } else if (value !== null) {
          const insert = -found - 1;
          keys.splice(insert, 0, key);
          names.splice(insert, 0, value.name);
          entries.splice(insert, 0, value.entry);
          size++;
        }
      }
      const named = keys.map((key, i) => ({ key, name: names[i]!, entry: entries[i]! }));
      const replacement = named.length === 0 ? [] : named.length > 2 * CHUNK_ENTRIES ? [makeChunk(named.slice(0, named.length >> 1)), makeChunk(named.slice(named.length >> 1))] : [makeChunk(named)];
      chunks.splice(at, chunk === undefined ? 0 : 1, ...replacement);
    }
    return new TreeFolder(chunks, size);
  }

  /** The tree object: its id and its loose-object bytes. */
  object(algorithm: HashAlgorithm): GitObject {
    let length = 0;
    for (const chunk of this.chunks) length += chunk.body.length;
    const header = Buffer.from(`tree ${length}\0`);
    const hash = createHash(algorithm).update(header);
    const parts: Buffer[] = [ZLIB_HEADER, flushed(header)];
    let adler = adler32(header);
    for (const chunk of this.chunks) {
      hash.update(chunk.body);
      chunk.deflated ??= flushed(chunk.body);
      parts.push(chunk.deflated);
      adler = combineAdler(adler, chunk.adler, chunk.body.length);
    }
    const check = Buffer.allocUnsafe(4);
    check.writeUInt32BE(adler >>> 0);
    parts.push(FINAL_BLOCK, check);
    return { id: hash.digest("hex"), deflated: parts };
  }

  /** The chunk a key falls in: the last whose first key is not after it (the first chunk for keys before all). */
  private chunkFor(key: string): number {
    let low = 0;
    let high = this.chunks.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (compareKeys(this.chunks[mid]!.keys[0]!, key) <= 0) low = mid;
      else high = mid - 1;
    }
    return low;
  }
}

function makeChunk(named: readonly { key: string; name: string; entry: TreeEntry }[]): Chunk {
  let size = 0;
  for (const { name, entry } of named) size += entry.mode.length + 2 + Buffer.byteLength(name) + entry.id.length / 2;
  const body = Buffer.allocUnsafe(size);
  let at = 0;
  for (const { name, entry } of named) {
    at += body.write(`${entry.mode} ${name}\0`, at);
    at += body.write(entry.id, at, "hex");
  }
  return { keys: named.map((n) => n.key), names: named.map((n) => n.name), entries: named.map((n) => n.entry), body, deflated: null, adler: adler32(body) };
}

/** How git orders a tree's entries: by name as bytes, a folder's as if it ended in `/`. */
export function sortKey(name: string, entry: TreeEntry): string {
  return entry.mode === TREE_MODE ? `${name}/` : name;
}

/**
 * Byte order of the UTF-8 encodings, which is code point order. UTF-16
 * code units give the same order except between a surrogate pair and a
 * unit from U+E000 up: only there are the rest of the strings encoded.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) return Buffer.compare(Buffer.from(a.slice(i)), Buffer.from(b.slice(i)));
    return x - y;
  }
  return a.length - b.length;
}

/** Index of `key` in sorted `keys`, or −(insertion point) − 1. */
function search(keys: readonly string[], key: string): number {
  let low = 0;
  let high = keys.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const order = compareKeys(keys[mid]!, key);
    if (order === 0) return mid;
    if (order < 0) low = mid + 1;
    else high = mid - 1;
  }
  return -low - 1;
}

/** Raw deflate of `data` ending in a full flush: byte-aligned, no history carried into what follows. */
function flushed(data: Buffer): Buffer {
  return deflateRawSync(data, { level: 1, finishFlush: constants.Z_FULL_FLUSH });
}

export function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  // 5 552 bytes is the longest run whose sums cannot leave a double's exact range before the modulo.
  for (let from = 0; from < data.length; from += 5552) {
    const to = Math.min(data.length, from + 5552);
    for (let i = from; i < to; i++) {
      a += data[i]!;
      b += a;
    }
    a %= ADLER_MOD;
    b %= ADLER_MOD;
  }
  return ((b << 16) | a) >>> 0;
}

/** The Adler-32 of X followed by Y from X's, Y's and Y's length: A = Ax + Ay − 1, B = Bx + By + len(Y)·(Ax − 1). */
export function combineAdler(x: number, y: number, yLength: number): number {
  const ax = x & 0xffff;
  const bx = x >>> 16;
  const ay = y & 0xffff;
  const by = y >>> 16;
  const a = (ax + ay + ADLER_MOD - 1) % ADLER_MOD;
  const b = (bx + by + (yLength % ADLER_MOD) * ((ax + ADLER_MOD - 1) % ADLER_MOD)) % ADLER_MOD;
  return ((b << 16) | a) >>> 0;
}
