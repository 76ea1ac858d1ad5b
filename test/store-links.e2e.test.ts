/**
 * The store never reaches outside itself (issue 23): symbolic links planted
 * in a real store — as a pattern file, a type folder, a decision log, a
 * folder holding existing patterns, a file swapped in between the daemon's
 * check and its use, and the daemon's own files under .git — are refused
 * with unsafe_path naming the link and its target. After each, the outside
 * files are byte-identical and nothing of them is in any git object.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { cleanup, makeHome, startDaemon, waitFor, type Daemon } from "./harness.js";
import { pat } from "./pat-process.js";
import { expectFsckClean, git, head, snapshot } from "./store-git.js";

type Msg = Record<string, unknown>;
interface WireErr {
  code: string;
  message: string;
  details?: Msg;
}

/** In every outside file, so a test can look for it in every git object. */
const SECRET = `export TOKEN=patternd-e2e-secret-${process.pid}`;

let d: Daemon;
let c: Client;
let store: string;
let outside: string;
/** Every outside file as it was written: compared byte for byte after each case. */
const originals = new Map<string, Buffer>();

function plant(path: string, text: string): string {
  const absolute = join(outside, path);
  mkdirSync(join(absolute, ".."), { recursive: true });
  writeFileSync(absolute, text);
  originals.set(absolute, Buffer.from(text));
  return absolute;
}

/** A pattern file that would be valid if followed, carrying the secret. */
function patternText(name: string, type = "orchestration"): string {
  return `name: ${name}\ntype: ${type}\nversion: 1.0.0\ndescription: "${SECRET}"\n`;
}

async function failure(event: string, data: Msg): Promise<WireErr> {
  const reply = await c.send(event, data);
  expect(reply.ok, `${event} should fail, got ${JSON.stringify(reply).slice(0, 300)}`).toBe(false);
  return (reply as unknown as { error: WireErr }).error;
}

/** unsafe_path naming `link` (store-relative) and where it points, in details and in the sentence. */
function expectUnsafe(error: WireErr, link: string, target: string): void {
  expect(error.code).toBe("unsafe_path");
  expect(error.details).toEqual({ path: link, target });
  expect(error.message).toContain(link);
  expect(error.message).toContain(target);
}

/** Every outside file byte-identical, none added or removed; the secret in no object of the store. */
async function expectOutsideUntouched(): Promise<void> {
  for (const [path, bytes] of originals) expect(readFileSync(path).equals(bytes), `${path} changed`).toBe(true);
  const listed = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listed(join(dir, e.name)).map((p) => join(e.name, p)) : [e.name]));
  expect(listed(outside).map((p) => join(outside, p)).sort()).toEqual([...originals.keys()].sort());
  const objects = await git(store, "cat-file", "--batch-all-objects", "--batch");
  expect(objects).not.toContain(SECRET);
}

async function reload(): Promise<{ indexed: number; ignored: { path: string; reason: string; target: string; message: string }[] }> {
  return c.request("composition:reload", {});
}

beforeAll(async () => {
  outside = await makeHome();
  // A wrapper git first on the daemon's PATH: after a `git add`, it swaps the path named in
  // `swap` (if that file exists) for a link to the outside secret, between the daemon's check and its commit.
  const bin = join(outside, "..", `${outside.split("/").pop()}-bin`);
  mkdirSync(bin);
  const realGit = (await import("node:child_process")).execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
  writeFileSync(
    join(bin, "git"),
    `#!/bin/sh\nfor a in "$@"; do if [ "$a" = add ] && [ -f "${bin}/hold" ]; then touch "${bin}/waiting"; while [ -f "${bin}/hold" ]; do sleep 0.02; done; rm -f "${bin}/waiting"; fi; done\n"${realGit}" "$@"\nrc=$?\nfor a in "$@"; do if [ "$a" = add ] && [ -f "${bin}/swap" ]; then p=$(cat "${bin}/swap"); rm -f "${bin}/swap" "$p"; ln -s "${outside}/secret.yaml" "$p"; fi; done\nexit $rc\n`,
  );
  chmodSync(join(bin, "git"), 0o755);
  swapFile = join(bin, "swap");
  daemonEnv = { PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}` };
  d = await startDaemon({ env: daemonEnv });
  c = await d.client({ agentId: "links_e2e" });
  store = join(d.home, "var", "lib", "compositions");
  plant("secret.yaml", patternText("p_outside"));
  plant("bashrc", `${SECRET}\nalias ll='ls -l'\n`);
  plant("gadgets/w1.yaml", "precious: true\n");
});
afterAll(async () => {
  rmSync(swapFile, { force: true });
  await cleanup();
  rmSync(join(swapFile, ".."), { recursive: true, force: true });
});

let swapFile: string;
/** The daemon's environment: the wrapper git first on its PATH (kept across restarts). */
let daemonEnv: NodeJS.ProcessEnv;

describe("a link as a pattern file", () => {
  it("is listed as ignored, never indexed or served, and a save to it is refused", async () => {
    const before = await head(store);
    symlinkSync(join(outside, "secret.yaml"), join(store, "orchestrations", "lnk.yaml"));
    const reloaded = await reload();
    expect(reloaded.ignored).toContainEqual({
      path: "orchestrations/lnk.yaml",
      reason: "unsafe_path",
      target: join(outside, "secret.yaml"),
      message: expect.stringContaining(join(outside, "secret.yaml")),
    });
    expect((await failure("composition:get", { name: "lnk" })).code).toBe("not_found");
    expect((await c.request<{ total: number }>("composition:discover", { text: "patternd-e2e-secret" })).total).toBe(0);
    const saved = await failure("composition:save", { composition: { name: "lnk", type: "orchestration", version: "1.0.0", description: "through the link" } });
    expectUnsafe(saved, "orchestrations/lnk.yaml", join(outside, "secret.yaml"));
    expect(await head(store)).toBe(before);
    await expectOutsideUntouched();
    unlinkSync(join(store, "orchestrations", "lnk.yaml"));
  });

  it("replacing a pattern's file takes it out of the index; save and fork onto it are refused", async () => {
    const file = join(store, "orchestrations", "tree_of_thoughts.yaml");
    const text = readFileSync(file);
    unlinkSync(file);
    symlinkSync(join(outside, "secret.yaml"), file);
    expect((await reload()).ignored.map((i) => i.path)).toContain("orchestrations/tree_of_thoughts.yaml");
    expect((await failure("composition:get", { name: "tree_of_thoughts" })).code).toBe("not_found");
    const saved = await failure("composition:save", { composition: { name: "tree_of_thoughts", type: "orchestration", version: "9.0.0", description: "x" } });
    expectUnsafe(saved, "orchestrations/tree_of_thoughts.yaml", join(outside, "secret.yaml"));
    await expectOutsideUntouched();
    unlinkSync(file);
    writeFileSync(file, text);
    await reload();
    expect((await c.request<{ version: string }>("composition:get", { name: "tree_of_thoughts" })).version).toBeTruthy();
    expect(await git(store, "status", "--porcelain")).toBe("");
  });
});

describe("a link as a type folder (issue 23, case 2)", () => {
  it("a save into it is refused; the outside file with the same name is neither overwritten nor deleted", async () => {
    const before = await snapshot(store);
    symlinkSync(join(outside, "gadgets"), join(store, "gadgets"));
    const saved = await failure("composition:save", { composition: { name: "w1", type: "gadget", version: "1.0.0", description: "a gadget" } });
    expectUnsafe(saved, "gadgets", join(outside, "gadgets"));
    expect(await head(store)).toBe(before.head);
    expect(await git(store, "status", "--porcelain", "--untracked-files=all")).toBe(`${before.status}?? gadgets\n`);
    expect(await git(store, "tag", "-l", "w1@*")).toBe("");
    expect((await reload()).ignored.map((i) => [i.path, i.reason])).toContainEqual(["gadgets", "unsafe_path"]);
    await expectOutsideUntouched();
    unlinkSync(join(store, "gadgets"));
  });
});

describe("a link as a decision log (issue 23, case 1)", () => {
  // These windows are git's own staging (git add), held open by the wrapper: the store is set so that git
  // stages (git-config.ts). When the daemon stages itself, the same checks run in one turn under index.lock.
  beforeAll(() => git(store, "config", "core.splitIndex", "false"));
  afterAll(() => git(store, "config", "--unset", "core.splitIndex"));

  it("an append is refused, the log is not served, select still ranks, and a restart commits nothing of it", async () => {
    await c.request("composition:save", { composition: { name: "p1", type: "orchestration", version: "1.0.0", description: "decision log link target" } });
    const log = join(store, "orchestrations", "p1_decisions.yaml");
    symlinkSync(join(outside, "bashrc"), log);
    const before = await head(store);
    expectUnsafe(await failure("composition:track_decision", { pattern: "p1", decision: "hello" }), "orchestrations/p1_decisions.yaml", join(outside, "bashrc"));
    expectUnsafe(await failure("composition:decisions", { pattern: "p1" }), "orchestrations/p1_decisions.yaml", join(outside, "bashrc"));
    const cli = await pat(d.home, ["decide", "p1", "hello"]);
    expect(cli.code).toBe(1);
    expect(cli.stdout + cli.stderr).toContain("unsafe_path");
    expect(cli.stdout + cli.stderr).toContain(join(outside, "bashrc"));
    const selected = await c.request<{ candidates: { name: string }[] }>("composition:select", { task: "decision log link target", limit: 50 });
    expect(selected.candidates.map((s) => s.name)).toContain("p1");
    expect((await reload()).ignored.map((i) => i.path)).toContain("orchestrations/p1_decisions.yaml");
    await expectOutsideUntouched();
    expect(await head(store)).toBe(before);
    expect(await git(store, "status", "--porcelain")).toBe("?? orchestrations/p1_decisions.yaml\n");
    unlinkSync(log);
  });

  it("a committed log replaced by a link: the next start commits neither the link nor what it points at", async () => {
    await c.request("composition:track_decision", { pattern: "p1", decision: "first", outcome: "success" });
    const log = join(store, "orchestrations", "p1_decisions.yaml");
    await waitFor("the decision log committed", async () => (await git(store, "status", "--porcelain", "--", log)) === "", 15_000, 50);
    await d.stop();
    unlinkSync(log);
    symlinkSync(join(outside, "bashrc"), log);
    const before = await head(store);
    d = await startDaemon({ home: d.home, env: daemonEnv });
    c = await d.client({ agentId: "links_e2e" });
    expect(await head(store)).toBe(before);
    expect(await git(store, "status", "--porcelain")).toBe(" T orchestrations/p1_decisions.yaml\n");
    expect(readFileSync(join(d.home, "var", "log", "daemon.log"), "utf8")).toMatch(/decision log is a symbolic link now; it is not committed/);
    await expectOutsideUntouched();
    unlinkSync(log);
    await git(store, "checkout", "--", "orchestrations/p1_decisions.yaml");
  });

  it("a log swapped for a link between the batch's check and its git add is not committed, and the index keeps HEAD's", async () => {
    const before = await head(store);
    const log = join(store, "orchestrations", "p1_decisions.yaml");
    const hold = join(swapFile, "..", "hold");
    // The wrapper git holds the batch's `git add` until the log is swapped: after the daemon checked it.
    writeFileSync(hold, "");
    await c.request("composition:track_decision", { pattern: "p1", decision: "second", outcome: "success" });
    await waitFor("the batch's git add", () => existsSync(join(swapFile, "..", "waiting")), 15_000, 20);
    const mine = readFileSync(log);
    unlinkSync(log);
    symlinkSync(join(outside, "bashrc"), log);
    rmSync(hold);
    await waitFor("the batch refused", () => readFileSync(join(d.home, "var", "log", "daemon.log"), "utf8").includes("decision logs not committed"), 15_000, 50);
    expect(await head(store)).toBe(before);
    await waitFor("the index back to HEAD's", async () => (await git(store, "ls-files", "--stage", "--", "orchestrations/p1_decisions.yaml")).startsWith("100644"), 15_000, 50);
    await expectOutsideUntouched();
    // Put back by the person, the record acknowledged before the swap is committed with the next batch.
    unlinkSync(log);
    writeFileSync(log, mine);
    await c.request("composition:track_decision", { pattern: "p1", decision: "third", outcome: "success" });
    await waitFor("the decision log committed", async () => (await git(store, "status", "--porcelain", "--", log)) === "", 15_000, 50);
    const committed = await git(store, "show", "HEAD:orchestrations/p1_decisions.yaml");
    expect(committed).toContain("decision: second");
    expect(committed).toContain("decision: third");
  });
});

describe("a link as a folder that holds patterns", () => {
  it("every save, fork and append under it is refused, naming the folder; the patterns come back with the folder", async () => {
    const folder = join(store, "profiles");
    const moved = join(outside, "profiles");
    renameSync(folder, moved);
    for (const file of readdirSync(moved)) originals.set(join(moved, file), readFileSync(join(moved, file)));
    symlinkSync(moved, folder);
    // Whether or not the watcher has dropped the profiles yet, the write goes through the folder.
    const saved = await failure("composition:save", { composition: { name: "critic", type: "profile", version: "9.0.0", description: "edited through the link" }, replace: true });
    expectUnsafe(saved, "profiles", moved);
    const forked = await failure("composition:fork", { parent: "p1", name: "p1_profiled", reason: "x", modifications: { type: "profile" } });
    expectUnsafe(forked, "profiles", moved);
    const reloaded = await reload();
    expect(reloaded.ignored.map((i) => i.path)).toContain("profiles");
    expect((await failure("composition:get", { name: "critic" })).code).toBe("not_found");
    await expectOutsideUntouched();
    unlinkSync(folder);
    renameSync(moved, folder);
    for (const file of readdirSync(folder)) originals.delete(join(moved, file));
    await reload();
    expect((await c.request<{ name: string }>("composition:get", { name: "critic" })).name).toBe("critic");
    expect(await git(store, "status", "--porcelain")).toBe("");
  });
});

describe("a link swapped in between the daemon's check and its use", () => {
  // These windows are git's own staging (git add), held open by the wrapper: the store is set so that git
  // stages (git-config.ts). When the daemon stages itself, the same checks run in one turn under index.lock.
  beforeAll(() => git(store, "config", "core.splitIndex", "false"));
  afterAll(() => git(store, "config", "--unset", "core.splitIndex"));

  it("a file swapped for a link during git add: the commit refuses to read it, nothing is committed or tagged", async () => {
    const before = await head(store);
    writeFileSync(swapFile, "orchestrations/sw1.yaml");
    const saved = await failure("composition:save", { composition: { name: "sw1", type: "orchestration", version: "1.0.0", description: "swapped" } });
    expectUnsafe(saved, "orchestrations/sw1.yaml", join(outside, "secret.yaml"));
    expect(await head(store)).toBe(before);
    expect(await git(store, "tag", "-l", "sw1@*")).toBe("");
    expect(await git(store, "ls-files", "--stage", "--", "orchestrations/sw1.yaml")).toBe("");
    // The link is someone else's: left where it is, not removed in the new file's place.
    expect(await git(store, "status", "--porcelain")).toBe("?? orchestrations/sw1.yaml\n");
    await expectOutsideUntouched();
    unlinkSync(join(store, "orchestrations", "sw1.yaml"));
  });

  it("an existing pattern swapped during its update: nothing committed, the link left alone", async () => {
    const before = await head(store);
    writeFileSync(swapFile, "orchestrations/p1.yaml");
    const saved = await failure("composition:save", { composition: { name: "p1", type: "orchestration", version: "1.1.0", description: "swapped update" } });
    expectUnsafe(saved, "orchestrations/p1.yaml", join(outside, "secret.yaml"));
    expect(await head(store)).toBe(before);
    expect(await git(store, "tag", "-l", "p1@1.1.0")).toBe("");
    expect(await git(store, "status", "--porcelain")).toBe(" T orchestrations/p1.yaml\n");
    await expectOutsideUntouched();
    unlinkSync(join(store, "orchestrations", "p1.yaml"));
    await git(store, "checkout", "--", "orchestrations/p1.yaml");
  });
});

describe("links planted among the daemon's own files under .git", () => {
  it.each([
    ["the temp folder", ".git/patternd-tmp", () => join(outside, "gadgets")],
    ["the intent file", ".git/patternd-intent.json", () => join(outside, "bashrc")],
  ])("%s: saves are refused and nothing is written through it", async (_what, path, target) => {
    const absolute = join(store, path);
    rmSync(absolute, { recursive: true, force: true });
    symlinkSync(target(), absolute);
    const before = await head(store);
    const saved = await failure("composition:save", { composition: { name: "via_git_dir", type: "orchestration", version: "1.0.0", description: "x" } });
    expect(saved.code).toBe("unsafe_path");
    expect(saved.details).toMatchObject({ target: target() });
    expect(await head(store)).toBe(before);
    await expectOutsideUntouched();
    unlinkSync(absolute);
    await c.request("composition:save", { composition: { name: `via_git_dir_${path.length}`, type: "orchestration", version: "1.0.0", description: "x" } });
  });
});

describe("afterwards", () => {
  it("the daemon still serves, the store passes fsck, and git status is clean", async () => {
    expect((await c.request<{ status: string }>("system:health")).status).toBe("ok");
    await expectFsckClean(store);
    expect(await git(store, "status", "--porcelain")).toBe("");
    await expectOutsideUntouched();
  });
});
