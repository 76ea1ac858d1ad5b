/**
 * Stages the daemon's own changes in the store's index without a `git add`
 * (issue 18): each path's blob is made here from the file as it is, its
 * entry from its lstat, and the index is written in git's split form
 * (index-format.ts), so a save on 100 000 patterns writes a few KB of
 * index, not 11 MB. The caller holds index.lock (private-index.ts) and
 * writes the returned bytes as the private index it publishes.
 *
 * Only where git would stage the same bytes: the caller has checked the
 * config (no autocrlf, no attributes file, no hooks that stage), and this
 * checks each path's `.gitattributes` and the repository's
 * info/attributes; anything else returns the reason, and git stages as
 * before. The index as last read or written is kept with the file's bytes:
 * a person's git command that rewrites it is seen and read again.
 */
import { createHash } from "node:crypto";
import { closeSync, constants, fsyncSync, lstatSync, readdirSync, renameSync, rmSync, writeSync } from "node:fs";
import { promisify } from "node:util";
import { deflate } from "node:zlib";
import { syncDirectory } from "../../../core/atomic-file.js";
import type { ConfinedDir } from "./confined-path.js";
import type { StoreDirs } from "./git-dirs.js";
import type { GitObject, HashAlgorithm, TreeEntry } from "./git-objects.js";
import {
  encodeIndex,
  entryMode,
  fileEntry,
  invalidateCacheTree,
  linkExtension,
  mergeSorted,
  parseIndex,
  stageOf,
  UnsupportedIndex,
  withName,
  type Extension,
  type IndexEntry,
} from "./index-format.js";
import { compareKeys } from "./tree-folder.js";

const deflateAsync = promisify(deflate);

/** Changes kept in the small index file before the shared one is written again (git's own rule is 20 % of the entries). */
const RESPLIT_AT = 1000;
/** A shared index no longer named is removed once this old: a git command that read the index just before may still be reading it. */
const SHARED_EXPIRY_MS = 60 * 60 * 1000;
const SHARED_PREFIX = "sharedindex.";

interface Shared {
  /** Its checksum, which names its file; null until written. */
  hash: string | null;
  entries: IndexEntry[];
  /** Name → position, for stage-0 entries. */
  positions: Map<string, number>;
  /** Names with entries of a merge's stages: left to git. */
  conflicted: Set<string>;
}

interface View {
  /** The index file this view describes, byte for byte (a few KB once split): a file's stat can repeat within a clock tick and with a reused inode. */
  file: Buffer;
  shared: Shared;
  /** Name → its entry in place of the shared one (null: removed), or a new name's entry. */
  overlay: Map<string, IndexEntry | null>;
  extensions: Extension[];
}

export interface Staged {
  /** What the commit takes: path → entry (null: deleted). */
  entries: Map<string, TreeEntry | null>;
  /** The blobs of the staged files (the commit writer skips those the store has). */
  blobs: GitObject[];
  /** The index file to publish. */
  index: Buffer;
  /** Called once the index is published: it becomes the view. */
  published: () => void;
}

export class IndexStager {
  private view: View | null = null;
  private readonly sharedCache = new Map<string, Shared>();

  constructor(
    private readonly dirs: StoreDirs,
    private readonly workTree: ConfinedDir,
  ) {}

  /** The work tree's git dir (the index and its shared files live there). */
  private get gitFiles(): ConfinedDir {
    return this.dirs.gitFiles;
  }

  /** Forget what was read: the next stage reads the index again. */
  forget(): void {
    this.view = null;
  }

  /** Stages `paths` as `git add -A -- <paths>` would; a string says why git must do it instead. */
  async stage(paths: readonly string[], algorithm: HashAlgorithm, fileMode: boolean): Promise<Staged | string> {
    const attributes = this.attributesFile(paths);
    if (attributes !== null) return `${attributes} may change how files are staged`;
    let view: View;
    try {
      view = this.current(algorithm);
    } catch (err) {
      if (err instanceof UnsupportedIndex) return `the index is not one the daemon writes (${err.message})`;
      throw err;
    }
    const overlay = new Map(view.overlay);
    const entries = new Map<string, TreeEntry | null>();
    const blobs: GitObject[] = [];
    for (const path of paths) {
      if (view.shared.conflicted.has(path)) return `${path} has unmerged entries in the index`;
      const file = this.workTree.path(path);
      const before = lstatSync(file, { bigint: true, throwIfNoEntry: false });
      if (before === undefined) {
        entries.set(path, null);
        if (view.shared.positions.has(path)) overlay.set(path, null);
        else overlay.delete(path);
        continue;
      }
      if (!before.isFile()) return `${path} is not a regular file`;
      const content = this.workTree.read(path) ?? Buffer.alloc(0);
      const after = lstatSync(file, { bigint: true });
      if (after.mtimeNs !== before.mtimeNs || after.size !== before.size || BigInt(content.length) !== after.size) return `${path} changed while it was read`;
      const blob = await blobObject(content, algorithm);
      const old = overlay.get(path) ?? view.shared.entries[view.shared.positions.get(path) ?? -1];
      const executable = fileMode ? (after.mode & 0o100n) !== 0n : old !== undefined && old !== null && entryMode(old) === "100755";
      const entry = fileEntry(path, after, executable, blob.id);
      overlay.set(path, entry);
      entries.set(path, { mode: executable ? "100755" : "100644", id: blob.id });
      blobs.push(blob);
    }
    const next = await this.written(view, overlay, paths, algorithm);
    return {
      entries,
      blobs,
      index: next.index,
      published: () => {
        this.view = { ...next.view, file: next.index };
      },
    };
  }

  /** The index as it is now: the kept view while the file holds the bytes it describes, else read again. */
  private current(algorithm: HashAlgorithm): View {
    const file = this.gitFiles.read("index");
    if (file === undefined) throw new UnsupportedIndex("there is none");
    if (this.view?.file.equals(file) === true) return this.view;
    this.view = null;
    const parsed = parseIndex(file, algorithm);
    const idBytes = algorithm === "sha1" ? 20 : 32;
    if (parsed.link === null) return { file, shared: sharedOf(null, parsed.entries, idBytes), overlay: new Map(), extensions: parsed.extensions };
    const shared = this.shared(parsed.link.shared, algorithm);
    const { replaced, deleted } = parsed.link;
    const own = parsed.entries;
    if (replaced.length > own.length) throw new UnsupportedIndex("more replacements than entries");
    const overlay = new Map<string, IndexEntry | null>();
    const base = (position: number): IndexEntry => {
      const entry = shared.entries[position];
      if (entry === undefined || stageOf(entry, idBytes) !== 0) throw new UnsupportedIndex("a replacement or deletion it does not take");
      return entry;
    };
    replaced.forEach((position, i) => overlay.set(base(position).name, withName(own[i]!, base(position).name, idBytes)));
    for (const position of deleted) overlay.set(base(position).name, null);
    for (const entry of own.slice(replaced.length)) {
      if (stageOf(entry, idBytes) !== 0) throw new UnsupportedIndex("the index holds a merge in progress");
      overlay.set(entry.name, entry);
    }
    return { file, shared, overlay, extensions: parsed.extensions };
  }

  /** A shared index by its checksum (kept: git writes a new one rarely). */
  private shared(hash: string, algorithm: HashAlgorithm): Shared {
    let shared = this.sharedCache.get(hash);
    if (shared === undefined) {
      const file = this.gitFiles.read(`${SHARED_PREFIX}${hash}`);
      if (file === undefined) throw new UnsupportedIndex(`its shared index ${SHARED_PREFIX}${hash} is missing`);
      const parsed = parseIndex(file, algorithm);
      if (parsed.link !== null || parsed.checksum !== hash) throw new UnsupportedIndex(`${SHARED_PREFIX}${hash} is not that shared index`);
      shared = sharedOf(hash, parsed.entries, algorithm === "sha1" ? 20 : 32);
      this.sharedCache.clear();
      this.sharedCache.set(hash, shared);
    }
    return shared;
  }

  /** The split index file for `overlay` over the view's shared index (a new shared index first when there is none or the overlay has grown). */
  private async written(view: View, overlay: Map<string, IndexEntry | null>, paths: readonly string[], algorithm: HashAlgorithm): Promise<{ index: Buffer; view: Omit<View, "file"> }> {
    const idBytes = algorithm === "sha1" ? 20 : 32;
    let shared = view.shared;
    const removed = paths.some((path) => overlay.get(path) === null || (!overlay.has(path) && !shared.positions.has(path)));
    const tree = view.extensions.find((extension) => extension.signature === "TREE");
    const cacheTree = tree === undefined ? null : invalidateCacheTree(tree.data, paths, idBytes, removed);
    const extensions = [...(cacheTree === null ? [] : [{ signature: "TREE", data: cacheTree }]), ...view.extensions.filter((extension) => extension.signature === "REUC")];
    if (shared.hash === null || overlay.size > RESPLIT_AT) {
      shared = await this.writeShared(applied(shared, overlay, idBytes), algorithm, shared.hash);
      overlay = new Map();
    }
    const replaced: { position: number; entry: IndexEntry }[] = [];
    const deleted: number[] = [];
    const added: IndexEntry[] = [];
    for (const [name, entry] of overlay) {
      const position = shared.positions.get(name);
      if (position === undefined) {
        if (entry !== null) added.push(entry);
      } else if (entry === null) deleted.push(position);
      else replaced.push({ position, entry });
    }
    replaced.sort((a, b) => a.position - b.position);
    deleted.sort((a, b) => a - b);
    added.sort((a, b) => compareKeys(a.name, b.name));
    const link = linkExtension(shared.hash!, deleted, replaced.map((r) => r.position));
    const index = encodeIndex([...replaced.map((r) => r.entry), ...added], [link, ...extensions], algorithm, replaced.length);
    return { index, view: { shared, overlay, extensions } };
  }

  /** Writes the entries as a shared index (durably: the index about to be published names it), and removes old ones no longer named. */
  private async writeShared(entries: IndexEntry[], algorithm: HashAlgorithm, previous: string | null): Promise<Shared> {
    const file = encodeIndex(entries, [], algorithm);
    const idBytes = algorithm === "sha1" ? 20 : 32;
    const hash = file.toString("hex", file.length - idBytes);
    const name = `${SHARED_PREFIX}${hash}`;
    const temp = `${name}.tmp`;
    rmSync(this.gitFiles.path(temp), { force: true });
    const fd = this.gitFiles.open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    try {
      for (let written = 0; written < file.length; ) written += writeSync(fd, file, written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(this.gitFiles.path(temp), this.gitFiles.path(name));
    await syncDirectory(this.gitFiles.root);
    this.removeOldShared([name, ...(previous === null ? [] : [`${SHARED_PREFIX}${previous}`])]);
    const shared = sharedOf(hash, entries, idBytes);
    this.sharedCache.clear();
    this.sharedCache.set(hash, shared);
    return shared;
  }

  private removeOldShared(keep: readonly string[]): void {
    const now = Date.now();
    for (const file of readdirSync(this.gitFiles.root)) {
      if (!file.startsWith(SHARED_PREFIX) || keep.includes(file)) continue;
      const stat = lstatSync(this.gitFiles.path(file), { throwIfNoEntry: false });
      if (stat !== undefined && stat.isFile() && now - stat.mtimeMs > SHARED_EXPIRY_MS) rmSync(this.gitFiles.path(file), { force: true });
    }
  }

  /** The first attributes file that applies to one of the paths: the repository's, or a `.gitattributes` in a folder on the way. */
  private attributesFile(paths: readonly string[]): string | null {
    if (lstatSync(this.gitFiles.path("info/attributes"), { throwIfNoEntry: false }) !== undefined) return "info/attributes";
    const folders = new Set<string>([""]);
    for (const path of paths) {
      const parts = path.split("/");
      for (let depth = 1; depth < parts.length; depth++) folders.add(parts.slice(0, depth).join("/"));
    }
    for (const folder of folders) {
      const file = folder === "" ? ".gitattributes" : `${folder}/.gitattributes`;
      if (lstatSync(this.workTree.path(file), { throwIfNoEntry: false }) !== undefined) return file;
    }
    return null;
  }
}

function sharedOf(hash: string | null, entries: IndexEntry[], idBytes: number): Shared {
  const positions = new Map<string, number>();
  const conflicted = new Set<string>();
  entries.forEach((entry, i) => {
    if (stageOf(entry, idBytes) === 0) positions.set(entry.name, i);
    else conflicted.add(entry.name);
  });
  return { hash, entries, positions, conflicted };
}

/** The shared entries with the overlay applied, in index order. */
function applied(shared: Shared, overlay: ReadonlyMap<string, IndexEntry | null>, idBytes: number): IndexEntry[] {
  const kept: IndexEntry[] = [];
  for (const entry of shared.entries) {
    const over = stageOf(entry, idBytes) === 0 ? overlay.get(entry.name) : undefined;
    if (over === undefined) kept.push(entry);
    else if (over !== null) kept.push(over);
  }
  const added = [...overlay].filter(([name, entry]) => entry !== null && !shared.positions.has(name)).map(([, entry]) => entry!);
  return mergeSorted(kept, added.sort((a, b) => compareKeys(a.name, b.name)), idBytes);
}

/** A blob's id and loose-object bytes; deflated off the event loop (a decision log may be megabytes). */
async function blobObject(content: Buffer, algorithm: HashAlgorithm): Promise<GitObject> {
  const header = Buffer.from(`blob ${content.length}\0`);
  const id = createHash(algorithm).update(header).update(content).digest("hex");
  return { id, deflated: [await deflateAsync(Buffer.concat([header, content]), { level: 1 })] };
}
