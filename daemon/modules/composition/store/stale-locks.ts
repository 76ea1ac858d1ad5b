/**
 * Lock files a killed writer leaves in a store's repository (issue of the soak:
 * with one there the daemon could never commit again), removed at start
 * when no process works in the store. Split from git.ts, which owns the
 * rest of the repository's files.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync } from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";
import { isUnsafePath, type ConfinedDir } from "./confined-path.js";
import type { StoreDirs } from "./git-dirs.js";

/**
 * Removes the lock files a killed writer leaves behind (a power cut, an
 * OOM kill, `kill -9` of the daemon or of its `git add`): `index.lock`,
 * the branch's and HEAD's, and a tag's. With one there, every commit, or
 * the tag a restart must finish, fails and the daemon could never work
 * again. Only when no process at all is working in the store (Linux /proc:
 * nothing has its working directory there), so a person's running git
 * keeps its locks; the shared ones (the branch's, a tag's, packed-refs')
 * only when nothing works in any worktree of the repository either.
 * Returns the paths removed, as people are told them.
 */
export function clearStaleLocks(dir: string, dirs: StoreDirs): string[] {
  let locks: { files: ConfinedDir; path: string }[];
  try {
    locks = lockFiles(dirs);
  } catch (err) {
    // A link where a lock or its folder would be: nothing is removed through it (the writes that need it refuse it).
    if (isUnsafePath(err)) return [];
    throw err;
  }
  if (locks.length === 0 || inUse([dir])) return [];
  const shared = locks.filter(({ files }) => files !== dirs.gitFiles);
  const removable = shared.length > 0 && inUse(otherWorktrees(dirs)) ? locks.filter(({ files }) => files === dirs.gitFiles) : locks;
  for (const { files, path } of removable) rmSync(files.path(path), { force: true });
  return removable.map(({ files, path }) => files.named(path));
}

/** The lock files of git's that are there now, each with the folder it is in. */
function lockFiles(dirs: StoreDirs): { files: ConfinedDir; path: string }[] {
  const candidates = ["index.lock", "HEAD.lock", "packed-refs.lock"];
  const head = dirs.gitFiles.readText("HEAD")?.trim() ?? "";
  if (head.startsWith("ref: refs/")) candidates.push(`${head.slice(5)}.lock`);
  const tags = dirs.commonFiles.path("refs/tags");
  const tagLocks = lstatSync(tags, { throwIfNoEntry: false })?.isDirectory() === true ? readdirSync(tags).filter((name) => name.endsWith(".lock")) : [];
  return [...candidates, ...tagLocks.map((name) => `refs/tags/${name}`)]
    .map((path) => ({ files: path === "packed-refs.lock" ? dirs.commonFiles : dirs.refFiles(path.slice(0, -".lock".length)), path }))
    .filter(({ files, path }) => lstatSync(files.path(path), { throwIfNoEntry: false }) !== undefined);
}

/**
 * The other work trees of the store's repository, which share its branch
 * and tag refs: the main one (the common dir's parent, when it is a
 * `.git` folder) and each linked one git lists under `worktrees/`.
 */
function otherWorktrees(dirs: StoreDirs): string[] {
  const trees = basename(dirs.commonDir) === ".git" ? [dirname(dirs.commonDir)] : [];
  let names: string[] = [];
  try {
    names = readdirSync(join(dirs.commonDir, "worktrees"));
  } catch {
    // no linked worktree
  }
  for (const name of names) {
    // worktrees/<name>/gitdir holds the path of that work tree's `.git` file.
    try {
      const dotGit = readFileSync(join(dirs.commonDir, "worktrees", name, "gitdir"), "utf8").trim();
      if (isAbsolute(dotGit)) trees.push(dirname(dotGit));
    } catch {
      // an entry being made or pruned
    }
  }
  return trees;
}

/** True when some other process has its working directory in one of `dirs` (or that cannot be told). */
function inUse(dirs: readonly string[]): boolean {
  let places: string[];
  let pids: string[];
  try {
    places = dirs.filter((dir) => lstatSync(dir, { throwIfNoEntry: false }) !== undefined).map((dir) => realpathSync(dir));
    pids = readdirSync("/proc").filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid);
  } catch {
    return true;
  }
  for (const pid of pids) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (places.some((place) => cwd === place || cwd.startsWith(`${place}/`))) return true;
    } catch {
      // gone, or not ours to look at
    }
  }
  return false;
}
