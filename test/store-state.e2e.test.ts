/**
 * The store's state as a person leaves it (issue 24, items 3-5): a real
 * daemon, and plain git run in its store the way a person runs it. The
 * daemon commits only to the store's branch — a detached HEAD or a rebase
 * stopped midway answers store_busy, reads keep serving, and nothing
 * acknowledged is lost from the branch; one daemon per store; a store
 * removed while the daemon runs answers store_missing and is taken in
 * again when it is back; composition:reload is a full rebuild from disk.
 * Each case ends with the store clean of the daemon's work and every
 * served version tagged.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { cleanup, makeHome, readJsonLines, spawnDaemon, startDaemon, waitFor, type Daemon } from "./harness.js";
import { expectFsckClean, git, gitRun, head, lines } from "./store-git.js";

type Msg = Record<string, unknown>;

/** A person's git: their own name and address. */
const PERSON = ["-c", "user.name=Pat Person", "-c", "user.email=pat@example.org"];

afterAll(cleanup);

function storeOf(daemon: Daemon): string {
  return join(daemon.home, "var", "lib", "compositions");
}

function doc(name: string, version: string, description = `${name} for the store-state test`): Msg {
  return { name, type: "orchestration", version, description };
}

async function refusal(request: Promise<unknown>): Promise<{ code: string; message: string; details: Msg }> {
  const err = (await request.then(
    () => null,
    (e: unknown) => e,
  )) as { code: string; message: string; details: Msg } | null;
  expect(err, "the request should have been refused").not.toBeNull();
  return err!;
}

/**
 * A read's refusal once the daemon has heard of a change to the store. A read
 * sent right after the change may be taken in the same poll as the watch's
 * event and answered from the reading before (store-watch.ts: "as if read a
 * moment sooner"); the next ones are refused. Writes always read afresh.
 */
async function readRefusal(c: Client, event: string, data?: Msg): Promise<{ code: string; message: string; details: Msg }> {
  return waitFor(`${event} refused`, () =>
    c.request(event, data).then(
      () => null,
      (e: unknown) => e as { code: string; message: string; details: Msg },
    ),
  5_000);
}

const listNames = async (c: Client) => (await c.request<{ compositions: Msg[] }>("composition:list")).compositions.map((e) => String(e.name)).sort();

/** The pattern files on disk (store-relative), decision logs left out. */
function filesOnDisk(store: string): string[] {
  const found: string[] = [];
  for (const dir of readdirSync(store, { withFileTypes: true })) {
    if (!dir.isDirectory() || dir.name.startsWith(".")) continue;
    for (const file of readdirSync(join(store, dir.name))) {
      if (file.endsWith(".yaml") && !file.endsWith("_decisions.yaml")) found.push(`${dir.name}/${file}`);
    }
  }
  return found.sort();
}

/** `git status --porcelain` is empty, and every served (clean) pattern's version has its tag on a commit holding it. */
async function expectStoreTrue(c: Client, store: string): Promise<void> {
  expect(await git(store, "status", "--porcelain", "--untracked-files=all")).toBe("");
  const tags = new Set(lines(await git(store, "tag", "--list")));
  const { compositions } = await c.request<{ compositions: Msg[] }>("composition:list");
  for (const entry of compositions) expect(tags, `tag of ${String(entry.name)}@${String(entry.version)}`).toContain(`${String(entry.name)}@${String(entry.version)}`);
  await expectFsckClean(store);
}

const logRecords = (daemon: Daemon) => readJsonLines(join(daemon.home, "var", "log", "daemon.log"));

describe("a detached HEAD (git checkout HEAD~1)", () => {
  it("saves answer store_busy naming the state and the command; reads serve; a decision tracked meanwhile is committed on the branch once it is back", async () => {
    const d = await startDaemon();
    const store = storeOf(d);
    const c = await d.client({ agentId: "e2e-detached" });
    await c.request("composition:save", { composition: doc("detach_demo", "1.0.0") });
    const second = await c.request<Msg>("composition:save", { composition: doc("detach_demo", "1.1.0", "the second version") });
    expect(second).toMatchObject({ version: "1.1.0", commit: await head(store) });
    const tip = await head(store);

    await git(store, "checkout", "--quiet", "HEAD~1");
    // Reads keep serving (the files as the person checked them out).
    await waitFor("the checked-out file to be served", async () => (await c.request<Msg>("composition:get", { name: "detach_demo" })).version === "1.0.0");
    const busy = await refusal(c.request("composition:save", { composition: doc("detach_new", "1.0.0") }));
    expect(busy.code).toBe("store_busy");
    expect(busy.details).toEqual({ state: "detached", branch: "main", hint: "git checkout main" });
    expect(busy.message).toMatch(/HEAD is detached at [0-9a-f]{12}, not on the store's branch main; the daemon does not commit until it ends \(git checkout main\)/);
    expect((await refusal(c.request("composition:update", { name: "tournament", set: { description: "x" } }))).code).toBe("store_busy");
    expect((await refusal(c.request("composition:delete", { name: "tournament" }))).code).toBe("store_busy");
    expect((await refusal(c.request("composition:fork", { parent: "tournament", name: "t_fork", reason: "try" }))).code).toBe("store_busy");
    expect(existsSync(join(store, "orchestrations", "detach_new.yaml"))).toBe(false);
    // Nothing was committed anywhere: the branch and the detached HEAD are where they were.
    expect((await git(store, "rev-parse", "main")).trim()).toBe(tip);
    expect(await c.request<Msg>("system:health")).toMatchObject({
      status: "ok",
      store: { branch: "main", state: "busy", reason: "detached", hint: "git checkout main" },
    });
    expect(await listNames(c)).toContain("detach_demo");

    // A decision is acknowledged (on disk); its commit waits, quietly.
    const tracked = await c.request<{ tracked: { id: string }; file: string }>("composition:track_decision", {
      pattern: "tournament",
      decision: "kept while detached",
      outcome: "success",
      confidence: 0.9,
    });
    await waitFor("the batch to have tried and waited", async () => (await logRecords(d)).some((r) => /decision logs are not committed while the store cannot be written/.test(String(r.msg))), 5_000, 50);

    await git(store, "checkout", "--quiet", "main");
    const after = await c.request<Msg>("composition:save", { composition: doc("detach_new", "1.0.0") });
    expect(after).toMatchObject({ branch: "main", commit: await head(store) });
    expect((await git(store, "rev-parse", "--abbrev-ref", "HEAD")).trim()).toBe("main");
    await waitFor("the decision committed on main", async () => (await git(store, "show", `main:${tracked.file}`)).includes(tracked.tracked.id), 5_000, 50);
    const records = await logRecords(d);
    expect(records.filter((r) => /decision logs are not committed while the store cannot be written/.test(String(r.msg)))).toHaveLength(1);
    expect(records.some((r) => r.msg === "decision logs kept while the store could not be written are committed" && r.level === 30)).toBe(true);
    expect(records.some((r) => r.level === 50)).toBe(false);
    // Every reply that names a commit names the branch it is on.
    expect(second.branch).toBe("main");
    await expectStoreTrue(c, store);
  });
});

describe("a rebase -i stopped midway", () => {
  it("answers store_busy {state: rebase}; after git rebase --abort writes work, and no acknowledged save or decision is lost from the branch", async () => {
    const d = await startDaemon();
    const store = storeOf(d);
    const c = await d.client({ agentId: "e2e-rebase" });
    const acknowledged: string[] = [String((await c.request<Msg>("composition:save", { composition: doc("rebase_0", "1.0.0") })).commit)];
    // A decision log committed before the commits the rebase replays: git rebase --abort puts it back as committed, silently.
    const before = await c.request<{ file: string }>("composition:track_decision", { pattern: "rebase_0", decision: "before the rebase", outcome: "success" });
    await waitFor("the first decision committed", async () => (await git(store, "status", "--porcelain")) === "" && (await gitRun(store, ["show", `HEAD:${before.file}`])).code === 0, 5_000, 50);
    acknowledged.push(await head(store));
    for (let i = 1; i < 4; i++) acknowledged.push(String((await c.request<Msg>("composition:save", { composition: doc(`rebase_${i}`, "1.0.0") })).commit));
    const editor = join(d.home, "mark-edit.sh");
    writeFileSync(editor, "#!/bin/sh\nsed -i '1s/^pick/edit/' \"$1\"\n");
    chmodSync(editor, 0o755);
    const rebase = await gitRun(store, [...PERSON, "-c", `sequence.editor=${editor}`, "rebase", "-i", "HEAD~3"]);
    expect(rebase.code, rebase.stderr).toBe(0);
    expect(existsSync(join(store, ".git", "rebase-merge"))).toBe(true);

    const saves = await Promise.all(Array.from({ length: 5 }, (_, i) => refusal(c.request("composition:save", { composition: doc(`during_${i}`, "1.0.0") }))));
    for (const err of saves) {
      expect(err.code).toBe("store_busy");
      expect(err.details).toEqual({ state: "rebase", branch: "main", hint: "git rebase --continue, or git rebase --abort" });
    }
    expect(await c.request<Msg>("system:health")).toMatchObject({ store: { state: "busy", reason: "rebase" } });
    // A decision acknowledged now; git rebase --abort puts the log back as the commit has it, silently.
    const tracked = await c.request<{ tracked: { id: string }; file: string }>("composition:track_decision", { pattern: "rebase_0", decision: "during the rebase", outcome: "success" });

    const abort = await gitRun(store, ["rebase", "--abort"]);
    expect(abort.code, abort.stderr).toBe(0);
    for (let i = 0; i < 3; i++) acknowledged.push(String((await c.request<Msg>("composition:save", { composition: doc(`after_${i}`, "1.0.0") })).commit));
    for (const commit of acknowledged) expect((await gitRun(store, ["merge-base", "--is-ancestor", commit, "main"])).code, commit).toBe(0);
    await waitFor("the decision committed on main", async () => (await gitRun(store, ["show", `main:${tracked.file}`])).stdout.includes(tracked.tracked.id), 5_000, 50);
    expect(readFileSync(join(store, tracked.file), "utf8")).toContain(tracked.tracked.id);
    expect((await logRecords(d)).some((r) => /acknowledged decision records were no longer in their log/.test(String(r.msg)))).toBe(true);
    for (let i = 0; i < 5; i++) expect(existsSync(join(store, "orchestrations", `during_${i}.yaml`))).toBe(false);
    expect(await git(store, "tag", "--list", "during_*")).toBe("");
    await expectStoreTrue(c, store);
  });
});

describe("two daemons on one store", () => {
  it("the second refuses to start naming the first's pid and socket; after kill -9 of the first a new one starts", async () => {
    const shared = join(await makeHome(), "store");
    const first = await startDaemon({ args: ["--store", shared] });
    const secondHome = await makeHome();
    const second = spawnDaemon(secondHome, ["--store", shared]);
    const exit = await second.waitExit(15_000);
    expect(exit.code).not.toBe(0);
    const said = second.stderr().trim();
    expect(said.split("\n")).toHaveLength(1);
    expect(said).toBe(
      `patternd: cannot start: the store ${shared} is served by another daemon (pid ${first.pid}, socket ${first.socketPath}); ` +
        `one daemon per store: stop that one (pat stop --home ${first.home}) or give this one another --store`,
    );
    const c1 = await first.client();
    expect(await c1.request<Msg>("composition:save", { composition: doc("two_daemons", "1.0.0") })).toMatchObject({ branch: "main" });

    await first.kill();
    const third = await startDaemon({ home: secondHome, args: ["--store", shared] });
    expect(JSON.parse(readFileSync(join(shared, ".git", "patternd.lock"), "utf8"))).toMatchObject({ pid: third.pid, socket: third.socketPath, home: secondHome });
    const c3 = await third.client();
    expect(await c3.request<Msg>("composition:save", { composition: doc("two_daemons", "1.1.0") })).toMatchObject({ version: "1.1.0", branch: "main" });
    await expectStoreTrue(c3, shared);
    // A clean stop takes its lock away.
    expect((await third.stop()).code).toBe(0);
    expect(existsSync(join(shared, ".git", "patternd.lock"))).toBe(false);
  });
});

describe("the store removed while the daemon runs", () => {
  it("moved away: store_missing, health says so, nothing listed; moved back: taken in again without a restart", async () => {
    const d = await startDaemon();
    const store = storeOf(d);
    const c = await d.client({ agentId: "e2e-missing" });
    const saved = await c.request<Msg>("composition:save", { composition: doc("missing_demo", "1.0.0") });
    const before = await listNames(c);

    renameSync(store, `${store}.away`);
    const gone = await readRefusal(c, "composition:list");
    expect(gone.code).toBe("store_missing");
    expect(gone.details).toEqual({ path: store });
    expect(gone.message).toMatch(/is gone \(removed or moved away\); the daemon picks it up again, without a restart, when the folder is back/);
    for (const [event, data] of [
      ["composition:get", { name: "missing_demo" }],
      ["composition:save", { composition: doc("missing_new", "1.0.0") }],
      ["composition:discover", {}],
      ["composition:track_decision", { pattern: "missing_demo", decision: "x" }],
    ] as const) {
      expect((await refusal(c.request(event, data))).code, event).toBe("store_missing");
    }
    expect(await c.request<Msg>("system:health")).toMatchObject({ status: "ok", store: { state: "missing", reason: "folder_gone", patterns: 0 } });
    // Never re-created by the daemon.
    expect(existsSync(store)).toBe(false);

    renameSync(`${store}.away`, store);
    expect(await listNames(c)).toEqual(before);
    expect(await c.request<Msg>("system:health")).toMatchObject({ store: { state: "ok", branch: "main" } });
    expect(await c.request<Msg>("composition:get", { name: "missing_demo" })).toMatchObject({ commit: saved.commit, dirty: false });
    const next = await c.request<Msg>("composition:save", { composition: doc("missing_demo", "1.1.0") });
    expect(next).toMatchObject({ version: "1.1.0", branch: "main", commit: await head(store) });
    await expectStoreTrue(c, store);
  });

  it("rm -rf, then git init and two files committed by a person: exactly those are served, saves work, nothing is seeded", async () => {
    const d = await startDaemon();
    const store = storeOf(d);
    const c = await d.client({ agentId: "e2e-reinit" });
    expect((await listNames(c)).length).toBeGreaterThan(10);
    rmSync(store, { recursive: true, force: true });
    expect((await readRefusal(c, "composition:list")).code).toBe("store_missing");
    expect(await c.request<Msg>("system:health")).toMatchObject({ store: { state: "missing", patterns: 0 } });

    mkdirSync(join(store, "orchestrations"), { recursive: true });
    execFileSync("git", ["init", "--quiet", store], { env: { PATH: process.env.PATH, HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1" } });
    for (const name of ["reborn_a", "reborn_b"]) writeFileSync(join(store, "orchestrations", `${name}.yaml`), `name: ${name}\ntype: orchestration\nversion: 1.0.0\ndescription: put back by hand\n`);
    await git(store, "add", "-A");
    await git(store, ...PERSON, "commit", "--quiet", "-m", "start again");
    await waitFor("the store taken in again", async () => (await c.request<Msg>("system:health")).store !== undefined && ((await c.request<Msg>("system:health")).store as Msg).state === "ok", 5_000, 50);
    expect(await listNames(c)).toEqual(["reborn_a", "reborn_b"]);
    const saved = await c.request<Msg>("composition:save", { composition: doc("reborn_c", "1.0.0") });
    expect(saved).toMatchObject({ branch: "master", commit: await head(store) });
    expect(await listNames(c)).toEqual(["reborn_a", "reborn_b", "reborn_c"]);
    expect(filesOnDisk(store)).toEqual(["orchestrations/reborn_a.yaml", "orchestrations/reborn_b.yaml", "orchestrations/reborn_c.yaml"]);
    expect(Number((await git(store, "rev-list", "--count", "HEAD")).trim())).toBe(2);
    await waitFor("the person's versions tagged", async () => lines(await git(store, "tag", "--list")).length === 3, 5_000, 50);
    await expectStoreTrue(c, store);
  });
});

describe("git reset --hard racing saves, then composition:reload", () => {
  it("a pattern whose file a reset removed right after its save is not served after reload (a post-commit hook resets, deterministically)", async () => {
    const d = await startDaemon();
    const store = storeOf(d);
    const c = await d.client({ agentId: "e2e-reset" });
    await c.request("composition:save", { composition: doc("reset_base", "1.0.0") });
    // The person's reset lands between the daemon's commit and its index update: a post-commit hook makes that window certain.
    const hook = join(store, ".git", "hooks", "post-commit");
    mkdirSync(join(store, ".git", "hooks"), { recursive: true });
    writeFileSync(hook, "#!/bin/sh\ngit reset --quiet --hard HEAD~1\n");
    chmodSync(hook, 0o755);
    const saved = await c.request<Msg>("composition:save", { composition: doc("reset_gone", "1.0.0") });
    rmSync(hook);
    expect(existsSync(join(store, "orchestrations", "reset_gone.yaml"))).toBe(false);
    expect((await git(store, "rev-parse", "HEAD")).trim()).not.toBe(saved.commit);

    await c.request("composition:reload");
    const served = await listNames(c);
    expect(served).not.toContain("reset_gone");
    expect((await refusal(c.request("composition:get", { name: "reset_gone" }))).code).toBe("not_found");
    await expectServedIsDisk(c, store);
    await expectStoreTrue(c, store);
  });

  it("saves running while a person resets HEAD~3: after reload every served pattern's file is on disk and every file on disk is served", async () => {
    const d = await startDaemon();
    const store = storeOf(d);
    const c = await d.client({ agentId: "e2e-race" });
    for (let i = 0; i < 6; i++) await c.request("composition:save", { composition: doc(`race_${i}`, "1.0.0") });
    for (let round = 0; round < 3; round++) {
      const saves = Array.from({ length: 12 }, (_, i) =>
        c.request("composition:save", { composition: doc(`race_${round}_${i}`, "1.0.0") }).then(
          () => "ok",
          (err: { code: string }) => err.code,
        ),
      );
      const reset = gitRun(store, ["reset", "--quiet", "--hard", "HEAD~3"]);
      await Promise.all([...saves, reset]);
      await c.request("composition:reload");
      await expectServedIsDisk(c, store);
    }
    expect(await c.request<Msg>("system:health")).toMatchObject({ status: "ok", store: { state: "ok" } });
    // A reset that lands while a save commits cannot leave its paths staged ("AD"): the save stages into a private index under index.lock.
    await expectStoreTrue(c, store);
  });
});

/** Every served pattern's file exists, and every pattern file on disk is served (they are all valid here). */
async function expectServedIsDisk(c: Client, store: string): Promise<void> {
  const { compositions } = await c.request<{ compositions: Msg[] }>("composition:list");
  const servedPaths = compositions.map((e) => `${String(e.type)}s/${String(e.name)}.yaml`).sort();
  expect(servedPaths).toEqual(filesOnDisk(store));
}

describe("--branch", () => {
  it("a new store is seeded on the branch given; a branch name git would refuse is a usage error", async () => {
    const d = await startDaemon({ args: ["--branch", "patterns"] });
    const store = storeOf(d);
    const c = await d.client();
    expect((await git(store, "symbolic-ref", "HEAD")).trim()).toBe("refs/heads/patterns");
    expect(await c.request<Msg>("composition:save", { composition: doc("branch_demo", "1.0.0") })).toMatchObject({ branch: "patterns", commit: await head(store) });
    expect(await c.request<Msg>("system:health")).toMatchObject({ store: { branch: "patterns", state: "ok" } });
    await git(store, "checkout", "--quiet", "-b", "elsewhere");
    expect((await refusal(c.request("composition:save", { composition: doc("branch_demo", "1.1.0") }))).details).toEqual({
      state: "other_branch",
      branch: "patterns",
      hint: "git checkout patterns",
    });
    await git(store, "checkout", "--quiet", "patterns");
    await expectStoreTrue(c, store);

    const bad = spawnDaemon(await makeHome(), ["--branch", "a..b"]);
    expect((await bad.waitExit()).code).toBe(2);
    expect(bad.stderr()).toMatch(/^patternd: --branch must be a git branch name, e\.g\. main \(got "a\.\.b"\)\n/);
  });
});
