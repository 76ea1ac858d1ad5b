/**
 * Hand edits and hand commits in the pattern store are first-class (issue
 * 12): a real daemon, and plain git run in its store the way a person runs
 * it (their own name, no trailers). An edit not committed yet is served as
 * dirty with no commit; a version a person commits gets its name@version
 * tag, shows in composition:history and is published as composition:changed
 * with op "external" — while the daemon is running, or at its next start.
 * The daemon's own saves stay one commit each and are never reported as
 * external.
 */
import { existsSync } from "node:fs";
import { readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client, Push } from "../client/index.js";
import { cleanup, readJsonLines, startDaemon, waitFor, type Daemon } from "./harness.js";
import { commitCount, expectFsckClean, git, gitRun, head, lines, trailers } from "./store-git.js";

type Msg = Record<string, unknown>;

interface Got {
  name: string;
  version: string;
  path: string;
  commit: string | null;
  dirty: boolean;
  composition: Msg;
}

interface HistoryEntry {
  version: string | null;
  commit: string;
  author: string;
  op: string;
  message: string;
}

/** A person's git: their own name and address, nothing of the daemon's. */
const PERSON = ["-c", "user.name=Pat Person", "-c", "user.email=pat@example.org"];

let d: Daemon;
let c: Client;
let store: string;
let pushes: Push[];

function storeOf(daemon: Daemon): string {
  return join(daemon.home, "var", "lib", "compositions");
}

function doc(name: string, version: string, description: string): string {
  return `name: ${name}\ntype: orchestration\nversion: ${version}\ndescription: ${description}\n`;
}

const get = (name: string) => c.request<Got>("composition:get", { name });
const history = async (name: string) => (await c.request<{ versions: HistoryEntry[] }>("composition:history", { name })).versions;
const listed = async (name: string) => (await c.request<{ compositions: Msg[] }>("composition:list")).compositions.find((e) => e.name === name);
const changesOf = (name: string) => pushes.filter((p) => p.event === "composition:changed" && (p.data as Msg).name === name).map((p) => p.data as Msg);
const tagCommit = async (tag: string) => (await gitRun(store, ["rev-parse", "--verify", "--quiet", `${tag}^{commit}`])).stdout.trim();
const logRecords = async (daemon: Daemon) => readJsonLines(join(daemon.home, "var", "log", "daemon.log"));

beforeAll(async () => {
  d = await startDaemon();
  store = storeOf(d);
  c = await d.client({ agentId: "e2e-hand" });
  const watcher = await d.client({ agentId: "e2e-monitor" });
  const sub = await watcher.subscribe(["composition:*"]);
  pushes = [];
  void (async () => {
    for await (const push of sub) pushes.push(push);
  })();
});
afterAll(cleanup);

describe("a hand edit, then a hand commit, while the daemon runs", () => {
  it("the edit is served dirty with no commit; the plain git commit gets its tag, its history entry and an external change", async () => {
    const saved = await c.request<{ commit: string }>("composition:save", { yaml: doc("hand_demo", "1.0.0", "made by the daemon") });
    const path = "orchestrations/hand_demo.yaml";
    const clean = await get("hand_demo");
    expect(clean).toMatchObject({ version: "1.0.0", commit: saved.commit, dirty: false });

    // Edited by hand, not committed: what is served is the file, and no commit holds it.
    await writeFile(join(store, path), doc("hand_demo", "1.1.0", "edited by hand"));
    await waitFor("the hand edit to be served", async () => (await get("hand_demo")).version === "1.1.0");
    const dirty = await get("hand_demo");
    expect(dirty).toMatchObject({ version: "1.1.0", commit: null, dirty: true });
    expect(dirty.composition.description).toBe("edited by hand");
    expect(await c.request<Msg>("composition:get", { name: "hand_demo", format: "yaml" })).toMatchObject({ commit: null, dirty: true });
    expect(await listed("hand_demo")).toMatchObject({ version: "1.1.0", dirty: true });
    const found = await c.request<{ compositions: Msg[] }>("composition:discover", { text: "hand_demo" });
    expect(found.compositions.find((e) => e.name === "hand_demo")).toMatchObject({ version: "1.1.0", dirty: true });
    // A tagged version is what its tag holds: never dirty.
    expect(await c.request<Msg>("composition:get", { name: "hand_demo@1.0.0" })).toMatchObject({ version: "1.0.0", commit: saved.commit, dirty: false });
    // Clean patterns carry no dirty mark in the list.
    expect(await listed("consensus_builder")).not.toHaveProperty("dirty");

    // Committed by hand, later, with plain git: no file changes at that moment, only HEAD moves.
    await git(store, "add", path);
    await git(store, ...PERSON, "commit", "--quiet", "-m", "hand_demo: say it was edited by hand");
    const commit = await head(store);
    expect(await trailers(store, commit)).toEqual({});
    await waitFor("the tag hand_demo@1.1.0", async () => (await tagCommit("hand_demo@1.1.0")) === commit);
    await waitFor("the external change to be published", () => changesOf("hand_demo").some((m) => m.op === "external"));
    expect(changesOf("hand_demo")).toEqual([
      { name: "hand_demo", version: "1.0.0", op: "create", commit: saved.commit },
      { name: "hand_demo", version: "1.1.0", op: "external", commit },
    ]);
    expect(await get("hand_demo")).toMatchObject({ version: "1.1.0", commit, dirty: false });
    expect(await listed("hand_demo")).not.toHaveProperty("dirty");
    const versions = await history("hand_demo");
    expect(versions[0]).toMatchObject({ version: "1.1.0", commit, op: "manual", author: "Pat Person", message: "hand_demo: say it was edited by hand" });
    expect(versions[1]).toMatchObject({ version: "1.0.0", commit: saved.commit, op: "create" });
    expect(await c.request<Msg>("composition:get", { name: "hand_demo@1.1.0" })).toMatchObject({ commit, composition: { description: "edited by hand" } });

    const log = await logRecords(d);
    expect(log.some((r) => r.msg === "picked up a pattern file changed outside the daemon" && r.path === path && r.version === "1.1.0" && r.dirty === true)).toBe(true);
    expect(log.some((r) => r.msg === "picked up a commit made outside the daemon" && r.path === path && r.commit === commit && r.tag === "hand_demo@1.1.0")).toBe(true);
    expect((await git(store, "status", "--porcelain")).trim()).toBe("");
  });

  it("an edit and its commit at once (as a pull brings them) are one external change, tagged", async () => {
    const path = "orchestrations/hand_demo.yaml";
    await writeFile(join(store, path), doc("hand_demo", "1.2.0", "edited and committed at once"));
    await git(store, "add", path);
    await git(store, ...PERSON, "commit", "--quiet", "-m", "hand_demo 1.2.0");
    const commit = await head(store);
    await waitFor("the tag hand_demo@1.2.0", async () => (await tagCommit("hand_demo@1.2.0")) === commit);
    await waitFor("the external change of 1.2.0", () => changesOf("hand_demo").some((m) => m.version === "1.2.0"));
    expect(changesOf("hand_demo").filter((m) => m.version === "1.2.0")).toEqual([{ name: "hand_demo", version: "1.2.0", op: "external", commit }]);
    expect(await get("hand_demo")).toMatchObject({ version: "1.2.0", commit, dirty: false });
    expect((await history("hand_demo"))[0]).toMatchObject({ version: "1.2.0", commit, op: "manual" });
  });

  it("a hand commit whose version's tag is already on another commit leaves the tag where it is, with a warning", async () => {
    // The daemon made reused@1.0.0, then deleted the pattern; a person brings it back by hand at the same version.
    const created = await c.request<{ commit: string }>("composition:save", { yaml: doc("reused", "1.0.0", "the first one") });
    await c.request("composition:delete", { name: "reused" });
    const path = "orchestrations/reused.yaml";
    await writeFile(join(store, path), doc("reused", "1.0.0", "brought back by hand"));
    await git(store, "add", path);
    await git(store, ...PERSON, "commit", "--quiet", "-m", "bring reused back");
    const commit = await head(store);
    await waitFor("the external change of reused", () => changesOf("reused").some((m) => m.op === "external"));
    expect(changesOf("reused").filter((m) => m.op === "external")).toEqual([{ name: "reused", version: "1.0.0", op: "external", commit }]);
    expect(await tagCommit("reused@1.0.0")).toBe(created.commit);
    const warning = (await logRecords(d)).find((r) => r.tag === "reused@1.0.0" && r.tagged_commit === created.commit);
    expect(warning).toMatchObject({ commit, msg: expect.stringMatching(/tag stays where it is/) as unknown });
    // Served as committed; its history names no version for the commit whose version is another's.
    expect(await get("reused")).toMatchObject({ version: "1.0.0", commit, dirty: false, composition: { description: "brought back by hand" } });
    expect((await history("reused"))[0]).toMatchObject({ version: null, commit, op: "manual" });
  });

  it("the daemon's own saves stay one commit each, tagged once, never reported as external", async () => {
    const before = await commitCount(store);
    const first = await c.request<{ commit: string; version: string }>("composition:save", { yaml: doc("own_save", "1.0.0", "first") });
    const second = await c.request<{ commit: string; version: string }>("composition:save", { yaml: doc("own_save", "1.0.0", "second, patch bumped") });
    // A reload takes in HEAD and the files now: anything the watcher would report is reported by then.
    await c.request("composition:reload");
    await waitFor("both changes of own_save", () => changesOf("own_save").length >= 2);
    expect(await commitCount(store)).toBe(before + 2);
    expect(changesOf("own_save")).toEqual([
      { name: "own_save", version: "1.0.0", op: "create", commit: first.commit },
      { name: "own_save", version: "1.0.1", op: "update", commit: second.commit },
    ]);
    expect(lines(await git(store, "tag", "--points-at", second.commit))).toEqual(["own_save@1.0.1"]);
    expect(await get("own_save")).toMatchObject({ version: "1.0.1", commit: second.commit, dirty: false });
    expect(pushes.filter((p) => (p.data as Msg).op === "external" && (p.data as Msg).name === "own_save")).toEqual([]);
  });

  it("saving the same content as an uncommitted edit commits it, instead of answering with a commit that does not hold it", async () => {
    const path = "orchestrations/hand_demo.yaml";
    const text = doc("hand_demo", "1.3.0", "edited, then saved as it is");
    await writeFile(join(store, path), text);
    await waitFor("the edit to be served dirty", async () => (await get("hand_demo")).dirty);
    const before = await commitCount(store);
    const saved = await c.request<{ version: string; commit: string; unchanged?: boolean }>("composition:save", { yaml: text });
    expect(saved).toEqual({ name: "hand_demo", version: "1.3.0", commit: await head(store), branch: "main" });
    expect(await commitCount(store)).toBe(before + 1);
    expect(await tagCommit("hand_demo@1.3.0")).toBe(saved.commit);
    expect(await get("hand_demo")).toMatchObject({ version: "1.3.0", commit: saved.commit, dirty: false });
  });

  it("the store stays clean and whole", async () => {
    await c.request("composition:reload");
    expect((await git(store, "status", "--porcelain")).trim()).toBe("");
    expect(existsSync(join(store, ".git", "index.lock"))).toBe(false);
    await expectFsckClean(store);
  });
});

describe("hand commits while the daemon is stopped", () => {
  it("are tagged and reported at the next start; a store without the daemon's record is checked against its tags once", async () => {
    const home = d.home;
    expect((await d.stop()).code).toBe(0);
    expect((await readFile(join(store, ".git", "patternd-head"), "utf8")).trim()).toBe(await head(store));

    // Two versions committed by hand while stopped: each gets its tag on its own commit.
    const path = "orchestrations/hand_demo.yaml";
    await writeFile(join(store, path), doc("hand_demo", "2.0.0", "while stopped"));
    await git(store, "add", path);
    await git(store, ...PERSON, "commit", "--quiet", "-m", "hand_demo 2.0.0");
    const first = await head(store);
    await writeFile(join(store, path), doc("hand_demo", "2.1.0", "while stopped, again"));
    await git(store, ...PERSON, "commit", "--quiet", "-am", "hand_demo 2.1.0");
    const second = await head(store);

    d = await startDaemon({ home });
    c = await d.client({ agentId: "e2e-hand" });
    expect(await tagCommit("hand_demo@2.0.0")).toBe(first);
    expect(await tagCommit("hand_demo@2.1.0")).toBe(second);
    expect((await history("hand_demo")).slice(0, 2).map((v) => [v.version, v.commit])).toEqual([
      ["2.1.0", second],
      ["2.0.0", first],
    ]);
    expect(await get("hand_demo")).toMatchObject({ version: "2.1.0", commit: second, dirty: false });

    // No record (a store from before it was kept): the untagged version at HEAD is tagged on the commit that made it.
    expect((await d.stop()).code).toBe(0);
    await unlink(join(store, ".git", "patternd-head"));
    await writeFile(join(store, path), doc("hand_demo", "2.2.0", "no record"));
    await git(store, ...PERSON, "commit", "--quiet", "-am", "hand_demo 2.2.0");
    const third = await head(store);
    await git(store, ...PERSON, "commit", "--quiet", "--allow-empty", "-m", "unrelated");
    d = await startDaemon({ home });
    c = await d.client({ agentId: "e2e-hand" });
    expect(await tagCommit("hand_demo@2.2.0")).toBe(third);
    expect(await get("hand_demo")).toMatchObject({ version: "2.2.0", commit: third, dirty: false });
    expect((await git(store, "status", "--porcelain")).trim()).toBe("");
    await expectFsckClean(store);
  });
});
