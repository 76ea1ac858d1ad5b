/**
 * The store's git: the only code that runs git (through git-process.ts)
 * or writes into its repository (commits through git-commit.ts; where the
 * repository is, whatever the layout: git-dirs.ts). One queue per
 * store: each logical operation (write + add + commit + tag) runs alone,
 * and holds git's index.lock while it commits, so a person's git command
 * meanwhile waits or fails rather than racing it. Commands see a fixed
 * environment — no user config, no ambient GIT_* — and authorship comes
 * from the request's agent. Commits and tags are written without a process
 * (git's object and ref formats, and its lock protocol) from what was
 * staged in a private index (private-index.ts; staged by the daemon itself,
 * index-stager.ts, or by `git add` where a setting asks), which then
 * becomes the index. What the store's own config asks of a commit is honoured
 * (git-settings.ts): its commit hooks run (git-hooks.ts), commit.gpgsign
 * signs through `git commit-tree -S`, and a repository format the writer
 * does not implement is refused.
 */
import { constants, mkdirSync, realpathSync, renameSync, rmSync } from "node:fs";
import { asUnavailable } from "../../../core/disk-fault.js";
import { DaemonError } from "../../../core/errors.js";
import type { Log } from "../../../core/log.js";
import type { RangeCommit } from "../model/external-changes.js";
import { NAME_PATTERN } from "../model/ref.js";
import { parseVersion } from "../model/version.js";
import { ConfinedDir } from "./confined-path.js";
import { clearStaleLocks } from "./stale-locks.js";
import { CommitWriter, lockRef, TagNotMade, type Signer } from "./git-commit.js";
import type { StoreSettings } from "./git-config.js";
import { activeHooks, CommitHooks, type CommitIdentity } from "./git-hooks.js";
import { cleanMessage, formatDate, formatIdent, stagedEntries, type GitObject, type HashAlgorithm, type TreeEntry, type TreeSnapshot } from "./git-objects.js";
import { IndexStager, type Staged } from "./index-stager.js";
import { commitTreeSigned, DAEMON_EMAIL, gitEnv, spawnGit, spawnGitWithInput, type Person } from "./git-process.js";
import { StoreDirs } from "./git-dirs.js";
import { StoreGitSettings } from "./git-settings.js";
import { onlyFiles, PRIVATE_INDEX, PrivateIndex, readIndexEntries } from "./private-index.js";

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

/** Commits between two runs of git's own maintenance (see `committed`). */
const MAINTENANCE_EVERY = 100;

export class GitRepo {
  private queue: Promise<unknown> = Promise.resolve();
  /** One git process at a time per store, whether or not the caller holds `exclusive`. */
  private processes: Promise<unknown> = Promise.resolve();
  private created = false;
  private commitsSinceMaintenance = 0;
  private readonly commits: CommitWriter;
  private readonly settings: StoreGitSettings;
  private readonly hooks: CommitHooks;
  private readonly stager: IndexStager;
  /** The work tree: every file the daemon touches in it (and in the git folders: dirs) goes through confined-path.ts. */
  private readonly workTree: ConfinedDir;
  /**
   * The HEAD whose changes the daemon has taken in (undefined until start
   * reads it). Its own commits move it along as they are made; a commit,
   * pull or checkout by a person leaves it behind until the watcher takes
   * that in (external-commits.ts). Files are clean or dirty against it.
   */
  takenHead: string | null | undefined = undefined;

  /** Throws store_busy or store_missing when the store may not be committed to now (store-guard.ts); the composition module sets it. */
  writable: () => void = () => undefined;

  /**
   * `log` hears what is not a request's error: a failed post-commit hook.
   * `dirs`: where the repository is (the owner resolves it at start; a
   * plain `<dir>/.git` until then).
   */
  constructor(
    readonly dir: string,
    private readonly logger?: Log,
    readonly dirs: StoreDirs = new StoreDirs(dir),
  ) {
    this.commits = new CommitWriter(dirs, (args) => spawnGit(dir, args));
    this.workTree = new ConfinedDir(dir);
    this.settings = new StoreGitSettings(dirs, (work) => this.inTurn(work));
    this.hooks = new CommitHooks(dir, dirs, logger);
    this.stager = new IndexStager(dirs, this.workTree);
  }

  /** The git dir's files (per work tree: HEAD, the index, the daemon's own files). */
  private get gitFiles(): ConfinedDir {
    return this.dirs.gitFiles;
  }

  /**
   * What the store's config asks of commits, read now (start): throws
   * store_refused, naming the setting, for a repository format the writer
   * does not implement or signing that cannot work.
   */
  storeSettings(): Promise<StoreSettings> {
    return this.settings.current();
  }

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

  /** Runs `work` (git processes of the caller's own, e.g. a sync's plumbing: sync-git.ts) in the store's turn, after every git command queued before it. */
  turn<T>(work: () => Promise<T>): Promise<T> {
    return this.inTurn(work);
  }

  /** Writes objects (a sync's merged blobs) into the store, durably, as a commit's are. */
  storeObjects(objects: readonly GitObject[]): Promise<void> {
    return this.inTurn(() => this.commits.writeObjects(objects));
  }

  /**
   * Moves the branch from `from` to `to` (a sync's merge commit, or the
   * remote's commit for a fast-forward), the index entries of `paths` made
   * `to`'s under git's index.lock (whatever else a person staged stays
   * staged); the caller has written the files. The branch is moved only if
   * it still holds `from` (conflict otherwise); on any failure the index and
   * the branch are as they were. The caller holds `exclusive`.
   */
  async advance(from: string, to: string, paths: readonly string[], reflog: string): Promise<void> {
    this.writable();
    const head = this.commits.readHead();
    if (head.commit !== from || head.ref === "HEAD") {
      throw new DaemonError("conflict", `the store's branch moved while the sync was being applied (it holds ${head.commit?.slice(0, 12) ?? "nothing"}); nothing was changed: sync again`, { branch: head.ref });
    }
    const index = await PrivateIndex.take(this.gitFiles, head.ref.replace(/^refs\/heads\//, ""));
    try {
      const env = index.env;
      if (index.copyReal()) await this.inTurn(() => spawnGit(this.dir, ["read-tree", from], env));
      if (paths.length > 0) {
        const reset = ["--literal-pathspecs", "reset", "--quiet", "--no-refresh", to, "--pathspec-from-file=-", "--pathspec-file-nul"];
        await this.inTurn(() => spawnGitWithInput(this.dir, reset, paths.join("\0"), { ...gitEnv(), ...env }));
      }
      await this.inTurn(() => spawnGit(this.dir, ["update-ref", "-m", reflog, head.ref, to, from]));
    } catch (err) {
      index.release();
      throw asUnavailable(err, this.dir);
    }
    this.stager.forget();
    this.publish(index, [...paths], undefined);
    if (this.takenHead === from) this.takenHead = to;
  }

  /** Runs `operation` after every operation queued before it; the queue goes on if it fails. */
  exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.queue.then(operation, operation);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Removes the lock files a killed writer left, when no process works in the store (stale-locks.ts); the paths removed. */
  clearStaleLocks(): string[] {
    return clearStaleLocks(this.dir, this.dirs);
  }

  /** A file of the daemon's own in the git directory (never tracked), e.g. a store change's intent; undefined when there is none. */
  readOwnFile(name: string): string | undefined {
    return this.gitFiles.readText(name);
  }

  /** Replaces a file of the daemon's own in the git directory, never through a link. */
  writeOwnFile(name: string, text: string): void {
    this.gitFiles.write(name, text, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC);
  }

  removeOwnFile(name: string): void {
    rmSync(this.gitFiles.path(name), { force: true });
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
   * out of this commit. As `git commit -- <paths>` does it (private-index.ts):
   * under git's index.lock the paths are staged into a private index, the
   * commit takes the blobs and modes staged there, and the private index
   * becomes the index once the branch has moved. The daemon stages them
   * itself (index-stager.ts: the blobs from the files, the index written
   * split, a few KB whatever the store's size) unless a setting, an
   * attributes file or a commit hook asks for git's own staging: then `git
   * add -A` stages them into a copy of the index (its attributes, eol and
   * filters applied). The objects, the branch and its reflog are written by
   * git-commit.ts, and `tag` (when given) with them.
   * Returns the full hash; "nothing to commit" when the tree would not
   * change. A path that is a link or under one is unsafe_path, before git
   * sees it. The store's commit hooks run around it (seeing the private
   * index, as git's do for such a commit) and its signing setting signs it;
   * a hook refusing is store_refused. An index.lock someone else holds is
   * store_busy once INDEX_LOCK_WAIT_MS has passed; a branch moved meanwhile
   * is built on (or conflict, when it changed these paths too). On any
   * failure HEAD, the tags and the index are as they were, and a disk that
   * cannot take the commit is `unavailable`.
   */
  async commitPaths(paths: string[], message: string, agentId: string | undefined, tag?: string): Promise<string> {
    this.writable();
    const cleaned = cleanMessage(message);
    if (cleaned === null) throw new Error("git commit failed: the message is empty");
    if (tag !== undefined && !isTagName(tag)) throw new Error(`not a tag name: ${tag}`);
    for (const path of paths) this.workTree.path(path);
    // A stat of the config files and of each hook (no process) unless the config changed.
    const settings = await this.settings.current();
    const hooks = activeHooks(settings.hooksDir);
    const now = new Date();
    const by = { author: author(agentId), committer: author(undefined) };
    const who: CommitIdentity = { author: person(by.author), date: `@${formatDate(now)}` };
    const sign: Signer | undefined = settings.signCommits
      ? (tree, parent, body) => commitTreeSigned(this.dir, { tree, parent, message: body, author: who.author, committer: person(by.committer), date: who.date })
      : undefined;
    let index: PrivateIndex | undefined;
    let commit: string;
    let parent: string | null;
    let blobs: GitObject[] = [];
    let published: (() => void) | undefined;
    try {
      const base = this.commits.readHead();
      index = await PrivateIndex.take(this.gitFiles, base.ref.replace(/^refs\/heads\//, ""));
      // Read again under the lock: a person's commit that held it until now has moved the branch.
      const head = this.commits.readHead();
      const direct = head.commit === null || hooks.size > 0 || settings.gitStages !== null ? null : await this.stageDirectly(paths, head.commit, settings.fileMode);
      let text = cleaned;
      let staged: Map<string, TreeEntry | null>;
      if (direct !== null) {
        index.write(direct.index);
        staged = direct.entries;
        blobs = direct.blobs;
        published = direct.published;
      } else {
        const env = index.env;
        if (index.copyReal() && head.commit !== null) await this.inTurn(() => spawnGit(this.dir, ["read-tree", head.commit!], env));
        const add = () => spawnGit(this.dir, ["add", "-A", "--", ...paths], env);
        await this.inTurn(add);
        if (hooks.size > 0) text = await this.inTurn(() => this.hooks.beforeCommit(hooks, settings.hooksDir, cleaned, who, add, index!.path));
        // Read in-process (a process less per save); git lists it when the reader does not take the file.
        const read = head.commit === null ? undefined : readIndexEntries(this.gitFiles.read(PRIVATE_INDEX) ?? Buffer.alloc(0), paths, head.commit.length / 2);
        staged = read ?? stagedEntries(await this.inTurn(() => spawnGit(this.dir, ["ls-files", "-s", "-z", "--", ...paths], env)), paths);
      }
      onlyFiles(staged, this.workTree);
      ({ commit, parent } = await this.inTurn(() => this.commits.write(head, staged, text, formatIdent(by.author, now), formatIdent(by.committer, now), { tag, sign, blobs })));
    } catch (err) {
      if (err instanceof TagNotMade) await this.uncommit(err.commit).catch(() => undefined);
      index?.release();
      throw asUnavailable(err, this.dir);
    }
    this.publish(index, paths, published);
    // On top of what was taken in: nothing new from anyone else to take in. Otherwise the watcher walks from there.
    if (parent === this.takenHead) this.takenHead = commit;
    this.committed();
    if (hooks.has("post-commit")) await this.inTurn(() => this.hooks.afterCommit(settings.hooksDir, commit, who));
    return commit;
  }

  /** The daemon stages the paths itself (index-stager.ts); null when git must, and why is logged. */
  private async stageDirectly(paths: readonly string[], head: string, fileMode: boolean): Promise<Staged | null> {
    const staged = await this.stager.stage(paths, head.length === 64 ? "sha256" : "sha1", fileMode);
    if (typeof staged !== "string") return staged;
    this.logger?.debug({ store: this.dir, reason: staged }, "git stages this change");
    return null;
  }

  /**
   * The private index becomes the index. Should a rename fail (it needs no
   * space), the commit stands: the paths are reset to HEAD's entries in the
   * real index instead, which is what the private one held for them.
   */
  private publish(index: PrivateIndex, paths: string[], published: (() => void) | undefined): void {
    try {
      index.publish();
      published?.();
    } catch (err) {
      this.stager.forget();
      index.release();
      this.logger?.warn({ err, paths }, "the index could not be updated after a commit; the paths are reset to HEAD in it instead");
      void this.unstage(paths).catch(() => undefined);
    }
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
    if (this.takenHead === commit) this.takenHead = parent;
  }

  /**
   * A lightweight tag on `commit`; fails if the tag exists. Written as a
   * loose ref the way git writes one — the `.lock` file created exclusively
   * is git's own lock, so a git process run by hand at the same moment
   * waits for it or fails rather than racing — without a process: one per
   * save was a fifth of its time.
   */
  async tag(name: string, commit: string): Promise<void> {
    this.writable();
    if (!isTagName(name)) throw new Error(`not a tag name: ${name}`);
    if (!/^[0-9a-f]{40,64}$/.test(commit)) throw new Error(`not a commit id: ${commit}`);
    // Refs are written as files: never into a repository whose format says otherwise.
    await this.settings.current();
    const ref = `refs/tags/${name}`;
    const refs = this.dirs.refFiles(ref);
    mkdirSync(refs.path("refs/tags"), { recursive: true });
    await lockRef(refs, ref, commit, `cannot make tag ${name}`);
    const lock = refs.path(`${ref}.lock`);
    try {
      if (this.tagExists(name)) throw new Error(`tag ${name} already exists`);
      renameSync(lock, refs.path(ref));
    } catch (err) {
      rmSync(lock, { force: true });
      throw err;
    }
  }

  /** Lightweight tags for one commit (the seed tags dozens of patterns at once). */
  async tagAll(names: readonly string[], commit: string): Promise<void> {
    for (const name of names) await this.tag(name, commit);
  }

  /** Read from the repository's files (loose ref or packed-refs), without a process: it is asked on every save. */
  tagExists(name: string): boolean {
    return this.commits.tagExists(name);
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

  /**
   * HEAD's commit as the repository's files have it, without a process (it
   * is asked on every watcher event); undefined when they cannot be read
   * that way (an odd ref, a repository gone), so the caller asks git.
   */
  headFromFiles(): string | null | undefined {
    try {
      return this.commits.readHead().commit;
    } catch {
      return undefined;
    }
  }

  /** The HEAD taken in; HEAD itself while nothing keeps track (before start, or a store used without a watcher). */
  async takenIn(): Promise<string | null> {
    if (this.takenHead !== undefined) return this.takenHead;
    const now = this.headFromFiles();
    return now !== undefined ? now : this.head();
  }

  /** The tree of a commit (null: the empty tree before the first), with the store's hash algorithm. */
  treeAt(commit: string | null): Promise<{ tree: TreeSnapshot; algorithm: HashAlgorithm }> {
    return this.inTurn(() => this.commits.treeAt(commit));
  }

  /**
   * The commits in `head` but not in `base` (base..head), oldest first, each
   * with the files it added, changed or deleted against its first parent
   * (merges list none: what they bring is listed under the commits merged)
   * and whether the daemon made it (its committer). One process however
   * long the range. Throws when `base` is not a commit here any more.
   * A null base: every commit of `head`.
   */
  async commitsBetween(base: string | null, head: string): Promise<RangeCommit[]> {
    const range = base === null ? [head] : [`^${base}`, head];
    const out = await this.raw(["log", "--reverse", "--topo-order", "--no-renames", "--name-status", `--format=${RECORD}%H${FIELD}%ce`, ...range, "--"]);
    const commits: RangeCommit[] = [];
    for (const record of out.split(RECORD)) {
      const [header, ...rest] = record.split("\n");
      if (header === undefined || !header.includes(FIELD)) continue;
      const [commit, email] = header.split(FIELD) as [string, string];
      const paths = rest
        .map((line) => /^([ADMT])\t(.+)$/.exec(line))
        .filter((match) => match !== null)
        .map((match) => ({ path: match[2]!, deleted: match[1] === "D" }));
      commits.push({ commit, own: email === DAEMON_EMAIL, paths });
    }
    return commits;
  }

  /**
   * The text of many `<revision>:<path>` blobs through one `git cat-file
   * --batch`; undefined for those that are not there.
   */
  async blobs(specs: readonly string[]): Promise<Map<string, string | undefined>> {
    const found = new Map<string, string | undefined>();
    if (specs.length === 0) return found;
    // One spec a line: a newline in one would be read as two.
    const asked = specs.filter((spec) => !spec.includes("\n"));
    const out = await this.inTurn(() => spawnGitWithInput(this.dir, ["cat-file", "--batch"], asked.map((spec) => `${spec}\n`).join("")));
    let at = 0;
    for (const spec of asked) {
      const nl = out.indexOf(0x0a, at);
      if (nl === -1) break;
      const header = /^[0-9a-f]+ (\w+) (\d+)$/.exec(out.toString("utf8", at, nl));
      at = nl + 1;
      if (header === null) {
        found.set(spec, undefined);
        continue;
      }
      const size = Number(header[2]);
      found.set(spec, header[1] === "blob" ? out.toString("utf8", at, at + size) : undefined);
      at += size + 1;
    }
    return found;
  }

  /** The newest commit (from `revision` back) touching each of `paths`, one process for all of them. */
  async lastCommitsOf(paths: readonly string[], revision: string): Promise<Map<string, string>> {
    const wanted = new Set(paths);
    const found = new Map<string, string>();
    if (wanted.size === 0) return found;
    const out = await this.raw(["log", "--no-renames", "--name-only", `--format=${RECORD}%H`, revision, "--", ...wanted]);
    for (const record of out.split(RECORD)) {
      const [commit, ...names] = record.split("\n");
      if (commit === undefined || commit === "") continue;
      for (const name of names) if (wanted.has(name) && !found.has(name)) found.set(name, commit);
    }
    return found;
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

  /** Commits touching `path`, newest first, from HEAD or `revision` (following renames is not needed: paths are derived from names). */
  async log(path: string, limit?: number, revision?: string): Promise<LogEntry[]> {
    const args = ["log", `--format=%H${FIELD}%an${FIELD}%ae${FIELD}%aI${FIELD}%B${RECORD}`];
    if (limit !== undefined) args.push(`-n${limit}`);
    if (revision !== undefined) args.push(revision);
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

/** `name <email>` split (as author() makes it). */
function person(ident: string): Person {
  const at = ident.lastIndexOf(" <");
  return { name: ident.slice(0, at), email: ident.slice(at + 2, -1) };
}

/** `name@version`: a safe file name under refs/tags (and never git's `.lock`). */
function isTagName(name: string): boolean {
  const parts = name.split("@");
  return parts.length === 2 && NAME_PATTERN.test(parts[0]!) && parseVersion(parts[1]!) !== null && !name.endsWith(".lock");
}
