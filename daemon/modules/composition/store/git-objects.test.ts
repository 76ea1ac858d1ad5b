import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { cleanMessage, encodeCommit, encodeObject, formatIdent, TreeSnapshot, type TreeEntry } from "./git-objects.js";

// git itself is the reference: every id here is checked against what git computes for the same bytes.
const repo = mkdtempSync(join(tmpdir(), "patternd-git-objects-"));
const git = (args: string[], input?: string | Buffer) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], {
    cwd: repo,
    input,
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1" },
  });
git(["init", "-q"]);
afterAll(() => rmSync(repo, { recursive: true, force: true }));

const blob = (text: string) => encodeObject("blob", Buffer.from(text), "sha1");
const file = (text: string): TreeEntry => ({ mode: "100644", id: blob(text).id });

describe("encodeObject", () => {
  it("gives git's id for a blob, and the loose-object bytes git reads", () => {
    for (const text of ["", "name: a\n", "ü ✓ \0 binary\r\n".repeat(50)]) {
      const object = blob(text);
      expect(object.id).toBe(git(["hash-object", "--stdin"], text).trim());
      expect(inflateSync(Buffer.concat(object.deflated)).toString("latin1")).toBe(`blob ${Buffer.byteLength(text)}\0${Buffer.from(text).toString("latin1")}`);
    }
  });

  it("hashes with sha256 when the repository does", () => {
    expect(encodeObject("blob", Buffer.from("a\n"), "sha256").id).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("cleanMessage", () => {
  it.each([
    ["subject", "subject\n"],
    ["\n\nsubject  \n\n\n\nbody\t\n\n", "subject\n\nbody\n"],
    ["fork: a -> b\n\nOp: fork\nPattern: b\n", "fork: a -> b\n\nOp: fork\nPattern: b\n"],
  ])("%j is stored as %j, as git commit -m stores it", (message, stored) => {
    expect(cleanMessage(message)).toBe(stored);
    writeFileSync(join(repo, "m.txt"), message);
    git(["commit", "-q", "--allow-empty", "-F", "m.txt", "--cleanup=whitespace"]);
    expect(git(["cat-file", "commit", "HEAD"]).split("\n\n").slice(1).join("\n\n")).toBe(stored);
  });

  it("is null for a message with nothing in it (git refuses to commit it)", () => {
    expect(cleanMessage(" \n\t\n")).toBeNull();
  });
});

describe("encodeCommit and formatIdent", () => {
  it("make the commit git makes for the same tree, parent, people, time and message", () => {
    const when = new Date("2026-11-21T10:00:00Z");
    const tree = git(["mktree"], "").trim();
    const commit = encodeCommit({
      tree,
      parent: null,
      author: formatIdent("orch_1 <orch_1@patternd>", when),
      committer: formatIdent("patternd <patternd@patternd>", when),
      message: "create: a\n\nOp: create\n",
    });
    const date = formatIdent("x <x>", when).split(" ").slice(2).join(" ");
    const expected = execFileSync("git", ["commit-tree", tree], {
      cwd: repo,
      input: "create: a\n\nOp: create\n",
      encoding: "utf8",
      env: {
        PATH: process.env.PATH,
        HOME: "/nonexistent",
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_AUTHOR_NAME: "orch_1",
        GIT_AUTHOR_EMAIL: "orch_1@patternd",
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_NAME: "patternd",
        GIT_COMMITTER_EMAIL: "patternd@patternd",
        GIT_COMMITTER_DATE: date,
      },
    }).trim();
    expect(encodeObject("commit", commit, "sha1").id).toBe(expected);
  });
});

describe("TreeSnapshot", () => {
  /** A repository whose HEAD has these files (all under w/); returns its snapshot as git lists it. */
  function committed(files: Record<string, string>): TreeSnapshot {
    rmSync(join(repo, "w"), { recursive: true, force: true });
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(repo, path, ".."), { recursive: true });
      writeFileSync(join(repo, path), text);
    }
    git(["add", "-A", "w"]);
    git(["commit", "-q", "-m", "state"]);
    return TreeSnapshot.fromLsTree(git(["ls-tree", "-r", "-t", "-z", "--full-tree", "HEAD"]), git(["rev-parse", "HEAD^{tree}"]).trim());
  }
  const rootOf = () => git(["rev-parse", "HEAD^{tree}"]).trim();

  it("gives the root tree git gives after the same changes: edits, new files in new folders, deletions that empty folders", () => {
    const before = committed({ "w/a.yaml": "a1", "w/x/b.yaml": "b1", "w/x/y/c.yaml": "c1", "w/z/d.yaml": "d1" });
    const changes = new Map<string, TreeEntry | null>([
      ["w/a.yaml", file("a2")],
      ["w/new/deep/e.yaml", file("e1")],
      ["w/x/y/c.yaml", null],
      ["w/z/d.yaml", null],
    ]);
    const { snapshot, trees } = before.with(changes, "sha1");
    committed({ "w/a.yaml": "a2", "w/x/b.yaml": "b1", "w/new/deep/e.yaml": "e1" });
    expect(snapshot.root).toBe(rootOf());
    // Written deepest first: every tree's subtrees come before it; the root is last.
    expect(trees[trees.length - 1]!.id).toBe(snapshot.root);
    expect(snapshot.get("w/a.yaml")?.id).toBe(blob("a2").id);
    expect(snapshot.get("w/x/y/c.yaml")).toBeUndefined();
    // The snapshot it came from is unchanged.
    expect(before.get("w/a.yaml")?.id).toBe(blob("a1").id);
    expect(before.get("w/x/y/c.yaml")?.id).toBe(blob("c1").id);
  });

  it("gives the same root for no change, and an empty snapshot builds a first tree", () => {
    const before = committed({ "w/a.yaml": "a1" });
    expect(before.with(new Map([["w/a.yaml", file("a1")]]), "sha1").snapshot.root).toBe(before.root);
    const first = TreeSnapshot.empty().with(new Map([["w/a.yaml", file("a1")]]), "sha1").snapshot;
    expect(first.root).toBe(rootOf());
  });
});
