/**
 * Writes a commit the way `git commit` would, without its process: the
 * files' blobs, the trees on their paths and the commit object as loose
 * objects (formats in git-objects.ts), then the branch moved through git's
 * `.lock` protocol after checking it still holds the parent, and the reflog
 * entries git writes. Only git.ts uses it, inside its queue, after `git add`
 * has brought the index along. Every file it reads or writes, in the work
 * tree or in .git, is opened through confined-path.ts: a file swapped for a
 * link after `git add` is refused, never read through into a commit.
 *
 * Everything that takes space (objects, lock files, reflog lines) is
 * written before the branch moves, and taken back if any of it fails; after
 * that only renames remain. So a full disk fails a commit cleanly, with
 * HEAD, its reflog and the tags as they were.
 */
import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { appendWhole } from "../../../core/atomic-file.js";
import { ConfinedDir } from "./confined-path.js";
import { encodeCommit, encodeObject, TreeSnapshot, type GitObject, type HashAlgorithm } from "./git-objects.js";

const { O_APPEND, O_CREAT, O_TRUNC, O_WRONLY } = constants;

/** Makes the commit object of `tree` on `parent` with `message` (its trees are written already); returns its id. */
export type Signer = (tree: string, parent: string | null, message: string) => Promise<string>;

export class CommitWriter {
  /** HEAD's tree as of the last commit written here (or the last look at HEAD). */
  private snapshot: { commit: string | null; tree: TreeSnapshot; algorithm: HashAlgorithm } | null = null;

  private readonly workTree: ConfinedDir;
  private readonly gitFiles: ConfinedDir;

  /** `git` runs one git command in the store (the caller's queue already holds the turn). */
  constructor(
    private readonly dir: string,
    private readonly git: (args: readonly string[]) => Promise<string>,
  ) {
    this.workTree = new ConfinedDir(dir);
    this.gitFiles = new ConfinedDir(join(dir, ".git"), ".git");
  }

  /**
   * Commits the files at `paths` as they are (a missing one: deleted) on top
   * of HEAD, and tags it `tag` when given (the tag's lock is taken before the
   * branch moves, so the tag cannot then fail for want of space); returns the
   * commit's id and its parent's. A `TagNotMade` error means the commit was
   * made but its tag was not: the caller takes the commit back. With `sign`,
   * the commit object is made by it (a signed one: git-process.ts) once the
   * blobs and trees are written, instead of here.
   */
  async write(
    paths: readonly string[],
    message: string,
    author: string,
    committer: string,
    options: { tag?: string | undefined; sign?: Signer | undefined } = {},
  ): Promise<{ commit: string; parent: string | null }> {
    const head = this.readHead();
    const base = this.snapshot !== null && this.snapshot.commit === head.commit ? this.snapshot : await this.readSnapshot(head.commit);
    const changes = new Map<string, string | null>();
    const blobs: GitObject[] = [];
    for (const path of paths) {
      const content = this.workTree.read(path);
      if (content === undefined) {
        changes.set(path, null);
        continue;
      }
      const blob = encodeObject("blob", content, base.algorithm);
      blobs.push(blob);
      changes.set(path, blob.id);
    }
    const { snapshot, trees } = base.tree.with(changes, base.algorithm);
    if (head.commit !== null && snapshot.root === base.tree.root) throw new Error("git commit failed: nothing to commit, working tree clean");
    const reflog = `${committer}\t${head.commit === null ? "commit (initial)" : "commit"}: ${message.split("\n")[0]!}`;
    let id: string;
    let objects: GitObject[];
    if (options.sign === undefined) {
      const commit = encodeObject("commit", encodeCommit({ tree: snapshot.root!, parent: head.commit, author, committer, message }), base.algorithm);
      id = commit.id;
      objects = [...blobs, ...trees, commit];
    } else {
      // git commit-tree writes the signed commit object, and needs its tree in the store first.
      for (const object of [...blobs, ...trees]) this.writeObject(object);
      id = await options.sign(snapshot.root!, head.commit, message);
      objects = [];
    }
    await this.moveHead(head, id, reflog, objects, options.tag);
    this.snapshot = { commit: id, tree: snapshot, algorithm: base.algorithm };
    return { commit: id, parent: head.commit };
  }

  /**
   * The tree of `commit` (null: before the first commit): the one carried
   * forward by the last commit written here when it is that one, else read
   * (two processes) and kept, so the next commit on top of it needs none.
   */
  async treeAt(commit: string | null): Promise<{ tree: TreeSnapshot; algorithm: HashAlgorithm }> {
    if (this.snapshot === null || this.snapshot.commit !== commit) this.snapshot = await this.readSnapshot(commit);
    return this.snapshot;
  }

  /** HEAD's tree as a snapshot (two processes: only when HEAD is not the commit the store made last). */
  private async readSnapshot(commit: string | null): Promise<{ commit: string | null; tree: TreeSnapshot; algorithm: HashAlgorithm }> {
    const format = commit === null ? (await this.git(["rev-parse", "--show-object-format"])).trim() : commit.length === 64 ? "sha256" : "sha1";
    if (format !== "sha1" && format !== "sha256") throw new Error(`git commit failed: object format ${format} is not supported`);
    if (commit === null) return { commit, tree: TreeSnapshot.empty(), algorithm: format };
    const [listing, root] = await Promise.all([
      this.git(["ls-tree", "-r", "-t", "-z", "--full-tree", commit]),
      this.git(["rev-parse", `${commit}^{tree}`]),
    ]);
    return { commit, tree: TreeSnapshot.fromLsTree(listing, root.trim()), algorithm: format };
  }

  /** A loose object, unless the store has it already (git add wrote the blobs; a tree may repeat an old one). */
  private writeObject(object: GitObject): void {
    const dir = `objects/${object.id.slice(0, 2)}`;
    const path = `${dir}/${object.id.slice(2)}`;
    if (lstatSync(this.gitFiles.path(path), { throwIfNoEntry: false }) !== undefined) return;
    mkdirSync(this.gitFiles.path(dir), { recursive: true });
    const temp = `${dir}/tmp_obj_${process.pid}_${object.id.slice(2, 10)}`;
    try {
      this.gitFiles.write(temp, object.deflated, O_WRONLY | O_CREAT | O_TRUNC, 0o444);
    } catch (err) {
      rmSync(this.gitFiles.path(temp), { force: true });
      throw err;
    }
    renameSync(this.gitFiles.path(temp), this.gitFiles.path(path));
  }

  /**
   * Points HEAD's branch (or a detached HEAD) at `commit` through git's
   * own `.lock` protocol, after checking it still holds what the commit
   * was made on; the commit's `objects` and the reflog entries git writes
   * are written while the lock is held (as git does), so a lock that cannot
   * be had leaves no object behind, and a reflog line is taken back if a
   * later step fails. `tag`, when given, is locked with the branch and made
   * right after it.
   */
  private async moveHead(head: { ref: string; commit: string | null }, commit: string, reflog: string, objects: readonly GitObject[], tag?: string): Promise<void> {
    const locks: string[] = [];
    const appended: { fd: number; size: number }[] = [];
    try {
      mkdirSync(dirname(this.gitFiles.path(head.ref)), { recursive: true });
      await lockRef(this.gitFiles, head.ref, commit, `git commit failed: cannot lock ${head.ref}`);
      locks.push(head.ref);
      if (tag !== undefined) {
        const ref = `refs/tags/${tag}`;
        mkdirSync(this.gitFiles.path("refs/tags"), { recursive: true });
        await lockRef(this.gitFiles, ref, commit, `cannot make tag ${tag}`);
        locks.push(ref);
        if (this.tagExists(tag)) throw new Error(`tag ${tag} already exists`);
      }
      if (this.readHead().commit !== head.commit) throw new Error(`git commit failed: ${head.ref} moved while the commit was made`);
      for (const object of objects) this.writeObject(object);
      const line = `${head.commit ?? "0".repeat(commit.length)} ${commit} ${reflog}\n`;
      for (const ref of new Set([head.ref, "HEAD"])) {
        const log = `logs/${ref}`;
        mkdirSync(dirname(this.gitFiles.path(log)), { recursive: true });
        const fd = this.gitFiles.open(log, O_WRONLY | O_APPEND | O_CREAT, 0o644);
        appended.push({ fd, size: -1 });
        appendWhole(fd, line);
        appended[appended.length - 1]!.size = Buffer.byteLength(line);
      }
      renameSync(this.gitFiles.path(`${head.ref}.lock`), this.gitFiles.path(head.ref));
      locks.shift();
    } catch (err) {
      // Nothing of this commit stays visible: no lock, no reflog line (its objects are unreferenced, as after any failed commit).
      for (const { fd, size } of appended) if (size > 0) truncateEnd(fd, size);
      for (const ref of locks) rmSync(this.gitFiles.path(`${ref}.lock`), { force: true });
      throw err;
    } finally {
      for (const { fd } of appended) closeSync(fd);
    }
    if (tag === undefined) return;
    try {
      renameSync(this.gitFiles.path(`refs/tags/${tag}.lock`), this.gitFiles.path(`refs/tags/${tag}`));
    } catch (err) {
      rmSync(this.gitFiles.path(`refs/tags/${tag}.lock`), { force: true });
      throw new TagNotMade(commit, tag, err);
    }
  }

  /** A tag as a loose ref or in packed-refs. */
  tagExists(name: string): boolean {
    const ref = `refs/tags/${name}`;
    if (lstatSync(this.gitFiles.path(ref), { throwIfNoEntry: false }) !== undefined) return true;
    return (this.gitFiles.readText("packed-refs") ?? "").split("\n").some((line) => line.endsWith(` ${ref}`));
  }

  /** HEAD as the files in .git have it: the ref it names (or HEAD when detached) and that ref's commit (null before the first). */
  readHead(): { ref: string; commit: string | null } {
    const head = this.gitFiles.readText("HEAD")?.trim() ?? "";
    const ref = head.startsWith("ref: ") ? head.slice(5) : "HEAD";
    // HEAD names where the commit will be written: never outside .git/refs.
    if (ref !== "HEAD" && !/^refs\/(?!.*\.\.)[\w./-]+$/.test(ref)) throw new Error(`git commit failed: HEAD names ${ref}, not a branch under refs/`);
    const loose = ref === "HEAD" ? head : this.gitFiles.readText(ref)?.trim();
    const packed = () =>
      this.gitFiles.readText("packed-refs")
        ?.split("\n")
        .find((line) => line.endsWith(` ${ref}`) && /^[0-9a-f]/.test(line))
        ?.split(" ")[0];
    const commit = loose !== undefined && loose !== "" ? loose : (packed() ?? null);
    if (commit !== null && !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit)) throw new Error(`git commit failed: ${ref} holds ${commit.slice(0, 40)}, not a commit id`);
    return { ref, commit };
  }
}

/** The commit was made and HEAD moved, but its tag could not be: the caller takes the commit back. */
export class TagNotMade extends Error {
  constructor(
    readonly commit: string,
    tag: string,
    cause: unknown,
  ) {
    super(`cannot make tag ${tag}: ${(cause as Error).message}`, { cause });
  }
}

/** Takes the last `bytes` appended off the end of the file again. */
function truncateEnd(fd: number, bytes: number): void {
  try {
    ftruncateSync(fd, fstatSync(fd).size - bytes);
  } catch {
    // Best effort: a reflog line too many names a commit that exists; git reads it.
  }
}

/**
 * git's ref lock: `<ref>.lock` (relative to the git directory) created
 * exclusively, holding the new value. Another holder (git's own gc packing
 * refs, a person's command) gets up to 100 ms to let go, as git itself
 * waits (core.filesRefLockTimeout).
 */
export async function lockRef(gitFiles: ConfinedDir, ref: string, value: string, failure: string): Promise<void> {
  const lock = gitFiles.path(`${ref}.lock`);
  for (let waited = 0; ; waited += 5) {
    try {
      // O_EXCL: never opened through a link planted at the lock's name.
      writeFileSync(lock, `${value}\n`, { flag: "wx" });
      return;
    } catch (err) {
      // Created but not written (a full disk): ours to remove, or it would block every later commit.
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") rmSync(lock, { force: true });
      const held = (err as NodeJS.ErrnoException).code === "EEXIST";
      if (!held || waited >= 100) {
        throw new Error(`${failure}: ${(err as Error).message}${held ? " (another git process holds the lock)" : ""}`, { cause: err });
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}
