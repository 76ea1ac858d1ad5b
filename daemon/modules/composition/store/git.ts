/**
 * The only code that runs git. One queue per store: each logical operation
 * (write + add + commit + tag) runs alone, so there is never an index.lock
 * race. Commands see a fixed environment — no user config, no hooks, no
 * ambient GIT_* — and authorship comes from the request's agent.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readlinkSync, realpathSync, rmSync, statSync } from "node:fs";
import { mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { NAME_PATTERN } from "../model/ref.js";
import { parseVersion } from "../model/version.js";

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

/**
 * Settings every command runs with, whatever the repository's or the user's
 * config says. No automatic maintenance: a commit would start `git
 * maintenance run --auto` and wait for it, a second process on every save
 * (a tenth of a fork); the store runs it itself every MAINTENANCE_EVERY
 * commits instead, after the commit that reached the count.
 */
const CONFIG = [
  "commit.gpgsign=false",
  "tag.gpgsign=false",
  "core.hooksPath=/dev/null",
  "init.defaultBranch=main",
  "core.quotePath=false",
  "maintenance.auto=false",
].flatMap((c) => ["-c", c]);

const MAINTENANCE_EVERY = 100;

export class GitRepo {
  private queue: Promise<unknown> = Promise.resolve();
  /** One git process at a time per store, whether or not the caller holds `exclusive`. */
  private processes: Promise<unknown> = Promise.resolve();
  private created = false;
  private commitsSinceMaintenance = 0;

  constructor(readonly dir: string) {}

  /**
   * Runs one git command in the store and returns its stdout. git is spawned
   * directly rather than through simple-git, which waits a fixed 50 ms after
   * every command that prints nothing (add, commit, tag): most of a save.
   */
  private raw(args: readonly string[]): Promise<string> {
    if (!this.created) {
      mkdirSync(this.dir, { recursive: true });
      this.created = true;
    }
    const run = this.processes
      .then(() => {
        if (this.readIndexStamp() !== this.indexStamp) this.indexIsHead = false;
        return spawnGit(this.dir, args);
      })
      .finally(() => (this.indexStamp = this.readIndexStamp()));
    this.processes = run.catch(() => undefined);
    return run;
  }

  /** `.git/index` as the daemon's own last git command left it (git replaces the file on every write). */
  private indexStamp: string | null = null;
  /**
   * Known to hold nothing staged but what the daemon is committing: true
   * after `checkIndex` or a plain commit, false as soon as anything else has
   * written the index (a person's `git add`, `git status` refreshing it).
   */
  private indexIsHead = false;

  private readIndexStamp(): string | null {
    const info = statSync(join(this.dir, ".git", "index"), { throwIfNoEntry: false, bigint: true });
    return info === undefined ? null : `${info.ino}:${info.size}:${info.mtimeNs}`;
  }

  /** Learns whether anything is staged (one process, at start). */
  async checkIndex(): Promise<void> {
    try {
      await this.raw(["diff", "--cached", "--quiet"]);
      this.indexIsHead = true;
    } catch {
      this.indexIsHead = false;
    }
  }

  /**
   * True when a plain `git commit` after adding the daemon's files commits
   * exactly them: nothing a person staged could ride along. Cheaper than
   * `commit --only`, which builds a temporary index.
   */
  canCommitAll(): boolean {
    return this.indexIsHead && this.indexStamp !== null && this.indexStamp === this.readIndexStamp();
  }

  /** Runs `operation` after every operation queued before it; the queue goes on if it fails. */
  exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.queue.then(operation, operation);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Removes `.git/index.lock` left by a git process that was killed (a
   * power cut, an OOM kill, a whole service group killed): with it there,
   * every git command fails and the daemon could never start again. Only
   * when no process at all is working in the store (Linux /proc: nothing
   * has its working directory there), so a person's running git keeps its
   * lock. Returns true when a stale lock was removed.
   */
  clearStaleLock(): boolean {
    const lock = join(this.dir, ".git", "index.lock");
    if (!existsSync(lock)) return false;
    let store: string;
    let pids: string[];
    try {
      store = realpathSync(this.dir);
      pids = readdirSync("/proc").filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid);
    } catch {
      return false;
    }
    for (const pid of pids) {
      try {
        const cwd = readlinkSync(`/proc/${pid}/cwd`);
        if (cwd === store || cwd.startsWith(`${store}/`)) return false;
      } catch {
        // gone, or not ours to look at
      }
    }
    rmSync(lock, { force: true });
    return true;
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

  async add(paths: string[]): Promise<void> {
    await this.raw(["add", "--", ...paths]);
  }

  async remove(paths: string[]): Promise<void> {
    await this.raw(["rm", "--quiet", "--", ...paths]);
  }

  /** Commits what is staged; returns the full hash. */
  async commit(message: string, agentId: string | undefined): Promise<string> {
    await this.raw(["commit", "--quiet", "--no-verify", `--author=${author(agentId)}`, "-m", message]);
    this.indexIsHead = true;
    this.committed();
    return (await this.readHead()) ?? ((await this.head()) as string);
  }

  /** Commits the working-tree content of tracked `paths` only (no separate `git add`); returns the full hash. */
  async commitPaths(paths: string[], message: string, agentId: string | undefined): Promise<string> {
    await this.raw(["commit", "--quiet", "--no-verify", `--author=${author(agentId)}`, "-m", message, "--only", "--", ...paths]);
    this.committed();
    return (await this.readHead()) ?? ((await this.head()) as string);
  }

  /**
   * Counts commits and, every MAINTENANCE_EVERY, queues what a commit would
   * otherwise start each time (see CONFIG): git packs loose objects and refs
   * when its own thresholds say so, in the background (gc detaches). Not
   * awaited: no reply waits for it. A failure is left for the next round,
   * as git itself does with --auto.
   */
  private committed(): void {
    if (++this.commitsSinceMaintenance < MAINTENANCE_EVERY) return;
    this.commitsSinceMaintenance = 0;
    this.raw(["maintenance", "run", "--auto", "--quiet"]).catch(() => undefined);
  }

  /**
   * HEAD's commit read from .git, without a process: right after a commit
   * the branch's loose ref holds it. Null when that is not the layout found.
   */
  private async readHead(): Promise<string | null> {
    try {
      const head = (await readFile(join(this.dir, ".git", "HEAD"), "utf8")).trim();
      const ref = head.startsWith("ref: ") ? (await readFile(join(this.dir, ".git", head.slice(5)), "utf8")).trim() : head;
      return /^[0-9a-f]{40,64}$/.test(ref) ? ref : null;
    } catch {
      return null;
    }
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
    await writeFile(`${path}.lock`, `${commit}\n`, { flag: "wx" });
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
