import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLog } from "../../../core/log.js";
import { Catalog } from "./catalog.js";
import { StoreFiles } from "./files.js";
import { GitRepo } from "./git.js";
import { OutsideChanges, type ExternalVersion } from "./outside-changes.js";
import { PatternStore } from "./pattern-store.js";

let dir: string;
let repo: GitRepo;
let store: PatternStore;
let outside: OutsideChanges;
let published: ExternalVersion[];

function start(): void {
  repo = new GitRepo(dir);
  const files = new StoreFiles(dir);
  const catalog = new Catalog(files, silentLog());
  store = new PatternStore(repo, files, catalog, silentLog());
  published = [];
  outside = new OutsideChanges(store, silentLog(), (change) => published.push(change));
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "patternd-outside-"));
  start();
  await repo.init();
  await store.save({ yaml: doc("a", "1.0.0") }, "agent");
  store.catalog.reconcile();
  await outside.start();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A person's git: their own identity. */
function git(...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=Pat", "-c", "user.email=pat@example.org", ...args], {
    cwd: dir,
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1" },
  });
}

const doc = (name: string, version: string, description = `about ${name}`) => `name: ${name}\ntype: orchestration\nversion: ${version}\ndescription: ${description}\n`;
const head = () => git("rev-parse", "HEAD").trim();
const tagged = (tag: string) => git("rev-parse", `${tag}^{commit}`).trim();

function handCommit(name: string, version: string, message = `${name} ${version}`): string {
  mkdirSync(join(dir, "orchestrations"), { recursive: true });
  writeFileSync(join(dir, "orchestrations", `${name}.yaml`), doc(name, version, `${name} by hand`));
  git("add", `orchestrations/${name}.yaml`);
  git("commit", "--quiet", "-m", message);
  return head();
}

describe("OutsideChanges", () => {
  it("the daemon's own commits move the HEAD taken in along: nothing to take in, nothing published", async () => {
    await store.save({ yaml: doc("b", "1.0.0") }, "agent");
    expect(repo.takenHead).toBe(head());
    expect(outside.moved()).toBe(false);
    await outside.takeIn();
    expect(published).toEqual([]);
  });

  it("a person's commit: HEAD has moved; taking it in tags the new version on it and publishes it", async () => {
    const commit = handCommit("a", "1.1.0");
    expect(outside.moved()).toBe(true);
    await outside.takeIn();
    expect(outside.moved()).toBe(false);
    expect(tagged("a@1.1.0")).toBe(commit);
    expect(published).toEqual([{ name: "a", version: "1.1.0", op: "external", commit }]);
    expect(readFileSync(join(dir, ".git", "patternd-head"), "utf8").trim()).toBe(commit);
  });

  it("a save on top of a person's commit not yet taken in: the walk skips the daemon's commit and reports the person's", async () => {
    const theirs = handCommit("c", "0.1.0");
    const ours = await store.save({ yaml: doc("a", "1.0.0", "saved on top") }, "agent");
    expect(repo.takenHead).not.toBe(ours.commit);
    await outside.takeIn();
    expect(repo.takenHead).toBe(ours.commit);
    expect(published).toEqual([{ name: "c", version: "0.1.0", op: "external", commit: theirs }]);
    expect(tagged("a@1.0.1")).toBe(ours.commit);
  });

  it("a version whose tag is on another commit keeps its tag", async () => {
    const first = tagged("a@1.0.0");
    git("rm", "--quiet", "orchestrations/a.yaml");
    git("commit", "--quiet", "-m", "remove a");
    const removal = head();
    const commit = handCommit("a", "1.0.0");
    await outside.takeIn();
    expect(tagged("a@1.0.0")).toBe(first);
    // The removal is reported with the version that was removed; the comeback with its own.
    expect(published.map((p) => [p.version, p.commit])).toEqual([
      ["1.0.0", removal],
      ["1.0.0", commit],
    ]);
  });

  it("an edit not committed is dirty, with no commit; committed by hand and taken in, it is clean at that commit", async () => {
    writeFileSync(join(dir, "orchestrations", "a.yaml"), doc("a", "1.1.0", "edited"));
    store.catalog.reconcile();
    const entry = store.catalog.get("a")!;
    expect((await store.dirtyCheck())(entry)).toBe(true);
    expect(await store.read({ name: "a" })).toMatchObject({ version: "1.1.0", commit: null, dirty: true });
    git("commit", "--quiet", "-am", "edited");
    // Not taken in yet: still dirty against what the daemon has taken in.
    expect((await store.read({ name: "a" })).dirty).toBe(true);
    await outside.takeIn();
    expect(await store.read({ name: "a" })).toMatchObject({ version: "1.1.0", commit: head(), dirty: false });
  });

  it("going back (a reset) takes in nothing and publishes nothing", async () => {
    const before = head();
    handCommit("a", "1.1.0");
    await outside.takeIn();
    published.length = 0;
    git("reset", "--quiet", "--hard", before);
    await outside.takeIn();
    expect(repo.takenHead).toBe(before);
    expect(published).toEqual([]);
  });

  it("at start, commits made since the recorded HEAD are taken in; without a record, untagged versions at HEAD are tagged once", async () => {
    outside.stop();
    const one = handCommit("a", "2.0.0");
    const two = handCommit("a", "2.1.0");
    start();
    store.catalog.reconcile();
    await outside.start();
    expect([tagged("a@2.0.0"), tagged("a@2.1.0")]).toEqual([one, two]);
    expect(published.map((p) => p.version)).toEqual(["2.0.0", "2.1.0"]);

    unlinkSync(join(dir, ".git", "patternd-head"));
    const three = handCommit("a", "2.2.0");
    git("commit", "--quiet", "--allow-empty", "-m", "later");
    start();
    store.catalog.reconcile();
    await outside.start();
    expect(tagged("a@2.2.0")).toBe(three);
    expect(repo.takenHead).toBe(head());
  });
});
