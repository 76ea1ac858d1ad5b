/**
 * The only code that runs git. One queue per store: each logical operation
 * (write + add + commit + tag) runs alone, so there is never an index.lock
 * race. Commands see a fixed environment — no user config, no hooks, no
 * ambient GIT_* — and authorship comes from the request's agent.
 */
import { mkdirSync, realpathSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { simpleGit, type SimpleGit } from "simple-git";

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

export class GitRepo {
  private queue: Promise<unknown> = Promise.resolve();
  private instance: SimpleGit | null = null;

  constructor(readonly dir: string) {}

  /** Created on first use: simple-git wants the directory to exist already. */
  private get git(): SimpleGit {
    if (this.instance !== null) return this.instance;
    mkdirSync(this.dir, { recursive: true });
    this.instance = simpleGit({
      baseDir: this.dir,
      maxConcurrentProcesses: 1,
      // Setting core.hooksPath is how hooks are switched off; simple-git asks for this flag to allow it.
      unsafe: { allowUnsafeHooksPath: true },
      allowEnvironment: ["GIT_CONFIG_NOSYSTEM", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"],
      config: ["commit.gpgsign=false", "tag.gpgsign=false", "core.hooksPath=/dev/null", "init.defaultBranch=main", "core.quotePath=false"],
    }).env({
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      // No ~/.gitconfig, no /etc/gitconfig: the store behaves the same for every user.
      HOME: "/nonexistent",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_AUTHOR_NAME: "patternd",
      GIT_AUTHOR_EMAIL: "patternd@patternd",
      GIT_COMMITTER_NAME: "patternd",
      GIT_COMMITTER_EMAIL: "patternd@patternd",
    });
    return this.instance;
  }

  /** Runs `operation` after every operation queued before it; the queue goes on if it fails. */
  exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.queue.then(operation, operation);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** True when the store directory is itself the top of a repository (not a folder inside another one). */
  async isRepository(): Promise<boolean> {
    try {
      return (await this.git.raw(["rev-parse", "--show-toplevel"])).trim() === realpathSync(this.dir);
    } catch {
      return false;
    }
  }

  async init(): Promise<void> {
    await this.git.init();
  }

  async add(paths: string[]): Promise<void> {
    await this.git.raw(["add", "--", ...paths]);
  }

  async remove(paths: string[]): Promise<void> {
    await this.git.raw(["rm", "--quiet", "--", ...paths]);
  }

  /** Commits what is staged; returns the full hash. */
  async commit(message: string, agentId: string | undefined): Promise<string> {
    await this.git.raw(["commit", "--quiet", "--no-verify", `--author=${author(agentId)}`, "-m", message]);
    return this.head() as Promise<string>;
  }

  async tag(name: string): Promise<void> {
    await this.git.raw(["tag", "--", name]);
  }

  /**
   * Lightweight tags for one commit, written as loose refs: seeding tags
   * dozens of patterns at once, and a git process per tag made every start
   * of a fresh store slow. Tag names are validated pattern refs, so they
   * are safe file names.
   */
  async tagAll(names: readonly string[], commit: string): Promise<void> {
    const dir = join(this.dir, ".git", "refs", "tags");
    await mkdir(dir, { recursive: true });
    for (const name of names) {
      if (!/^[a-z0-9][a-z0-9_-]*@[0-9A-Za-z.+-]+$/.test(name)) throw new Error(`not a tag name: ${name}`);
      await writeFile(join(dir, name), `${commit}\n`, { flag: "wx" });
    }
  }

  async tagExists(name: string): Promise<boolean> {
    return (await this.git.raw(["tag", "--list", "--", name])).trim() === name;
  }

  /** Full hash of HEAD, or null in a repository without commits. */
  head(): Promise<string | null> {
    return this.resolve("HEAD");
  }

  /** The commit a revision (a tag, HEAD) points at, or null. */
  async resolve(revision: string): Promise<string | null> {
    try {
      return (await this.git.raw(["rev-parse", "--verify", "--quiet", `${revision}^{commit}`])).trim() || null;
    } catch {
      return null;
    }
  }

  /** A file's text at a revision, or undefined when it is not there. */
  async show(revision: string, path: string): Promise<string | undefined> {
    try {
      return await this.git.raw(["show", `${revision}:${path}`]);
    } catch {
      return undefined;
    }
  }

  /** Paths in the tree of a revision, or undefined when the revision does not exist. */
  async listFiles(revision: string): Promise<string[] | undefined> {
    try {
      return (await this.git.raw(["ls-tree", "-r", "--name-only", revision])).split("\n").filter((line) => line !== "");
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
      text = await this.git.raw([...args, "--", path]);
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
    const text = await this.git.raw(["for-each-ref", "--format=%(objectname) %(refname:short)", `refs/tags/${pattern}`]);
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
    return (await this.git.raw(["tag", "--list", "--", pattern])).split("\n").filter((line) => line !== "");
  }
}

/** `<agent> <agent@patternd>`; characters git would choke on are replaced. */
export function author(agentId: string | undefined): string {
  const name = (agentId ?? "patternd").replace(/[^A-Za-z0-9_.@+-]/g, "_").slice(0, 128) || "patternd";
  return `${name} <${name.replace(/@/g, "_")}@patternd>`;
}
