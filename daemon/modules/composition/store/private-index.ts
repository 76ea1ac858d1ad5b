/**
 * The index of one commit of the daemon's, kept apart from the person's
 * the way `git commit -- <paths>` keeps one (issue 24): git's own lock,
 * `.git/index.lock`, is taken for the whole operation, so no git command
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
const PRIVATE = "patternd-index";
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
        if (waited >= waitMs) throw indexLocked(branch);
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    }
    const index = new PrivateIndex(gitFiles, gitFiles.path(PRIVATE));
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
export function indexLocked(branch: string): DaemonError {
  const hint = "let the git command that holds .git/index.lock finish (a `git commit` waiting for its editor, a rebase, a GUI), or remove .git/index.lock if no git process runs in the store";
  return new DaemonError(
    "store_busy",
    `the store's index is locked: .git/index.lock was held by another git command for more than ${INDEX_LOCK_WAIT_MS / 1000} s; nothing was saved. To go on: ${hint}, then try again`,
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
