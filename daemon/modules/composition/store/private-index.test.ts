/**
 * A commit of the daemon's is what git staged, made from an index of its
 * own under git's index.lock (issue 24): attributes, eol, filters and the
 * exec bit agree with git; a lock held by someone else is store_busy; a
 * branch moved meanwhile is built on, or conflict when it changed the
 * same paths. git itself is the judge of every result.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DaemonError } from "../../../core/errors.js";
import { GitRepo } from "./git.js";
import { stagedEntries } from "./git-objects.js";
import { readIndexEntries } from "./private-index.js";

let root: string;
let dir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "patternd-index-"));
  dir = join(root, "store");
  mkdirSync(dir);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync("git", ["-c", "user.name=Pat", "-c", "user.email=pat@example.org", ...args], {
    cwd,
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1", ...env },
  });
}

/** A store with a.yaml committed by the daemon. */
async function store(init: string[] = []): Promise<GitRepo> {
  git(dir, ["init", "-q", "-b", "main", ...init]);
  const repo = new GitRepo(dir);
  writeFileSync(join(dir, "a.yaml"), "a: 1\n");
  await repo.commitPaths(["a.yaml"], "create: a", undefined);
  return repo;
}

/** Everything that must agree after a commit: nothing staged or changed, and what HEAD holds is what git would stage. */
function expectClean(): void {
  expect(git(dir, ["status", "--porcelain", "--untracked-files=all"])).toBe("");
  expect(git(dir, ["diff", "HEAD"])).toBe("");
  expect(git(dir, ["fsck", "--strict", "--no-progress"])).toBe("");
  expect(existsSync(join(dir, ".git", "index.lock"))).toBe(false);
  expect(existsSync(join(dir, ".git", "patternd-index"))).toBe(false);
}

/** An executable hook script. */
function hook(name: string, body: string): void {
  mkdirSync(join(dir, ".git", "hooks"), { recursive: true });
  writeFileSync(join(dir, ".git", "hooks", name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(dir, ".git", "hooks", name), 0o755);
}

/** A commit a person made on top of HEAD with plumbing (`files` changed), not moving any ref yet. */
function personsCommit(files: Record<string, string>): string {
  const index = join(root, "person-index");
  const env = { GIT_INDEX_FILE: index };
  git(dir, ["read-tree", "HEAD"], env);
  for (const [path, text] of Object.entries(files)) {
    const blob = execFileSync("git", ["hash-object", "-w", "--stdin"], { cwd: dir, input: text, encoding: "utf8" }).trim();
    git(dir, ["update-index", "--add", "--cacheinfo", `100644,${blob},${path}`], env);
  }
  const tree = git(dir, ["write-tree"], env).trim();
  rmSync(index, { force: true });
  return git(dir, ["commit-tree", tree, "-p", "HEAD", "-m", "by hand"]).trim();
}

describe("stagedEntries", () => {
  it.each([
    ["a listed path", "100644 aaaa 0\ta.yaml\0", ["a.yaml"], { "a.yaml": { mode: "100644", id: "aaaa" } }],
    ["an executable one", "100755 bbbb 0\tb.sh\0", ["b.sh"], { "b.sh": { mode: "100755", id: "bbbb" } }],
    ["a path not listed: deleted", "", ["gone.yaml"], { "gone.yaml": null }],
    ["another path under a folder named the same is not taken", "100644 cccc 0\tx/y.yaml\0", ["x"], { x: null }],
    ["a conflict stage is not taken", "100644 dddd 2\ta.yaml\0", ["a.yaml"], { "a.yaml": null }],
    ["a name with a tab and spaces", "100644 eeee 0\tmy file\t.yaml\0", ["my file\t.yaml"], { "my file\t.yaml": { mode: "100644", id: "eeee" } }],
  ])("%s", (_, output, paths, expected) => {
    expect(Object.fromEntries(stagedEntries(output, paths))).toEqual(expected);
  });
});

describe("a commit is what git staged", () => {
  it("core.autocrlf=true: a CRLF file is committed as git stages it (LF), and git status is clean", async () => {
    const repo = await store();
    git(dir, ["config", "core.autocrlf", "true"]);
    writeFileSync(join(dir, "crlf.yaml"), "name: crlf\r\nversion: 1.0.0\r\n");
    await repo.commitPaths(["crlf.yaml"], "create: crlf", undefined);
    expect(git(dir, ["cat-file", "blob", "HEAD:crlf.yaml"])).toBe("name: crlf\nversion: 1.0.0\n");
    expectClean();
  });

  it("*.yaml text eol=lf in .gitattributes: the same", async () => {
    const repo = await store();
    writeFileSync(join(dir, ".gitattributes"), "*.yaml text eol=lf\n");
    git(dir, ["add", ".gitattributes"]);
    git(dir, ["commit", "-q", "-m", "attributes"]);
    writeFileSync(join(dir, "a.yaml"), "a: 2\r\nb: 3\r\n");
    await repo.commitPaths(["a.yaml"], "update: a", undefined);
    expect(git(dir, ["cat-file", "blob", "HEAD:a.yaml"])).toBe("a: 2\nb: 3\n");
    expectClean();
  });

  it("a clean filter (as LFS has one) is applied, and the exec bit is kept", async () => {
    const repo = await store();
    git(dir, ["config", "filter.upper.clean", "tr a-z A-Z"]);
    git(dir, ["config", "filter.upper.smudge", "cat"]);
    writeFileSync(join(dir, ".gitattributes"), "*.up filter=upper\n");
    git(dir, ["add", ".gitattributes"]);
    git(dir, ["commit", "-q", "-m", "attributes"]);
    writeFileSync(join(dir, "x.up"), "shout\n");
    writeFileSync(join(dir, "run.sh"), "echo hi\n");
    chmodSync(join(dir, "run.sh"), 0o755);
    await repo.commitPaths(["x.up", "run.sh"], "filtered", undefined);
    expect(git(dir, ["cat-file", "blob", "HEAD:x.up"])).toBe("SHOUT\n");
    expect(git(dir, ["ls-tree", "HEAD", "run.sh"])).toMatch(/^100755 blob /);
    expectClean();
  });

  it("what a person staged for another path stays staged and out of the commit; the index has the commit's entries", async () => {
    const repo = await store();
    writeFileSync(join(dir, "theirs.yaml"), "theirs: 1\n");
    git(dir, ["add", "theirs.yaml"]);
    writeFileSync(join(dir, "a.yaml"), "a: 2\n");
    await repo.commitPaths(["a.yaml"], "update: a", undefined);
    expect(git(dir, ["ls-tree", "--name-only", "HEAD"]).trim()).toBe("a.yaml");
    expect(git(dir, ["status", "--porcelain"])).toBe("A  theirs.yaml\n");
  });

  it("with no index file at all, the index made holds HEAD's other files (nothing shows as deleted)", async () => {
    const repo = await store();
    writeFileSync(join(dir, "b.yaml"), "b: 1\n");
    await repo.commitPaths(["b.yaml"], "create: b", undefined);
    rmSync(join(dir, ".git", "index"));
    writeFileSync(join(dir, "b.yaml"), "b: 2\n");
    await repo.commitPaths(["b.yaml"], "update: b", undefined);
    expectClean();
  });

  it("in a sha256 store, the ids are git's: the tree is the one git writes from the index, fsck --strict passes", async () => {
    const repo = await store(["--object-format=sha256"]);
    writeFileSync(join(dir, "sub.yaml"), "b: 1\r\n");
    git(dir, ["config", "core.autocrlf", "true"]);
    const commit = await repo.commitPaths(["sub.yaml"], "create: sub", undefined);
    expect(commit).toMatch(/^[0-9a-f]{64}$/);
    expect(git(dir, ["cat-file", "-t", commit]).trim()).toBe("commit");
    expect(git(dir, ["rev-parse", "HEAD^{tree}"]).trim()).toBe(git(dir, ["write-tree"]).trim());
    expect(git(dir, ["rev-parse", "HEAD:sub.yaml"]).trim()).toBe(git(dir, ["hash-object", "--path=sub.yaml", "sub.yaml"]).trim());
    expectClean();
  });
});

describe("git's index.lock", () => {
  it("held by someone else past the wait: store_busy naming the state, the branch and what to do; nothing moves; then it works", async () => {
    const repo = await store();
    const head = git(dir, ["rev-parse", "HEAD"]);
    const index = readFileSync(join(dir, ".git", "index"));
    writeFileSync(join(dir, ".git", "index.lock"), "");
    writeFileSync(join(dir, "a.yaml"), "a: 2\n");
    const started = Date.now();
    const err = (await repo.commitPaths(["a.yaml"], "update: a", undefined).catch((e: unknown) => e)) as DaemonError;
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(err).toBeInstanceOf(DaemonError);
    expect(err.code).toBe("store_busy");
    expect(err.message).toMatch(/index\.lock/);
    expect(err.details).toEqual({ state: "index_locked", branch: "main", hint: expect.stringMatching(/remove \.git\/index\.lock/) });
    expect(git(dir, ["rev-parse", "HEAD"])).toBe(head);
    expect(readFileSync(join(dir, ".git", "index"))).toEqual(index);
    // The person's lock is theirs: left in place.
    expect(existsSync(join(dir, ".git", "index.lock"))).toBe(true);
    rmSync(join(dir, ".git", "index.lock"));
    await repo.commitPaths(["a.yaml"], "update: a", undefined);
    expectClean();
  });

  it("let go of within the wait: the commit goes through", async () => {
    const repo = await store();
    writeFileSync(join(dir, ".git", "index.lock"), "");
    setTimeout(() => rmSync(join(dir, ".git", "index.lock")), 200);
    writeFileSync(join(dir, "a.yaml"), "a: 2\n");
    await repo.commitPaths(["a.yaml"], "update: a", undefined);
    expectClean();
  });

  it("is held while the commit is made: a person's git commit meanwhile fails with git's own message", async () => {
    const repo = await store();
    writeFileSync(join(dir, "theirs.yaml"), "theirs: 1\n");
    git(dir, ["add", "theirs.yaml"]);
    const seen = join(root, "seen");
    // The person's own shell: not the hook's index, not the hooks again.
    hook("pre-commit", `env -u GIT_INDEX_FILE git -C "${dir}" -c core.hooksPath=/dev/null -c user.name=Pat -c user.email=pat@example.org commit -q -m theirs > "${seen}" 2>&1; exit 0`);
    writeFileSync(join(dir, "a.yaml"), "a: 2\n");
    await repo.commitPaths(["a.yaml"], "update: a", undefined);
    expect(readFileSync(seen, "utf8")).toMatch(/index\.lock': File exists/);
    // Their commit, tried again now, holds their file and not the daemon's change.
    rmSync(join(dir, ".git", "hooks", "pre-commit"));
    git(dir, ["commit", "-q", "-m", "theirs"]);
    expect(git(dir, ["show", "--name-only", "--format=", "HEAD"]).trim()).toBe("theirs.yaml");
    expectClean();
  });
});

describe("the branch moved while the commit was made", () => {
  it("by a commit of other files: the change is made again on top of it, tagged there", async () => {
    const repo = await store();
    const theirs = personsCommit({ "other.yaml": "other: 1\n" });
    hook("pre-commit", `git update-ref refs/heads/main ${theirs}`);
    writeFileSync(join(dir, "a.yaml"), "a: 2\n");
    const commit = await repo.commitPaths(["a.yaml"], "update: a", undefined, "a@1.0.1");
    expect(git(dir, ["rev-parse", "HEAD", "HEAD^", "a@1.0.1"]).trim().split("\n")).toEqual([commit, theirs, commit]);
    expect(git(dir, ["show", "HEAD:a.yaml"])).toBe("a: 2\n");
    expect(git(dir, ["show", "HEAD:other.yaml"])).toBe("other: 1\n");
    expect(git(dir, ["fsck", "--strict", "--no-progress"])).toBe("");
    // other.yaml came by plumbing, not into the work tree: that is the person's to check out; a.yaml is clean.
    expect(git(dir, ["status", "--porcelain", "--", "a.yaml"])).toBe("");
  });

  it("by a commit of the same file: conflict naming it; their commit stays, the index as it was, no tag", async () => {
    const repo = await store();
    const theirs = personsCommit({ "a.yaml": "a: theirs\n" });
    hook("pre-commit", `git update-ref refs/heads/main ${theirs}`);
    const index = readFileSync(join(dir, ".git", "index"));
    writeFileSync(join(dir, "a.yaml"), "a: 2\n");
    const err = (await repo.commitPaths(["a.yaml"], "update: a", undefined, "a@1.0.1").catch((e: unknown) => e)) as DaemonError;
    expect(err).toBeInstanceOf(DaemonError);
    expect(err.code).toBe("conflict");
    expect(err.message).toMatch(/a\.yaml/);
    expect(err.details).toMatchObject({ paths: ["a.yaml"], branch: "main", commit: theirs });
    expect(git(dir, ["rev-parse", "HEAD"]).trim()).toBe(theirs);
    expect(readFileSync(join(dir, ".git", "index"))).toEqual(index);
    expect(git(dir, ["tag", "-l"])).toBe("");
    expect(existsSync(join(dir, ".git", "index.lock"))).toBe(false);
    expect(existsSync(join(dir, ".git", "refs", "heads", "main.lock"))).toBe(false);
  });
});

describe("readIndexEntries", () => {
  it.each([
    ["version 2", [], []],
    ["version 3 (an extended flag: skip-worktree)", [], [["update-index", "--skip-worktree", "deep/er/b.yaml"]]],
    ["version 4 (names prefix-compressed)", [], [["update-index", "--index-version", "4"]]],
    ["sha256, version 4", ["--object-format=sha256"], [["update-index", "--index-version", "4"]]],
  ])("%s: what git ls-files -s lists for the paths", (_, init, after) => {
    git(dir, ["init", "-q", ...init]);
    const files = ["a.yaml", "deep/er/b.yaml", "deep/er/c.yaml", "deep/f.sh", "z/ü.yaml", ...Array.from({ length: 40 }, (_, i) => `many/file_${i}.yaml`)];
    for (const file of files) {
      mkdirSync(join(dir, file, ".."), { recursive: true });
      writeFileSync(join(dir, file), `${file}\n`);
    }
    chmodSync(join(dir, "deep/f.sh"), 0o755);
    git(dir, ["add", "-A"]);
    for (const args of after) git(dir, args);
    const paths = ["deep/er/c.yaml", "deep/f.sh", "z/ü.yaml", "many/file_33.yaml", "not/there.yaml"];
    const ids = init.length === 0 ? 20 : 32;
    const listed = stagedEntries(execFileSync("git", ["ls-files", "-s", "-z", "--", ...paths], { cwd: dir, encoding: "utf8" }), paths);
    expect(readIndexEntries(readFileSync(join(dir, ".git", "index")), paths, ids)).toEqual(listed);
    expect(listed.get("deep/f.sh")?.mode).toBe("100755");
  });

  it("a split index is left to git", () => {
    git(dir, ["init", "-q"]);
    writeFileSync(join(dir, "a.yaml"), "a\n");
    git(dir, ["add", "-A"]);
    git(dir, ["update-index", "--split-index"]);
    expect(readIndexEntries(readFileSync(join(dir, ".git", "index")), ["a.yaml"], 20)).toBeUndefined();
  });
});
