/**
 * Issue 24, the store's recovery: a start after whatever a crash or a
 * person's git command left never fails over it (item 6), a first-start
 * seed killed at any step is finished by the next start (item 7), layouts
 * the daemon does not write are refused with one line, a hostile file's
 * error is a sentence, and a CRLF file stays CRLF. Each test first builds
 * the state that broke the daemon before, then checks it serves and the
 * store tells one truth (expectStoreTruth).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GitWrapper } from "./git-wrapper.js";
import { cleanup, makeHome, readJsonLines, spawnDaemon, startDaemon, type Daemon } from "./harness.js";
import { commitCount, expectFsckClean, expectStoreTruth, git, lines } from "./store-git.js";

type Msg = Record<string, unknown>;

const wrappers: GitWrapper[] = [];
afterAll(async () => {
  for (const wrapper of wrappers) await wrapper.remove();
  await cleanup();
});

const storeOf = (home: string) => join(home, "var", "lib", "compositions");

/** The starter library as a served list: name → version. */
async function served(daemon: Daemon): Promise<Record<string, string>> {
  const client = await daemon.client();
  const { compositions } = await client.request<{ compositions: { name: string; version: string }[] }>("composition:list", {});
  return Object.fromEntries(compositions.map((c) => [c.name, c.version]));
}

/** The warn lines of daemon.log. */
async function warnings(home: string): Promise<Msg[]> {
  return (await readJsonLines(join(home, "var", "log", "daemon.log"))).filter((line) => line.level === 40);
}

describe("recovery at start never aborts the start", () => {
  it("a decision log staged by a person, then put back as HEAD has it: the daemon starts (it said 'nothing to commit' and never started again)", async () => {
    const first = await startDaemon();
    const store = storeOf(first.home);
    expect((await first.stop()).code).toBe(0);
    const log = join(store, "orchestrations", "tournament_decisions.yaml");
    const committed = readFileSync(log, "utf8");
    writeFileSync(log, `${committed}# a note\n`);
    await git(store, "add", "--", "orchestrations/tournament_decisions.yaml");
    writeFileSync(log, committed);
    expect(await git(store, "status", "--porcelain")).toBe("MM orchestrations/tournament_decisions.yaml\n");

    const again = await startDaemon({ home: first.home });
    const client = await again.client({ agentId: "recovery" });
    expect((await client.request<Msg>("composition:get", { name: "tournament" })).name).toBe("tournament");
    const tracked = await client.request<{ tracked: { id: string } }>("composition:track_decision", { pattern: "tournament", decision: "after the restart" });
    expect((await again.stop()).code).toBe(0);
    expect(await git(store, "show", "HEAD:orchestrations/tournament_decisions.yaml")).toContain(tracked.tracked.id);
    await expectStoreTruth(store);
  });

  it("a recovery step that fails is a warning with what to run, and the daemon serves", async () => {
    const first = await startDaemon();
    const store = storeOf(first.home);
    expect((await first.stop()).code).toBe(0);
    // An intent (a change cut short) naming a path the daemon must not write: putting it back fails.
    writeFileSync(join(store, ".git", "patternd-intent.json"), JSON.stringify({ paths: ["../outside.yaml"], message: "save: never made", tag: null }));

    const again = await startDaemon({ home: first.home });
    const client = await again.client();
    expect((await client.request<Msg>("composition:save", { composition: { name: "after_recovery", type: "orchestration", version: "1.0.0", description: "saved" } })).version).toBe("1.0.0");
    const warned = await warnings(first.home);
    expect(warned.map((w) => w.msg)).toContainEqual(expect.stringMatching(/^recovery at start could not finish a store change a stop cut short: .*the daemon serves anyway\. Look at `git -C .* status`/));
    expect((await again.stop()).code).toBe(0);
  });
});

/** Kills the daemon and the git command paused in the wrapper (its pid is in the wrapper's paused file). */
async function killInWindow(daemon: ReturnType<typeof spawnDaemon>, wrapper: GitWrapper): Promise<void> {
  const paused = (await readdir(wrapper.dir)).filter((name) => name.startsWith("paused."));
  daemon.process.kill("SIGKILL");
  await daemon.exited;
  for (const name of paused) {
    try {
      process.kill(Number(name.slice("paused.".length)), "SIGKILL");
    } catch {
      // already gone
    }
  }
}

describe("seeding is crash-safe", () => {
  it.each([
    ["before git init", "init"],
    ["during git add, after init and the files", "add"],
  ])("kill -9 %s: the next start finishes the seed (it skipped it: files staged forever, no tags)", async (_, subcommand) => {
    const home = await makeHome();
    const wrapper = await GitWrapper.create();
    wrappers.push(wrapper);
    await wrapper.pauseOn(subcommand);
    const seeding = spawnDaemon(home, [], wrapper.env());
    await wrapper.paused();
    await killInWindow(seeding, wrapper);

    const daemon = await startDaemon({ home });
    const store = storeOf(home);
    const versions = await served(daemon);
    expect(Object.keys(versions).length).toBeGreaterThan(20);
    const client = await daemon.client();
    expect((await client.request<{ versions: unknown[] }>("composition:history", { name: "tournament" })).versions).toHaveLength(1);
    expect((await client.request<Msg>("composition:get", { name: `tournament@${versions.tournament!}` })).name).toBe("tournament");
    expect((await daemon.stop()).code).toBe(0);
    expect(await commitCount(store)).toBe(1);
    expect(await git(store, "log", "-1", "--format=%(trailers:key=Op,valueonly)")).toBe("seed\n\n");
    expect(lines(await git(store, "tag", "-l"))).toHaveLength(Object.keys(versions).length);
    await expectStoreTruth(store, versions);
    await expectFsckClean(store);
  });

  it("killed after the seed commit, midway through the tags (simulated: the marker kept, half the tags gone): the next start makes the rest", async () => {
    const home = await makeHome();
    const first = await startDaemon({ home });
    const store = storeOf(home);
    expect((await first.stop()).code).toBe(0);
    const tags = lines(await git(store, "tag", "-l"));
    for (const tag of tags.slice(tags.length / 2)) await git(store, "tag", "-d", tag);
    writeFileSync(join(store, ".git", "patternd-seeding"), "seeding\n");

    const daemon = await startDaemon({ home });
    const versions = await served(daemon);
    expect((await daemon.stop()).code).toBe(0);
    expect(await commitCount(store)).toBe(1);
    expect(lines(await git(store, "tag", "-l"))).toEqual(tags);
    await expectStoreTruth(store, versions);
  });
});

describe("a store whose .git is a file starts (it crashed with ENOTDIR, then was refused as not supported yet): more in store-layouts.e2e.test.ts", () => {
  it("a new, empty store made with --separate-git-dir: the daemon starts, and the first save is its first commit, in the separate git dir", async () => {
    const home = await makeHome();
    const store = join(home, "own-store");
    await mkdir(store);
    await git(store, "init", "-q", "-b", "main", `--separate-git-dir=${join(home, "elsewhere.git")}`);
    const daemon = await startDaemon({ home, args: ["--store", store] });
    expect(daemon.stderr()).not.toMatch(/ENOTDIR|not supported/);
    const client = await daemon.client();
    const saved = await client.request<{ commit: string }>("composition:save", { composition: { name: "first_one", type: "orchestration", version: "1.0.0", description: "the first" } });
    expect(lines(await git(join(home, "elsewhere.git"), "log", "--format=%H", "main"))).toEqual([saved.commit]);
    expect(lines(await git(store, "tag", "-l"))).toEqual(["first_one@1.0.0"]);
    expect((await daemon.stop()).code).toBe(0);
    await expectStoreTruth(store);
    await expectFsckClean(store);
  });

  it("a linked worktree of a seeded store: served as a store of its own, on its own branch", async () => {
    const first = await startDaemon();
    const store = storeOf(first.home);
    const versions = await served(first);
    expect((await first.stop()).code).toBe(0);
    const linked = join(first.home, "linked");
    await git(store, "worktree", "add", "-q", "-b", "linked", linked);
    const daemon = await startDaemon({ home: first.home, args: ["--store", linked] });
    expect(await served(daemon)).toEqual(versions);
    const client = await daemon.client();
    const saved = await client.request<{ commit: string }>("composition:save", { composition: { name: "on_linked", type: "orchestration", version: "1.0.0", description: "saved in the worktree" } });
    expect((await git(store, "rev-parse", "linked")).trim()).toBe(saved.commit);
    expect(await commitCount(store)).toBe(1);
    expect((await daemon.stop()).code).toBe(0);
    await expectStoreTruth(linked);
  });
});

describe("layouts the daemon does not write are refused at start with one line", () => {
  async function refusedStart(home: string, store: string): Promise<string> {
    const proc = spawnDaemon(home, ["--store", store]);
    expect((await proc.waitExit(15_000)).code).toBe(1);
    const stderr = proc.stderr().trim();
    expect(stderr.split("\n"), stderr).toHaveLength(1);
    return stderr;
  }

  it("reftable (extensions.refStorage): refused, naming the setting and how to go back to files", async () => {
    const home = await makeHome();
    const store = join(home, "own-store");
    await mkdir(store);
    await git(store, "init", "-q");
    await git(store, "config", "core.repositoryformatversion", "1");
    await git(store, "config", "extensions.refStorage", "reftable");
    const stderr = await refusedStart(home, store);
    expect(stderr).toMatch(/extensions\.refstorage=reftable .*a repository format patternd does not write.*git refs migrate --ref-format=files/);
  });
});

describe("a hostile file's error is a sentence", () => {
  const deep = (levels: number) => `name: deep_one\ntype: orchestration\nversion: 1.0.0\ndescription: deep\nx: ${"[".repeat(levels)}${"]".repeat(levels)}\n`;

  it("10 000-deep nesting in a pattern file, a YAML save and a request line: 'nested deeper than 128 levels' (it said 'Maximum call stack size exceeded')", async () => {
    const daemon = await startDaemon();
    const store = storeOf(daemon.home);
    const client = await daemon.client();
    await writeFile(join(store, "orchestrations", "deep_one.yaml"), deep(10_000));
    const reloaded = await client.request<{ invalid: { path: string; issues: { message: string }[] }[] }>("composition:reload", {});
    const listed = reloaded.invalid.find((f) => f.path === "orchestrations/deep_one.yaml");
    expect(listed?.issues[0]?.message).toMatch(/^line 5, column \d+: maps and lists nested deeper than 128 levels$/);

    const saved = await client.send("composition:save", { yaml: deep(10_000).replace("deep_one", "deep_two") });
    expect(saved).toMatchObject({ ok: false, error: { code: "invalid_params" } });
    expect(JSON.stringify(saved)).toMatch(/nested deeper than 128 levels/);
    expect(JSON.stringify(saved)).not.toMatch(/call stack/);
    const validated = await client.request<{ valid: boolean; issues: { message: string }[] }>("composition:validate", { yaml: deep(300) });
    expect(validated).toMatchObject({ valid: false, issues: [{ path: "x", message: "maps and lists nested deeper than 128 levels (under x)" }] });

    const raw = await daemon.raw();
    const [reply] = await raw.exchange(`{"event":"composition:save","id":1,"data":{"composition":${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}}}`);
    expect(reply).toMatchObject({ ok: false, error: { code: "invalid_request", message: "JSON nested deeper than 128 levels" } });

    expect((await client.request<Msg>("composition:get", { name: "tournament" })).name).toBe("tournament");
    expect((await daemon.stop()).code).toBe(0);
  });
});

describe("a CRLF file stays CRLF after a save", () => {
  const crlfPattern = ["# written on Windows", "name: crlf_test", "type: orchestration", "version: 1.0.0", "description: line endings", "metadata:", "  tags: [a, b]", ""].join("\r\n");
  const everyLineCrlf = (text: string) => text.replace(/\r\n/g, "").includes("\n") === false && text.endsWith("\r\n");

  it("composition:update and a whole-object save on a CRLF file write CRLF throughout (they came back mixed); a new CRLF document keeps CRLF", async () => {
    const daemon = await startDaemon();
    const store = storeOf(daemon.home);
    const client = await daemon.client({ agentId: "crlf" });
    const saved = await client.request<{ version: string }>("composition:save", { yaml: crlfPattern });
    expect(saved.version).toBe("1.0.0");
    const path = join(store, "orchestrations", "crlf_test.yaml");
    expect(readFileSync(path, "utf8")).toBe(crlfPattern);

    const updated = await client.request<{ version: string }>("composition:update", { name: "crlf_test", set: { "metadata.owner": "someone", description: "still CRLF" } });
    expect(updated.version).toBe("1.0.1");
    const afterUpdate = readFileSync(path, "utf8");
    expect(everyLineCrlf(afterUpdate), JSON.stringify(afterUpdate)).toBe(true);
    expect(afterUpdate).toContain("# written on Windows\r\n");

    const { composition } = await client.request<{ composition: Msg }>("composition:get", { name: "crlf_test" });
    await client.request("composition:save", { composition: { ...composition, version: "1.1.0", extra: { list: [1, 2] } } });
    const afterSave = readFileSync(path, "utf8");
    expect(everyLineCrlf(afterSave), JSON.stringify(afterSave)).toBe(true);
    expect(await git(store, "show", "HEAD:orchestrations/crlf_test.yaml")).toBe(afterSave);
    expect((await daemon.stop()).code).toBe(0);
    await expectStoreTruth(store);
  });
});
