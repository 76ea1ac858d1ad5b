/**
 * Writes a commit the way `git commit` would, without its process: the
 * files' blobs, the trees on their paths and the commit object as loose
 * objects (formats in git-objects.ts), then the branch moved through git's
 * `.lock` protocol after checking it still holds the parent, and the reflog
 * entries git writes. Only git.ts uses it, inside its queue, after `git add`
 * has brought the index along. Every file it reads or writes, in the work
 * tree or in .git, is opened through confined-path.ts: a file swapped for a
 * link after `git add` is refused, never read through into a commit.
 */
import { constants, lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
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
   * Commits the files at `paths` as they are (a missing one: deleted) on
   * top of HEAD; returns the commit's id and its parent's. With `sign`, the
   * commit object is made by it (a signed one: git-process.ts) once the
   * blobs and trees are written, instead of here.
   */
  async write(paths: readonly string[], message: string, author: string, committer: string, sign?: Signer): Promise<{ commit: string; parent: string | null }> {
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
    for (const object of [...blobs, ...trees]) this.writeObject(object);
    let id: string;
    if (sign === undefined) {
      const commit = encodeObject("commit", encodeCommit({ tree: snapshot.root!, parent: head.commit, author, committer, message }), base.algorithm);
      this.writeObject(commit);
      id = commit.id;
    } else {
      id = await sign(snapshot.root!, head.commit, message);
    }
    await this.moveHead(head, id, `${committer}\t${head.commit === null ? "commit (initial)" : "commit"}: ${message.split("\n")[0]!}`);
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
    this.gitFiles.write(temp, object.deflated, O_WRONLY | O_CREAT | O_TRUNC, 0o444);
    renameSync(this.gitFiles.path(temp), this.gitFiles.path(path));
  }

  /**
   * Points HEAD's branch (or a detached HEAD) at `commit` through git's
   * own `.lock` protocol, after checking it still holds what the commit
   * was made on; then appends to the reflogs as git does.
   */
  private async moveHead(head: { ref: string; commit: string | null }, commit: string, reflog: string): Promise<void> {
    mkdirSync(dirname(this.gitFiles.path(head.ref)), { recursive: true });
    await lockRef(this.gitFiles, head.ref, commit, `git commit failed: cannot lock ${head.ref}`);
    try {
      if (this.readHead().commit !== head.commit) throw new Error(`git commit failed: ${head.ref} moved while the commit was made`);
      renameSync(this.gitFiles.path(`${head.ref}.lock`), this.gitFiles.path(head.ref));
    } catch (err) {
      rmSync(this.gitFiles.path(`${head.ref}.lock`), { force: true });
      throw err;
    }
    const line = `${head.commit ?? "0".repeat(commit.length)} ${commit} ${reflog}\n`;
    for (const ref of new Set([head.ref, "HEAD"])) {
      const log = `logs/${ref}`;
      mkdirSync(dirname(this.gitFiles.path(log)), { recursive: true });
      this.gitFiles.write(log, line, O_WRONLY | O_APPEND | O_CREAT, 0o644);
    }
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
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || waited >= 100) {
        throw new Error(`${failure}: ${(err as Error).message} (another git process holds the lock)`, { cause: err });
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}
