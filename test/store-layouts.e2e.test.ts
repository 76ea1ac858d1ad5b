/**
 * Issue 21, item 1: a store in any git layout — a submodule (KSI mounts
 * its compositions repository as one at var/lib/compositions), a linked
 * worktree, `git init --separate-git-dir` — whose `.git` is a FILE naming
 * the repository elsewhere. The daemon did not start there (ENOTDIR on
 * `.git/HEAD`, then a store_refused stop-gap). Now, in each layout: it
 * starts with `--store` there and lists the patterns; a save is a commit
 * with its tag as git sees them in that layout, the store clean and fsck
 * clean, nothing of the daemon's left in the work tree; a person's commit
 * there is taken in (tagged, op external); a person's detached HEAD there
 * answers store_busy; a second daemon on the same store is refused. Two
 * worktrees of one repository are two stores, each with its own daemon.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Client, Push } from "../client/index.js";
import { cleanup, makeHome, spawnDaemon, startDaemon, waitFor, type Daemon } from "./harness.js";
import { expectFsckClean, expectStoreTruth, git, gitRun, head, lines } from "./store-git.js";

type Msg = Record<string, unknown>;

/** A person's git: their own name and address. */
const PERSON = ["-c", "user.name=Pat Person", "-c", "user.email=pat@example.org"];

afterAll(cleanup);

/** /dev/shm is another file system than the temp homes here (where the machine has one). */
const otherDevice = existsSync("/dev/shm") && statSync("/dev/shm").dev !== statSync(tmpdir()).dev;

function doc(name: string, version: string, description = `${name}, a pattern of the layout test`): string {
  return `name: ${name}\ntype: orchestration\nversion: ${version}\ndescription: ${description}\n`;
}

/** A repository holding two patterns, committed and tagged by a person, on branch main. */
async function patternRepo(dir: string, init: string[] = []): Promise<void> {
  mkdirSync(join(dir, "orchestrations"), { recursive: true });
  await git(dir, "init", "-q", "-b", "main", ...init);
  writeFileSync(join(dir, "orchestrations", "alpha.yaml"), doc("alpha", "1.0.0"));
  writeFileSync(join(dir, "orchestrations", "beta.yaml"), doc("beta", "2.0.0"));
  await git(dir, "add", "-A");
  await git(dir, ...PERSON, "commit", "-q", "-m", "two patterns");
  await git(dir, "tag", "alpha@1.0.0");
  await git(dir, "tag", "beta@2.0.0");
}

/** A superproject with `source` as a submodule at var/lib/compositions (as KSI mounts it), on branch main; the store's path. */
async function submoduleStore(home: string, source: string): Promise<string> {
  const superproject = join(home, "ksi");
  mkdirSync(superproject);
  await git(superproject, "init", "-q", "-b", "main");
  await git(superproject, "-c", "protocol.file.allow=always", "submodule", "add", "-q", source, "var/lib/compositions");
  await git(superproject, ...PERSON, "commit", "-q", "-m", "compositions as a submodule");
  const store = join(superproject, "var", "lib", "compositions");
  await git(store, "checkout", "-q", "main");
  return store;
}

async function names(c: Client): Promise<string[]> {
  return (await c.request<{ compositions: Msg[] }>("composition:list")).compositions.map((e) => String(e.name)).sort();
}

/** The pushes of composition:changed a client subscribed to, collected as they come. */
async function changes(d: Daemon): Promise<Msg[]> {
  const seen: Msg[] = [];
  const sub = await (await d.client({ agentId: "e2e-monitor" })).subscribe(["composition:changed"]);
  void (async () => {
    for await (const push of sub as AsyncIterable<Push>) seen.push(push.data as Msg);
  })();
  return seen;
}

/**
 * What every layout must do: list, save (a commit with its tag, as git
 * in the store sees them), a person's commit taken in, a detached HEAD
 * answering store_busy, a second daemon refused; the store clean after.
 */
async function servesInLayout(home: string, store: string, branch = "main"): Promise<Daemon> {
  const d = await startDaemon({ home, args: ["--store", store] });
  const c = await d.client({ agentId: "e2e-layout" });
  expect(await names(c)).toEqual(["alpha", "beta"]);
  const pushed = await changes(d);

  const saved = await c.request<{ commit: string; version: string }>("composition:save", { yaml: doc("gamma", "1.0.0") });
  expect(saved.commit).toBe(await head(store));
  expect(lines(await git(store, "log", "--format=%H %s", "-1"))[0]).toContain(saved.commit);
  expect(lines(await git(store, "tag", "-l"))).toContain("gamma@1.0.0");
  expect((await git(store, "rev-parse", "gamma@1.0.0^{commit}")).trim()).toBe(saved.commit);
  expect((await git(store, "rev-parse", "--abbrev-ref", "HEAD")).trim()).toBe(branch);
  expect(await git(store, "status", "--porcelain", "--untracked-files=all")).toBe("");
  // Nothing of the daemon's in the work tree: its files are in the git dir.
  expect(readdirSync(store).filter((name) => name.startsWith("patternd") || name === "patternd-tmp")).toEqual([]);

  // A person's commit in the store: taken in, tagged, published as external.
  writeFileSync(join(store, "orchestrations", "alpha.yaml"), doc("alpha", "1.1.0", "alpha, as a person changed it"));
  await git(store, ...PERSON, "commit", "-q", "-am", "alpha by hand");
  const byHand = await head(store);
  await waitFor("the hand commit to be tagged", async () => (await gitRun(store, ["rev-parse", "--verify", "--quiet", "alpha@1.1.0^{commit}"])).stdout.trim() === byHand);
  await waitFor("the external change to be published", () => pushed.some((p) => p.name === "alpha" && p.op === "external" && p.version === "1.1.0"));
  expect(await c.request<Msg>("composition:get", { name: "alpha" })).toMatchObject({ version: "1.1.0", commit: byHand, dirty: false });

  // A person's detached HEAD: store_busy, and reads still served.
  await git(store, "checkout", "-q", "--detach", "HEAD");
  const busy = await c.send("composition:save", { yaml: doc("delta", "1.0.0") });
  expect(busy).toMatchObject({ ok: false, error: { code: "store_busy", details: { state: "detached" } } });
  expect(await names(c)).toContain("gamma");
  await git(store, "checkout", "-q", branch);
  const after = await c.request<{ commit: string }>("composition:save", { yaml: doc("delta", "1.0.0") });
  expect(after.commit).toBe(await head(store));

  // One daemon per store.
  const other = spawnDaemon(await makeHome(), ["--store", store]);
  expect((await other.waitExit(15_000)).code).toBe(1);
  expect(other.stderr()).toMatch(/is served by another daemon \(pid \d+/);

  await expectStoreTruth(store);
  await expectFsckClean(store);
  return d;
}

describe("a store that is a submodule (KSI's var/lib/compositions)", () => {
  it("starts (it died with ENOTDIR on .git/HEAD, then was refused), saves, takes a hand commit in, answers store_busy on a detached HEAD, one daemon only", async () => {
    const home = await makeHome();
    const source = join(home, "source");
    await patternRepo(source);
    const store = await submoduleStore(home, source);
    const gitDir = join(home, "ksi", ".git", "modules", "var", "lib", "compositions");
    expect((await git(store, "rev-parse", "--absolute-git-dir")).trim()).toBe(gitDir);

    const d = await servesInLayout(home, store);
    // The daemon's own files are in the submodule's git dir, not in a .git folder of the work tree.
    expect(existsSync(join(gitDir, "patternd.lock"))).toBe(true);
    expect(existsSync(join(gitDir, "patternd-head"))).toBe(true);
    expect(existsSync(join(gitDir, "patternd-tmp"))).toBe(true);
    // The superproject sees the submodule moved, nothing else.
    expect(await git(join(home, "ksi"), "status", "--porcelain")).toBe(" M var/lib/compositions\n");
    expect((await d.stop()).code).toBe(0);
    expect(existsSync(join(gitDir, "patternd.lock"))).toBe(false);

    // The next start takes in a commit made while it was stopped.
    writeFileSync(join(store, "orchestrations", "beta.yaml"), doc("beta", "2.1.0", "beta while the daemon was stopped"));
    await git(store, ...PERSON, "commit", "-q", "-am", "beta by hand");
    const again = await startDaemon({ home, args: ["--store", store] });
    expect((await git(store, "rev-parse", "beta@2.1.0^{commit}")).trim()).toBe(await head(store));
    expect((await again.stop()).code).toBe(0);
    await expectStoreTruth(store);
  });
});

describe("a store that is a linked worktree", () => {
  it("serves its own branch; a daemon on the main worktree and one on the linked worktree both run, each committing to its own branch", async () => {
    const home = await makeHome();
    const main = join(home, "main");
    await patternRepo(main);
    const linked = join(home, "linked");
    await git(main, "worktree", "add", "-q", "-b", "work", linked);
    const gitDir = join(main, ".git", "worktrees", "linked");
    expect((await git(linked, "rev-parse", "--absolute-git-dir")).trim()).toBe(gitDir);

    const d = await servesInLayout(home, linked, "work");
    expect(existsSync(join(gitDir, "patternd.lock"))).toBe(true);
    expect(existsSync(join(main, ".git", "patternd.lock"))).toBe(false);

    // The main worktree is a store of its own: its daemon runs beside the linked one's.
    const onMain = await startDaemon({ home: await makeHome(), args: ["--store", main] });
    const m = await onMain.client({ agentId: "e2e-main-worktree" });
    expect(await names(m)).toEqual(["alpha", "beta"]);
    const saved = await m.request<{ commit: string }>("composition:save", { yaml: doc("on_main", "1.0.0") });
    expect((await git(main, "rev-parse", "main")).trim()).toBe(saved.commit);
    // Tags are shared by the worktrees: the linked one sees the main one's.
    expect(lines(await git(linked, "tag", "-l"))).toContain("on_main@1.0.0");
    // The linked worktree's daemon serves on: its branch did not move, and the new pattern is not in its files.
    const l = await d.client({ agentId: "e2e-linked" });
    expect(await names(l)).not.toContain("on_main");
    const own = await l.request<{ commit: string }>("composition:save", { yaml: doc("on_work", "1.0.0") });
    expect((await git(main, "rev-parse", "work")).trim()).toBe(own.commit);
    expect(await git(main, "status", "--porcelain", "--untracked-files=all")).toBe("");
    expect(await git(linked, "status", "--porcelain", "--untracked-files=all")).toBe("");
    expect((await onMain.stop()).code).toBe(0);
    expect((await d.stop()).code).toBe(0);
    await expectFsckClean(main);
  });

  it("a commit on the linked worktree's branch made from the main worktree (git update-ref) is taken in", async () => {
    const home = await makeHome();
    const main = join(home, "main");
    await patternRepo(main);
    const linked = join(home, "linked");
    await git(main, "worktree", "add", "-q", "-b", "work", linked);
    const d = await startDaemon({ home, args: ["--store", linked] });
    const c = await d.client({ agentId: "e2e-linked" });
    const pushed = await changes(d);
    // A commit of beta 2.1.0 made in the main worktree, then put on the linked worktree's branch without touching its HEAD or reflog.
    writeFileSync(join(main, "orchestrations", "beta.yaml"), doc("beta", "2.1.0", "beta from the main worktree"));
    await git(main, ...PERSON, "commit", "-q", "-am", "beta on main");
    const commit = (await head(main)).trim();
    await git(main, "update-ref", "refs/heads/work", commit);
    // Heard from the branch's file, not the 5 s poll.
    await waitFor("the branch moved from another worktree to be taken in", () => pushed.some((p) => p.name === "beta" && p.op === "external" && p.version === "2.1.0"), 2_500);
    expect(await gitRun(linked, ["rev-parse", "--verify", "--quiet", "beta@2.1.0^{commit}"])).toMatchObject({ stdout: `${commit}\n` });
    // The linked worktree's files are still the old ones: beta is served as its file has it, dirty against the new HEAD.
    expect(await c.request<Msg>("composition:get", { name: "beta" })).toMatchObject({ version: "2.0.0", dirty: true });
    expect((await d.stop()).code).toBe(0);
  });
});

describe("a store made with git init --separate-git-dir", () => {
  it("serves, with the repository and the daemon's own files in the separate git dir", async () => {
    const home = await makeHome();
    const store = join(home, "own-store");
    const gitDir = join(home, "elsewhere.git");
    await patternRepo(store, [`--separate-git-dir=${gitDir}`]);
    const d = await servesInLayout(home, store);
    expect(existsSync(join(gitDir, "patternd.lock"))).toBe(true);
    expect(existsSync(join(gitDir, "patternd-tmp"))).toBe(true);
    expect((await d.stop()).code).toBe(0);
  });

  it.skipIf(!otherDevice)("with the git dir on another file system (/dev/shm): temp files go beside their file, the saves commit, nothing is left behind", async () => {
    const home = await makeHome();
    const store = join(home, "own-store");
    const shm = mkdtempSync(join("/dev/shm", "pd-gitdir-"));
    try {
      const gitDir = join(shm, "repo.git");
      await patternRepo(store, [`--separate-git-dir=${gitDir}`]);
      const d = await startDaemon({ home, args: ["--store", store] });
      const c = await d.client({ agentId: "e2e-cross-device" });
      const saved = await c.request<{ commit: string }>("composition:save", { yaml: doc("gamma", "1.0.0") });
      await c.request("composition:save", { yaml: doc("gamma", "1.1.0") });
      await c.request("composition:delete", { name: "beta" });
      expect((await git(store, "rev-parse", "gamma@1.0.0^{commit}")).trim()).toBe(saved.commit);
      expect(existsSync(join(gitDir, "patternd-tmp"))).toBe(false);
      expect(await git(store, "status", "--porcelain", "--untracked-files=all")).toBe("");
      expect(readdirSync(join(store, "orchestrations")).sort()).toEqual(["alpha.yaml", "gamma.yaml"]);
      expect((await d.stop()).code).toBe(0);
      await expectFsckClean(store);
    } finally {
      rmSync(shm, { recursive: true, force: true });
    }
  });

  it("moved away while served and moved back: store_missing meanwhile, then taken in again from the separate git dir", async () => {
    const home = await makeHome();
    const store = join(home, "own-store");
    await patternRepo(store, [`--separate-git-dir=${join(home, "elsewhere.git")}`]);
    const d = await startDaemon({ home, args: ["--store", store] });
    const c = await d.client({ agentId: "e2e-vanish" });
    renameSync(store, join(home, "away"));
    expect(await c.send("composition:list", {})).toMatchObject({ ok: false, error: { code: "store_missing" } });
    renameSync(join(home, "away"), store);
    await waitFor("the store to be served again", async () => (await c.send("composition:list", {})).ok === true);
    const saved = await c.request<{ commit: string }>("composition:save", { yaml: doc("gamma", "1.0.0") });
    expect(saved.commit).toBe(await head(store));
    expect((await d.stop()).code).toBe(0);
    await expectStoreTruth(store);
  });

  it("a .git that is a symbolic link to a repository is refused as unsafe_path, with one line (a .git FILE is git's own way, a link is not)", async () => {
    const home = await makeHome();
    const real = join(home, "real");
    await patternRepo(real);
    const store = join(home, "linked-store");
    mkdirSync(store);
    symlinkSync(join(real, ".git"), join(store, ".git"));
    const proc = spawnDaemon(home, ["--store", store]);
    expect((await proc.waitExit(15_000)).code).toBe(1);
    const stderr = proc.stderr().trim();
    expect(stderr.split("\n"), stderr).toHaveLength(1);
    expect(stderr).toMatch(/^patternd: cannot start: .*linked-store\/\.git is a symbolic link to .*real\/\.git; the store never follows a link planted as its \.git/);
  });
});
