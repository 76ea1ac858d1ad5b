/**
 * One truth in the store, on the commit path (issue 24, items 1, 2, 4, 8):
 * a real daemon whose `git` is the test wrapper (git-wrapper.ts), so the
 * windows between the daemon's `git add` (where git stages its changes)
 * and its ref update are held open
 * while a person's git acts in them. After each: the reply tells the
 * truth, `git status` is clean of the daemon's work, the index agrees with
 * HEAD, and every version the daemon acknowledged has its tag.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import type { ErrorReply, Reply } from "../daemon/core/protocol.js";
import { GitWrapper } from "./git-wrapper.js";
import { cleanup, makeHome, startDaemon, waitFor, type Daemon } from "./harness.js";
import { expectFsckClean, git, gitRun, head } from "./store-git.js";

type WireErr = ErrorReply["error"];
interface Saved {
  name: string;
  version: string;
  commit: string;
}

/** A person's git: their own name and address. */
const PERSON = ["-c", "user.name=Pat Person", "-c", "user.email=pat@example.org"];

let d: Daemon;
let c: Client;
let store: string;
let wrapper: GitWrapper;

beforeAll(async () => {
  wrapper = await GitWrapper.create();
  d = await startDaemon({ env: wrapper.env() });
  store = join(d.home, "var", "lib", "compositions");
  c = await d.client({ agentId: "e2e-truth" });
});
afterAll(async () => {
  await cleanup();
  await wrapper.remove();
});

function doc(name: string, version: string, description: string, eol = "\n"): string {
  return [`name: ${name}`, "type: orchestration", `version: ${version}`, `description: ${description}`, ""].join(eol);
}

const pathOf = (name: string) => `orchestrations/${name}.yaml`;
const save = (yaml: string) => c.send("composition:save", { yaml });

async function saved(yaml: string): Promise<Saved> {
  const reply = await save(yaml);
  expect(reply.ok, JSON.stringify(reply).slice(0, 400)).toBe(true);
  return (reply as unknown as { data: Saved }).data;
}

async function refused(reply: Promise<Reply>): Promise<WireErr> {
  const got = await reply;
  expect(got.ok, `should fail, got ${JSON.stringify(got).slice(0, 300)}`).toBe(false);
  return (got as ErrorReply).error;
}

/** Nothing staged or changed anywhere: index == HEAD == files. */
async function expectStatusClean(): Promise<void> {
  expect(await git(store, "status", "--porcelain", "--untracked-files=all")).toBe("");
  expect(await git(store, "diff", "HEAD")).toBe("");
}

/** Every `name@version` tag holds a file of that version, and the version HEAD holds is tagged. */
async function expectTagsMatch(name: string): Promise<void> {
  const tags = (await git(store, "tag", "-l", `${name}@*`)).split("\n").filter((t) => t !== "");
  expect(tags.length).toBeGreaterThan(0);
  for (const tag of tags) expect(await git(store, "show", `${tag}:${pathOf(name)}`)).toMatch(new RegExp(`^version: ${tag.split("@")[1]!.replace(/\./g, "\\.")}\\r?$`, "m"));
  const current = /^version: (\S+)/m.exec(await git(store, "show", `HEAD:${pathOf(name)}`))![1]!;
  expect(tags).toContain(`${name}@${current}`);
}

/** The index's entry for `path` is HEAD's (nothing of it staged, nothing of it missing). */
async function expectIndexIsHead(path: string): Promise<void> {
  expect((await git(store, "rev-parse", `:${path}`)).trim()).toBe((await git(store, "rev-parse", `HEAD:${path}`)).trim());
}

/**
 * The file as git checks it out without the eol settings a test used (LF):
 * its CRLF copy would differ from HEAD once they are gone, whenever git
 * looks at it again.
 */
async function checkOutAgain(path: string): Promise<void> {
  await rm(join(store, path));
  await git(store, "checkout", "--", path);
}

/** Waits until no git command waits in the wrapper (one released has gone on). */
async function wrapperIdle(): Promise<void> {
  await waitFor("the released git command to go on", async () => !(await readdir(wrapper.dir)).some((f) => f.startsWith("paused.")));
}

/** A commit of `files` on top of HEAD made with plumbing (as a GUI or `git fetch` into the branch would), the branch moved to it. */
async function moveBranchWith(files: Record<string, string>): Promise<string> {
  const env = { ...process.env, GIT_INDEX_FILE: join(d.home, "person-index"), HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1" };
  const run = (args: string[], input?: string) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn("git", ["-C", store, ...PERSON, ...args], { env, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout!.setEncoding("utf8").on("data", (t: string) => (out += t));
      child.stderr!.setEncoding("utf8").on("data", (t: string) => (err += t));
      child.on("close", (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`git ${args.join(" ")}: ${err}`))));
      child.stdin?.end(input);
    });
  await run(["read-tree", "HEAD"]);
  for (const [path, text] of Object.entries(files)) {
    const blob = await run(["hash-object", "-w", "--stdin"], text);
    await run(["update-index", "--add", "--cacheinfo", `100644,${blob},${path}`]);
  }
  const tree = await run(["write-tree"]);
  const commit = await run(["commit-tree", tree, "-p", "HEAD", "-m", "by hand, with plumbing"]);
  await run(["update-ref", "refs/heads/main", commit]);
  await rm(join(d.home, "person-index"), { force: true });
  return commit;
}

describe("the commit is what git staged (attributes, eol)", () => {
  it("core.autocrlf=true: a CRLF document saves with nothing left staged or changed", async () => {
    await git(store, "config", "core.autocrlf", "true");
    try {
      const made = await saved(doc("crlf_auto", "1.0.0", "made with CRLF", "\r\n"));
      // Today: `M  orchestrations/crlf_auto.yaml` stays staged, the commit holding the raw CRLF bytes.
      await expectStatusClean();
      expect(await git(store, "show", `${made.commit}:${pathOf("crlf_auto")}`)).not.toContain("\r");
      expect((await git(store, "rev-parse", "crlf_auto@1.0.0")).trim()).toBe(made.commit);
      await expectTagsMatch("crlf_auto");
    } finally {
      await git(store, "config", "--unset", "core.autocrlf");
      await checkOutAgain(pathOf("crlf_auto"));
    }
  });

  it("*.yaml text eol=lf in .gitattributes: the same", async () => {
    await writeFile(join(store, ".gitattributes"), "*.yaml text eol=lf\n");
    await git(store, ...PERSON, "add", ".gitattributes");
    await git(store, ...PERSON, "commit", "-q", "-m", "attributes");
    try {
      await saved(doc("crlf_attr", "1.0.0", "made with CRLF", "\r\n"));
      await expectStatusClean();
      await expectTagsMatch("crlf_attr");
    } finally {
      await git(store, ...PERSON, "rm", "-q", ".gitattributes");
      await git(store, ...PERSON, "commit", "-q", "-m", "no attributes");
      await checkOutAgain(pathOf("crlf_attr"));
    }
  });
});

describe("a person's git inside the window between the daemon's git add and its ref update", () => {
  // A setting under which git stages the daemon's changes (git-config.ts), so its `git add` is a window the
  // wrapper can hold open. When the daemon stages them itself there is no process to hold: the same
  // index.lock covers staging, commit and publication, and the branch is checked before it moves.
  beforeAll(() => git(store, "config", "core.splitIndex", "false"));
  afterAll(() => git(store, "config", "--unset", "core.splitIndex"));

  it("their git commit fails on git's index.lock and works when tried again, without the daemon's change; the save is ok", async () => {
    await writeFile(join(store, "notes.txt"), "a person's notes\n");
    await git(store, "add", "notes.txt");
    await wrapper.pauseAfter("add");
    const reply = save(doc("window_commit", "1.0.0", "saved while a person commits"));
    await wrapper.paused();
    const theirs = await gitRun(store, [...PERSON, "commit", "-q", "-m", "notes"]);
    // Today their commit succeeds and takes the daemon's staged change; the save answers internal.
    expect(theirs.code).not.toBe(0);
    expect(theirs.stderr).toMatch(/index\.lock': File exists/);
    await wrapper.release();
    const got = await reply;
    expect(got.ok, JSON.stringify(got).slice(0, 400)).toBe(true);
    const made = (got as unknown as { data: Saved }).data;
    expect(await head(store)).toBe(made.commit);
    expect((await git(store, "show", "--name-only", "--format=", made.commit)).trim()).toBe(pathOf("window_commit"));
    // Tried again: their commit holds their file only.
    await git(store, ...PERSON, "commit", "-q", "-m", "notes");
    expect((await git(store, "show", "--name-only", "--format=", "HEAD")).trim()).toBe("notes.txt");
    expect((await git(store, "rev-parse", "HEAD^")).trim()).toBe(made.commit);
    await expectStatusClean();
    await expectTagsMatch("window_commit");
  });

  it("a decision appended meanwhile: the batch commits what it staged (index == HEAD, no MM); the next batch commits the later record", async () => {
    await saved(doc("decided", "1.0.0", "decisions are tracked on it"));
    const log = "orchestrations/decided_decisions.yaml";
    await wrapper.pauseAfter("add");
    const first = await c.send("composition:track_decision", { pattern: "decided", decision: "first", outcome: "success" });
    expect(first.ok).toBe(true);
    // The batch's commit (about a second later) has run its add and waits.
    await wrapper.paused();
    const second = await c.send("composition:track_decision", { pattern: "decided", decision: "second", outcome: "success" });
    expect(second.ok).toBe(true);
    await wrapper.release();
    await wrapperIdle();
    // The next batch's add waits: the first batch's result can be looked at alone.
    await wrapper.pauseOn("add");
    await waitFor("the first batch's commit", async () => /decisions: 1 record/.test(await git(store, "log", "-1", "--format=%s")));
    // Today HEAD holds the second record too (the file read again) while the index does not: `MM`.
    expect(await git(store, "show", `HEAD:${log}`)).not.toContain("second");
    await expectIndexIsHead(log);
    expect(await git(store, "status", "--porcelain", "--", log)).toBe(" M " + log + "\n");
    await wrapper.paused();
    await wrapper.release();
    await waitFor("the second batch's commit", async () => (await git(store, "show", `HEAD:${log}`)).includes("second"));
    await expectStatusClean();
    await expectTagsMatch("decided");
  });

  it("the branch moved by a commit of another file (while a signed commit is made): the save is made again on top of it, signed and tagged there", async () => {
    await saved(doc("moved_other", "1.0.0", "before"));
    // Signing runs `git commit-tree -S` between the tree and the ref update: a window the wrapper can hold open.
    const key = join(d.home, "signing-key");
    await new Promise((resolve, reject) =>
      spawn("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "patternd-test", "-f", key], { stdio: "ignore" }).on("close", (code) => (code === 0 ? resolve(code) : reject(new Error(`ssh-keygen exited ${code}`)))),
    );
    await git(store, "config", "gpg.format", "ssh");
    await git(store, "config", "user.signingkey", `${key}.pub`);
    await git(store, "config", "commit.gpgsign", "true");
    try {
      await wrapper.pauseOn("commit-tree");
      const reply = save(doc("moved_other", "1.0.1", "after"));
      await wrapper.paused();
      const theirs = await moveBranchWith({ "notes/moved.txt": "moved the branch\n" });
      await wrapper.release();
      const got = await reply;
      // Today: internal ("main moved while the commit was made").
      expect(got.ok, JSON.stringify(got).slice(0, 400)).toBe(true);
      const made = (got as unknown as { data: Saved }).data;
      expect((await git(store, "rev-parse", "HEAD", "HEAD^", "moved_other@1.0.1")).trim().split("\n")).toEqual([made.commit, theirs, made.commit]);
      expect(await git(store, "cat-file", "commit", made.commit)).toContain("-----BEGIN SSH SIGNATURE-----");
      expect(await git(store, "show", `HEAD:${pathOf("moved_other")}`)).toContain("description: after");
      expect(await git(store, "show", "HEAD:notes/moved.txt")).toBe("moved the branch\n");
      await expectIndexIsHead(pathOf("moved_other"));
      expect(await git(store, "status", "--porcelain", "--", pathOf("moved_other"))).toBe("");
      // Their plumbing left their file out of the index and the work tree: theirs to check out.
      await git(store, "checkout", "HEAD", "--", "notes/moved.txt");
      await expectStatusClean();
      await expectTagsMatch("moved_other");
      await expectFsckClean(store);
    } finally {
      await git(store, "config", "--unset", "commit.gpgsign");
    }
  });

  it("the branch moved by a commit of the same pattern file: conflict naming it (today: their change silently overwritten), nothing half-published, the file back as it was", async () => {
    const before = await saved(doc("moved_same", "1.0.0", "before"));
    const path = pathOf("moved_same");
    const indexBefore = await readFile(join(store, ".git", "index"));
    await wrapper.pauseAfter("add");
    const reply = save(doc("moved_same", "1.0.1", "ours"));
    await wrapper.paused();
    const theirs = await moveBranchWith({ [path]: doc("moved_same", "1.1.0", "theirs") });
    await wrapper.release();
    // Today: ok, the save committed on top of theirs, their 1.1.0 lost from the file without a word.
    const error = await refused(reply);
    expect(error.code).toBe("conflict");
    expect(error.message).toContain(path);
    expect(error.details).toMatchObject({ paths: [path], branch: "main", commit: theirs });
    expect(await head(store)).toBe(theirs);
    expect(await git(store, "tag", "-l", "moved_same@1.0.1")).toBe("");
    expect(await readFile(join(store, path), "utf8")).toBe(doc("moved_same", "1.0.0", "before"));
    expect(await readFile(join(store, ".git", "index"))).toEqual(indexBefore);
    expect(existsSync(join(store, ".git", "index.lock"))).toBe(false);
    expect((await git(store, "rev-parse", "moved_same@1.0.0")).trim()).toBe(before.commit);
    // Their version, checked out, is what the store has; nothing of the daemon's is left.
    await git(store, "checkout", "HEAD", "--", path);
    await expectStatusClean();
    await expectFsckClean(store);
  });
});

describe("git's index.lock held by a person", () => {
  it("past the wait: store_busy with {state, branch, hint}; nothing moves; once it is gone the same save works", async () => {
    const before = await saved(doc("locked_out", "1.0.0", "before"));
    // What a person's `git commit` holds while its editor is open.
    const lock = join(store, ".git", "index.lock");
    await writeFile(lock, "");
    let error: WireErr;
    try {
      // Today: internal (git add: "Unable to create .../index.lock: File exists").
      error = await refused(save(doc("locked_out", "1.0.1", "after")));
    } finally {
      await rm(lock, { force: true });
    }
    expect(error.code).toBe("store_busy");
    expect(error.message).toMatch(/index\.lock/);
    expect(error.details).toEqual({ state: "index_locked", branch: "main", hint: expect.stringMatching(/index\.lock/) });
    expect(await head(store)).toBe(before.commit);
    expect(await readFile(join(store, pathOf("locked_out")), "utf8")).toBe(doc("locked_out", "1.0.0", "before"));
    await expectStatusClean();
    const after = await saved(doc("locked_out", "1.0.1", "after"));
    expect(after.version).toBe("1.0.1");
    await expectStatusClean();
    await expectTagsMatch("locked_out");
    // The daemon still serves.
    expect(await c.request("system:health")).toBeTruthy();
  });
});

describe("durability (core.fsync=committed)", () => {
  it.skipIf(!existsSync("/usr/bin/strace"))("a save fsyncs its objects, the ref locks and the reflog before the branch's lock is renamed, and the refs' folders after", async () => {
    const out = join(await makeHome(), "strace.out");
    const tracer = spawn("/usr/bin/strace", ["-f", "-tt", "-y", "-e", "trace=fsync,fdatasync,sync_file_range,rename,renameat,renameat2", "-o", out, "-p", String(d.pid)], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let attached = "";
    tracer.stderr.setEncoding("utf8").on("data", (t: string) => (attached += t));
    // "Process <pid> attached with <n> threads": printed once all of them are.
    await waitFor("strace attached to the daemon", () => /attached/.test(attached));
    let made: Saved;
    try {
      made = await saved(doc("traced", "1.0.0", "saved under strace"));
    } finally {
      tracer.kill("SIGINT");
      await new Promise((resolve) => tracer.once("close", resolve));
    }
    // A call another thread interrupted shows as "<unfinished ...>" (with its file) and "<... resumed>" (without): the first counts.
    const lines = (await readFile(out, "utf8")).split("\n").filter((l) => /(fsync|fdatasync|sync_file_range|rename\w*)\(/.test(l));
    const at = (test: (line: string) => boolean) => lines.findIndex(test);
    const branchRenamed = at((l) => /rename\w*\(.*refs\/heads\/main\.lock"/.test(l));
    expect(branchRenamed, lines.join("\n")).toBeGreaterThan(0);
    const before = lines.slice(0, branchRenamed);
    const after = lines.slice(branchRenamed);
    const synced = (lines: string[], file: RegExp) => lines.some((l) => /\b(fsync|fdatasync)\(\d+</.test(l) && file.test(l));
    // The daemon stages the file itself (index-stager.ts): its blob, the two trees on its path and the commit.
    expect(before.filter((l) => /fsync\(\d+<[^>]*objects\/[0-9a-f]{2}\/tmp_obj_/.test(l)).length).toBeGreaterThanOrEqual(4);
    expect(synced(before, /refs\/heads\/main\.lock>/), "the branch's lock").toBe(true);
    expect(synced(before, /refs\/tags\/traced@1\.0\.0\.lock>/), "the tag's lock").toBe(true);
    expect(synced(before, /logs\/HEAD>/), "HEAD's reflog").toBe(true);
    expect(synced(before, /logs\/refs\/heads\/main>/), "the branch's reflog").toBe(true);
    expect(synced(after, /\.git\/refs\/heads>/), "refs/heads after the rename").toBe(true);
    expect(synced(after, /\.git\/refs\/tags>/), "refs/tags after the rename").toBe(true);
    const count = lines.filter((l) => /\b(fsync|fdatasync)\(/.test(l)).length;
    console.log(`fsyncs during one save (whole trace): ${count}\n${lines.filter((l) => /\b(fsync|fdatasync)\(/.test(l)).map((l) => l.replace(/^\d+\s+[\d:.]+\s+/, "")).join("\n")}`);
    expect((await git(store, "rev-parse", "traced@1.0.0")).trim()).toBe(made!.commit);
    await expectStatusClean();
  });
});
