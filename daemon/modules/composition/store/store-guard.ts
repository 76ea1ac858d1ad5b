/**
 * What the store is now, read from its folder and git directory (a few
 * stats and two small reads, no process): there and on its branch (ok),
 * busy (model/repo-state.ts: a detached HEAD, another branch, a person's
 * rebase, merge, cherry-pick, revert, am or bisect), or missing (the
 * folder or its repository removed). HEAD and the operation markers are
 * read from the work tree's git dir, the branches from the common dir
 * (git-dirs.ts), whatever the layout. Every commit and tag asks first
 * (GitRepo.writable); every composition request asks whether the store is
 * there. Holds the branch the daemon commits to, learned at start.
 * Those questions are asked thousands of times a second (system:health):
 * the reading of an untroubled store is kept until StoreWatch hears
 * anything in the folder or git dir; before a commit it is read afresh.
 */
import { lstatSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DaemonError } from "../../../core/errors.js";
import type { Log } from "../../../core/log.js";
import { headBranch, learnBranch, OPERATION_MARKERS, repoState, type BusyState, type GitDirView, type OperationMarker, type RepoState } from "../model/repo-state.js";
import type { StoreDirs } from "./git-dirs.js";
import { StoreWatch } from "./store-watch.js";

/** The store's state for system:health. */
export type StoreHealth =
  | { branch: string | null; state: "ok" }
  | { branch: string | null; state: "busy"; reason: BusyState; message: string; hint: string }
  | { branch: string | null; state: "missing"; reason: "folder_gone" | "repository_gone"; message: string };

interface Missing {
  reason: "folder_gone" | "repository_gone";
  message: string;
}

/** What one look at the folder and git dir found. */
type Reading = { missing: Missing; view?: undefined } | { missing?: undefined; view: GitDirView };

export class StoreGuard {
  private current: string | null = null;
  readonly dir: string;
  private readonly watch = new StoreWatch();
  /** The last reading, while it may be served: the store there with no operation under way, and nothing heard since. */
  private kept: { reading: Reading; generation: number } | null = null;
  /** Looks at the folder and git dir taken since start (what the kept reading saves shows in the unit tests). */
  readings = 0;

  /** `configured`: `--branch`, when given. */
  constructor(
    private readonly dirs: StoreDirs,
    private readonly configured: string | undefined,
    private readonly log: Log,
  ) {
    this.dir = dirs.workTree;
  }

  /** The branch the daemon commits to; null while it is not known (HEAD detached at start, several branches, no --branch). */
  get branch(): string | null {
    return this.current;
  }

  /**
   * Learns the branch (at start, and when a removed store is back): see
   * learnBranch. Says at warn what to run when the store cannot be
   * written now.
   */
  learn(): void {
    // The store may be another folder or repository now (dirs resolved again).
    this.forget();
    const head = this.readHead() ?? "";
    const { branch, source } = learnBranch(this.configured, head, this.localBranches());
    this.current = branch;
    if (source === "only_branch") this.log.warn({ branch }, `the store's HEAD is detached; its only branch ${branch} is the one the daemon commits to`);
    if (source === "unknown") {
      this.log.warn(
        { store: this.dir },
        "the store's HEAD is detached and it has several branches: the daemon commits to the first branch HEAD names from now on (git checkout BRANCH), or restart it with --branch NAME; reads are served meanwhile",
      );
    }
    const state = this.state();
    if (state.state === "busy") this.log.warn({ store: this.dir, state: state.reason, branch, hint: state.hint }, `${state.message}; reads are served meanwhile`);
  }

  /** Health's view; also adopts a branch HEAD names when none was known. */
  state(): StoreHealth {
    const reading = this.look();
    if (reading.missing !== undefined) return { branch: this.current, state: "missing", ...reading.missing };
    const repo = this.repoState(reading.view);
    if (repo.state === "ok") return { branch: this.current, state: "ok" };
    return { branch: this.current, state: "busy", reason: repo.state, message: repo.message, hint: repo.hint };
  }

  /** store_missing when the store's folder or repository is gone. */
  requirePresent(): void {
    const { missing } = this.look();
    if (missing !== undefined) throw this.missingError(missing.message);
  }

  /** True when a commit may be made now (no error thrown); read afresh. */
  writable(): boolean {
    this.forget();
    return this.state().state === "ok";
  }

  /** The next question reads the store afresh (the look every second: a folder above the store moved away is not heard by the watch). */
  forget(): void {
    this.kept = null;
  }

  /** Stops watching the store. */
  close(): void {
    this.watch.close();
    this.forget();
  }

  /**
   * Throws store_missing, or store_busy {state, branch, hint}, unless the
   * store is there, on its branch, with no operation of a person's under
   * way. A repository without any commit whose HEAD names another branch
   * than `--branch` is put on it first: what `git init -b NAME` would
   * have done (nothing is on any branch yet to lose).
   */
  requireWritable(): void {
    // About to commit: what a person did a moment ago counts, whatever the watch has delivered.
    this.forget();
    this.requirePresent();
    this.onConfiguredBranchIfEmpty();
    const repo = this.repoState(this.readView());
    if (repo.state === "ok") return;
    throw new DaemonError("store_busy", `${repo.message}; run it in ${this.dir}. Reads are served meanwhile; decisions tracked meanwhile are kept and committed once it ends`, {
      state: repo.state,
      branch: repo.branch,
      hint: repo.hint,
    });
  }

  private missingError(message: string): DaemonError {
    return new DaemonError("store_missing", message, { path: this.dir });
  }

  /**
   * The kept reading while the watch has heard nothing since it was taken;
   * else a new one (watched from before it is taken, so a change made
   * meanwhile is heard), kept when the store is there with no operation
   * under way: the one state asked about thousands of times a second.
   */
  private look(): Reading {
    const kept = this.kept;
    if (kept !== null && this.watch.quietSince(kept.generation)) return kept.reading;
    this.kept = null;
    const generation = this.watch.arm([this.dir, this.dirs.gitDir]);
    this.readings++;
    const missing = this.missing();
    if (missing !== undefined) return { missing };
    const reading: Reading = { view: this.readView() };
    if (generation !== null && reading.view.markers.size === 0) this.kept = { reading, generation };
    return reading;
  }

  /** Why the store is not there, or undefined when it is (its folder, with a repository holding HEAD: git-dirs.ts). */
  private missing(): Missing | undefined {
    if (!isDirectory(this.dir)) {
      return {
        reason: "folder_gone",
        message: `the store ${this.dir} is gone (removed or moved away); the daemon picks it up again, without a restart, when the folder is back (moved back, or re-created with git init)`,
      };
    }
    if (!this.dirs.present()) {
      return {
        reason: "repository_gone",
        message: `the store ${this.dir} is no git repository any more (its .git, or the repository its .git file points at, is gone); the daemon picks it up again, without a restart, when it is back (git init in ${this.dir}, or the repository restored)`,
      };
    }
    return undefined;
  }

  /** HEAD and the operation markers, from the git dir. */
  private readView(): GitDirView {
    const markers = new Set<OperationMarker>(OPERATION_MARKERS.filter((marker) => lstatSync(join(this.dirs.gitDir, marker), { throwIfNoEntry: false }) !== undefined));
    const sequencerTodo = markers.has("sequencer") ? this.read("sequencer/todo")?.split("\n")[0] : undefined;
    return { head: this.readHead() ?? "", markers, sequencerTodo };
  }

  /** The state `view` means for the daemon's branch; adopts the branch HEAD names when none was known. */
  private repoState(view: GitDirView): RepoState {
    const state = repoState(view, this.current);
    if (state.state === "ok" && this.current === null) {
      this.current = state.branch;
      this.log.info({ branch: state.branch, store: this.dir }, `HEAD names the branch ${state.branch}: the daemon commits to it from now on`);
    }
    return state;
  }

  /** Points HEAD of a repository without any commit at `--branch` (see requireWritable). */
  private onConfiguredBranchIfEmpty(): void {
    if (this.configured === undefined) return;
    const named = headBranch(this.readHead() ?? "");
    if (named === null || named === this.configured || this.localBranches().length > 0) return;
    const temp = join(this.dirs.gitDir, "HEAD.lock");
    try {
      writeFileSync(temp, `ref: refs/heads/${this.configured}\n`, { flag: "wx" });
      renameSync(temp, join(this.dirs.gitDir, "HEAD"));
      this.log.info({ branch: this.configured, was: named }, "the store has no commit yet: its HEAD now names the branch given with --branch");
    } catch {
      // git holds HEAD.lock: the state check below says what HEAD names
    }
  }

  private readHead(): string | undefined {
    return this.read("HEAD");
  }

  /** A file of the git dir (`inDir`: of another folder, the common dir). */
  private read(name: string, inDir = this.dirs.gitDir): string | undefined {
    try {
      return readFileSync(join(inDir, name), "utf8");
    } catch {
      return undefined;
    }
  }

  /** Local branch names: loose refs under refs/heads and packed ones (the common dir's). */
  private localBranches(): string[] {
    const names = new Set<string>();
    const walk = (folder: string, prefix: string) => {
      let entries;
      try {
        entries = readdirSync(join(this.dirs.commonDir, folder), { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        if (entry.isDirectory()) walk(`${folder}/${entry.name}`, `${prefix}${entry.name}/`);
        else if (entry.isFile() && !entry.name.endsWith(".lock")) names.add(`${prefix}${entry.name}`);
      }
    };
    walk("refs/heads", "");
    for (const line of (this.read("packed-refs", this.dirs.commonDir) ?? "").split("\n")) {
      const match = /^[0-9a-f]{40,64} refs\/heads\/(.+)$/.exec(line);
      if (match !== null) names.add(match[1]!);
    }
    return [...names].sort();
  }
}

/** A folder, or a link to one (a --store given through a link). */
function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
}
