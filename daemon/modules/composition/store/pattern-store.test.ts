import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DaemonError } from "../../../core/errors.js";
import { silentLog } from "../../../core/log.js";
import { parseTrailers } from "../model/trailers.js";
import { Catalog } from "./catalog.js";
import { StoreFiles } from "./files.js";
import { GitRepo } from "./git.js";
import { PatternStore } from "./pattern-store.js";

let dir: string;
let store: PatternStore;
let catalog: Catalog;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "patternd-store-"));
  const git = new GitRepo(dir);
  const files = new StoreFiles(dir);
  catalog = new Catalog(files, silentLog());
  await git.init();
  store = new PatternStore(git, files, catalog, silentLog());
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** git for the test's own checks: no user config. */
function git(...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], {
    cwd: dir,
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1" },
  });
}

const commitCount = () => Number(git("rev-list", "--count", "--all").trim() || "0");
const head = () => git("rev-parse", "HEAD").trim();
const fileText = (path: string) => readFileSync(join(dir, path), "utf8");
const tags = (pattern = "*") => git("tag", "-l", pattern).split("\n").filter((t) => t !== "");

function pattern(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, type: "orchestration", version: "0.1.0", description: `about ${name}`, ...extra };
}

async function failure(promise: Promise<unknown>): Promise<DaemonError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DaemonError);
  return err as DaemonError;
}

const HAND_WRITTEN = `# Written by a person.
name: tour
type: orchestration
version: 1.0.0  # first cut
description: A tournament
metadata:
  tags: [ranking, pairwise]   # inline on purpose

# Unknown to the schema, kept as written.
agents:
  - id: judge
    profile: judge
routing:
  rules: [{from: judge, to: orchestrator}]
`;

describe("PatternStore.save", () => {
  it("creates: one commit by the agent, with trailers, a tag and the file", async () => {
    const result = await store.save({ composition: pattern("alpha") }, "orch_7f3e");
    expect(result).toEqual({ name: "alpha", version: "0.1.0", op: "create", commit: head() });
    expect(commitCount()).toBe(1);
    expect(git("log", "-1", "--format=%an|%ae").trim()).toBe("orch_7f3e|orch_7f3e@patternd");
    const message = git("log", "-1", "--format=%B").trim();
    expect(message.split("\n")[0]).toBe("create: alpha 0.1.0");
    expect(parseTrailers(message)).toEqual({ Op: "create", Pattern: "alpha", Version: "0.1.0", Agent: "orch_7f3e" });
    expect(tags()).toEqual(["alpha@0.1.0"]);
    expect(git("rev-parse", "alpha@0.1.0^{commit}").trim()).toBe(result.commit);
    expect(fileText("orchestrations/alpha.yaml")).toContain("name: alpha\n");
    expect(git("show", "alpha@0.1.0:orchestrations/alpha.yaml")).toBe(fileText("orchestrations/alpha.yaml"));
    expect(catalog.get("alpha")).toMatchObject({ version: "0.1.0", path: "orchestrations/alpha.yaml" });
    expect(git("status", "--porcelain")).toBe("");
  });

  it("without an agent the commit is patternd's and has no Agent trailer", async () => {
    await store.save({ composition: pattern("alpha") }, undefined);
    expect(git("log", "-1", "--format=%an <%ae>").trim()).toBe("patternd <patternd@patternd>");
    expect(parseTrailers(git("log", "-1", "--format=%B"))).toEqual({ Op: "create", Pattern: "alpha", Version: "0.1.0" });
  });

  it("uses the caller's message as the subject, one line", async () => {
    await store.save({ composition: pattern("alpha"), message: "first draft\nof alpha" }, "a1");
    expect(git("log", "-1", "--format=%s").trim()).toBe("first draft of alpha");
  });

  it("puts a type's documents in its folder", async () => {
    await store.save({ composition: pattern("critic", { type: "profile" }) }, "a1");
    expect(existsSync(join(dir, "profiles", "critic.yaml"))).toBe(true);
  });

  it("updates with a newer version: a commit with Previous, a new tag, the old tag kept", async () => {
    await store.save({ composition: pattern("alpha") }, "a1");
    const result = await store.save({ composition: pattern("alpha", { version: "0.2.0", description: "better" }) }, "a2");
    expect(result).toMatchObject({ version: "0.2.0", op: "update", commit: head() });
    expect(parseTrailers(git("log", "-1", "--format=%B"))).toEqual({ Op: "update", Pattern: "alpha", Version: "0.2.0", Previous: "0.1.0", Agent: "a2" });
    expect(tags("alpha@*")).toEqual(["alpha@0.1.0", "alpha@0.2.0"]);
    expect(commitCount()).toBe(2);
  });

  it("bumps the patch of an update that keeps the version, in the file too", async () => {
    await store.save({ yaml: HAND_WRITTEN }, "a1");
    const result = await store.save({ yaml: HAND_WRITTEN.replace("A tournament", "A better tournament") }, "a2");
    expect(result).toMatchObject({ version: "1.0.1", op: "update" });
    const text = fileText("orchestrations/tour.yaml");
    // Only the description and the version changed; the version line keeps its comment (the serialiser puts one space before it).
    expect(text).toBe(HAND_WRITTEN.replace("A tournament", "A better tournament").replace("version: 1.0.0  # first cut", "version: 1.0.1  # first cut"));
    expect(tags("tour@*")).toEqual(["tour@1.0.0", "tour@1.0.1"]);
    expect(catalog.get("tour")?.version).toBe("1.0.1");
  });

  it("refuses an older version: conflict, nothing written, no commit", async () => {
    await store.save({ composition: pattern("alpha", { version: "2.0.0" }) }, "a1");
    const before = fileText("orchestrations/alpha.yaml");
    const err = await failure(store.save({ composition: pattern("alpha", { version: "1.9.0", description: "older" }) }, "a1"));
    expect(err.code).toBe("conflict");
    expect(err.message).toMatch(/1\.9\.0 is older than .*2\.0\.0/);
    expect(commitCount()).toBe(1);
    expect(fileText("orchestrations/alpha.yaml")).toBe(before);
  });

  it("create_only refuses an existing pattern: conflict, no commit", async () => {
    await store.save({ composition: pattern("alpha") }, "a1");
    const err = await failure(store.save({ composition: pattern("alpha", { version: "0.2.0" }), create_only: true }, "a1"));
    expect(err.code).toBe("conflict");
    expect(err.message).toMatch(/already exists/);
    expect(commitCount()).toBe(1);
    await expect(store.save({ composition: pattern("beta"), create_only: true }, "a1")).resolves.toMatchObject({ op: "create" });
  });

  it("unchanged content makes no commit and says so", async () => {
    const created = await store.save({ yaml: HAND_WRITTEN }, "a1");
    const again = await store.save({ yaml: HAND_WRITTEN }, "a2");
    expect(again).toEqual({ name: "tour", version: "1.0.0", op: "unchanged", commit: created.commit, unchanged: true });
    const asObject = await store.save({ composition: catalog.get("tour")!.data }, "a3");
    expect(asObject.unchanged).toBe(true);
    expect(commitCount()).toBe(1);
    expect(fileText("orchestrations/tour.yaml")).toBe(HAND_WRITTEN);
  });

  it("writes YAML text exactly as given", async () => {
    await store.save({ yaml: HAND_WRITTEN }, "a1");
    expect(fileText("orchestrations/tour.yaml")).toBe(HAND_WRITTEN);
  });

  it("applies an object onto the current file: comments and unknown sections stay", async () => {
    await store.save({ yaml: HAND_WRITTEN }, "a1");
    const data = structuredClone(catalog.get("tour")!.data);
    data.version = "1.1.0";
    (data.metadata as { tags: string[] }).tags.push("swiss");
    delete data.routing;
    await store.save({ composition: data }, "a2");
    expect(fileText("orchestrations/tour.yaml")).toBe(
      HAND_WRITTEN.replace("version: 1.0.0  # first cut", "version: 1.1.0  # first cut")
        .replace("[ranking, pairwise]   #", "[ranking, pairwise, swiss]   #")
        .replace("routing:\n  rules: [{from: judge, to: orchestrator}]\n", ""),
    );
  });

  it.each([
    ["a document that does not validate", { composition: pattern("alpha", { version: "one" }) }, /version/],
    ["YAML that does not parse", { yaml: "name: alpha\ntype: [orchestration\n" }, /line \d+, column \d+/],
    ["YAML with a custom tag", { yaml: "name: alpha\ntype: orchestration\nversion: 0.1.0\ndescription: d\nrun: !!js/function f\n" }, /tag/],
    ["a reserved name", { composition: pattern("alpha_decisions") }, /reserved/],
    ["a name with a slash", { composition: pattern("../alpha") }, /1-128 characters/],
  ])("refuses %s: invalid_params, nothing written", async (_label, input, message) => {
    const err = await failure(store.save(input, "a1"));
    expect(err.code).toBe("invalid_params");
    expect(err.message).toMatch(message);
    expect(err.details?.issues).toBeInstanceOf(Array);
    expect(commitCount()).toBe(0);
    expect(readdirSync(dir)).toEqual([".git"]);
  });

  it("refuses a name already used by another type", async () => {
    await store.save({ composition: pattern("alpha") }, "a1");
    const err = await failure(store.save({ composition: pattern("alpha", { type: "profile", version: "0.2.0" }) }, "a1"));
    expect(err.code).toBe("conflict");
    expect(err.message).toMatch(/already exists as a orchestration/);
    expect(existsSync(join(dir, "profiles"))).toBe(false);
  });

  it("refuses a missing parent (not_found) and an inheritance cycle (invalid_params)", async () => {
    const missing = await failure(store.save({ composition: pattern("child", { extends: "ghost" }) }, "a1"));
    expect(missing.code).toBe("not_found");
    expect(missing.message).toMatch(/ghost.*needed by child/);
    const self = await failure(store.save({ composition: pattern("loop", { extends: "loop" }) }, "a1"));
    expect(self.code).toBe("invalid_params");
    expect(self.message).toContain("loop → loop");
    await store.save({ composition: pattern("a") }, "a1");
    await store.save({ composition: pattern("b", { extends: "a" }) }, "a1");
    const cycle = await failure(store.save({ composition: pattern("a", { version: "0.2.0", extends: "b" }) }, "a1"));
    expect(cycle.message).toContain("a → b → a");
    expect(commitCount()).toBe(2);
  });

  it("accepts a parent that exists and a variable left for compose time", async () => {
    await store.save({ composition: pattern("base", { variables: { who: { type: "string" } }, text: "{{who}}" }) }, "a1");
    await expect(store.save({ composition: pattern("child", { extends: "base@0.1.0" }) }, "a1")).resolves.toMatchObject({ op: "create" });
  });

  it("a version already tagged in the history is a conflict (a deleted pattern saved again)", async () => {
    await store.save({ composition: pattern("alpha") }, "a1");
    await store.remove("alpha", undefined, "a1");
    const err = await failure(store.save({ composition: pattern("alpha") }, "a1"));
    expect(err.code).toBe("conflict");
    expect(err.message).toMatch(/alpha@0\.1\.0 already exists in the history/);
    await expect(store.save({ composition: pattern("alpha", { version: "0.2.0" }) }, "a1")).resolves.toMatchObject({ op: "create", version: "0.2.0" });
  });

  it("when git refuses the commit the file is put back and the catalog is unchanged", async () => {
    await store.save({ composition: pattern("alpha") }, "a1");
    const before = fileText("orchestrations/alpha.yaml");
    // A stale lock from some other git process: add fails.
    writeFileSync(join(dir, ".git", "index.lock"), "");
    await expect(store.save({ composition: pattern("alpha", { version: "0.2.0" }) }, "a1")).rejects.toThrow(/index\.lock/);
    expect(fileText("orchestrations/alpha.yaml")).toBe(before);
    expect(catalog.get("alpha")?.version).toBe("0.1.0");
    await expect(store.save({ composition: pattern("beta") }, "a1")).rejects.toThrow();
    expect(existsSync(join(dir, "orchestrations", "beta.yaml"))).toBe(false);
    expect(tags()).toEqual(["alpha@0.1.0"]);
    unlinkSync(join(dir, ".git", "index.lock"));
    expect(git("status", "--porcelain")).toBe("");
    await expect(store.save({ composition: pattern("alpha", { version: "0.2.0" }) }, "a1")).resolves.toMatchObject({ op: "update" });
  });

  it.each([
    ["the first commit of the store", false],
    ["an update", true],
  ])("when the tag cannot be made (%s), no commit is made and the next save carries nothing of it", async (_label, update) => {
    if (update) await store.save({ composition: pattern("alpha") }, "a1");
    const before = commitCount();
    const version = update ? "0.2.0" : "0.1.0";
    // A stale ref lock, as a crashed git would leave it: `git tag` cannot take it.
    writeFileSync(join(dir, ".git", "refs", "tags", `alpha@${version}.lock`), "");
    await expect(store.save({ composition: pattern("alpha", { version, description: "locked out" }) }, "a1")).rejects.toThrow(/alpha@.*lock/);
    expect(commitCount()).toBe(before);
    expect(git("status", "--porcelain")).toBe("");
    expect(catalog.get("alpha")?.version).toBe(update ? "0.1.0" : undefined);
    unlinkSync(join(dir, ".git", "refs", "tags", `alpha@${version}.lock`));
    await store.save({ composition: pattern("beta") }, "a1");
    expect(git("show", "--name-only", "--format=", "HEAD").trim()).toBe("orchestrations/beta.yaml");
    // The tag's lock is taken before the branch moves: the refused commit never existed, and what
    // `git add` wrote for it is unreferenced (dangling, as after any add taken back), nothing broken.
    expect(git("fsck", "--strict", "--no-progress").replace(/^dangling blob [0-9a-f]+\n/gm, "")).toBe("");
    expect(git("reflog", "--format=%gs").trim().split("\n")).toHaveLength(commitCount());
  });

  it("20 concurrent saves through one store: 20 commits, 20 tags, fsck clean", async () => {
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => store.save({ composition: pattern(`p${i}`) }, `agent_${i}`)));
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect(commitCount()).toBe(20);
    expect(tags()).toHaveLength(20);
    expect(new Set(results.map((r) => (r.status === "fulfilled" ? r.value.commit : ""))).size).toBe(20);
    expect(git("fsck", "--strict", "--no-progress")).toBe("");
    expect(git("status", "--porcelain")).toBe("");
    expect(existsSync(join(dir, ".git", "index.lock"))).toBe(false);
    // Each commit holds its own pattern and is authored by its own agent.
    expect(git("log", "--format=%an", "--", "orchestrations/p7.yaml").trim()).toBe("agent_7");
  });

  it("concurrent saves and deletes interleave cleanly", async () => {
    for (let i = 0; i < 3; i++) await store.save({ composition: pattern(`p${i}`) }, "a1");
    const work = [
      ...Array.from({ length: 3 }, (_, i) => store.save({ composition: pattern(`p${i}`, { version: "0.2.0" }) }, "a2")),
      ...Array.from({ length: 3 }, (_, i) => store.save({ composition: pattern(`q${i}`) }, "a3")),
      store.remove("p0", undefined, "a4"),
    ];
    const results = await Promise.allSettled(work);
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect(commitCount()).toBe(10);
    expect(git("fsck", "--strict", "--no-progress")).toBe("");
    expect(git("status", "--porcelain")).toBe("");
    expect(catalog.get("p0")).toBeUndefined();
  });
});

describe("PatternStore.read", () => {
  beforeEach(async () => {
    await store.save({ yaml: HAND_WRITTEN }, "a1");
    await store.save({ yaml: HAND_WRITTEN.replace("version: 1.0.0", "version: 1.2.0").replace("A tournament", "A newer tournament") }, "a2");
  });

  it("reads the current version with the commit that last touched it", async () => {
    const found = await store.read({ name: "tour" });
    expect(found).toMatchObject({ name: "tour", version: "1.2.0", path: "orchestrations/tour.yaml", commit: head() });
    expect(found.data.description).toBe("A newer tournament");
    expect(found.text).toBe(fileText("orchestrations/tour.yaml"));
  });

  it("reads a tagged version as it was", async () => {
    const found = await store.read({ name: "tour", version: "1.0.0" });
    expect(found).toMatchObject({ name: "tour", version: "1.0.0", path: "orchestrations/tour.yaml", commit: git("rev-parse", "tour@1.0.0^{commit}").trim() });
    expect(found.text).toBe(HAND_WRITTEN);
    expect(found.data.description).toBe("A tournament");
  });

  it("a missing version is not_found, listing the versions there are", async () => {
    const err = await failure(store.read({ name: "tour", version: "9.0.0" }));
    expect(err.code).toBe("not_found");
    expect(err.message).toMatch(/tour@9\.0\.0.*1\.0\.0, 1\.2\.0/);
    expect(err.details).toEqual({ versions: ["1.0.0", "1.2.0"] });
  });

  it("a missing name is not_found with suggestions", async () => {
    const err = await failure(store.read({ name: "toru" }));
    expect(err.code).toBe("not_found");
    expect(err.details?.suggestions).toEqual(["tour"]);
  });

  it("a deleted pattern's tagged versions can still be read", async () => {
    await store.remove("tour", undefined, "a3");
    await expect(store.read({ name: "tour" })).rejects.toMatchObject({ code: "not_found" });
    const old = await store.read({ name: "tour", version: "1.0.0" });
    expect(old.text).toBe(HAND_WRITTEN);
  });

  it("load serves current documents from the catalog and tagged ones from git; undefined when missing", async () => {
    expect((await store.load({ name: "tour" }))?.version).toBe("1.2.0");
    expect((await store.load({ name: "tour", version: "1.0.0" }))?.version).toBe("1.0.0");
    expect(await store.load({ name: "tour", version: "3.0.0" })).toBeUndefined();
    expect(await store.load({ name: "ghost" })).toBeUndefined();
  });
});

describe("PatternStore.history and remove", () => {
  it("lists versions newest first with commit, date, author, op and subject", async () => {
    const first = await store.save({ composition: pattern("alpha") }, "a1");
    const second = await store.save({ composition: pattern("alpha", { description: "changed" }) }, "a2");
    const third = await store.save({ composition: pattern("alpha", { version: "1.0.0" }), message: "promote alpha" }, undefined);
    const history = await store.history("alpha");
    expect(history.map(({ version, commit, author, op, message }) => ({ version, commit, author, op, message }))).toEqual([
      { version: "1.0.0", commit: third.commit, author: "patternd", op: "update", message: "promote alpha" },
      { version: "0.1.1", commit: second.commit, author: "a2", op: "update", message: "update: alpha 0.1.1" },
      { version: "0.1.0", commit: first.commit, author: "a1", op: "create", message: "create: alpha 0.1.0" },
    ]);
    for (const entry of history) expect(Number.isNaN(Date.parse(entry.date))).toBe(false);
  });

  it("a hand commit shows as op manual with no version", async () => {
    await store.save({ composition: pattern("alpha") }, "a1");
    writeFileSync(join(dir, "orchestrations", "alpha.yaml"), `${fileText("orchestrations/alpha.yaml")}# a note\n`);
    git("commit", "-qam", "a note by hand");
    const [latest] = await store.history("alpha");
    expect(latest).toMatchObject({ version: null, op: "manual", author: "t", message: "a note by hand" });
  });

  it("history of an unknown pattern is not_found", async () => {
    await expect(store.history("ghost")).rejects.toMatchObject({ code: "not_found" });
  });

  it("remove commits the deletion by the agent, keeps the tags and the history", async () => {
    await store.save({ composition: pattern("alpha") }, "a1");
    const result = await store.remove("alpha", "no longer needed", "a2");
    expect(result).toEqual({ name: "alpha", version: "0.1.0", op: "delete", commit: head() });
    expect(existsSync(join(dir, "orchestrations", "alpha.yaml"))).toBe(false);
    expect(git("log", "-1", "--format=%an|%s").trim()).toBe("a2|no longer needed");
    expect(parseTrailers(git("log", "-1", "--format=%B"))).toEqual({ Op: "delete", Pattern: "alpha", Version: "0.1.0", Agent: "a2" });
    expect(tags()).toEqual(["alpha@0.1.0"]);
    expect(catalog.get("alpha")).toBeUndefined();
    expect((await store.history("alpha")).map((v) => v.op)).toEqual(["delete", "create"]);
    expect(git("status", "--porcelain")).toBe("");
  });

  it("remove of an unknown pattern is not_found and commits nothing", async () => {
    await store.save({ composition: pattern("alpha") }, "a1");
    await expect(store.remove("alhpa", undefined, "a1")).rejects.toMatchObject({ code: "not_found", details: { suggestions: ["alpha"] } });
    expect(commitCount()).toBe(1);
  });
});

describe("PatternStore.recover (a daemon killed in the middle of a change)", () => {
  const intent = (value: unknown) => writeFileSync(join(dir, ".git", "patternd-intent.json"), JSON.stringify(value));

  it("puts back files of a change that never got its commit: a new file goes, a modified one returns to HEAD, the index too", async () => {
    await store.save({ composition: pattern("parent") }, "a");
    const committed = fileText("orchestrations/parent.yaml");
    // As a kill between the writes and the commit leaves them: the parent edited and staged, the fork written and added.
    writeFileSync(join(dir, "orchestrations", "parent.yaml"), committed + "forks:\n  - name: ghost\n");
    writeFileSync(join(dir, "orchestrations", "ghost.yaml"), "name: ghost\n");
    git("add", "orchestrations/parent.yaml", "orchestrations/ghost.yaml");
    intent({ paths: ["orchestrations/ghost.yaml", "orchestrations/parent.yaml"], message: "fork: parent -> ghost\n\nOp: fork\n", tag: "ghost@0.1.0" });
    const commits = commitCount();
    await store.recover();
    expect(git("status", "--porcelain", "--untracked-files=all")).toBe("");
    expect(fileText("orchestrations/parent.yaml")).toBe(committed);
    expect(existsSync(join(dir, "orchestrations", "ghost.yaml"))).toBe(false);
    expect(commitCount()).toBe(commits);
    expect(existsSync(join(dir, ".git", "patternd-intent.json"))).toBe(false);
  });

  it("tags a change whose commit was made before the kill", async () => {
    await store.save({ composition: pattern("tagless") }, "a");
    writeFileSync(join(dir, "orchestrations", "tagless.yaml"), fileText("orchestrations/tagless.yaml").replace("0.1.0", "0.2.0"));
    git("add", "orchestrations/tagless.yaml");
    const message = "update: tagless 0.2.0\n\nOp: update\nVersion: 0.2.0\n";
    git("commit", "-q", "-m", message);
    intent({ paths: ["orchestrations/tagless.yaml"], message, tag: "tagless@0.2.0" });
    await store.recover();
    expect(git("rev-parse", "tagless@0.2.0^{commit}").trim()).toBe(head());
    expect(git("status", "--porcelain")).toBe("");
  });

  it("does nothing without an intent, and leaves a person's uncommitted edits alone", async () => {
    await store.save({ composition: pattern("edited") }, "a");
    writeFileSync(join(dir, "orchestrations", "edited.yaml"), fileText("orchestrations/edited.yaml") + "note: by hand\n");
    await store.recover();
    expect(fileText("orchestrations/edited.yaml")).toContain("note: by hand");
  });
});

describe("what a person staged in the store", () => {
  it("stays staged and out of the daemon's commits, which carry exactly their own paths", async () => {
    await store.save({ composition: pattern("first") }, "a");
    writeFileSync(join(dir, "orchestrations", "first.yaml"), fileText("orchestrations/first.yaml") + "note: staged by a person\n");
    writeFileSync(join(dir, "orchestrations", "hand.yaml"), "name: hand\n");
    git("add", "orchestrations/first.yaml", "orchestrations/hand.yaml");
    await store.save({ composition: pattern("third") }, "a");
    await store.save({ composition: { ...pattern("third"), description: "changed" } }, "a");
    expect(git("show", "--format=", "--name-only", "HEAD~1").trim()).toBe("orchestrations/third.yaml");
    expect(git("show", "--format=", "--name-only", "HEAD").trim()).toBe("orchestrations/third.yaml");
    expect(git("status", "--porcelain").trim().split("\n")).toEqual(["M  orchestrations/first.yaml", "A  orchestrations/hand.yaml"]);
    expect(git("fsck", "--strict", "--no-progress")).toBe("");
  });
});

describe("KSI's files as they are: saved where they are, in the shape they have", () => {
  /** A file committed by hand, as KSI's repository has it, then indexed. */
  function committed(path: string, text: string): void {
    const absolute = join(dir, path);
    execFileSync("mkdir", ["-p", join(absolute, "..")]);
    writeFileSync(absolute, text);
    git("add", path);
    git("commit", "-q", "-m", `add ${path}`);
    catalog.reconcile();
  }

  const AGENT_MD = "---\ncomponent_type: agent # KSI's field\nname: analyst\nversion: 1.0.0\ndependencies:\n  - core/base_agent\n---\n# Analyst\n\nYou analyse.   \n\n---\nA rule, not front matter.\n";

  it("an update of a markdown component changes its front matter only; the body and component_type stay", async () => {
    committed("components/agents/analyst.md", AGENT_MD);
    const result = await store.update({ name: "analyst", set: { description: "Analyses data", type: "agent" } }, "a1");
    expect(result.version).toBe("1.0.1");
    expect(fileText("components/agents/analyst.md")).toBe(
      "---\ncomponent_type: agent # KSI's field\nname: analyst\nversion: 1.0.1\ndependencies:\n  - core/base_agent\ndescription: Analyses data\n---\n# Analyst\n\nYou analyse.   \n\n---\nA rule, not front matter.\n",
    );
    expect(existsSync(join(dir, "agents"))).toBe(false);
    expect(catalog.get("analyst")).toMatchObject({ type: "agent", path: "components/agents/analyst.md" });
  });

  it("a whole-document save (object or YAML text) of a markdown component keeps its body and its type field", async () => {
    committed("components/agents/analyst.md", AGENT_MD);
    const current = await store.read({ name: "analyst" });
    await store.save({ composition: { ...current.data, type: "agent", component_type: undefined, description: "d" } }, "a1");
    let text = fileText("components/agents/analyst.md");
    expect(text).toMatch(/^---\ncomponent_type: agent # KSI's field\n/);
    expect(text).not.toMatch(/^type:/m);
    expect(text.endsWith("---\n# Analyst\n\nYou analyse.   \n\n---\nA rule, not front matter.\n")).toBe(true);
    await store.save({ yaml: "name: analyst\ntype: agent\nversion: 2.0.0\ndescription: d\n", replace: true }, "a1");
    text = fileText("components/agents/analyst.md");
    expect(text).toBe("---\nname: analyst\nversion: 2.0.0\ndescription: d\ncomponent_type: agent\n---\n# Analyst\n\nYou analyse.   \n\n---\nA rule, not front matter.\n");
  });

  it("a pattern outside <type>s/ (capabilities/) is saved in place", async () => {
    committed("capabilities/agent_messaging.yaml", "name: agent_messaging\ntype: capability\nversion: 1.0.0\ndescription: messaging\n");
    await store.update({ name: "agent_messaging", set: { description: "messages" } }, undefined);
    expect(fileText("capabilities/agent_messaging.yaml")).toMatch(/description: messages/);
    expect(readdirSync(dir).sort()).toEqual([".git", "capabilities"]);
  });

  it("a file whose parent is missing, or whose name differs from its file, is saved without error; a new pattern with a missing parent is refused", async () => {
    committed("orchestrations/adaptive_v2.yaml", "name: adaptive_tournament_v2\ntype: orchestration\nversion: 1.0.0\ndescription: d\nextends: tournament_basic\n");
    const saved = await store.update({ name: "adaptive_tournament_v2", set: { "metadata.tags": ["t"] } }, undefined);
    expect(saved.version).toBe("1.0.1");
    expect(fileText("orchestrations/adaptive_v2.yaml")).toMatch(/extends: tournament_basic/);
    expect(catalog.warningsOf(catalog.get("adaptive_tournament_v2")!).map((w) => w.path).sort()).toEqual(["extends", "name"]);
    const refused = await failure(store.save({ composition: pattern("newcomer", { extends: "tournament_basic" }) }, undefined));
    expect(refused.code).toBe("not_found");
    expect(refused.message).toMatch(/tournament_basic/);
    // Changing the parent to another missing one is checked like a new one.
    expect((await failure(store.update({ name: "adaptive_tournament_v2", set: { extends: "also_missing" } }, undefined))).message).toMatch(/also_missing/);
  });

  it("a stored file without a description is saved without error; a new one still needs it", async () => {
    committed("components/agents/bare.md", "---\ncomponent_type: agent\nname: bare\nversion: 1.0.0\n---\nbody\n");
    expect((await store.update({ name: "bare", set: { "metadata.tags": ["x"] } }, undefined)).version).toBe("1.0.1");
    const refused = await failure(store.save({ composition: { name: "fresh", type: "agent", version: "1.0.0" } }, undefined));
    expect(refused.message).toMatch(/description is required/);
  });

  it("a new pattern of type capability goes to capabilities/", async () => {
    await store.save({ composition: pattern("msg", { type: "capability" }) }, undefined);
    expect(existsSync(join(dir, "capabilities", "msg.yaml"))).toBe(true);
  });
});
