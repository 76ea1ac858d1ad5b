import { execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { author, GitRepo } from "./git.js";

let root: string;
let dir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "patternd-git-"));
  dir = join(root, "store");
  mkdirSync(dir);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** git for the test's own checks: no user config, a fixed identity for commits it makes itself. */
function git(cwd: string, ...args: string[]): string {
  // stderr is captured (not printed): a failure a test expects is in the thrown error's message.
  return execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH, HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1" },
  });
}

/** An executable hook script in `dir`. */
function hook(dir: string, name: string, body: string): void {
  writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(dir, name), 0o755);
}

async function repoWithCommit(agent?: string): Promise<{ repo: GitRepo; commit: string }> {
  const repo = new GitRepo(dir);
  await repo.init();
  writeFileSync(join(dir, "a.yaml"), "a: 1\n");
  return { repo, commit: await repo.commitPaths(["a.yaml"], "create: a\n\nOp: create\nPattern: a\n", agent) };
}

describe("author", () => {
  it.each([
    [undefined, "patternd <patternd@patternd>"],
    ["", "patternd <patternd@patternd>"],
    ["orch_7f3e", "orch_7f3e <orch_7f3e@patternd>"],
    ["orch 7f3e", "orch_7f3e <orch_7f3e@patternd>"],
    ["a@b.c", "a@b.c <a_b.c@patternd>"],
    ["<evil> x\ny", "_evil__x_y <_evil__x_y@patternd>"],
    ["é", "_ <_@patternd>"],
    ["x".repeat(200), `${"x".repeat(128)} <${"x".repeat(128)}@patternd>`],
    ["...", "patternd <patternd@patternd>"],
    [".", "patternd <patternd@patternd>"],
    [".orch.7.", "orch.7 <orch.7@patternd>"],
  ])("%j → %s", (agent, expected) => {
    expect(author(agent)).toBe(expected);
  });
});

describe("GitRepo", () => {
  it("tells a repository from a plain folder, and from a folder inside another repository", async () => {
    const repo = new GitRepo(dir);
    expect(await repo.isRepository()).toBe(false);
    await repo.init();
    expect(await repo.isRepository()).toBe(true);
    const inner = join(dir, "inner");
    mkdirSync(inner);
    expect(await new GitRepo(inner).isRepository()).toBe(false);
  });

  it("init makes a main branch", async () => {
    const repo = new GitRepo(dir);
    await repo.init();
    expect(git(dir, "symbolic-ref", "HEAD").trim()).toBe("refs/heads/main");
    expect(await repo.head()).toBeNull();
  });

  it("commits as the agent, with patternd as committer, and returns the full hash", async () => {
    const { commit } = await repoWithCommit("orch_7f3e");
    expect(commit).toMatch(/^[0-9a-f]{40}$/);
    expect(git(dir, "rev-parse", "HEAD").trim()).toBe(commit);
    expect(git(dir, "log", "-1", "--format=%an|%ae|%cn|%ce").trim()).toBe("orch_7f3e|orch_7f3e@patternd|patternd|patternd@patternd");
    expect(git(dir, "log", "-1", "--format=%B").trim()).toBe("create: a\n\nOp: create\nPattern: a");
    expect(git(dir, "log", "--author=orch_7f3e", "--format=%H").trim()).toBe(commit);
  });

  it("commits as patternd when the agent is unknown", async () => {
    await repoWithCommit(undefined);
    expect(git(dir, "log", "-1", "--format=%an <%ae>").trim()).toBe("patternd <patternd@patternd>");
  });

  it("runs the store's commit hooks as git commit -- <paths> does: in the work tree, with the author and the commit's own index, the message hooks editing the message", async () => {
    const repo = new GitRepo(dir);
    await repo.init();
    const hooks = join(dir, ".git", "hooks");
    mkdirSync(hooks, { recursive: true });
    const seen = join(root, "seen");
    hook(hooks, "pre-commit", `echo "pre $(pwd) $GIT_INDEX_FILE $GIT_AUTHOR_NAME <$GIT_AUTHOR_EMAIL> \${GIT_DIR:-no-git-dir} staged: $(git diff --cached --name-only)" >> "${seen}"`);
    hook(hooks, "prepare-commit-msg", `echo "prepare $1 $2" >> "${seen}"`);
    hook(hooks, "commit-msg", `echo "commit-msg $1" >> "${seen}"; printf 'Reviewed-by: hook\\n' >> "$1"`);
    hook(hooks, "post-commit", `echo "post $(git rev-parse HEAD)" >> "${seen}"`);
    // Not executable: git skips it, and so does the daemon.
    writeFileSync(join(hooks, "pre-merge-commit"), "#!/bin/sh\nexit 1\n");
    writeFileSync(join(dir, "a.yaml"), "a: 1\n");
    const saved = process.env.GIT_DIR;
    process.env.GIT_DIR = join(root, "elsewhere");
    let commit: string;
    try {
      commit = await repo.commitPaths(["a.yaml"], "create: a\n\nOp: create\n", "agent_7");
    } finally {
      if (saved === undefined) delete process.env.GIT_DIR;
      else process.env.GIT_DIR = saved;
    }
    expect(readFileSync(seen, "utf8").split("\n")).toEqual([
      // The private index (private-index.ts), holding the staged file, as git's temporary index for a commit of paths.
      `pre ${realpathSync(dir)} ${join(dir, ".git", "patternd-index")} agent_7 <agent_7@patternd> no-git-dir staged: a.yaml`,
      "prepare .git/COMMIT_EDITMSG message",
      "commit-msg .git/COMMIT_EDITMSG",
      `post ${commit}`,
      "",
    ]);
    expect(git(dir, "log", "-1", "--format=%B", commit)).toBe("create: a\n\nOp: create\nReviewed-by: hook\n\n");
  });

  it("a hook that refuses stops the commit with store_refused and its output; core.hooksPath is where hooks are looked for", async () => {
    const { repo, commit } = await repoWithCommit();
    const hooks = join(root, "hooks");
    mkdirSync(hooks);
    hook(hooks, "pre-commit", 'echo "lint: b.yaml is not allowed" >&2; exit 3');
    git(dir, "config", "core.hooksPath", hooks);
    writeFileSync(join(dir, "b.yaml"), "b: 1\n");
    const refused = await repo.commitPaths(["b.yaml"], "create: b\n", "agent").catch((err: unknown) => err);
    expect(refused).toMatchObject({ code: "store_refused", details: { hook: "pre-commit", exit_code: 3, output: "lint: b.yaml is not allowed" } });
    expect((refused as Error).message).toMatch(/pre-commit hook .* refused the commit \(exit 3\); nothing was committed\. Its output:\nlint: b\.yaml is not allowed$/);
    expect(await repo.head()).toBe(commit);
  });

  it("a commit-msg hook that empties the message refuses the commit; a failing post-commit hook does not", async () => {
    const { repo, commit } = await repoWithCommit();
    const hooks = join(dir, ".git", "hooks");
    mkdirSync(hooks, { recursive: true });
    hook(hooks, "commit-msg", ': > "$1"');
    writeFileSync(join(dir, "b.yaml"), "b: 1\n");
    await expect(repo.commitPaths(["b.yaml"], "create: b\n", "agent")).rejects.toMatchObject({ code: "store_refused", message: /left the message empty/ });
    expect(await repo.head()).toBe(commit);
    rmSync(join(hooks, "commit-msg"));
    hook(hooks, "post-commit", "exit 1");
    const made = await repo.commitPaths(["b.yaml"], "create: b\n", "agent");
    expect(await repo.head()).toBe(made);
  });

  it("signs its commits when the store's config asks (an SSH key), and refuses when no key is set", async () => {
    const { repo } = await repoWithCommit();
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "patternd-test", "-f", join(root, "key")]);
    git(dir, "config", "gpg.format", "ssh");
    git(dir, "config", "commit.gpgsign", "true");
    writeFileSync(join(dir, "b.yaml"), "b: 1\n");
    await expect(repo.commitPaths(["b.yaml"], "create: b\n", "agent")).rejects.toMatchObject({ code: "store_refused", message: /no user\.signingkey/ });
    git(dir, "config", "user.signingkey", join(root, "key.pub"));
    const signed = await repo.commitPaths(["b.yaml"], "create: b\n\nOp: create\n", "agent");
    writeFileSync(join(root, "allowed"), `patternd@patternd ${readFileSync(join(root, "key.pub"), "utf8")}`);
    const verified = execFileSync("git", ["-c", `gpg.ssh.allowedSignersFile=${join(root, "allowed")}`, "verify-commit", "--raw", signed], {
      cwd: dir,
      encoding: "utf8",
      env: { PATH: process.env.PATH, HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    expect(verified).toBe("");
    expect(git(dir, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%B", signed)).toBe("agent <agent@patternd>|patternd <patternd@patternd>|create: b\n\nOp: create\n\n");
    expect(await repo.head()).toBe(signed);
  });

  it("refuses a repository format it does not write, naming the setting, before writing anything", async () => {
    const { repo, commit } = await repoWithCommit();
    git(dir, "config", "core.repositoryformatversion", "1");
    git(dir, "config", "extensions.fancything", "true");
    await expect(repo.storeSettings()).rejects.toMatchObject({ code: "store_refused", message: /extensions\.fancything=true/ });
    writeFileSync(join(dir, "b.yaml"), "b: 1\n");
    await expect(repo.commitPaths(["b.yaml"], "create: b\n", "agent")).rejects.toMatchObject({ code: "store_refused" });
    await expect(repo.tag("a@1.0.0", commit)).rejects.toMatchObject({ code: "store_refused" });
    expect(existsSync(join(dir, ".git", "refs", "tags", "a@1.0.0"))).toBe(false);
  });

  it("commits in a sha256 repository", async () => {
    git(dir, "init", "-q", "--object-format=sha256");
    const repo = new GitRepo(dir);
    writeFileSync(join(dir, "a.yaml"), "a: 1\n");
    const commit = await repo.commitPaths(["a.yaml"], "create: a\n", "agent");
    expect(commit).toMatch(/^[0-9a-f]{64}$/);
    await repo.tag("a@1.0.0", commit);
    expect(git(dir, "rev-parse", "a@1.0.0").trim()).toBe(commit);
    git(dir, "fsck", "--strict");
  });

  it("ignores ambient GIT_* variables and user identity", async () => {
    const elsewhere = join(root, "elsewhere");
    mkdirSync(elsewhere);
    git(elsewhere, "init", "-q");
    const saved = { ...process.env };
    Object.assign(process.env, {
      GIT_DIR: join(elsewhere, ".git"),
      GIT_WORK_TREE: elsewhere,
      GIT_INDEX_FILE: join(elsewhere, "index.other"),
      GIT_AUTHOR_NAME: "intruder",
      GIT_AUTHOR_EMAIL: "intruder@example.com",
      GIT_COMMITTER_NAME: "intruder",
      EMAIL: "intruder@example.com",
    });
    try {
      await repoWithCommit("agent_1");
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
    expect(git(dir, "log", "-1", "--format=%an|%cn").trim()).toBe("agent_1|patternd");
    expect(git(elsewhere, "rev-list", "--all").trim()).toBe("");
  });

  it("commits for an agent whose id git would refuse as a name", async () => {
    await repoWithCommit("...");
    expect(git(dir, "log", "-1", "--format=%an <%ae>").trim()).toBe("patternd <patternd@patternd>");
  });

  it("removes the locks a killed writer left (index, branch, a tag) when nobody works in the store, and only then", async () => {
    const { repo, commit } = await repoWithCommit();
    expect(repo.clearStaleLocks()).toEqual([]);
    const locks = [".git/index.lock", ".git/refs/heads/main.lock", ".git/refs/tags/a@1.0.0.lock"];
    for (const lock of locks) writeFileSync(join(dir, lock), "");
    expect(() => git(dir, "add", "a.yaml")).toThrow(/index\.lock/);
    // A person's git at work in the store (here: any process whose working directory it is) keeps them.
    const person = spawn("sleep", ["30"], { cwd: dir, stdio: "ignore" });
    try {
      await new Promise((resolve) => person.once("spawn", resolve));
      expect(repo.clearStaleLocks()).toEqual([]);
      expect(existsSync(join(dir, ".git", "index.lock"))).toBe(true);
    } finally {
      person.kill();
      await new Promise((resolve) => person.once("exit", resolve));
    }
    expect(repo.clearStaleLocks().sort()).toEqual([...locks].sort());
    for (const lock of locks) expect(existsSync(join(dir, lock))).toBe(false);
    await repo.tag("a@1.0.0", commit);
    writeFileSync(join(dir, "a.yaml"), "a: 2\n");
    await repo.commitPaths(["a.yaml"], "after the locks", undefined);
  });

  it("runs git's maintenance itself every 100 commits rather than from each commit", async () => {
    const { repo } = await repoWithCommit();
    // A maintenance task any loose object triggers, so a pack shows when maintenance ran.
    git(dir, "config", "maintenance.loose-objects.enabled", "true");
    git(dir, "config", "maintenance.loose-objects.auto", "1");
    const packs = () => readdirSync(join(dir, ".git", "objects", "pack")).filter((f) => f.endsWith(".pack")).length;
    for (let i = 2; i < 100; i++) {
      writeFileSync(join(dir, "a.yaml"), `a: ${i}\n`);
      await repo.commitPaths(["a.yaml"], `commit ${i}`, undefined);
    }
    await repo.head();
    expect(packs()).toBe(0);
    writeFileSync(join(dir, "a.yaml"), "a: 100\n");
    await repo.commitPaths(["a.yaml"], "commit 100", undefined);
    // Queued behind the 100th commit: the next command runs after it.
    await repo.head();
    expect(packs()).toBeGreaterThan(0);
  });

  it("tags, finds and resolves tags", async () => {
    const { repo, commit } = await repoWithCommit();
    await repo.tag("a@1.0.0", commit);
    await repo.tag("a@1.1.0", commit);
    await repo.tag("ab@1.0.0", commit);
    expect(repo.tagExists("a@1.0.0")).toBe(true);
    expect(repo.tagExists("a@2.0.0")).toBe(false);
    expect(repo.tagExists("a@*")).toBe(false);
    expect(await repo.tags("a@*")).toEqual(["a@1.0.0", "a@1.1.0"]);
    expect(await repo.resolve("a@1.1.0")).toBe(commit);
    expect(await repo.resolve("a@9.9.9")).toBeNull();
    expect(await repo.head()).toBe(commit);
    await expect(repo.tag("a@1.0.0", commit)).rejects.toThrow(/exists/);
  });

  it("tagTargets maps each commit to its tags matching a glob", async () => {
    const { repo, commit: first } = await repoWithCommit();
    await repo.tag("a@1.0.0", first);
    await repo.tag("b@1.0.0", first);
    writeFileSync(join(dir, "a.yaml"), "a: 2\n");
    const second = await repo.commitPaths(["a.yaml"], "second", undefined);
    await repo.tag("a@1.1.0", second);
    await repo.tag("a@1.1.0-rc.1", second);
    expect(await repo.tagTargets("a@*")).toEqual(
      new Map([
        [first, ["a@1.0.0"]],
        [second, ["a@1.1.0", "a@1.1.0-rc.1"]],
      ]),
    );
    expect(await repo.tagTargets("none@*")).toEqual(new Map());
  });

  it("tagAll writes many tags at once that git reads like any other; fsck stays clean", async () => {
    const { repo, commit } = await repoWithCommit();
    const names = Array.from({ length: 30 }, (_, i) => `p${i}@1.0.${i}`);
    await repo.tagAll(names, commit);
    expect(git(dir, "tag", "-l").trim().split("\n").sort()).toEqual([...names].sort());
    expect(git(dir, "rev-parse", "p7@1.0.7").trim()).toBe(commit);
    expect(git(dir, "fsck", "--strict", "--no-progress")).toBe("");
  });

  it("tagAll refuses names that are not pattern@version, writing none of them", async () => {
    const { repo, commit } = await repoWithCommit();
    const bad = ["../escape@1.0.0", "a/b@1.0.0", "UPPER@1.0.0", "noversion", "a@1.0.0/x", "a@..", "a@1.0", ".hidden@1.0.0", "a@1.0.0@2.0.0", "a@1.0.0+x.lock"];
    for (const name of bad) await expect(repo.tagAll([name], commit), name).rejects.toThrow(/not a tag name/);
    expect(existsSync(join(root, "escape@1.0.0"))).toBe(false);
    expect(git(dir, "tag", "-l")).toBe("");
  });

  it("tagAll does not move an existing tag", async () => {
    const { repo, commit } = await repoWithCommit();
    await repo.tag("a@1.0.0", commit);
    await expect(repo.tagAll(["a@1.0.0"], "0".repeat(40))).rejects.toThrow();
    expect(await repo.resolve("a@1.0.0")).toBe(commit);
  });

  it("shows files and lists trees at a revision", async () => {
    const { repo, commit } = await repoWithCommit();
    await repo.tag("a@1.0.0", commit);
    writeFileSync(join(dir, "a.yaml"), "a: 2\n");
    mkdirSync(join(dir, "sub"));
    writeFileSync(join(dir, "sub", "ü b.yaml"), "b: 1\n");
    await repo.commitPaths(["a.yaml", "sub/ü b.yaml"], "second", undefined);
    expect(await repo.show("a@1.0.0", "a.yaml")).toBe("a: 1\n");
    expect(await repo.show("HEAD", "a.yaml")).toBe("a: 2\n");
    expect(await repo.show("a@1.0.0", "sub/ü b.yaml")).toBeUndefined();
    expect(await repo.show("nope@1.0.0", "a.yaml")).toBeUndefined();
    expect(await repo.listFiles("a@1.0.0")).toEqual(["a.yaml"]);
    expect(await repo.listFiles("HEAD")).toEqual(["a.yaml", "sub/ü b.yaml"]);
    expect(await repo.listFiles("nope@1.0.0")).toBeUndefined();
  });

  it("logs the commits of a path, newest first, with author, ISO date and message", async () => {
    const { repo, commit: first } = await repoWithCommit("agent_a");
    writeFileSync(join(dir, "a.yaml"), "a: 2\n");
    writeFileSync(join(dir, "other.yaml"), "o: 1\n");
    const second = await repo.commitPaths(["a.yaml"], "update: a\n\nOp: update\nReason: contains | and \x1f odd characters\n", "agent_b");
    await repo.commitPaths(["other.yaml"], "other", "agent_c");
    const log = await repo.log("a.yaml");
    expect(log.map((e) => [e.commit, e.author, e.email])).toEqual([
      [second, "agent_b", "agent_b@patternd"],
      [first, "agent_a", "agent_a@patternd"],
    ]);
    expect(log[0]!.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z)$/);
    expect(log[1]!.message).toBe("create: a\n\nOp: create\nPattern: a");
    expect(await repo.log("a.yaml", 1)).toHaveLength(1);
    expect(await repo.log("*/a.yaml")).toEqual([]);
    expect(await repo.log("missing.yaml")).toEqual([]);
  });

  it("logs nothing in a repository without commits", async () => {
    const repo = new GitRepo(dir);
    await repo.init();
    expect(await repo.log("a.yaml")).toEqual([]);
  });

  it("commits on top of what a person committed by hand, with the branch packed, and writes the reflog as git does", async () => {
    const { repo, commit: first } = await repoWithCommit();
    writeFileSync(join(dir, "hand.yaml"), "by: hand\n");
    git(dir, "add", "hand.yaml");
    git(dir, "commit", "-q", "-m", "by hand");
    git(dir, "pack-refs", "--all");
    expect(existsSync(join(dir, ".git", "refs", "heads", "main"))).toBe(false);
    writeFileSync(join(dir, "a.yaml"), "a: 2\n");
    const second = await repo.commitPaths(["a.yaml"], "update: a", "agent_b");
    expect(git(dir, "rev-parse", "HEAD~1").trim()).toBe(git(dir, "rev-parse", "HEAD@{1}").trim());
    expect(git(dir, "log", "--format=%s", `${first}..${second}`).trim().split("\n")).toEqual(["update: a", "by hand"]);
    expect(await repo.listFiles("HEAD")).toEqual(["a.yaml", "hand.yaml"]);
    expect(git(dir, "reflog", "-1", "--format=%gs").trim()).toBe("commit: update: a");
    expect(git(dir, "status", "--porcelain")).toBe("");
    expect(git(dir, "fsck", "--strict", "--no-progress")).toBe("");
  });

  it("knows a tag whether loose or packed, as packed-refs changes under it", async () => {
    const { repo } = await repoWithCommit();
    expect(repo.tagExists("a@1.0.0")).toBe(false);
    git(dir, "tag", "a@1.0.0");
    expect(repo.tagExists("a@1.0.0")).toBe(true);
    git(dir, "pack-refs", "--all");
    expect(existsSync(join(dir, ".git", "refs", "tags", "a@1.0.0"))).toBe(false);
    expect(repo.tagExists("a@1.0.0")).toBe(true);
    // packed-refs rewritten: a tag packed since the last look, and one gone from it.
    git(dir, "tag", "a@1.1.0");
    git(dir, "pack-refs", "--all");
    expect(repo.tagExists("a@1.1.0")).toBe(true);
    git(dir, "tag", "-d", "a@1.0.0");
    expect(repo.tagExists("a@1.0.0")).toBe(false);
    expect(repo.tagExists("a@1.1.0")).toBe(true);
    rmSync(join(dir, ".git", "packed-refs"));
    expect(repo.tagExists("a@1.1.0")).toBe(false);
  });

  it("refuses to commit while another git holds the branch's lock, and moves nothing", async () => {
    const { repo, commit } = await repoWithCommit();
    writeFileSync(join(dir, ".git", "refs", "heads", "main.lock"), "");
    writeFileSync(join(dir, "a.yaml"), "a: 2\n");
    await expect(repo.commitPaths(["a.yaml"], "update: a", undefined)).rejects.toThrow(/cannot lock refs\/heads\/main/);
    expect(await repo.head()).toBe(commit);
    rmSync(join(dir, ".git", "refs", "heads", "main.lock"));
    expect(await repo.commitPaths(["a.yaml"], "update: a", undefined)).toBe(await repo.head());
  });

  it("waits for a ref lock another git lets go of within 100 ms, as git does", async () => {
    const { repo } = await repoWithCommit();
    const lock = join(dir, ".git", "refs", "heads", "main.lock");
    writeFileSync(lock, "");
    setTimeout(() => rmSync(lock), 30);
    writeFileSync(join(dir, "a.yaml"), "a: 2\n");
    expect(await repo.commitPaths(["a.yaml"], "update: a", undefined)).toBe(await repo.head());
  });

  it("says nothing to commit when the files are as HEAD has them", async () => {
    const { repo } = await repoWithCommit();
    await expect(repo.commitPaths(["a.yaml"], "again", undefined)).rejects.toThrow(/nothing to commit/);
  });

  it("commits a missing file as a deletion, and a folder left empty disappears", async () => {
    const { repo } = await repoWithCommit();
    mkdirSync(join(dir, "sub", "deeper"), { recursive: true });
    writeFileSync(join(dir, "sub", "deeper", "b.yaml"), "b: 1\n");
    await repo.commitPaths(["sub/deeper/b.yaml"], "add b", undefined);
    rmSync(join(dir, "sub"), { recursive: true });
    await repo.commitPaths(["sub/deeper/b.yaml"], "delete: b", undefined);
    expect(await repo.listFiles("HEAD")).toEqual(["a.yaml"]);
    expect(git(dir, "status", "--porcelain")).toBe("");
    expect(git(dir, "fsck", "--strict", "--no-progress")).toBe("");
  });
});

describe("GitRepo.exclusive", () => {
  it("runs operations one at a time in order, and goes on after a failure", async () => {
    const repo = new GitRepo(dir);
    const events: string[] = [];
    const step = (name: string, fail = false) => async () => {
      events.push(`start ${name}`);
      await new Promise((resolve) => setImmediate(resolve));
      events.push(`end ${name}`);
      if (fail) throw new Error(`${name} failed`);
      return name;
    };
    const results = await Promise.allSettled([repo.exclusive(step("a")), repo.exclusive(step("b", true)), repo.exclusive(step("c"))]);
    expect(events).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).toEqual(["a", "b failed", "c"]);
  });

  it("a synchronous throw inside an operation rejects only that operation", async () => {
    const repo = new GitRepo(dir);
    const bad = repo.exclusive(() => {
      throw new Error("sync");
    });
    const good = repo.exclusive(() => Promise.resolve(1));
    await expect(bad).rejects.toThrow("sync");
    await expect(good).resolves.toBe(1);
  });
});

describe("GitRepo reading history for commits made by hand", () => {
  it("blobs: many revision:path texts in one batch, byte-exact with multi-byte text, undefined for what is not there", async () => {
    const { repo, commit } = await repoWithCommit();
    writeFileSync(join(dir, "b.yaml"), "description: café ☕\n\nend\n");
    git(dir, "add", "b.yaml");
    git(dir, "commit", "--quiet", "-m", "b by hand");
    const texts = await repo.blobs([`${commit}:a.yaml`, "HEAD:missing.yaml", "HEAD:b.yaml", `${commit}:b.yaml`]);
    expect([...texts]).toEqual([
      [`${commit}:a.yaml`, "a: 1\n"],
      ["HEAD:missing.yaml", undefined],
      ["HEAD:b.yaml", "description: café ☕\n\nend\n"],
      [`${commit}:b.yaml`, undefined],
    ]);
  });

  it("commitsBetween: oldest first, the files each changed, and which the daemon made", async () => {
    const { repo, commit } = await repoWithCommit();
    writeFileSync(join(dir, "b.yaml"), "b: 1\n");
    git(dir, "add", "b.yaml");
    git(dir, "commit", "--quiet", "-m", "b by hand");
    const person = git(dir, "rev-parse", "HEAD").trim();
    git(dir, "rm", "--quiet", "a.yaml");
    git(dir, "commit", "--quiet", "-m", "a removed by hand");
    const removal = git(dir, "rev-parse", "HEAD").trim();
    writeFileSync(join(dir, "b.yaml"), "b: 2\n");
    const ours = await repo.commitPaths(["b.yaml"], "update: b\n", "agent");
    expect(await repo.commitsBetween(commit, ours)).toEqual([
      { commit: person, own: false, paths: [{ path: "b.yaml", deleted: false }] },
      { commit: removal, own: false, paths: [{ path: "a.yaml", deleted: true }] },
      { commit: ours, own: true, paths: [{ path: "b.yaml", deleted: false }] },
    ]);
    expect((await repo.commitsBetween(null, ours)).map((c) => c.commit)).toEqual([commit, person, removal, ours]);
    expect(await repo.commitsBetween(ours, commit)).toEqual([]);
  });

  it("takenHead follows the daemon's commits made on top of it, not those made on top of someone else's", async () => {
    const { repo, commit } = await repoWithCommit();
    repo.takenHead = commit;
    writeFileSync(join(dir, "a.yaml"), "a: 2\n");
    const next = await repo.commitPaths(["a.yaml"], "update: a\n", undefined);
    expect(repo.takenHead).toBe(next);
    expect(repo.headFromFiles()).toBe(next);
    git(dir, "commit", "--quiet", "--allow-empty", "-m", "by hand");
    writeFileSync(join(dir, "a.yaml"), "a: 3\n");
    await repo.commitPaths(["a.yaml"], "update: a\n", undefined);
    expect(repo.takenHead).toBe(next);
  });
});
