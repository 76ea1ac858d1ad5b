import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DaemonError } from "../../../core/errors.js";
import { silentLog } from "../../../core/log.js";
import { StoreDirs } from "./git-dirs.js";
import { StoreGuard } from "./store-guard.js";

let root: string;
let store: string;
let guard: StoreGuard;

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], {
    cwd,
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1" },
  });

/**
 * Until the event loop has polled for I/O once: what the watch heard is
 * delivered by then, as it is before the daemon reads a request sent after
 * the change. Two immediates: called from an I/O callback, the first runs
 * before the next poll.
 */
const turn = async () => {
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
};

beforeEach(async () => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "patternd-guard-")));
  store = join(root, "s");
  mkdirSync(store);
  git(store, "init", "-q", "-b", "main");
  writeFileSync(join(store, "a.yaml"), "name: a\n");
  git(store, "add", "-A");
  git(store, "commit", "-q", "-m", "a");
  const dirs = new StoreDirs(store);
  await dirs.resolve();
  guard = new StoreGuard(dirs, undefined, silentLog());
  guard.learn();
});
afterEach(() => {
  guard.close();
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(process.platform !== "linux")("StoreGuard keeps the reading of an untroubled store until the store changes", () => {
  it("a thousand questions about an unchanged store read it once", () => {
    guard.forget();
    const before = guard.readings;
    for (let i = 0; i < 1000; i++) {
      expect(guard.state()).toEqual({ branch: "main", state: "ok" });
      guard.requirePresent();
    }
    expect(guard.readings - before).toBe(1);
  });

  it.each([
    ["a merge", (dir: string) => writeFileSync(join(dir, ".git", "MERGE_HEAD"), `${"0".repeat(40)}\n`), { state: "busy", reason: "merge" }],
    ["a rebase", (dir: string) => mkdirSync(join(dir, ".git", "rebase-merge")), { state: "busy", reason: "rebase" }],
    ["a detached HEAD", (dir: string) => git(dir, "checkout", "-q", "--detach"), { state: "busy", reason: "detached" }],
    ["another branch", (dir: string) => git(dir, "checkout", "-q", "-b", "other"), { state: "busy", reason: "other_branch" }],
    ["the repository removed", (dir: string) => rmSync(join(dir, ".git"), { recursive: true }), { state: "missing", reason: "repository_gone" }],
    ["the folder moved away", (dir: string) => renameSync(dir, `${dir}.away`), { state: "missing", reason: "folder_gone" }],
  ] as const)("%s is seen by the next question after one turn of the event loop", async (_, change, expected) => {
    guard.state();
    const before = guard.readings;
    change(store);
    await turn();
    expect(guard.state()).toMatchObject(expected);
    expect(guard.readings).toBeGreaterThan(before);
  });

  it("and an untroubled store again once the change is undone", async () => {
    const marker = join(store, ".git", "MERGE_HEAD");
    for (let i = 0; i < 5; i++) {
      writeFileSync(marker, `${"0".repeat(40)}\n`);
      await turn();
      expect(guard.state()).toMatchObject({ state: "busy", reason: "merge" });
      rmSync(marker);
      await turn();
      expect(guard.state()).toEqual({ branch: "main", state: "ok" });
    }
  });

  it("before a commit the store is read afresh, heard or not", () => {
    guard.state();
    writeFileSync(join(store, ".git", "MERGE_HEAD"), `${"0".repeat(40)}\n`);
    // No turn: the watch's event is not delivered yet.
    expect(guard.writable()).toBe(false);
    let refusal: unknown;
    try {
      guard.requireWritable();
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toBeInstanceOf(DaemonError);
    expect((refusal as DaemonError).code).toBe("store_busy");
  });

  it("forget() makes the next question read afresh (the look every second)", () => {
    guard.state();
    const before = guard.readings;
    guard.forget();
    guard.state();
    expect(guard.readings).toBe(before + 1);
  });
});
