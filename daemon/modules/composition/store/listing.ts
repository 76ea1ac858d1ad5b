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

export interface FileState {
  mtimeMs: number;
  size: number;
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
  walk(root, "", 0, listing);
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

function walk(root: string, folder: string, depth: number, listing: Listing): void {
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
      else if (depth < MAX_DEPTH) walk(root, path, depth + 1, listing);
      continue;
    }
    if (!entry.isFile()) continue;
    const kind = classifyPath(path);
    if (kind.kind === "ignored") {
      listing.ignored.push({ path, reason: kind.reason, message: kind.message });
      continue;
    }
    const info = lstatSync(join(root, path), { throwIfNoEntry: false });
    if (info?.isFile() === true) listing.patterns.set(path, { mtimeMs: info.mtimeMs, size: info.size });
  }
}

function listDirectory(path: string): Dirent[] {
  try {
    return readdirSync(path, { withFileTypes: true });
  } catch {
    return [];
  }
}
