/**
 * Where a store's repository is (issue 21): found the way git finds it,
 * not assumed at `<store>/.git`. A plain clone keeps it in its `.git`
 * folder; a submodule, a linked worktree and `git init --separate-git-dir`
 * have a `.git` FILE (`gitdir: <path>`, git's own mechanism) naming a
 * folder elsewhere. git splits what it keeps (gitrepository-layout(5)):
 * the git dir is this work tree's own (HEAD, index, logs/HEAD, the
 * operation markers, refs/bisect, refs/worktree, refs/rewritten), the
 * common dir is the repository's, shared by its worktrees (objects, the
 * other refs and their reflogs, packed-refs, config, hooks). For a plain
 * clone, a submodule and a separate git dir they are one folder; a linked
 * worktree's git dir is `<main>/.git/worktrees/<name>` and its common dir
 * the main repository's `.git`.
 *
 * The daemon's own files (its intent, the HEAD taken in, the private
 * index, temp files, the store's lock, the seed marker) are per work tree:
 * each worktree is a store of its own, served by its own daemon.
 *
 * This is the one owner of those paths: resolved with one `git rev-parse`
 * at start (and again when a store that vanished is back), every
 * component asks it. Both folders are real absolute paths; inside them no
 * link is followed (confined-path.ts). A `.git` that is itself a symbolic
 * link is refused (unsafe_path): it is not how git points elsewhere, and
 * anything that can write into the store could plant one.
 */
import { lstatSync, readFileSync, readlinkSync, realpathSync, type Stats } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { DaemonError } from "../../../core/errors.js";
import { ConfinedDir } from "./confined-path.js";
import { spawnGit } from "./git-process.js";

/** Refs git keeps per worktree; every other ref under refs/ is shared (gitrepository-layout(5), "refs"). */
const PER_WORKTREE_REFS = /^refs\/(bisect|rewritten|worktree)\//;

/** The most of a `.git` file read (git writes one line). */
const GIT_FILE_MAX = 4096;

/** How the store's repository is laid out, as the log and health name it. */
export type StoreLayout = "plain" | "separate_git_dir" | "linked_worktree";

interface Resolved {
  gitDir: string;
  commonDir: string;
  gitFiles: ConfinedDir;
  commonFiles: ConfinedDir;
  layout: StoreLayout;
}

export class StoreDirs {
  private current: Resolved;

  constructor(readonly workTree: string) {
    this.current = plain(workTree);
  }

  /** This work tree's own folder (HEAD, index, logs/HEAD, the daemon's own files). */
  get gitDir(): string {
    return this.current.gitDir;
  }

  /** The repository's shared folder (objects, refs, packed-refs, config, hooks). */
  get commonDir(): string {
    return this.current.commonDir;
  }

  /** The git dir's files, never through a link. */
  get gitFiles(): ConfinedDir {
    return this.current.gitFiles;
  }

  /** The common dir's files, never through a link. */
  get commonFiles(): ConfinedDir {
    return this.current.commonFiles;
  }

  get layout(): StoreLayout {
    return this.current.layout;
  }

  /** The folder that holds `ref` (and its reflog): HEAD and the per-worktree refs in the git dir, the others in the common dir. */
  refFiles(ref: string): ConfinedDir {
    return !ref.startsWith("refs/") || PER_WORKTREE_REFS.test(ref) ? this.current.gitFiles : this.current.commonFiles;
  }

  /**
   * A file of the git dir as a person or a hook is told it: `.git/<name>`
   * (relative to the work tree) in a plain store, else its absolute path.
   */
  named(name: string): string {
    return this.current.layout === "plain" ? `.git/${name}` : join(this.current.gitDir, name);
  }

  /** A file of the common dir, named the same way. */
  namedShared(name: string): string {
    return this.current.layout === "plain" ? `.git/${name}` : join(this.current.commonDir, name);
  }

  /**
   * Asks git where the repository is: one `git rev-parse --absolute-git-dir
   * --git-common-dir --show-toplevel` in the store. No `.git` at all (a
   * store the seed makes), or a `.git` folder git does not take yet (a
   * seed cut short before its `git init`): `<store>/.git`, as the seed
   * makes it. Refuses a `.git` that is a link (unsafe_path), and a `.git`
   * file git does not follow, or whose work tree is not the store
   * (store_refused).
   */
  async resolve(): Promise<void> {
    const dotGit = join(this.workTree, ".git");
    const info = lstatOrUndefined(dotGit);
    if (info === undefined) {
      this.current = plain(this.workTree);
      return;
    }
    if (info.isSymbolicLink()) throw linkedDotGit(dotGit);
    if (!info.isDirectory() && !info.isFile()) throw new DaemonError("store_refused", `${dotGit} is neither a folder nor a \`gitdir:\` file; the store must be a git work tree`, { store: this.workTree, path: dotGit });
    let lines: string[];
    try {
      lines = (await spawnGit(this.workTree, ["rev-parse", "--absolute-git-dir", "--git-common-dir", "--show-toplevel"])).split("\n");
    } catch (err) {
      if (info.isDirectory()) {
        this.current = plain(this.workTree);
        return;
      }
      throw new DaemonError("store_refused", `${dotGit} ${pointing(dotGit)}, which git does not take as a repository (${firstLine(err)}); restore that repository, or make ${this.workTree} a plain clone`, {
        store: this.workTree,
        path: dotGit,
      });
    }
    const [gitDir, common, top] = lines;
    const store = realpathSync(this.workTree);
    if (gitDir === undefined || common === undefined || top === undefined || realpathSync(top) !== store) {
      if (info.isDirectory()) {
        this.current = plain(this.workTree);
        return;
      }
      throw new DaemonError("store_refused", `${dotGit} ${pointing(dotGit)}, a repository whose work tree is ${top ?? "none"}, not ${this.workTree}; point --store at the top of that work tree`, {
        store: this.workTree,
        path: dotGit,
      });
    }
    const real = { gitDir: realpathSync(gitDir), commonDir: realpathSync(resolve(this.workTree, common)) };
    const layout: StoreLayout = real.gitDir !== real.commonDir ? "linked_worktree" : info.isDirectory() && real.gitDir === join(store, ".git") ? "plain" : "separate_git_dir";
    this.current = resolved(real.gitDir, real.commonDir, layout);
  }

  /**
   * True when the store is a repository now: its `.git` folder holds HEAD,
   * or its `.git` file points at a folder that does (a few stats and one
   * small read, no process: asked on every request).
   */
  present(): boolean {
    const dotGit = join(this.workTree, ".git");
    const info = lstatOrUndefined(dotGit);
    if (info?.isDirectory() === true) return lstatOrUndefined(join(dotGit, "HEAD")) !== undefined;
    if (info?.isFile() !== true) return false;
    const target = gitFileTarget(dotGit);
    return target !== undefined && lstatOrUndefined(join(target, "HEAD")) !== undefined;
  }
}

function plain(workTree: string): Resolved {
  const dotGit = join(workTree, ".git");
  return resolved(dotGit, dotGit, "plain");
}

function resolved(gitDir: string, commonDir: string, layout: StoreLayout): Resolved {
  const label = (dir: string) => (layout === "plain" ? ".git" : dir);
  const gitFiles = new ConfinedDir(gitDir, label(gitDir));
  return { gitDir, commonDir, gitFiles, commonFiles: commonDir === gitDir ? gitFiles : new ConfinedDir(commonDir, label(commonDir)), layout };
}

/** The folder a `.git` file names (`gitdir: <path>`, relative to the file's folder), as git reads it; undefined when it names none. */
export function gitFileTarget(dotGit: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(dotGit, "utf8").slice(0, GIT_FILE_MAX);
  } catch {
    return undefined;
  }
  const path = /^gitdir: *(.+?)\s*$/m.exec(text)?.[1];
  return path === undefined ? undefined : resolve(dirname(dotGit), path);
}

function pointing(dotGit: string): string {
  const target = gitFileTarget(dotGit);
  return target === undefined ? "is a file without a `gitdir:` line" : `is a file pointing at ${target}`;
}

function linkedDotGit(dotGit: string): DaemonError {
  let target = "(a link that is gone again)";
  try {
    target = resolve(dirname(dotGit), readlinkSync(dotGit));
  } catch {
    // gone meanwhile
  }
  return new DaemonError(
    "unsafe_path",
    `${dotGit} is a symbolic link to ${target}; the store never follows a link planted as its .git: make it the repository's folder, or the \`gitdir:\` file git writes for a submodule or worktree`,
    { path: dotGit, target },
  );
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch {
    // ENOTDIR: a component on the way is a file.
    return undefined;
  }
}

function firstLine(err: unknown): string {
  return ((err as Error).message ?? String(err)).split("\n")[0]!.replace(/^.*?fatal: /, "");
}
