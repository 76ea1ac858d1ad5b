import { describe, expect, it } from "vitest";
import { headBranch, learnBranch, repoState, type OperationMarker } from "./repo-state.js";

const ON_MAIN = "ref: refs/heads/main\n";
const DETACHED = "1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d\n";

function view(head: string, markers: OperationMarker[] = [], sequencerTodo?: string) {
  return { head, markers: new Set(markers), sequencerTodo };
}

describe("headBranch", () => {
  it.each([
    [ON_MAIN, "main"],
    ["ref: refs/heads/feature/x", "feature/x"],
    [DETACHED, null],
    ["ref: refs/remotes/origin/main", null],
    ["", null],
  ])("%j → %s", (head, branch) => {
    expect(headBranch(head)).toBe(branch);
  });
});

describe("repoState", () => {
  it.each([
    // [what, HEAD, markers, branch known, state, hint]
    ["on its branch", ON_MAIN, [], "main", "ok", undefined],
    ["an unborn branch (no commit yet) is the branch", "ref: refs/heads/master\n", [], "master", "ok", undefined],
    ["detached", DETACHED, [], "main", "detached", "git checkout main"],
    ["detached, branch unknown", DETACHED, [], null, "detached", "git checkout BRANCH (the branch the daemon commits to), or restart the daemon with --branch NAME"],
    ["another branch", "ref: refs/heads/feature\n", [], "main", "other_branch", "git checkout main"],
    ["rebase -i stopped (HEAD detached)", DETACHED, ["rebase-merge"], "main", "rebase", "git rebase --continue, or git rebase --abort"],
    ["rebase with the apply backend", DETACHED, ["rebase-apply"], "main", "rebase", "git rebase --continue, or git rebase --abort"],
    ["git am", ON_MAIN, ["rebase-apply", "rebase-apply/applying"], "main", "am", "git am --continue, or git am --abort"],
    ["merge with conflicts", ON_MAIN, ["MERGE_HEAD"], "main", "merge", "git merge --continue once the conflicts are resolved, or git merge --abort"],
    ["cherry-pick", ON_MAIN, ["CHERRY_PICK_HEAD"], "main", "cherry_pick", "git cherry-pick --continue, or git cherry-pick --abort"],
    ["revert", ON_MAIN, ["REVERT_HEAD"], "main", "revert", "git revert --continue, or git revert --abort"],
    ["bisect (HEAD detached)", DETACHED, ["BISECT_LOG"], "main", "bisect", "git bisect reset"],
    ["an operation is named before the branch it is on", "ref: refs/heads/feature\n", ["MERGE_HEAD"], "main", "merge", "git merge --continue once the conflicts are resolved, or git merge --abort"],
  ] as const)("%s", (_what, head, markers, branch, state, hint) => {
    const result = repoState(view(head, [...markers]), branch);
    expect(result.state).toBe(state);
    if (hint !== undefined) expect(result).toMatchObject({ hint, branch });
    if (result.state !== "ok") expect(result.message).toContain(hint);
  });

  it("a sequencer without CHERRY_PICK_HEAD is a cherry-pick or a revert, by its todo list", () => {
    expect(repoState(view(ON_MAIN, ["sequencer"], "pick 1a2b3c4 x"), "main").state).toBe("cherry_pick");
    expect(repoState(view(ON_MAIN, ["sequencer"], "revert 1a2b3c4 x"), "main").state).toBe("revert");
  });

  it("the detached message names the commit and the branch", () => {
    const result = repoState(view(DETACHED), "main");
    expect(result.state !== "ok" && result.message).toMatch(/HEAD is detached at 1a2b3c4d5e6f, not on the store's branch main/);
  });

  it("with no branch known, the branch HEAD names is ok (the caller adopts it)", () => {
    expect(repoState(view("ref: refs/heads/trunk\n"), null)).toEqual({ state: "ok", branch: "trunk" });
  });
});

describe("learnBranch", () => {
  it.each([
    ["--branch wins", "patterns", ON_MAIN, ["main"], { branch: "patterns", source: "option" }],
    ["the branch HEAD names", undefined, ON_MAIN, ["main", "other"], { branch: "main", source: "head" }],
    ["an unborn branch counts", undefined, "ref: refs/heads/master\n", [], { branch: "master", source: "head" }],
    ["detached, one local branch: that one", undefined, DETACHED, ["main"], { branch: "main", source: "only_branch" }],
    ["detached, several branches: unknown", undefined, DETACHED, ["main", "x"], { branch: null, source: "unknown" }],
    ["detached, no branch: unknown", undefined, DETACHED, [], { branch: null, source: "unknown" }],
  ] as const)("%s", (_what, configured, head, branches, expected) => {
    expect(learnBranch(configured, head, branches)).toEqual(expected);
  });
});
