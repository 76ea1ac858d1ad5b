/**
 * The store's commit hooks, run for the daemon's commits the way `git
 * commit -m` runs them: pre-commit, prepare-commit-msg and commit-msg
 * before the commit (any of them exiting non-zero refuses it:
 * store_refused with the hook's output), post-commit after it (a failure
 * is logged; the commit stands). In the work tree, with the user's
 * environment minus ambient GIT_*, and what git sets for hooks: the index
 * (before the commit: the commit's private index, as git points the hooks
 * of `git commit -- <paths>` at its temporary one), GIT_EDITOR=:, and the
 * author. Other hooks (reference-transaction,
 * post-index-change, ...) are not run for the daemon's writes.
 */
import { accessSync, constants, statSync } from "node:fs";
import { join } from "node:path";
import { DaemonError } from "../../../core/errors.js";
import type { Log } from "../../../core/log.js";
import type { StoreDirs } from "./git-dirs.js";
import { cleanMessage } from "./git-objects.js";
import { spawnHook, userEnv, type Person } from "./git-process.js";

export const COMMIT_HOOKS = ["pre-commit", "prepare-commit-msg", "commit-msg", "post-commit"] as const;
export type CommitHook = (typeof COMMIT_HOOKS)[number];

/** A hook still running after this is stopped and the commit refused: the store's writes wait for it meanwhile, and a client waits 30 s by default. */
export const HOOK_TIMEOUT_MS = 20_000;

/** The most of a hook's output put into an error message (details.output has more). */
const MESSAGE_OUTPUT = 1_000;
const DETAILS_OUTPUT = 8_000;

/** The real index, in the git dir: git names it to the hooks of a plain `git commit` as `$GIT_DIR/index` (`.git/index` in a plain clone). */
const INDEX_FILE = "index";

/** The message file git hands the message hooks, in the git dir, named as git names it (relative to the work tree, their working directory, in a plain clone). */
const MESSAGE_FILE = "COMMIT_EDITMSG";

/** Who a commit is by and when, as hooks see it (GIT_AUTHOR_*). `date` is git's `@<seconds> <zone>`. */
export interface CommitIdentity {
  author: Person;
  date: string;
}

/** The commit hooks that would run now: an executable file each, as git looks for them (a few stats; no process). */
export function activeHooks(hooksDir: string): Set<CommitHook> {
  const active = new Set<CommitHook>();
  for (const hook of COMMIT_HOOKS) {
    const path = join(hooksDir, hook);
    try {
      accessSync(path, constants.X_OK);
      if (statSync(path).isFile()) active.add(hook);
    } catch {
      // not there, or not executable: git skips it too
    }
  }
  return active;
}

export class CommitHooks {
  constructor(
    private readonly workTree: string,
    /** Where the repository is: the message file is written in the git dir (never through a link). */
    private readonly dirs: StoreDirs,
    private readonly log: Log | undefined,
  ) {}

  /**
   * pre-commit, then (`restage`: the index brought along with what
   * pre-commit left in the files) prepare-commit-msg and commit-msg on the
   * message in COMMIT_EDITMSG. `indexFile` is the index the commit is made
   * from (absolute), which a hook that stages reads and writes. Returns the
   * message to commit, as the hooks left it; throws store_refused when one
   * refuses.
   */
  async beforeCommit(
    active: ReadonlySet<CommitHook>,
    hooksDir: string,
    message: string,
    who: CommitIdentity,
    restage: () => Promise<unknown>,
    indexFile = this.dirs.named(INDEX_FILE),
  ): Promise<string> {
    if (active.has("pre-commit")) {
      await this.mustPass(hooksDir, "pre-commit", [], who, indexFile);
      await restage();
    }
    if (!active.has("prepare-commit-msg") && !active.has("commit-msg")) return message;
    this.dirs.gitFiles.write(MESSAGE_FILE, message, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC);
    const file = this.dirs.named(MESSAGE_FILE);
    if (active.has("prepare-commit-msg")) await this.mustPass(hooksDir, "prepare-commit-msg", [file, "message"], who, indexFile);
    if (active.has("commit-msg")) await this.mustPass(hooksDir, "commit-msg", [file], who, indexFile);
    const edited = cleanMessage(this.dirs.gitFiles.readText(MESSAGE_FILE) ?? "");
    if (edited === null) throw new DaemonError("store_refused", "the store's commit message hooks left the message empty; nothing was committed", { hook: "commit-msg" });
    return edited;
  }

  /** post-commit: its failure is logged, never the request's. */
  async afterCommit(hooksDir: string, commit: string, who: CommitIdentity): Promise<void> {
    const run = await spawnHook(join(hooksDir, "post-commit"), [], this.workTree, this.env(who, this.dirs.named(INDEX_FILE)), HOOK_TIMEOUT_MS);
    if (run.code === 0) return;
    this.log?.warn(
      { hook: "post-commit", commit, exit_code: run.code, timed_out: run.timedOut, output: run.output.slice(0, DETAILS_OUTPUT) },
      "the store's post-commit hook failed; the commit stands",
    );
  }

  private async mustPass(hooksDir: string, hook: CommitHook, args: string[], who: CommitIdentity, indexFile: string): Promise<void> {
    const run = await spawnHook(join(hooksDir, hook), args, this.workTree, this.env(who, indexFile), HOOK_TIMEOUT_MS);
    if (run.code === 0) return;
    const output = run.output.trim();
    const shown = output.length > MESSAGE_OUTPUT ? `${output.slice(0, MESSAGE_OUTPUT)}… (${output.length - MESSAGE_OUTPUT} more characters in details.output)` : output;
    const why = run.timedOut ? `did not finish within ${HOOK_TIMEOUT_MS / 1000} s and was stopped` : run.code === null ? "could not run" : `refused the commit (exit ${run.code})`;
    throw new DaemonError(
      "store_refused",
      `the store's ${hook} hook (${join(hooksDir, hook)}) ${why}; nothing was committed${shown === "" ? "" : `. Its output:\n${shown}`}`,
      { hook, exit_code: run.code, output: output.slice(0, DETAILS_OUTPUT) },
    );
  }

  /** What git sets for its commit hooks. */
  private env(who: CommitIdentity, indexFile: string): NodeJS.ProcessEnv {
    return {
      ...userEnv(),
      GIT_INDEX_FILE: indexFile,
      GIT_EDITOR: ":",
      GIT_PREFIX: "",
      GIT_AUTHOR_NAME: who.author.name,
      GIT_AUTHOR_EMAIL: who.author.email,
      GIT_AUTHOR_DATE: who.date,
    };
  }
}
