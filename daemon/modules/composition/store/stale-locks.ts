/**
 * Lock files a killed writer leaves in a store's .git (issue of the soak:
 * with one there the daemon could never commit again), removed at start
 * when no process works in the store. Split from git.ts, which owns the
 * rest of the repository's files.
 */
import { lstatSync, readdirSync, readlinkSync, realpathSync, rmSync } from "node:fs";
import { isUnsafePath, type ConfinedDir } from "./confined-path.js";

/**
 * Removes the lock files a killed writer leaves behind (a power cut, an
 * OOM kill, `kill -9` of the daemon or of its `git add`): `index.lock`,
 * the branch's and HEAD's, and a tag's. With one there, every commit, or
 * the tag a restart must finish, fails and the daemon could never work
 * again. Only when no process at all is working in the store (Linux /proc:
 * nothing has its working directory there), so a person's running git
 * keeps its locks. Returns the store-relative paths removed.
 */
export function clearStaleLocks(dir: string, gitFiles: ConfinedDir): string[] {
  let locks: string[];
  try {
    locks = lockFiles(gitFiles);
  } catch (err) {
    // A link where a lock or its folder would be: nothing is removed through it (the writes that need it refuse it).
    if (isUnsafePath(err)) return [];
    throw err;
  }
  if (locks.length === 0 || inUse(dir)) return [];
  for (const path of locks) rmSync(gitFiles.path(path), { force: true });
  return locks.map((path) => `.git/${path}`);
}

/** The lock files of git's that are there now, relative to .git. */
function lockFiles(gitFiles: ConfinedDir): string[] {
  const candidates = ["index.lock", "HEAD.lock", "packed-refs.lock"];
  const head = gitFiles.readText("HEAD")?.trim() ?? "";
  if (head.startsWith("ref: refs/")) candidates.push(`${head.slice(5)}.lock`);
  const tags = gitFiles.path("refs/tags");
  const tagLocks = lstatSync(tags, { throwIfNoEntry: false })?.isDirectory() === true ? readdirSync(tags).filter((name) => name.endsWith(".lock")) : [];
  return [...candidates, ...tagLocks.map((name) => `refs/tags/${name}`)].filter((path) => lstatSync(gitFiles.path(path), { throwIfNoEntry: false }) !== undefined);
}

/** True when some other process has its working directory in the store (or that cannot be told). */
function inUse(dir: string): boolean {
  let store: string;
  let pids: string[];
  try {
    store = realpathSync(dir);
    pids = readdirSync("/proc").filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid);
  } catch {
    return true;
  }
  for (const pid of pids) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cwd === store || cwd.startsWith(`${store}/`)) return true;
    } catch {
      // gone, or not ours to look at
    }
  }
  return false;
}
