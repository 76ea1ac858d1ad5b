/**
 * The git commands a sync with a remote needs (issue 19), run through the
 * store's git turn (git.ts) with argument arrays, never a shell: remotes
 * kept in the store's own git config, fetch into patternd's own ref
 * namespaces (so a fetch never clobbers a local branch or tag), trees and
 * histories read, a merge commit built in a temporary index, refs moved
 * with git's compare-and-swap, and push (never forced).
 */
import { rmSync } from "node:fs";
import { DaemonError } from "../../../core/errors.js";
import type { GitRepo } from "./git.js";
import { author } from "./git.js";
import { gitEnv, spawnGit, spawnGitRemote, spawnGitWithInput } from "./git-process.js";

/** A tree entry as ls-tree lists it. */
export interface SyncEntry {
  mode: string;
  id: string;
}

/** Where a remote's branches and tags are fetched to: patternd's own, never refs/heads or refs/tags. */
export const remoteBranchRef = (remote: string, branch: string) => `refs/patternd/remotes/${remote}/${branch}`;
export const remoteTagsPrefix = (remote: string) => `refs/patternd/remote-tags/${remote}/`;

/** The temporary index a merge commit's tree is built in (in the git dir; only the sync holding the store's turn uses it). */
const SYNC_INDEX = "patternd-sync-index";

/** How long a fetch or push may take before the remote counts as unreachable. */
const REMOTE_TIMEOUT_MS = 120_000;

export class SyncGit {
  constructor(private readonly git: GitRepo) {}

  private run(args: readonly string[], input?: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
    const dir = this.git.dir;
    return this.git.turn(async () =>
      input === undefined ? spawnGit(dir, args, env) : (await spawnGitWithInput(dir, args, input, { ...gitEnv(), ...env })).toString("utf8"),
    );
  }

  /** The remotes configured in the store's git config, by name. */
  async remotes(): Promise<Map<string, string>> {
    let out: string;
    try {
      out = await this.run(["config", "--null", "--get-regexp", "^remote\\..*\\.url$"]);
    } catch {
      return new Map();
    }
    const remotes = new Map<string, string>();
    for (const record of out.split("\0")) {
      const nl = record.indexOf("\n");
      if (nl === -1) continue;
      remotes.set(record.slice("remote.".length, nl - ".url".length), record.slice(nl + 1));
    }
    return remotes;
  }

  /** Adds (or re-points) a remote: `git remote -v` shows it; it never fetches tags into refs/tags (patternd fetches into its own namespace). */
  async setRemote(name: string, url: string): Promise<void> {
    await this.run(["config", `remote.${name}.url`, url]);
    await this.run(["config", `remote.${name}.tagOpt`, "--no-tags"]);
  }

  /** Removes a remote and what was fetched from it. */
  async removeRemote(name: string): Promise<void> {
    await this.run(["config", "--remove-section", `remote.${name}`]);
    const refs = [...(await this.refs(`refs/patternd/remotes/${name}/`)).keys(), ...(await this.refs(remoteTagsPrefix(name))).keys()];
    if (refs.length > 0) await this.run(["update-ref", "--stdin"], refs.map((ref) => `delete ${ref}\n`).join(""));
  }

  /** Fetches the remote's branches and tags into patternd's namespaces (forced there: they mirror the remote); unavailable when it cannot be reached. */
  async fetch(name: string, url: string): Promise<void> {
    const args = ["fetch", "--no-tags", "--prune", "--no-write-fetch-head", "--quiet", "--end-of-options", url, `+refs/heads/*:refs/patternd/remotes/${name}/*`, `+refs/tags/*:${remoteTagsPrefix(name)}*`];
    try {
      await spawnGitRemote(this.git.dir, args, REMOTE_TIMEOUT_MS);
    } catch (err) {
      throw unreachable(name, url, "fetch", err);
    }
  }

  /**
   * Pushes `commit` to the remote's branch and `tags` (name → commit), never
   * forced; "rejected" when the remote moved meanwhile. The tags go through
   * a namespace of patternd's own, pushed with one pattern: git matches
   * each explicit refspec against every ref (3 s for 2 000 tags here), a
   * pattern once.
   */
  async push(name: string, url: string, commit: string | null, branch: string, tags: ReadonlyMap<string, string>): Promise<"ok" | "rejected"> {
    const outbox = `refs/patternd/push/${name}/`;
    const stale = [...(await this.refs(outbox)).keys()].map((tag) => `delete ${outbox}${tag}`);
    await this.updateRefs([...stale, ...[...tags].map(([tag, at]) => `create ${outbox}${tag} ${at}`)]);
    const specs = [...(commit === null ? [] : [`${commit}:refs/heads/${branch}`]), ...(tags.size === 0 ? [] : [`${outbox}*:refs/tags/*`])];
    try {
      if (specs.length > 0) await spawnGitRemote(this.git.dir, ["push", "--porcelain", "--quiet", "--end-of-options", url, ...specs], REMOTE_TIMEOUT_MS);
      return "ok";
    } catch (err) {
      if (/\[rejected\]|non-fast-forward|fetch first|\(stale info\)|already exists/.test((err as Error).message)) return "rejected";
      throw unreachable(name, url, "push", err);
    } finally {
      await this.updateRefs([...tags.keys()].map((tag) => `delete ${outbox}${tag}`)).catch(() => undefined);
    }
  }

  /** The commit a ref or revision names; null when there is none. */
  async resolve(revision: string): Promise<string | null> {
    try {
      return (await this.run(["rev-parse", "--verify", "--quiet", "--end-of-options", `${revision}^{commit}`])).trim() || null;
    } catch {
      return null;
    }
  }

  async isAncestor(ancestor: string, of: string): Promise<boolean> {
    try {
      await this.run(["merge-base", "--is-ancestor", ancestor, of]);
      return true;
    } catch {
      return false;
    }
  }

  /** The best common ancestor; null for unrelated histories. */
  async mergeBase(a: string, b: string): Promise<string | null> {
    try {
      return (await this.run(["merge-base", a, b])).trim() || null;
    } catch {
      return null;
    }
  }

  /** Every file of a commit's tree (null: none). */
  async tree(commit: string | null): Promise<Map<string, SyncEntry>> {
    const entries = new Map<string, SyncEntry>();
    if (commit === null) return entries;
    for (const line of (await this.run(["ls-tree", "-r", "-z", "--full-tree", commit])).split("\0")) {
      const match = /^(\d+) blob ([0-9a-f]+)\t(.+)$/s.exec(line);
      if (match !== null) entries.set(match[3]!, { mode: match[1]!, id: match[2]! });
    }
    return entries;
  }

  /** Refs under a prefix → their commit (the short name: what follows the prefix). */
  async refs(prefix: string): Promise<Map<string, string>> {
    const out = await this.run(["for-each-ref", "--format=%(objectname) %(refname)", prefix]);
    const refs = new Map<string, string>();
    for (const line of out.split("\n")) {
      const space = line.indexOf(" ");
      if (space !== -1) refs.set(line.slice(space + 1 + prefix.length), line.slice(0, space));
    }
    return refs;
  }

  /** The blob ids of `<commit>:<path>` specs (undefined where there is none), one process for all. */
  async blobIds(specs: readonly string[]): Promise<Map<string, string | undefined>> {
    const found = new Map<string, string | undefined>();
    const asked = specs.filter((spec) => !spec.includes("\n"));
    if (asked.length === 0) return found;
    const out = await this.run(["cat-file", "--batch-check=%(objectname) %(objecttype)"], asked.map((spec) => `${spec}\n`).join(""));
    const lines = out.split("\n");
    asked.forEach((spec, i) => {
      const match = /^([0-9a-f]+) blob$/.exec(lines[i] ?? "");
      found.set(spec, match?.[1]);
    });
    return found;
  }

  /** Every blob each of `paths` ever had in `commit`'s history, newest first (to find what two unrelated histories share). */
  async historyBlobs(commit: string, paths: readonly string[]): Promise<Map<string, string[]>> {
    const seen = new Map<string, string[]>();
    if (paths.length === 0) return seen;
    const out = (await Promise.all(chunks(paths, ARGS_PER_PROCESS).map((piece) => this.run(["--literal-pathspecs", "log", "--format=", "--raw", "--no-abbrev", "--no-renames", "-z", commit, "--", ...piece])))).join("\0");
    // -z raw: ":<mode> <mode> <old> <new> <status>\0<path>\0"
    const parts = out.split("\0");
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const match = /^\n?:\d+ \d+ [0-9a-f]+ ([0-9a-f]+) \w+$/.exec(parts[i]!);
      if (match === null) {
        i--;
        continue;
      }
      const list = seen.get(parts[i + 1]!) ?? [];
      list.push(match[1]!);
      seen.set(parts[i + 1]!, list);
    }
    return seen;
  }

  /** `base`'s tree with `changes` (path → entry, null: removed), built in a temporary index; the tree's id. */
  async buildTree(base: string, changes: ReadonlyMap<string, SyncEntry | null>): Promise<string> {
    const path = this.git.dirs.gitFiles.path(SYNC_INDEX);
    const env = { GIT_INDEX_FILE: path };
    rmSync(path, { force: true });
    try {
      await this.run(["read-tree", base], undefined, env);
      const zero = "0".repeat(base.length);
      const lines = [...changes].map(([file, entry]) => (entry === null ? `0 ${zero}\t${file}\0` : `${entry.mode} ${entry.id}\t${file}\0`));
      if (lines.length > 0) await this.run(["update-index", "-z", "--index-info"], lines.join(""), env);
      return (await this.run(["write-tree"], undefined, env)).trim();
    } finally {
      rmSync(path, { force: true });
    }
  }

  /** A commit of `tree` on `parents`, authored by the agent, committed by patternd (its own commits are told that way). */
  async commitTree(tree: string, parents: readonly string[], message: string, agentId: string | undefined): Promise<string> {
    const who = author(agentId);
    const at = who.lastIndexOf(" <");
    const env = { GIT_AUTHOR_NAME: who.slice(0, at), GIT_AUTHOR_EMAIL: who.slice(at + 2, -1) };
    return (await this.run(["commit-tree", tree, ...parents.flatMap((p) => ["-p", p])], message, env)).trim();
  }

  /** A commit's whole message. */
  async message(commit: string): Promise<string> {
    return this.run(["log", "-1", "--format=%B", commit]);
  }

  /** Ref updates in one transaction (`update-ref --stdin` lines); all or none. */
  async updateRefs(lines: readonly string[]): Promise<void> {
    if (lines.length > 0) await this.run(["update-ref", "--stdin"], lines.map((line) => `${line}\n`).join(""));
  }
}

/** Paths or refspecs given to one git process (a command line has a limit). */
const ARGS_PER_PROCESS = 2_000;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** unavailable: the remote could not be reached or refused us (auth); local work is not affected. */
function unreachable(name: string, url: string, what: "fetch" | "push", err: unknown): DaemonError {
  const said = (err as Error).message.replace(/^git \w+ failed: /, "").split("\n").slice(0, 3).join(" ");
  return new DaemonError(
    "unavailable",
    `could not ${what} ${what === "fetch" ? "from" : "to"} remote ${name} (${url}): ${said}; nothing was changed, and local saves go on as before`,
    { remote: name, url, stage: what },
  );
}
