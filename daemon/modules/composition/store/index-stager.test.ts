/**
 * The daemon's own staging (index-stager.ts) against git itself: after its
 * commits git reads the index it wrote (split, with a shared index) as the
 * truth — status clean, the index equal to HEAD, fsck clean — keeps what a
 * person staged, and the bytes a save writes into .git do not grow with the
 * store.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GitRepo } from "./git.js";

let root: string;
let dir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "patternd-stager-"));
  dir = join(root, "store");
  mkdirSync(join(dir, "orchestrations"), { recursive: true });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function git(...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "-c", "gc.auto=0", "-c", "maintenance.auto=false", ...args], {
    cwd: dir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 256 * 1024 * 1024,
    env: { PATH: process.env.PATH, HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1" },
  });
}

const pattern = (i: number) => `orchestrations/pattern-${String(i).padStart(6, "0")}.yaml`;
const text = (i: number, version = "1.0.0") => `name: pattern-${i}\ntype: orchestration\nversion: ${version}\n`;

/** A store of `count` patterns committed by git (a plain, unsplit index, as a clone has), and the daemon's repository on it. */
function storeOf(count: number): GitRepo {
  for (let i = 0; i < count; i++) writeFileSync(join(dir, pattern(i)), text(i));
  git("init", "-q");
  git("add", "orchestrations");
  git("commit", "-q", "-m", "seed");
  return new GitRepo(dir);
}

async function save(repo: GitRepo, path: string, content: string | null): Promise<string> {
  if (content === null) rmSync(join(dir, path));
  else writeFileSync(join(dir, path), content);
  return repo.commitPaths([path], `save: ${path}\n\nOp: save\n`, "t");
}

/** What git says: nothing to commit, the index equal to HEAD's tree, the repository sound. */
function expectGitAgrees(): void {
  expect(git("status", "--porcelain")).toBe("");
  const index = git("ls-files", "-s").trim().split("\n").map((line) => line.replace(/ 0\t/, "\t"));
  const head = git("ls-tree", "-r", "HEAD").trim().split("\n").map((line) => line.replace(" blob ", " "));
  expect(index).toEqual(head);
  git("fsck", "--strict", "--no-progress");
}

describe("the daemon stages its changes itself", () => {
  it("writes a split index git reads as the truth: new, changed, executable and deleted files; the shared index written once", async () => {
    const repo = storeOf(50);
    await save(repo, pattern(10), text(10, "1.1.0"));
    expect(git("rev-parse", "--shared-index-path").trim()).toMatch(/sharedindex\.[0-9a-f]{40}$/);
    expectGitAgrees();
    const shared = readdirSync(join(dir, ".git")).filter((f) => f.startsWith("sharedindex."));
    await save(repo, pattern(100), text(100));
    chmodSync(join(dir, pattern(20)), 0o755);
    await save(repo, pattern(20), text(20, "1.0.1"));
    expect(git("ls-files", "-s", pattern(20))).toMatch(/^100755 /);
    await save(repo, pattern(30), null);
    expect(git("ls-files", pattern(30))).toBe("");
    expectGitAgrees();
    // Later saves write only the small index file.
    expect(readdirSync(join(dir, ".git")).filter((f) => f.startsWith("sharedindex."))).toEqual(shared);
    expect(git("log", "--format=%s", "-4").trim().split("\n")).toEqual([`save: ${pattern(30)}`, `save: ${pattern(20)}`, `save: ${pattern(100)}`, `save: ${pattern(10)}`]);
  });

  it("keeps what a person staged out of its commit and in the index, and reads the index again after their git rewrote it", async () => {
    const repo = storeOf(20);
    await save(repo, pattern(1), text(1, "2.0.0"));
    writeFileSync(join(dir, "notes.txt"), "a person's notes\n");
    git("add", "notes.txt");
    await save(repo, pattern(2), text(2, "2.0.0"));
    expect(git("show", "--name-only", "--format=", "HEAD").trim()).toBe(pattern(2));
    expect(git("status", "--porcelain")).toBe("A  notes.txt\n");
    // Their git writes the index its own way (here: unsplit again); the daemon's next save starts from it.
    git("update-index", "--no-split-index");
    await save(repo, pattern(3), text(3, "2.0.0"));
    expect(git("status", "--porcelain")).toBe("A  notes.txt\n");
    git("commit", "-q", "-m", "notes");
    expectGitAgrees();
  });

  it("leaves the staging to git where an attributes file may change the bytes staged", async () => {
    const repo = storeOf(5);
    writeFileSync(join(dir, ".gitattributes"), "*.yaml text eol=lf\n");
    git("add", ".gitattributes");
    git("commit", "-q", "-m", "attributes");
    await save(repo, pattern(1), text(1, "1.1.0").replace(/\n/g, "\r\n"));
    // git converted the line endings on the way in: the blob has none.
    expect(git("show", `HEAD:${pattern(1)}`)).toBe(text(1, "1.1.0"));
    expect(git("status", "--porcelain")).toBe("");
  });

  it("writes as many bytes into .git per save on 20 000 patterns as on 2 000, but the folder's own tree", async () => {
    const perSave = async (count: number) => {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(join(dir, "orchestrations"), { recursive: true });
      const repo = storeOf(count);
      // The first save writes the shared index (the whole index, once).
      await save(repo, pattern(0), text(0, "1.0.1"));
      const written: number[] = [];
      for (let k = 1; k <= 5; k++) {
        const before = filesIn(join(dir, ".git"));
        await save(repo, pattern(k * 7), text(k * 7, "1.0.1"));
        const after = filesIn(join(dir, ".git"));
        const folderTree = git("rev-parse", "HEAD:orchestrations").trim();
        let bytes = 0;
        for (const [file, size] of after) {
          if (file === `objects/${folderTree.slice(0, 2)}/${folderTree.slice(2)}`) continue;
          if (before.get(file) !== size || file === "index") bytes += size - (file.startsWith("logs/") ? (before.get(file) ?? 0) : 0);
        }
        written.push(bytes);
      }
      expectGitAgrees();
      return Math.max(...written);
    };
    const small = await perSave(2_000);
    const large = await perSave(20_000);
    // A full index of 20 000 entries is ~1.9 MB; the split one holds the changes since its shared index.
    expect(large).toBeLessThan(16 * 1024);
    expect(large).toBeLessThan(small + 2 * 1024);
  }, 120_000);
});

/** Every file under `root` (relative path → size). */
function filesIn(root: string): Map<string, number> {
  const files = new Map<string, number>();
  const walk = (folder: string) => {
    for (const entry of readdirSync(join(root, folder), { withFileTypes: true })) {
      const path = folder === "" ? entry.name : `${folder}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else files.set(path, statSync(join(root, path)).size);
    }
  };
  walk("");
  return files;
}
