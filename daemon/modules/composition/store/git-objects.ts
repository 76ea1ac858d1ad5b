/**
 * git's object formats, for making a commit without a `git commit` process
 * (pure: bytes in, bytes out). A commit of a few files is a few small
 * objects: the files' blobs, the trees on their paths and the commit.
 * Spawning `git commit` for them cost more than everything else in a fork
 * together (about 9 ms of 27: a process start, plus a re-read, refresh and
 * re-write of the whole index), and `git add`, which the index needs anyway,
 * is the one process left per change.
 *
 * A TreeSnapshot is HEAD's tree as path → entry, built once from `git
 * ls-tree` and carried forward by each commit the store makes; git.ts
 * rebuilds it whenever HEAD is not the commit it describes (someone else
 * committed), so it is never trusted beyond what was checked.
 */
import { createHash } from "node:crypto";
import { deflateSync } from "node:zlib";
import { sortKey, TreeFolder } from "./tree-folder.js";

export type HashAlgorithm = "sha1" | "sha256";

export interface TreeEntry {
  /** As git writes it in a tree: 100644, 100755, 120000, 160000, or 40000 for a tree. */
  mode: string;
  id: string;
}

export interface GitObject {
  id: string;
  /** zlib-deflated `<type> <size>\0<body>`: a loose object file's content, in parts written one after another (a large tree is not copied into one buffer). */
  deflated: readonly Buffer[];
}

const TREE_MODE = "40000";

/** The id and loose-object bytes of an object. */
export function encodeObject(type: "blob" | "tree" | "commit", body: Buffer, algorithm: HashAlgorithm): GitObject {
  const whole = Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body]);
  // Level 1, as git's own core.looseCompression default: loose objects are packed later anyway.
  return { id: createHash(algorithm).update(whole).digest("hex"), deflated: [deflateSync(whole, { level: 1 })] };
}

/** The id git gives `body` as a blob (what `git hash-object` prints), without making the object. */
export function blobId(body: Buffer, algorithm: HashAlgorithm): string {
  return createHash(algorithm).update(`blob ${body.length}\0`).update(body).digest("hex");
}

/** `name <email> <seconds> <+hhmm>` from `name <email>`, in the local time zone as git writes it. */
export function formatIdent(who: string, when: Date): string {
  return `${who} ${formatDate(when)}`;
}

/** `<seconds> <+hhmm>`: a date as git writes it in a commit (and, after an `@`, reads it from GIT_AUTHOR_DATE). */
export function formatDate(when: Date): string {
  const offset = -when.getTimezoneOffset();
  const abs = Math.abs(offset);
  const zone = `${offset < 0 ? "-" : "+"}${String(Math.floor(abs / 60)).padStart(2, "0")}${String(abs % 60).padStart(2, "0")}`;
  return `${Math.floor(when.getTime() / 1000)} ${zone}`;
}

/**
 * A message as `git commit -m` stores it: trailing spaces cut from every
 * line, runs of blank lines made one, none at the start or end, one final
 * newline. Empty after that: null (git refuses such a commit).
 */
export function cleanMessage(message: string): string | null {
  const lines: string[] = [];
  for (const raw of message.split("\n")) {
    const line = raw.trimEnd();
    if (line === "" && (lines.length === 0 || lines[lines.length - 1] === "")) continue;
    lines.push(line);
  }
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines.length === 0 ? null : `${lines.join("\n")}\n`;
}

export function encodeCommit(commit: { tree: string; parent: string | null; author: string; committer: string; message: string }): Buffer {
  const parent = commit.parent === null ? "" : `parent ${commit.parent}\n`;
  return Buffer.from(`tree ${commit.tree}\n${parent}author ${commit.author}\ncommitter ${commit.committer}\n\n${commit.message}`);
}

/** HEAD's tree, folder by folder ("" is the root), each a TreeFolder (tree-folder.ts). */
export class TreeSnapshot {
  private constructor(
    /** Never changed once built: `with` makes new folders for the ones it changes. */
    private readonly folders: Map<string, TreeFolder>,
    readonly root: string | null,
  ) {}

  static empty(): TreeSnapshot {
    return new TreeSnapshot(new Map([["", TreeFolder.empty()]]), null);
  }

  /** From `git ls-tree -r -t -z --full-tree <commit>` and that commit's root tree id. */
  static fromLsTree(output: string, root: string): TreeSnapshot {
    const listed = new Map<string, { key: string; name: string; entry: TreeEntry }[]>([["", []]]);
    for (const record of output.split("\0")) {
      if (record === "") continue;
      // <mode> SP <type> SP <id> TAB <path>
      const tab = record.indexOf("\t");
      const [mode, , id] = record.slice(0, tab).split(" ") as [string, string, string];
      const path = record.slice(tab + 1);
      const slash = path.lastIndexOf("/");
      const folder = slash === -1 ? "" : path.slice(0, slash);
      let entries = listed.get(folder);
      if (entries === undefined) listed.set(folder, (entries = []));
      const entry = { mode: mode === "040000" ? TREE_MODE : mode, id };
      const name = path.slice(slash + 1);
      entries.push({ key: sortKey(name, entry), name, entry });
      if (mode === "040000" && !listed.has(path)) listed.set(path, []);
    }
    return new TreeSnapshot(new Map([...listed].map(([folder, entries]) => [folder, TreeFolder.listed(entries)])), root);
  }

  /** The entry at a path, if any. */
  get(path: string): TreeEntry | undefined {
    const slash = path.lastIndexOf("/");
    return this.folders.get(slash === -1 ? "" : path.slice(0, slash))?.get(path.slice(slash + 1));
  }

  /**
   * The snapshot after setting `changes` (an entry as the index stages it,
   * or null to delete), with the tree objects that differ from this one,
   * deepest first. Folders left empty disappear, as git keeps no empty
   * trees. Unchanged folders are shared with this snapshot, which is not
   * modified.
   */
  with(changes: ReadonlyMap<string, TreeEntry | null>, algorithm: HashAlgorithm): { snapshot: TreeSnapshot; trees: GitObject[] } {
    const folders = new Map(this.folders);
    // Folder → its entries' changes; every folder on a changed path is in it (a subfolder's new id is a change).
    const pending = new Map<string, Map<string, TreeEntry | null>>();
    const changesOf = (folder: string) => {
      let folderChanges = pending.get(folder);
      if (folderChanges === undefined) pending.set(folder, (folderChanges = new Map<string, TreeEntry | null>()));
      return folderChanges;
    };
    for (const [path, entry] of changes) {
      const parts = path.split("/");
      for (let depth = 0; depth < parts.length; depth++) changesOf(parts.slice(0, depth).join("/"));
      const slash = path.lastIndexOf("/");
      changesOf(slash === -1 ? "" : path.slice(0, slash)).set(path.slice(slash + 1), entry);
    }
    // Deepest first, so a folder's id is known before its parent is written.
    const order = [...pending.keys()].sort((a, b) => depthOf(b) - depthOf(a));
    const trees: GitObject[] = [];
    let root: string | null = this.root;
    for (const folder of order) {
      const updated = (folders.get(folder) ?? TreeFolder.empty()).with(pending.get(folder)!);
      const slash = folder.lastIndexOf("/");
      const parent = folder === "" ? null : changesOf(slash === -1 ? "" : folder.slice(0, slash));
      const name = folder.slice(slash + 1);
      if (updated.size === 0 && folder !== "") {
        folders.delete(folder);
        parent!.set(name, null);
        continue;
      }
      folders.set(folder, updated);
      const tree = updated.object(algorithm);
      trees.push(tree);
      if (parent === null) root = tree.id;
      else parent.set(name, { mode: TREE_MODE, id: tree.id });
    }
    return { snapshot: new TreeSnapshot(folders, root), trees };
  }
}

/**
 * The entries of `paths` in `git ls-files -s -z -- <paths>` output (`<mode>
 * SP <id> SP <stage> TAB <path> NUL`): what git staged, after its
 * attributes, filters and the file's exec bit. A path git did not list is
 * not in the index (null: deleted); only stage 0 counts (`git add` leaves no
 * other stage for a path it added). Entries for other paths (a folder's
 * files when a pathspec names a folder) are not taken.
 */
export function stagedEntries(output: string, paths: readonly string[]): Map<string, TreeEntry | null> {
  const staged = new Map<string, TreeEntry | null>(paths.map((path) => [path, null]));
  for (const record of output.split("\0")) {
    const tab = record.indexOf("\t");
    if (tab === -1) continue;
    const path = record.slice(tab + 1);
    const [mode, id, stage] = record.slice(0, tab).split(" ") as [string, string, string];
    if (stage === "0" && staged.has(path)) staged.set(path, { mode, id });
  }
  return staged;
}

function depthOf(folder: string): number {
  return folder === "" ? 0 : folder.split("/").length;
}
