/**
 * One walk over the store's files, every folder down (KSI nests components
 * several folders deep): the pattern files with their mtime and size, the
 * folders (what the watcher watches), and every other path with the reason
 * it is not read. `.git` is git's; a hidden folder is listed once, not walked;
 * a symbolic link is never followed (the caller says why: unsafe_path).
 */
import { lstatSync, readdirSync, type Dirent } from "node:fs";
import { join } from "node:path";
import { classifyPath, ignoredBecause, type IgnoreReason } from "../model/store-layout.js";

/**
 * What a file's lstat says of it, to tell whether it changed since: any
 * write moves its ctime (which no one can set back, unlike mtime), and a
 * file put in its place (a checkout, an atomic save) is another inode.
 * `seenAt` is when the lstat was taken: a file changed within a timestamp
 * tick of that could change again within the same tick unseen (git's
 * "racily clean" entries), so such a state proves nothing (isRacy).
 */
export interface FileState {
  mtimeMs: number;
  ctimeMs: number;
  size: number;
  ino: number;
  seenAt: number;
}

/**
 * How close to `seenAt` a change makes a state racy: more than any file
 * system's timestamp tick (Linux's are a scheduler tick; FAT's 2 s).
 */
export const RACY_MS = 2_500;

/** True when `now` is the file `before` was (same inode, size, mtime and ctime). */
export function sameFile(before: FileState, now: FileState): boolean {
  return before.ino === now.ino && before.size === now.size && before.mtimeMs === now.mtimeMs && before.ctimeMs === now.ctimeMs;
}

/** True when the file could have changed after `state` was taken without its timestamps showing it: it must be read to know. */
export function isRacy(state: FileState): boolean {
  return state.ctimeMs + RACY_MS > state.seenAt || state.mtimeMs + RACY_MS > state.seenAt;
}

/** The state of a file from its lstat, taken at `seenAt`. */
export function fileState(info: { mtimeMs: number; ctimeMs: number; size: number; ino: number }, seenAt: number): FileState {
  return { mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs, size: info.size, ino: info.ino, seenAt };
}

export interface Listing {
  patterns: Map<string, FileState>;
  /** Store-relative folders walked ("" is the store itself). */
  folders: string[];
  /** Paths not read, by their name (hidden, other files, decision logs). */
  ignored: { path: string; reason: IgnoreReason; message: string }[];
  /** Symbolic links met, store-relative. */
  links: string[];
}

/** Folders deeper than this are not walked (a store is a few levels deep; a link loop cannot happen, links are not followed). */
const MAX_DEPTH = 32;

export function listStore(root: string): Listing {
  const listing: Listing = { patterns: new Map(), folders: [], ignored: [], links: [] };
  // Taken before the first lstat: a change after it may share a timestamp with a state taken later.
  walk(root, "", 0, listing, Date.now());
  return listing;
}

/** The store's folders only ("" first), as listStore walks them: what the watcher watches before the first listing. */
export function listFolders(root: string): string[] {
  const folders: string[] = [];
  const visit = (folder: string, depth: number) => {
    folders.push(folder);
    if (depth >= MAX_DEPTH) return;
    for (const entry of listDirectory(join(root, folder))) {
      if (entry.isDirectory() && !entry.name.startsWith(".")) visit(folder === "" ? entry.name : `${folder}/${entry.name}`, depth + 1);
    }
  };
  visit("", 0);
  return folders;
}

function walk(root: string, folder: string, depth: number, listing: Listing, seenAt: number): void {
  listing.folders.push(folder);
  for (const entry of listDirectory(join(root, folder))) {
    const path = folder === "" ? entry.name : `${folder}/${entry.name}`;
    if (path === ".git") continue;
    if (entry.isSymbolicLink()) {
      listing.links.push(path);
      continue;
    }
    if (entry.isDirectory()) {
      if (entry.name.startsWith(".")) listing.ignored.push({ path: `${path}/`, ...ignoredBecause("hidden") });
      else if (depth < MAX_DEPTH) walk(root, path, depth + 1, listing, seenAt);
      continue;
    }
    if (!entry.isFile()) continue;
    const kind = classifyPath(path);
    if (kind.kind === "ignored") {
      listing.ignored.push({ path, reason: kind.reason, message: kind.message });
      continue;
    }
    const info = lstatSync(join(root, path), { throwIfNoEntry: false });
    if (info?.isFile() === true) listing.patterns.set(path, fileState(info, seenAt));
  }
}

function listDirectory(path: string): Dirent[] {
  try {
    return readdirSync(path, { withFileTypes: true });
  } catch {
    return [];
  }
}
