/**
 * Whether the daemon may commit to its store now, from what the store's
 * git directory holds (pure: store/store-guard.ts reads the files). The
 * daemon commits only to the store's branch: never to a detached HEAD,
 * another branch, or in the middle of a person's rebase, merge,
 * cherry-pick, revert, `git am` or bisect — a commit made there is gone
 * from the branch once the person finishes (issue 24: 271 of 299
 * acknowledged saves lost in one `rebase --abort`). Each state names the
 * git command that ends it.
 */

/** The files and folders in the git directory that say a person's operation is under way. */
export const OPERATION_MARKERS = [
  "rebase-merge",
  "rebase-apply",
  "rebase-apply/applying",
  "MERGE_HEAD",
  "CHERRY_PICK_HEAD",
  "REVERT_HEAD",
  "sequencer",
  "BISECT_LOG",
] as const;

export type OperationMarker = (typeof OPERATION_MARKERS)[number];

/** Why the store may not be written now (the `state` of a store_busy error). */
export type BusyState = "detached" | "other_branch" | "rebase" | "am" | "merge" | "cherry_pick" | "revert" | "bisect";

/** What was read from the git directory. */
export interface GitDirView {
  /** The text of HEAD (the work tree's own, in its git dir). */
  head: string;
  /** The operation markers present. */
  markers: ReadonlySet<OperationMarker>;
  /** The first line of sequencer/todo, when there is one (a cherry-pick or revert of several commits). */
  sequencerTodo?: string | undefined;
}

export type RepoState =
  | { state: "ok"; branch: string }
  | { state: BusyState; branch: string | null; message: string; hint: string };

/** The branch HEAD names (`ref: refs/heads/<name>`), or null when it is detached (or names something else). */
export function headBranch(head: string): string | null {
  const match = /^ref: refs\/heads\/(.+)$/.exec(head.trim());
  return match === null ? null : match[1]!;
}

/**
 * The state of the store for a daemon whose branch is `branch` (null: not
 * known yet — then HEAD naming a branch, with no operation under way, is
 * ok and that branch is the one: the caller adopts it). Operations are
 * looked at before HEAD: during a rebase or bisect HEAD is detached, and
 * the operation is what the person has to end.
 */
export function repoState(view: GitDirView, branch: string | null): RepoState {
  const busy = (state: BusyState, what: string, hint: string): RepoState => ({
    state,
    branch,
    message: `${what}; the daemon does not commit until it ends (${hint})`,
    hint,
  });
  const has = (marker: OperationMarker) => view.markers.has(marker);
  if (has("rebase-apply/applying")) return busy("am", "a git am is in progress in the store", "git am --continue, or git am --abort");
  if (has("rebase-merge") || has("rebase-apply")) return busy("rebase", "a rebase is in progress in the store", "git rebase --continue, or git rebase --abort");
  if (has("MERGE_HEAD")) return busy("merge", "a merge is in progress in the store", "git merge --continue once the conflicts are resolved, or git merge --abort");
  if (has("REVERT_HEAD") || (has("sequencer") && /^\s*revert\b/.test(view.sequencerTodo ?? ""))) {
    return busy("revert", "a revert is in progress in the store", "git revert --continue, or git revert --abort");
  }
  if (has("CHERRY_PICK_HEAD") || has("sequencer")) {
    return busy("cherry_pick", "a cherry-pick is in progress in the store", "git cherry-pick --continue, or git cherry-pick --abort");
  }
  if (has("BISECT_LOG")) return busy("bisect", "a bisect is in progress in the store", "git bisect reset");
  const named = headBranch(view.head);
  const back = branch === null ? "git checkout BRANCH (the branch the daemon commits to), or restart the daemon with --branch NAME" : `git checkout ${branch}`;
  if (named === null) {
    const at = /^[0-9a-f]{7,64}$/.test(view.head.trim()) ? ` at ${view.head.trim().slice(0, 12)}` : "";
    const which = branch === null ? "and the daemon does not know which branch to commit to" : `not on the store's branch ${branch}`;
    return busy("detached", `the store's HEAD is detached${at}, ${which}`, back);
  }
  if (branch !== null && named !== branch) return busy("other_branch", `the store has the branch ${named} checked out, not its branch ${branch}`, back);
  return { state: "ok", branch: named };
}

/** Where the store's branch was learned from (logged at start). */
export type BranchSource = "option" | "head" | "only_branch" | "unknown";

/**
 * The branch the daemon commits to: `--branch` when given; else the one
 * HEAD names (an unborn one counts); else, HEAD being detached, the only
 * local branch when there is exactly one; else unknown until HEAD names
 * one (repoState then answers `detached` with a generic hint).
 */
export function learnBranch(configured: string | undefined, head: string, localBranches: readonly string[]): { branch: string | null; source: BranchSource } {
  if (configured !== undefined) return { branch: configured, source: "option" };
  const named = headBranch(head);
  if (named !== null) return { branch: named, source: "head" };
  if (localBranches.length === 1) return { branch: localBranches[0]!, source: "only_branch" };
  return { branch: null, source: "unknown" };
}
