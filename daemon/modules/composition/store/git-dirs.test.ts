import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StoreFiles } from "./files.js";
import { StoreDirs } from "./git-dirs.js";
import { GitRepo } from "./git.js";

let root: string;

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "-c", "protocol.file.allow=always", ...args], {
    cwd,
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1" },
  });

/** A repository with one committed pattern, on main. */
function repo(dir: string, ...init: string[]): void {
  mkdirSync(join(dir, "orchestrations"), { recursive: true });
  git(dir, "init", "-q", "-b", "main", ...init);
  writeFileSync(join(dir, "orchestrations", "a.yaml"), "name: a\n");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "a");
}

beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "patternd-dirs-")));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("StoreDirs.resolve", () => {
  it("a plain clone: its .git folder is both dirs, named .git/… to people", async () => {
    repo(join(root, "s"));
    const dirs = new StoreDirs(join(root, "s"));
    await dirs.resolve();
    expect({ gitDir: dirs.gitDir, commonDir: dirs.commonDir, layout: dirs.layout }).toEqual({ gitDir: join(root, "s", ".git"), commonDir: join(root, "s", ".git"), layout: "plain" });
    expect(dirs.named("index.lock")).toBe(".git/index.lock");
    expect(dirs.present()).toBe(true);
  });

  it("no .git yet (the seed makes one): <store>/.git, not present", async () => {
    const dirs = new StoreDirs(join(root, "new"));
    await dirs.resolve();
    expect(dirs.gitDir).toBe(join(root, "new", ".git"));
    expect(dirs.present()).toBe(false);
  });

  it("a submodule: the git dir in the superproject's .git/modules, shared and per-worktree the same folder, named by absolute path", async () => {
    repo(join(root, "source"));
    mkdirSync(join(root, "super"));
    git(join(root, "super"), "init", "-q", "-b", "main");
    git(join(root, "super"), "submodule", "add", "-q", join(root, "source"), "var/lib/compositions");
    const store = join(root, "super", "var", "lib", "compositions");
    expect(lstatSync(join(store, ".git")).isFile()).toBe(true);
    const dirs = new StoreDirs(store);
    await dirs.resolve();
    const modules = join(root, "super", ".git", "modules", "var", "lib", "compositions");
    expect({ gitDir: dirs.gitDir, commonDir: dirs.commonDir, layout: dirs.layout }).toEqual({ gitDir: modules, commonDir: modules, layout: "separate_git_dir" });
    expect(dirs.named("index.lock")).toBe(join(modules, "index.lock"));
    expect(dirs.present()).toBe(true);
  });

  it("a linked worktree: HEAD and per-worktree refs in its own git dir, branches, tags and packed-refs in the main .git", async () => {
    repo(join(root, "main"));
    git(join(root, "main"), "worktree", "add", "-q", "-b", "work", join(root, "wt"));
    const dirs = new StoreDirs(join(root, "wt"));
    await dirs.resolve();
    expect({ gitDir: dirs.gitDir, commonDir: dirs.commonDir, layout: dirs.layout }).toEqual({
      gitDir: join(root, "main", ".git", "worktrees", "wt"),
      commonDir: join(root, "main", ".git"),
      layout: "linked_worktree",
    });
    expect(dirs.refFiles("HEAD").root).toBe(dirs.gitDir);
    expect(dirs.refFiles("refs/bisect/bad").root).toBe(dirs.gitDir);
    expect(dirs.refFiles("refs/worktree/x").root).toBe(dirs.gitDir);
    expect(dirs.refFiles("refs/heads/work").root).toBe(dirs.commonDir);
    expect(dirs.refFiles("refs/tags/a@1.0.0").root).toBe(dirs.commonDir);
  });

  it("a .git that is a symbolic link: unsafe_path, naming where it points", async () => {
    repo(join(root, "real"));
    mkdirSync(join(root, "s"));
    symlinkSync(join(root, "real", ".git"), join(root, "s", ".git"));
    await expect(new StoreDirs(join(root, "s")).resolve()).rejects.toMatchObject({ code: "unsafe_path", details: { target: join(root, "real", ".git") } });
  });

  it("a .git file pointing at nothing git takes: store_refused naming the folder; not present", async () => {
    mkdirSync(join(root, "s"));
    writeFileSync(join(root, "s", ".git"), "gitdir: ../gone.git\n");
    const dirs = new StoreDirs(join(root, "s"));
    await expect(dirs.resolve()).rejects.toMatchObject({ code: "store_refused", message: expect.stringMatching(/s\/\.git is a file pointing at .*gone\.git, which git does not take as a repository/) });
    expect(dirs.present()).toBe(false);
  });
});

describe("a commit in a linked worktree", () => {
  it("moves the worktree's branch and tags in the main .git, HEAD's reflog in the worktree's, and git agrees (fsck, status)", async () => {
    repo(join(root, "main"));
    const wt = join(root, "wt");
    git(join(root, "main"), "worktree", "add", "-q", "-b", "work", wt);
    const dirs = new StoreDirs(wt);
    await dirs.resolve();
    const repoAt = new GitRepo(wt, undefined, dirs);
    writeFileSync(join(wt, "orchestrations", "b.yaml"), "name: b\n");
    const commit = await repoAt.commitPaths(["orchestrations/b.yaml"], "b", "agent", "b@1.0.0");
    expect(git(wt, "rev-parse", "HEAD").trim()).toBe(commit);
    expect(readFileSync(join(root, "main", ".git", "refs", "heads", "work"), "utf8").trim()).toBe(commit);
    expect(readFileSync(join(root, "main", ".git", "refs", "tags", "b@1.0.0"), "utf8").trim()).toBe(commit);
    expect(readFileSync(join(dirs.gitDir, "logs", "HEAD"), "utf8")).toContain(commit);
    expect(readFileSync(join(root, "main", ".git", "logs", "refs", "heads", "work"), "utf8")).toContain(commit);
    // Nothing written where a plain layout would have put it.
    expect(existsSync(join(dirs.gitDir, "refs", "heads"))).toBe(false);
    expect(git(root + "/main", "rev-parse", "main").trim()).not.toBe(commit);
    expect(git(wt, "status", "--porcelain")).toBe("");
    git(wt, "fsck", "--full", "--no-progress");
    expect(repoAt.headFromFiles()).toBe(commit);
    expect(repoAt.tagExists("b@1.0.0")).toBe(true);
  });
});

describe("temp files when the git dir is on another file system", () => {
  const shm = "/dev/shm";
  const otherDevice = existsSync(shm) && statSync(shm).dev !== statSync(tmpdir()).dev;

  it.skipIf(!otherDevice)("go beside their file (a rename cannot cross devices): writes and removals work, nothing is left", async () => {
    const gitDir = mkdtempSync(join(shm, "patternd-gitdir-"));
    try {
      const store = join(root, "s");
      repo(store, `--separate-git-dir=${join(gitDir, "repo")}`);
      const dirs = new StoreDirs(store);
      await dirs.resolve();
      const files = new StoreFiles(store, dirs);
      expect(await files.write("orchestrations/a.yaml", "name: a\nversion: 2\n")).toBe(true);
      expect(readFileSync(join(store, "orchestrations", "a.yaml"), "utf8")).toBe("name: a\nversion: 2\n");
      const removed = await files.removeKeeping("orchestrations/a.yaml");
      expect(existsSync(join(store, "orchestrations", "a.yaml"))).toBe(false);
      removed.restore();
      expect(readFileSync(join(store, "orchestrations", "a.yaml"), "utf8")).toBe("name: a\nversion: 2\n");
      expect(existsSync(join(dirs.gitDir, "patternd-tmp"))).toBe(false);
      expect(readdirSync(join(store, "orchestrations"))).toEqual(["a.yaml"]);
    } finally {
      rmSync(gitDir, { recursive: true, force: true });
    }
  });
});
