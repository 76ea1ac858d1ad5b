/**
 * The only code that runs git or writes into .git. One queue per store:
 * each logical operation (write + add + commit + tag) runs alone, so there
 * is never an index.lock race. Commands see a fixed environment — no user
 * config, no hooks, no ambient GIT_* — and authorship comes from the
 * request's agent. Commits and tags are written here without a process
 * (git's object and ref formats, and its lock protocol); `git add` keeps
 * the index in step.
 */
import { execFile } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, readFile, rename, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { NAME_PATTERN } from "../model/ref.js";
import { parseVersion } from "../model/version.js";
import { cleanMessage, encodeCommit, encodeObject, formatIdent, TreeSnapshot, type GitObject, type HashAlgorithm } from "./git-objects.js";

export interface LogEntry {
  commit: string;
  author: string;
  email: string;
  /** ISO-8601 author date. */
  date: string;
  message: string;
}

const FIELD = "\x1f";
const RECORD = "\x1e";

/** Settings every command runs with, whatever the repository's or the user's config says. */
const CONFIG = ["commit.gpgsign=false", "tag.gpgsign=false", "core.hooksPath=/dev/null", "init.defaultBranch=main", "core.quotePath=false"].flatMap((c) => ["-c", c]);

/** Commits between two runs of git's own maintenance (see `committed`). */
const MAINTENANCE_EVERY = 100;

export class GitRepo {
  private queue: Promise<unknown> = Promise.resolve();
  /** One git process at a time per store, whether or not the caller holds `exclusive`. */
  private processes: Promise<unknown> = Promise.resolve();
  private created = false;
  private commitsSinceMaintenance = 0;
  /** HEAD's tree as of the store's last commit (or its last look at HEAD). */
  private snapshot: { commit: string | null; tree: TreeSnapshot; algorithm: HashAlgorithm } | null = null;

  constructor(readonly dir: string) {}

  /**
   * Runs one git command in the store and returns its stdout. git is spawned
   * directly rather than through simple-git, which waits a fixed 50 ms after
   * every command that prints nothing (add, commit, tag): most of a save.
   */
  private raw(args: readonly string[]): Promise<string> {
    return this.inTurn(() => spawnGit(this.dir, args));
  }

  /** Runs `work` after every git command or in-process commit queued before it. */
  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    if (!this.created) {
      mkdirSync(this.dir, { recursive: true });
      this.created = true;
    }
    const run = this.processes.then(work);
    this.processes = run.catch(() => undefined);
    return run;
  }

  /** Runs `operation` after every operation queued before it; the queue goes on if it fails. */
  exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.queue.then(operation, operation);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Removes the lock files a killed writer leaves behind (a power cut, an
   * OOM kill, `kill -9` of the daemon or of its `git add`): `index.lock`,
   * the branch's and HEAD's, and a tag's. With one there, every commit, or
   * the tag a restart must finish, fails and the daemon could never work
   * again. Only when no process at all is working in the store (Linux /proc:
   * nothing has its working directory there), so a person's running git
   * keeps its locks. Returns the store-relative paths removed.
   */
  clearStaleLocks(): string[] {
    const git = join(this.dir, ".git");
    const tags = join(git, "refs", "tags");
    const candidates = ["index.lock", "HEAD.lock", "packed-refs.lock"];
    const head = readIfExists(join(git, "HEAD"))?.trim() ?? "";
    if (head.startsWith("ref: refs/")) candidates.push(`${head.slice(5)}.lock`);
    const tagLocks = existsSync(tags) ? readdirSync(tags).filter((name) => name.endsWith(".lock")) : [];
    const locks = [...candidates, ...tagLocks.map((name) => `refs/tags/${name}`)].filter((path) => existsSync(join(git, path)));
    if (locks.length === 0 || this.inUse()) return [];
    for (const path of locks) rmSync(join(git, path), { force: true });
    return locks.map((path) => `.git/${path}`);
  }

  /** True when some other process has its working directory in the store (or that cannot be told). */
  private inUse(): boolean {
    let store: string;
    let pids: string[];
    try {
      store = realpathSync(this.dir);
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

  /** True when the store directory is itself the top of a repository (not a folder inside another one). */
  async isRepository(): Promise<boolean> {
    try {
      return (await this.raw(["rev-parse", "--show-toplevel"])).trim() === realpathSync(this.dir);
    } catch {
      return false;
    }
  }

  async init(): Promise<void> {
    await this.raw(["init", "--quiet"]);
  }

  /**
   * Commits the working-tree content of `paths` (a missing file: deleted)
   * on top of HEAD, and nothing else: what a person staged stays staged,
   * out of this commit. `git add -A` brings the index along, the one process
   * per commit; the objects, the branch and its reflog are written here (see
   * git-objects.ts). Returns the full hash; "nothing to commit" when the
   * tree would not change.
   */
  async commitPaths(paths: string[], message: string, agentId: string | undefined): Promise<string> {
    const text = cleanMessage(message);
    if (text === null) throw new Error("git commit failed: the message is empty");
    await this.raw(["add", "-A", "--", ...paths]);
    const commit = await this.inTurn(() => this.writeCommit(paths, text, agentId));
    this.committed();
    return commit;
  }

  /**
   * Counts commits and, every MAINTENANCE_EVERY, queues what `git commit`
   * would have started after each one: git packs loose objects and refs when
   * its own thresholds say so, in the background (gc detaches). Not awaited:
   * no reply waits for it. A failure is left for the next round, as git
   * itself does with --auto.
   */
  private committed(): void {
    if (++this.commitsSinceMaintenance < MAINTENANCE_EVERY) return;
    this.commitsSinceMaintenance = 0;
    this.raw(["maintenance", "run", "--auto", "--quiet"]).catch(() => undefined);
  }

  private async writeCommit(paths: string[], message: string, agentId: string | undefined): Promise<string> {
    const head = this.readHead();
    const base = this.snapshot !== null && this.snapshot.commit === head.commit ? this.snapshot : await this.readSnapshot(head.commit);
    const changes = new Map<string, string | null>();
    const blobs: GitObject[] = [];
    for (const path of paths) {
      const content = readIfExists(join(this.dir, path), null);
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
    const now = new Date();
    const committer = formatIdent(author(undefined), now);
    const commit = encodeObject(
      "commit",
      encodeCommit({ tree: snapshot.root!, parent: head.commit, author: formatIdent(author(agentId), now), committer, message }),
      base.algorithm,
    );
    for (const object of [...blobs, ...trees, commit]) this.writeObject(object);
    await this.moveHead(head, commit.id, `${committer}\t${head.commit === null ? "commit (initial)" : "commit"}: ${message.split("\n")[0]!}`);
    this.snapshot = { commit: commit.id, tree: snapshot, algorithm: base.algorithm };
    return commit.id;
  }

  /** HEAD's tree as a snapshot (two processes: only when HEAD is not the commit the store made last). */
  private async readSnapshot(commit: string | null): Promise<{ commit: string | null; tree: TreeSnapshot; algorithm: HashAlgorithm }> {
    const format = commit === null ? (await spawnGit(this.dir, ["rev-parse", "--show-object-format"])).trim() : commit.length === 64 ? "sha256" : "sha1";
    if (format !== "sha1" && format !== "sha256") throw new Error(`git commit failed: object format ${format} is not supported`);
    if (commit === null) return { commit, tree: TreeSnapshot.empty(), algorithm: format };
    const [listing, root] = await Promise.all([
      spawnGit(this.dir, ["ls-tree", "-r", "-t", "-z", "--full-tree", commit]),
      spawnGit(this.dir, ["rev-parse", `${commit}^{tree}`]),
    ]);
    return { commit, tree: TreeSnapshot.fromLsTree(listing, root.trim()), algorithm: format };
  }

  /** A loose object, unless the store has it already (git add wrote the blobs; a tree may repeat an old one). */
  private writeObject(object: GitObject): void {
    const dir = join(this.dir, ".git", "objects", object.id.slice(0, 2));
    const path = join(dir, object.id.slice(2));
    if (existsSync(path)) return;
    mkdirSync(dir, { recursive: true });
    const temp = join(dir, `tmp_obj_${process.pid}_${object.id.slice(2, 10)}`);
    writeFileSync(temp, object.deflated, { mode: 0o444 });
    renameSync(temp, path);
  }

  /**
   * Points HEAD's branch (or a detached HEAD) at `commit` through git's
   * own `.lock` protocol, after checking it still holds what the commit
   * was made on; then appends to the reflogs as git does.
   */
  private async moveHead(head: { ref: string; commit: string | null }, commit: string, reflog: string): Promise<void> {
    const path = join(this.dir, ".git", head.ref);
    mkdirSync(dirname(path), { recursive: true });
    await lockRef(path, commit, `git commit failed: cannot lock ${head.ref}`);
    try {
      if (this.readHead().commit !== head.commit) throw new Error(`git commit failed: ${head.ref} moved while the commit was made`);
      renameSync(`${path}.lock`, path);
    } catch (err) {
      rmSync(`${path}.lock`, { force: true });
      throw err;
    }
    const line = `${head.commit ?? "0".repeat(commit.length)} ${commit} ${reflog}\n`;
    for (const ref of new Set([head.ref, "HEAD"])) {
      const log = join(this.dir, ".git", "logs", ref);
      mkdirSync(dirname(log), { recursive: true });
      appendFileSync(log, line);
    }
  }

  /** HEAD as the files in .git have it: the ref it names (or HEAD when detached) and that ref's commit (null before the first). */
  private readHead(): { ref: string; commit: string | null } {
    const git = join(this.dir, ".git");
    const head = readFileSync(join(git, "HEAD"), "utf8").trim();
    const ref = head.startsWith("ref: ") ? head.slice(5) : "HEAD";
    // HEAD names where the commit will be written: never outside .git/refs.
    if (ref !== "HEAD" && !/^refs\/(?!.*\.\.)[\w./-]+$/.test(ref)) throw new Error(`git commit failed: HEAD names ${ref}, not a branch under refs/`);
    const loose = ref === "HEAD" ? head : readIfExists(join(git, ref))?.trim();
    const packed = () =>
      readIfExists(join(git, "packed-refs"))
        ?.split("\n")
        .find((line) => line.endsWith(` ${ref}`) && /^[0-9a-f]/.test(line))
        ?.split(" ")[0];
    const commit = loose !== undefined && loose !== "" ? loose : (packed() ?? null);
    if (commit !== null && !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit)) throw new Error(`git commit failed: ${ref} holds ${commit.slice(0, 40)}, not a commit id`);
    return { ref, commit };
  }

  /** Takes `paths` out of the index back to HEAD's state (a new file becomes untracked). */
  async unstage(paths: string[]): Promise<void> {
    await this.raw(["reset", "--quiet", "--", ...paths]);
  }

  /** HEAD's commit and full message; null in a repository without commits. */
  async headCommit(): Promise<{ commit: string; message: string } | null> {
    try {
      const out = await this.raw(["log", "-1", `--format=%H${FIELD}%B`, "HEAD"]);
      const at = out.indexOf(FIELD);
      return { commit: out.slice(0, at), message: out.slice(at + 1) };
    } catch {
      return null;
    }
  }

  /** Takes back `commit` (the last one), leaving the index as it was before it. */
  async uncommit(commit: string): Promise<void> {
    const parent = await this.resolve(`${commit}^`);
    if (parent === null) await this.raw(["update-ref", "-d", "HEAD", commit]);
    else await this.raw(["reset", "--quiet", "--soft", parent]);
  }

  /**
   * A lightweight tag on `commit`; fails if the tag exists. Written as a
   * loose ref the way git writes one — the `.lock` file created exclusively
   * is git's own lock, so a git process run by hand at the same moment
   * waits for it or fails rather than racing — without a process: one per
   * save was a fifth of its time.
   */
  async tag(name: string, commit: string): Promise<void> {
    if (!isTagName(name)) throw new Error(`not a tag name: ${name}`);
    if (!/^[0-9a-f]{40,64}$/.test(commit)) throw new Error(`not a commit id: ${commit}`);
    const dir = join(this.dir, ".git", "refs", "tags");
    await mkdir(dir, { recursive: true });
    const path = join(dir, name);
    await lockRef(path, commit, `cannot make tag ${name}`);
    try {
      if (await this.tagExists(name)) throw new Error(`tag ${name} already exists`);
      await rename(`${path}.lock`, path);
    } catch (err) {
      await unlink(`${path}.lock`).catch(() => undefined);
      throw err;
    }
  }

  /** Lightweight tags for one commit (the seed tags dozens of patterns at once). */
  async tagAll(names: readonly string[], commit: string): Promise<void> {
    for (const name of names) await this.tag(name, commit);
  }

  /** Read from .git (loose ref or packed-refs), without a process: it is asked on every save. */
  async tagExists(name: string): Promise<boolean> {
    const ref = `refs/tags/${name}`;
    if (existsSync(join(this.dir, ".git", ref))) return true;
    const packed = await readFile(join(this.dir, ".git", "packed-refs"), "utf8").catch(() => "");
    return packed.split("\n").some((line) => line.endsWith(` ${ref}`));
  }

  /** Paths matching `pathspec` that differ from HEAD or are untracked (git status), store-relative. */
  async changedFiles(pathspec: string): Promise<string[]> {
    const out = await this.raw(["status", "--porcelain=v1", "-z", "--untracked-files=all", "--", pathspec]);
    const paths: string[] = [];
    const entries = out.split("\0");
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      if (entry.length < 4) continue;
      paths.push(entry.slice(3));
      // A rename is followed by its old path.
      if (entry[0] === "R" || entry[0] === "C") i++;
    }
    return paths;
  }

  /** Full hash of HEAD, or null in a repository without commits. */
  head(): Promise<string | null> {
    return this.resolve("HEAD");
  }

  /** The commit a revision (a tag, HEAD) points at, or null. */
  async resolve(revision: string): Promise<string | null> {
    try {
      return (await this.raw(["rev-parse", "--verify", "--quiet", `${revision}^{commit}`])).trim() || null;
    } catch {
      return null;
    }
  }

  /** A file's text at a revision, or undefined when it is not there. */
  async show(revision: string, path: string): Promise<string | undefined> {
    try {
      return await this.raw(["show", `${revision}:${path}`]);
    } catch {
      return undefined;
    }
  }

  /** Paths in the tree of a revision, or undefined when the revision does not exist. */
  async listFiles(revision: string): Promise<string[] | undefined> {
    try {
      return (await this.raw(["ls-tree", "-r", "--name-only", revision])).split("\n").filter((line) => line !== "");
    } catch {
      return undefined;
    }
  }

  /** Commits touching `path`, newest first (following renames is not needed: paths are derived from names). */
  async log(path: string, limit?: number): Promise<LogEntry[]> {
    const args = ["log", `--format=%H${FIELD}%an${FIELD}%ae${FIELD}%aI${FIELD}%B${RECORD}`];
    if (limit !== undefined) args.push(`-n${limit}`);
    let text: string;
    try {
      text = await this.raw([...args, "--", path]);
    } catch {
      return [];
    }
    return text
      .split(RECORD)
      .map((record) => record.replace(/^\n/, ""))
      .filter((record) => record !== "")
      .map((record) => {
        const [commit, name, email, date, message] = record.split(FIELD) as [string, string, string, string, string];
        return { commit, author: name, email, date, message: message.trim() };
      });
  }

  /** Commit → tag names for the tags matching a glob, e.g. `name@*`. */
  async tagTargets(pattern: string): Promise<Map<string, string[]>> {
    const text = await this.raw(["for-each-ref", "--format=%(objectname) %(refname:short)", `refs/tags/${pattern}`]);
    const targets = new Map<string, string[]>();
    for (const line of text.split("\n")) {
      const [commit, tag] = line.split(" ");
      if (commit === undefined || tag === undefined) continue;
      targets.set(commit, [...(targets.get(commit) ?? []), tag]);
    }
    return targets;
  }

  /** Tags matching a glob, e.g. `name@*`. */
  async tags(pattern: string): Promise<string[]> {
    return (await this.raw(["tag", "--list", "--", pattern])).split("\n").filter((line) => line !== "");
  }
}

/**
 * git's ref lock: `<ref>.lock` created exclusively, holding the new value.
 * Another holder (git's own gc packing refs, a person's command) gets up
 * to 100 ms to let go, as git itself waits (core.filesRefLockTimeout).
 */
async function lockRef(path: string, value: string, failure: string): Promise<void> {
  for (let waited = 0; ; waited += 5) {
    try {
      writeFileSync(`${path}.lock`, `${value}\n`, { flag: "wx" });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || waited >= 100) {
        throw new Error(`${failure}: ${(err as Error).message} (another git process holds the lock)`, { cause: err });
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

/** A file's content (text, or bytes with encoding null), undefined when there is none. */
function readIfExists(path: string): string | undefined;
function readIfExists(path: string, encoding: null): Buffer | undefined;
function readIfExists(path: string, encoding: "utf8" | null = "utf8"): string | Buffer | undefined {
  try {
    return readFileSync(path, encoding === null ? undefined : encoding);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** `<agent> <agent@patternd>`; characters git would choke on are replaced. */
export function author(agentId: string | undefined): string {
  // git trims dots from the ends of a name and refuses one with nothing left ("..."): trimmed here, so it never fails.
  const name =
    (agentId ?? "patternd")
      .replace(/[^A-Za-z0-9_.@+-]/g, "_")
      .slice(0, 128)
      .replace(/^\.+|\.+$/g, "") || "patternd";
  return `${name} <${name.replace(/@/g, "_")}@patternd>`;
}

function spawnGit(cwd: string, args: readonly string[]): Promise<string> {
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    // No ~/.gitconfig, no /etc/gitconfig, no ambient GIT_*: the store behaves the same for every user.
    HOME: "/nonexistent",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_AUTHOR_NAME: "patternd",
    GIT_AUTHOR_EMAIL: "patternd@patternd",
    GIT_COMMITTER_NAME: "patternd",
    GIT_COMMITTER_EMAIL: "patternd@patternd",
  };
  return new Promise((resolve, reject) => {
    execFile("git", [...CONFIG, ...args], { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err === null) resolve(stdout);
      else reject(new Error(`git ${args[0]} failed: ${stderr.trim() || stdout.trim() || err.message}`));
    });
  });
}

/** `name@version`: a safe file name under refs/tags (and never git's `.lock`). */
function isTagName(name: string): boolean {
  const parts = name.split("@");
  return parts.length === 2 && NAME_PATTERN.test(parts[0]!) && parseVersion(parts[1]!) !== null && !name.endsWith(".lock");
}
