/**
 * Writes a commit the way `git commit` would, without its process: the
 * trees on the changed paths and the commit object as loose objects
 * (formats in git-objects.ts), then the branch moved through git's `.lock`
 * protocol after checking it still holds the parent, and the reflog
 * entries git writes. Only git.ts uses it, inside its queue, after `git
 * add` has staged the files: the blobs and modes committed are the ones
 * git staged (its attributes, filters and the exec bit applied), never the
 * files read again. Every file it writes in the repository is opened
 * through confined-path.ts, in the folder git keeps it in (git-dirs.ts):
 * HEAD and its reflog in the work tree's git dir; the objects, the branch,
 * its reflog, the tags and packed-refs in the common dir.
 *
 * Everything that takes space (objects, lock files, reflog lines) is
 * written before the branch moves, and taken back if any of it fails; after
 * that only renames remain. So a full disk fails a commit cleanly, with
 * HEAD, its reflog and the tags as they were. Durable as git's
 * `core.fsync=committed`: the objects (and a new fan-out folder), the
 * ref locks and the reflog lines are fsync'd before the branch moves, the
 * refs' folders after, before the caller replies.
 *
 * When the branch moved after the operation began (a person's `git
 * update-ref`, a push into the store), the commit is made again on the new
 * tip if that left the operation's paths as they were (a rebase of a
 * commit that touches only them); otherwise it is a `conflict`, with
 * nothing published.
 */
import { closeSync, constants, fdatasync, fstatSync, fsync, ftruncateSync, lstatSync, mkdirSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { promisify } from "node:util";
import { appendWhole, syncDirectory } from "../../../core/atomic-file.js";
import { DaemonError } from "../../../core/errors.js";
import type { ConfinedDir } from "./confined-path.js";
import type { StoreDirs } from "./git-dirs.js";
import { encodeCommit, encodeObject, TreeSnapshot, type GitObject, type HashAlgorithm, type TreeEntry } from "./git-objects.js";

const { O_APPEND, O_CREAT, O_EXCL, O_RDONLY, O_WRONLY } = constants;
const fsyncAsync = promisify(fsync);
const fdatasyncAsync = promisify(fdatasync);

/** Times a commit is made again on a branch that keeps moving before it gives up (conflict). */
const MAX_REBASES = 3;

/** Makes the commit object of `tree` on `parent` with `message` (its trees are written already); returns its id. */
export type Signer = (tree: string, parent: string | null, message: string) => Promise<string>;

/** HEAD as the repository's files have it: the ref it names (HEAD when detached) and its commit (null before the first). */
export interface Head {
  ref: string;
  commit: string | null;
}

export class CommitWriter {
  /** HEAD's tree as of the last commit written here (or the last look at HEAD). */
  private snapshot: { commit: string | null; tree: TreeSnapshot; algorithm: HashAlgorithm } | null = null;
  private packed: { stamp: string; refs: ReadonlyMap<string, string> } | null = null;

  /** `git` runs one git command in the store (the caller's queue already holds the turn). */
  constructor(
    private readonly dirs: StoreDirs,
    private readonly git: (args: readonly string[]) => Promise<string>,
  ) {}

  /** The objects' folder is the common dir's. */
  private get objectFiles(): ConfinedDir {
    return this.dirs.commonFiles;
  }

  /**
   * Commits `staged` (path → the entry `git add` staged, null: deleted) on
   * top of `base`, HEAD as it was when the operation began, and tags it
   * `tag` when given (the tag's lock is taken before the branch moves, so
   * the tag cannot then fail for want of space); returns the commit's id
   * and its parent's. A `TagNotMade` error means the commit was made but
   * its tag was not: the caller takes the commit back. With `sign`, the
   * commit object is made by it (a signed one: git-process.ts) once the
   * trees are written, instead of here. `blobs` are the staged files'
   * objects when the daemon staged them itself (index-stager.ts): written
   * with the trees, but those the store has already.
   */
  async write(
    base: Head,
    staged: ReadonlyMap<string, TreeEntry | null>,
    message: string,
    author: string,
    committer: string,
    options: { tag?: string | undefined; sign?: Signer | undefined; blobs?: readonly GitObject[] } = {},
  ): Promise<{ commit: string; parent: string | null }> {
    const before = await this.treeAt(base.commit);
    let head = base;
    let on = before;
    for (let rebases = 0; ; rebases++) {
      const { snapshot, trees } = on.tree.with(staged, on.algorithm);
      if (head.commit !== null && snapshot.root === on.tree.root) throw new Error("git commit failed: nothing to commit, working tree clean");
      const reflog = `${committer}\t${head.commit === null ? "commit (initial)" : "commit"}: ${message.split("\n")[0]!}`;
      let id: string;
      let objects: GitObject[];
      if (options.sign === undefined) {
        const commit = encodeObject("commit", encodeCommit({ tree: snapshot.root!, parent: head.commit, author, committer, message }), on.algorithm);
        id = commit.id;
        objects = [...(options.blobs ?? []), ...trees, commit];
      } else {
        // git commit-tree writes the signed commit object, and needs its tree in the store first.
        await this.writeObjects([...(options.blobs ?? []), ...trees]);
        id = await options.sign(snapshot.root!, head.commit, message);
        objects = [];
      }
      try {
        await this.moveHead(head, id, reflog, objects, options.tag);
        this.snapshot = { commit: id, tree: snapshot, algorithm: on.algorithm };
        return { commit: id, parent: head.commit };
      } catch (err) {
        if (!(err instanceof RefMoved)) throw err;
      }
      const now = this.readHead();
      if (now.ref !== base.ref || now.commit === null) throw moved(base, now, [...staged.keys()]);
      on = await this.treeAt(now.commit);
      const touched = [...staged.keys()].filter((path) => !sameEntry(before.tree.get(path), on.tree.get(path)));
      if (touched.length > 0 || rebases >= MAX_REBASES) throw moved(base, now, touched.length > 0 ? touched : [...staged.keys()]);
      head = now;
    }
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

  /** Loose objects, durably (see LooseObjects): for a signed commit's trees, which must be in the store before `git commit-tree`, and a sync's merged blobs. */
  async writeObjects(objects: readonly GitObject[]): Promise<void> {
    const loose = this.looseObjects(objects);
    await loose.sync();
    await loose.place();
  }

  /**
   * Loose objects, but those the store has already (a tree may repeat an
   * old one), each written to a temp file: `sync` fsyncs them, `place`
   * renames them into place and fsyncs each folder renamed into (and
   * objects/ when a fan-out folder is new), so a ref that names them
   * never outlives them in a crash; `discard` removes the temp files. The
   * syncs are the caller's to run in one round with others.
   */
  private looseObjects(objects: readonly GitObject[]): { sync(): Promise<unknown>; place(): Promise<unknown>; discard(): void } {
    const objectDir = this.objectFiles;
    const written: { temp: string; path: string; fd: number }[] = [];
    const folders = new Set<string>();
    const close = () => {
      for (const file of written.splice(0)) {
        closeSync(file.fd);
        rmSync(objectDir.path(file.temp), { force: true });
      }
    };
    try {
      for (const object of objects) {
        const dir = `objects/${object.id.slice(0, 2)}`;
        const path = `${dir}/${object.id.slice(2)}`;
        if (lstatSync(objectDir.path(path), { throwIfNoEntry: false }) !== undefined) continue;
        if (lstatSync(objectDir.path(dir), { throwIfNoEntry: false }) === undefined) {
          mkdirSync(objectDir.path(dir), { recursive: true });
          folders.add("objects");
        }
        folders.add(dir);
        const temp = `${dir}/tmp_obj_${process.pid}_${object.id.slice(2, 10)}`;
        rmSync(objectDir.path(temp), { force: true });
        written.push({ temp, path, fd: objectDir.open(temp, O_WRONLY | O_CREAT | O_EXCL, 0o444) });
        for (const part of object.deflated) writeWhole(written[written.length - 1]!.fd, part);
      }
    } catch (err) {
      close();
      throw err;
    }
    return {
      sync: () => Promise.all(written.map(({ fd }) => fsyncAsync(fd))),
      place: () => {
        const files = written.splice(0);
        for (const { fd } of files) closeSync(fd);
        try {
          for (const { temp, path } of files) renameSync(objectDir.path(temp), objectDir.path(path));
        } catch (err) {
          for (const { temp } of files) rmSync(objectDir.path(temp), { force: true });
          throw err;
        }
        return Promise.all([...folders].map((dir) => syncDirectory(objectDir.path(dir))));
      },
      discard: close,
    };
  }

  /**
   * Points HEAD's branch (or a detached HEAD) at `commit` through git's
   * own `.lock` protocol, after checking it still holds what the commit
   * was made on (RefMoved when not); the commit's `objects` and the reflog
   * entries git writes are written while the lock is held (as git does),
   * so a lock that cannot be had leaves no object behind, and a reflog line
   * is taken back if a later step fails. `tag`, when given, is locked with
   * the branch and made right after it. The fsyncs run in three rounds,
   * each of them in parallel: the objects and the locks; the objects'
   * folders and the reflog lines; after the renames, the refs' folders.
   */
  private async moveHead(head: Head, commit: string, reflog: string, objects: readonly GitObject[], tag?: string): Promise<void> {
    // Each ref, its lock and its reflog in the folder git keeps that ref in (HEAD per work tree, branches and tags shared).
    const at = (ref: string) => this.dirs.refFiles(ref);
    const locks: string[] = [];
    const appended: { fd: number; size: number }[] = [];
    const lockFds: number[] = [];
    let loose: ReturnType<CommitWriter["looseObjects"]> | undefined;
    try {
      mkdirSync(dirname(at(head.ref).path(head.ref)), { recursive: true });
      await lockRef(at(head.ref), head.ref, commit, `git commit failed: cannot lock ${head.ref}`, false);
      locks.push(head.ref);
      if (tag !== undefined) {
        const ref = `refs/tags/${tag}`;
        mkdirSync(at(ref).path("refs/tags"), { recursive: true });
        await lockRef(at(ref), ref, commit, `cannot make tag ${tag}`, false);
        locks.push(ref);
        if (this.tagExists(tag)) throw new Error(`tag ${tag} already exists`);
      }
      if (this.readHead().commit !== head.commit) throw new RefMoved();
      loose = this.looseObjects(objects);
      for (const ref of locks) lockFds.push(at(ref).open(`${ref}.lock`, O_RDONLY));
      await Promise.all([loose.sync(), ...lockFds.map((fd) => fsyncAsync(fd))]);
      const placed = loose.place();
      // Awaited below with the reflog's sync; a failure before then must not go unhandled.
      placed.catch(() => undefined);
      const line = `${head.commit ?? "0".repeat(commit.length)} ${commit} ${reflog}\n`;
      for (const ref of new Set([head.ref, "HEAD"])) {
        const log = `logs/${ref}`;
        mkdirSync(dirname(at(ref).path(log)), { recursive: true });
        const fd = at(ref).open(log, O_WRONLY | O_APPEND | O_CREAT, 0o644);
        appended.push({ fd, size: -1 });
        appendWhole(fd, line);
        appended[appended.length - 1]!.size = Buffer.byteLength(line);
      }
      await Promise.all([placed, ...appended.map(({ fd }) => fdatasyncAsync(fd))]);
      renameSync(at(head.ref).path(`${head.ref}.lock`), at(head.ref).path(head.ref));
      locks.shift();
    } catch (err) {
      // Nothing of this commit stays visible: no lock, no reflog line (its objects are unreferenced, as after any failed commit).
      loose?.discard();
      for (const { fd, size } of appended) if (size > 0) truncateEnd(fd, size);
      for (const ref of locks) rmSync(at(ref).path(`${ref}.lock`), { force: true });
      throw err;
    } finally {
      for (const { fd } of appended) closeSync(fd);
      for (const fd of lockFds) closeSync(fd);
    }
    const folders = [folderOf(at(head.ref), head.ref)];
    if (tag !== undefined) {
      const ref = `refs/tags/${tag}`;
      try {
        renameSync(at(ref).path(`${ref}.lock`), at(ref).path(ref));
      } catch (err) {
        rmSync(at(ref).path(`${ref}.lock`), { force: true });
        throw new TagNotMade(commit, tag, err);
      }
      folders.push(folderOf(at(ref), ref));
    }
    // The renames made durable before the caller replies. HEAD's own folder (the git dir) only when HEAD itself moved.
    await Promise.all(folders.map((dir) => syncDirectory(dir)));
  }

  /** A tag as a loose ref or in packed-refs (both in the common dir). */
  tagExists(name: string): boolean {
    const ref = `refs/tags/${name}`;
    if (lstatSync(this.dirs.refFiles(ref).path(ref), { throwIfNoEntry: false }) !== undefined) return true;
    return this.packedRefs().has(ref);
  }

  /**
   * packed-refs as ref → id, read again only when the file's identity
   * (inode, size, times to the nanosecond) moved: with a tag a version, a
   * store of 100 000 patterns has a 7 MB packed-refs, and reading it for
   * every save was most of a save's cost.
   */
  private packedRefs(): ReadonlyMap<string, string> {
    const path = this.dirs.commonFiles.path("packed-refs");
    const stat = lstatSync(path, { bigint: true, throwIfNoEntry: false });
    const stamp = stat === undefined ? "" : `${path} ${stat.ino} ${stat.size} ${stat.mtimeNs} ${stat.ctimeNs}`;
    if (this.packed?.stamp !== stamp) {
      const refs = new Map<string, string>();
      for (const line of (stat === undefined ? undefined : this.dirs.commonFiles.readText("packed-refs"))?.split("\n") ?? []) {
        // "<id> <ref>"; comments start with #, peeled ids with ^.
        const space = line.indexOf(" ");
        if (/^[0-9a-f]/.test(line) && space !== -1) refs.set(line.slice(space + 1), line.slice(0, space));
      }
      this.packed = { stamp, refs };
    }
    return this.packed.refs;
  }

  /** HEAD as the repository's files have it: the ref it names (or HEAD when detached) and that ref's commit (null before the first). */
  readHead(): { ref: string; commit: string | null } {
    const head = this.dirs.gitFiles.readText("HEAD")?.trim() ?? "";
    const ref = head.startsWith("ref: ") ? head.slice(5) : "HEAD";
    // HEAD names where the commit will be written: never outside refs/.
    if (ref !== "HEAD" && !/^refs\/(?!.*\.\.)[\w./-]+$/.test(ref)) throw new Error(`git commit failed: HEAD names ${ref}, not a branch under refs/`);
    const loose = ref === "HEAD" ? head : this.dirs.refFiles(ref).readText(ref)?.trim();
    const commit = loose !== undefined && loose !== "" ? loose : (this.packedRefs().get(ref) ?? null);
    if (commit !== null && !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit)) throw new Error(`git commit failed: ${ref} holds ${commit.slice(0, 40)}, not a commit id`);
    return { ref, commit };
  }
}

/** The absolute folder a ref's file is in (the folder itself for HEAD). */
function folderOf(files: ConfinedDir, ref: string): string {
  const dir = dirname(ref);
  return dir === "." ? files.root : files.path(dir);
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

/** The branch moved between the operation's start and the lock (write() decides: made again on the new tip, or conflict). */
class RefMoved extends Error {
  constructor() {
    super("the branch moved while the commit was made");
  }
}

/** conflict: the branch moved underneath and its new tip changed `paths` too (or HEAD now names another branch, or none). */
function moved(base: Head, now: Head, paths: readonly string[]): DaemonError {
  const branch = base.ref.replace(/^refs\/heads\//, "");
  const by = now.commit === null ? `${branch} was deleted` : now.ref !== base.ref ? `HEAD now names ${now.ref}` : `commit ${now.commit.slice(0, 12)} landed on ${branch}`;
  return new DaemonError(
    "conflict",
    `${by} while this change was being committed, and it changes ${paths.join(", ")} too; nothing was committed and the files are back as they were: read the pattern again and make the change on top of it`,
    { paths, branch, ...(now.commit === null ? {} : { commit: now.commit }) },
  );
}

/** Two tree entries (or their absence) are the same. */
function sameEntry(a: TreeEntry | undefined, b: TreeEntry | undefined): boolean {
  return a?.id === b?.id && a?.mode === b?.mode;
}

/** Writes all of `data` at the file's offset, looping on short writes. */
function writeWhole(fd: number, data: Uint8Array): void {
  for (let written = 0; written < data.length; ) written += writeSync(fd, data, written);
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
 * exclusively, holding the new value, fsync'd (git's core.fsync=reference)
 * so the ref the lock is renamed to survives a crash (`sync` false: the
 * caller fsyncs it, with other files). Another holder
 * (git's own gc packing refs, a person's command) gets up to 100 ms to let
 * go, as git itself waits (core.filesRefLockTimeout).
 */
export async function lockRef(gitFiles: ConfinedDir, ref: string, value: string, failure: string, sync = true): Promise<void> {
  const lock = `${ref}.lock`;
  // A link on the way is unsafe_path, as it is.
  gitFiles.path(lock);
  for (let waited = 0; ; waited += 5) {
    let fd: number | undefined;
    try {
      // O_EXCL: never opened through a link planted at the lock's name.
      fd = gitFiles.open(lock, O_WRONLY | O_CREAT | O_EXCL, 0o644);
      writeWhole(fd, Buffer.from(`${value}\n`));
      if (sync) await fsyncAsync(fd);
      return;
    } catch (err) {
      // Created but not written (a full disk): ours to remove, or it would block every later commit.
      if (fd !== undefined) rmSync(gitFiles.path(lock), { force: true });
      if (err instanceof DaemonError) throw err;
      const held = fd === undefined && (err as NodeJS.ErrnoException).code === "EEXIST";
      if (!held || waited >= 100) {
        throw new Error(`${failure}: ${(err as Error).message}${held ? " (another git process holds the lock)" : ""}`, { cause: err });
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}
