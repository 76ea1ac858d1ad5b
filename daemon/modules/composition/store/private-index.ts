/**
 * The index of one commit of the daemon's, kept apart from the person's
 * the way `git commit -- <paths>` keeps one (issue 24): git's own lock,
 * `index.lock` in the work tree's git dir (`.git/index.lock` in a plain
 * clone), is taken for the whole operation, so no git command
 * of a person's changes the index meanwhile (a `git commit` of theirs
 * fails with git's "index.lock: File exists" instead of taking the
 * daemon's staged change); the daemon's `git add` stages into a copy of
 * the index (GIT_INDEX_FILE), the commit is made from what it staged, and
 * only once the branch has moved is the copy published as the index
 * (renamed onto the lock, the lock onto the index: git's protocol). Any
 * failure before that leaves the real index exactly as it was.
 */
import { closeSync, constants, copyFileSync, renameSync, rmSync, statSync, utimesSync } from "node:fs";
import { DaemonError } from "../../../core/errors.js";
import type { ConfinedDir } from "./confined-path.js";
import type { TreeEntry } from "./git-objects.js";

/** How long a lock held by someone else is waited for before store_busy (git waits about as long for a ref's). */
export const INDEX_LOCK_WAIT_MS = 1_000;
const POLL_MS = 10;

/** Only the holder of .git/index.lock uses this name, so one fixed name is enough (and a killed daemon's copy is simply replaced). */
export const PRIVATE_INDEX = "patternd-index";
const LOCK = "index.lock";

export class PrivateIndex {
  private released = false;

  private constructor(
    private readonly gitFiles: ConfinedDir,
    /** Absolute path of the private index, for GIT_INDEX_FILE. */
    readonly path: string,
  ) {}

  /**
   * Takes .git/index.lock (created exclusively, as git does), waiting up
   * to `waitMs` for another holder to let go; then store_busy naming
   * `branch`. Any other failure to create it (a full disk) is thrown as it is.
   */
  static async take(gitFiles: ConfinedDir, branch: string, waitMs = INDEX_LOCK_WAIT_MS): Promise<PrivateIndex> {
    for (let waited = 0; ; waited += POLL_MS) {
      try {
        closeSync(gitFiles.open(LOCK, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644));
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        if (waited >= waitMs) throw indexLocked(branch, gitFiles.named(LOCK));
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    }
    const index = new PrivateIndex(gitFiles, gitFiles.path(PRIVATE_INDEX));
    try {
      // A killed daemon's copy, or the lock of a `git add` killed with it: nobody else writes them while the lock is held.
      rmSync(index.path, { force: true });
      rmSync(`${index.path}.lock`, { force: true });
    } catch (err) {
      index.release();
      throw err;
    }
    return index;
  }

  /** The environment that makes a git command use the private index. */
  get env(): { GIT_INDEX_FILE: string } {
    return { GIT_INDEX_FILE: this.path };
  }

  /**
   * Fills the private index with the real one (a copy, never opened through
   * a link); true when there is none to copy (the caller reads HEAD's tree
   * into it, or starts from an empty one before the first commit).
   */
  copyReal(): boolean {
    const real = this.gitFiles.path("index");
    const info = statSync(real, { bigint: true, throwIfNoEntry: false });
    if (info === undefined) return true;
    copyFileSync(real, this.path, constants.COPYFILE_EXCL);
    // The copy keeps the index's mtime, a little earlier if anything: git tells a file changed within the
    // second the index was written ("racily clean") by comparing with it, and a later one would make git
    // trust a same-size edit's stat and stage nothing.
    const mtime = Number(info.mtimeNs / 1_000_000n) / 1000 - 0.001;
    utimesSync(this.path, mtime, mtime);
    return false;
  }

  /** Fills the private index with an index file the daemon wrote itself (index-stager.ts). */
  write(index: Buffer): void {
    this.gitFiles.write(PRIVATE_INDEX, index, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL);
  }

  /** The private index becomes the real one (two renames: no space needed), and the lock is let go. */
  publish(): void {
    renameSync(this.path, this.gitFiles.path(LOCK));
    renameSync(this.gitFiles.path(LOCK), this.gitFiles.path("index"));
    this.released = true;
  }

  /** The real index stays as it was: the private one goes, and the lock is let go. Safe to call more than once. */
  release(): void {
    if (this.released) return;
    this.released = true;
    rmSync(this.path, { force: true });
    rmSync(`${this.path}.lock`, { force: true });
    rmSync(this.gitFiles.path(LOCK), { force: true });
  }
}

/** store_busy for an index.lock held by someone else. */
export function indexLocked(branch: string, lock = ".git/index.lock"): DaemonError {
  const hint = `let the git command that holds ${lock} finish (a \`git commit\` waiting for its editor, a rebase, a GUI), or remove ${lock} if no git process runs in the store`;
  return new DaemonError(
    "store_busy",
    `the store's index is locked: ${lock} was held by another git command for more than ${INDEX_LOCK_WAIT_MS / 1000} s; nothing was saved. To go on: ${hint}, then try again`,
    { state: "index_locked", branch, hint },
  );
}

/**
 * Refuses a path that is a link now, or under one (unsafe_path, naming
 * it: a file swapped after the check, issue 23), and what git staged as a
 * link or a submodule rather than a file: neither is ever committed.
 */
export function onlyFiles(staged: ReadonlyMap<string, TreeEntry | null>, workTree: ConfinedDir): void {
  for (const [path, entry] of staged) {
    workTree.path(path);
    if (entry !== null && entry.mode !== "100644" && entry.mode !== "100755") {
      throw new Error(`git commit failed: git staged ${path} as mode ${entry.mode}, not a file; nothing was committed`);
    }
  }
}

/**
 * The entries of `paths` in an index file (git's format, versions 2 to 4),
 * read without a process: what `git ls-files -s` would list for them.
 * undefined when the file is one this reader does not take (a split index,
 * whose entries live in another file, or an unknown version): the caller
 * asks git. `idBytes` is 20 (sha1) or 32 (sha256).
 */
export function readIndexEntries(index: Buffer, paths: readonly string[], idBytes: number): Map<string, TreeEntry | null> | undefined {
  try {
    return readEntries(index, paths, idBytes);
  } catch {
    // A file cut short or not as expected: git reads it (and says what is wrong with it).
    return undefined;
  }
}

function readEntries(index: Buffer, paths: readonly string[], idBytes: number): Map<string, TreeEntry | null> | undefined {
  if (index.length < 12 || index.toString("latin1", 0, 4) !== "DIRC") return undefined;
  const version = index.readUInt32BE(4);
  if (version < 2 || version > 4) return undefined;
  const count = index.readUInt32BE(8);
  const wanted = new Set(paths);
  const found = new Map<string, TreeEntry | null>(paths.map((path) => [path, null]));
  let at = 12;
  let previous: Buffer = Buffer.alloc(0);
  for (let i = 0; i < count; i++) {
    const start = at;
    const mode = index.readUInt32BE(at + 24);
    const id = index.toString("hex", at + 40, at + 40 + idBytes);
    const flags = index.readUInt16BE(at + 40 + idBytes);
    at += 40 + idBytes + 2 + (flags & 0x4000 ? 2 : 0);
    let name: Buffer;
    if (version === 4) {
      // The name: drop N bytes from the end of the previous one (N a varint), then a NUL-ended suffix.
      let strip = index[at]! & 0x7f;
      while (index[at++]! & 0x80) strip = ((strip + 1) << 7) | (index[at]! & 0x7f);
      const end = index.indexOf(0, at);
      name = Buffer.concat([previous.subarray(0, previous.length - strip), index.subarray(at, end)]);
      at = end + 1;
    } else {
      const end = index.indexOf(0, at);
      name = index.subarray(at, end);
      // NUL-padded to a multiple of 8 from the entry's start (at least one NUL).
      at = start + ((end - start + 8) & ~7);
    }
    previous = name;
    const path = name.toString("utf8");
    // Stage 0 only, as stagedEntries.
    if (wanted.has(path) && (flags & 0x3000) === 0) found.set(path, { mode: mode.toString(8), id });
  }
  // Extensions: a split index ("link") keeps entries elsewhere.
  while (at + 8 <= index.length - idBytes) {
    if (index.toString("latin1", at, at + 4) === "link") return undefined;
    at += 8 + index.readUInt32BE(at + 4);
  }
  return found;
}
