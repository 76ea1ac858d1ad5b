/**
 * Labels, rollouts and split trials end to end (issue 17): a real daemon
 * and its git store. Every move is a commit a person reads with plain
 * `git log -- labels.yaml`; name@label works wherever a ref is taken; a
 * protected label moves only with force and a reason; a split resolves
 * per key, sticky; a hand-broken labels.yaml is reported, never ignored,
 * and the store keeps serving.
 */
import { mkdtemp, readFile, rename, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { cleanup, startDaemon, type Daemon } from "./harness.js";
import { json, pat } from "./pat-process.js";
import { expectFsckClean, expectStoreTruth, git, lines, snapshot, trailers } from "./store-git.js";

type Msg = Record<string, unknown>;

interface WireErr {
  code: string;
  message: string;
  details?: Msg;
}

let d: Daemon;
let c: Client;
let store: string;

const AGENT = "release_bot";
const PERSON = ["-c", "user.name=Pat Person", "-c", "user.email=pat@example.org"];

beforeAll(async () => {
  d = await startDaemon();
  store = join(d.home, "var", "lib", "compositions");
  c = await d.client({ agentId: AGENT });
  // Versions to point labels at: tournament 2.0.0 (seeded), 2.0.1 and 2.0.2; a fork to trial against it.
  await c.request("composition:update", { name: "tournament", set: { "metadata.stage": "one" } });
  await c.request("composition:update", { name: "tournament", set: { "metadata.stage": "two" } });
  await c.request("composition:fork", { parent: "tournament@2.0.1", name: "tournament_swiss", reason: "Swiss pairing" });
});
afterAll(cleanup);

async function failure(event: string, data: Msg): Promise<WireErr> {
  const reply = await c.send(event, data);
  expect(reply.ok, `${event} should fail, got ${JSON.stringify(reply).slice(0, 400)}`).toBe(false);
  return (reply as unknown as { error: WireErr }).error;
}

async function stillServes(): Promise<void> {
  expect((await c.request<{ version: string }>("composition:get", { name: "tournament" })).version).toBe("2.0.2");
}

describe("labels: create, move, roll back (each move one commit)", () => {
  it("makes a label, moves it, and rolls it back; git log -- labels.yaml tells the story with its trailers", async () => {
    const made = await c.request<Msg>("composition:label", { name: "tournament", label: "production", version: "2.0.0", reason: "first release" });
    expect(made).toMatchObject({ name: "tournament", label: "production", target: "2.0.0", previous: null, protected: false });
    const moved = await c.request<Msg>("composition:label", { name: "tournament", label: "production", version: "2.0.2", reason: "stage two passed" });
    expect(moved).toMatchObject({ target: "2.0.2", previous: "2.0.0" });
    const back = await c.request<Msg>("composition:label", { name: "tournament", label: "production", version: "2.0.0", reason: "rollback: 2.0.2 loops" });
    expect(back).toMatchObject({ target: "2.0.0", previous: "2.0.2" });

    // The history, from plain git as a person reads it.
    const log = lines(await git(store, "log", "--format=%H", "--", "labels.yaml"));
    expect(log.slice(0, 3)).toEqual([back.commit, moved.commit, made.commit]);
    expect(await trailers(store, back.commit as string)).toMatchObject({ Op: "label", Pattern: "tournament", Label: "production", From: "2.0.2", To: "2.0.0", Agent: AGENT, Reason: "rollback: 2.0.2 loops" });
    expect(await trailers(store, made.commit as string)).toMatchObject({ From: "none", To: "2.0.0" });
    expect(await readFile(join(store, "labels.yaml"), "utf8")).toMatch(/^# Labels of this store's patterns[\s\S]*tournament:\n {2}production: 2\.0\.0\n$/);

    const history = await c.request<{ moves: Msg[] }>("composition:label_history", { name: "tournament", label: "production" });
    expect(history.moves.map((m) => [m.from, m.to, m.reason, m.agent])).toEqual([
      ["2.0.2", "2.0.0", "rollback: 2.0.2 loops", AGENT],
      ["2.0.0", "2.0.2", "stage two passed", AGENT],
      [null, "2.0.0", "first release", AGENT],
    ]);
    // A move to where it points already commits nothing.
    const same = await c.request<Msg>("composition:label", { name: "tournament", label: "production", version: "2.0.0" });
    expect(same).toMatchObject({ unchanged: true, commit: back.commit });
    await expectStoreTruth(store);
    await expectFsckClean(store);
  });

  it("lists the labels", async () => {
    const listed = await c.request<{ labels: Msg[] }>("composition:labels", { name: "tournament" });
    expect(listed.labels).toContainEqual({ name: "tournament", label: "production", target: "2.0.0", protected: false });
  });

  it.each([
    ["a version that does not exist", { name: "tournament", label: "production", version: "9.9.9" }, "not_found", /no version tournament@9\.9\.9; versions: 2\.0\.0, 2\.0\.1, 2\.0\.2/],
    ["latest (implicit)", { name: "tournament", label: "latest", version: "2.0.0" }, "invalid_params", /latest is implicit/],
    ["a label that is not a name", { name: "tournament", label: "Prod!", version: "2.0.0" }, "invalid_params", /a lower-case letter/],
    ["neither version nor split", { name: "tournament", label: "staging" }, "invalid_params", /give version .* or split/],
    ["a split arm that does not exist", { name: "tournament", label: "trial", split: { "tournament@2.0.0": 1, "tournament_swiss@7.0.0": 1 } }, "not_found", /no version tournament_swiss@7\.0\.0; versions: 0\.1\.0/],
    ["a split weight that is not positive", { name: "tournament", label: "trial", split: { "tournament@2.0.0": 1, "tournament_swiss@0.1.0": 0 } }, "invalid_params", /positive/],
    ["a pattern that does not exist", { name: "tournamant", label: "production", version: "1.0.0" }, "not_found", /did you mean tournament/],
  ])("refuses %s, committing nothing", async (_what, data, code, message) => {
    const before = await snapshot(store);
    const err = await failure("composition:label", data);
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
    expect(await snapshot(store)).toEqual(before);
    await stillServes();
  });
});

describe("protected labels", () => {
  it("refuses to move a protected label without force and a reason (conflict), and moves it with both", async () => {
    const made = await c.request<Msg>("composition:label", { name: "tournament", label: "stable", version: "2.0.1", protected: true, reason: "release gate" });
    expect(made).toMatchObject({ protected: true });
    expect(await readFile(join(store, "labels.yaml"), "utf8")).toMatch(/stable:\n\s+version: 2\.0\.1\n\s+protected: true|stable: \{ ?version: 2\.0\.1, protected: true ?\}/);
    const before = await snapshot(store);
    for (const data of [{}, { force: true }, { reason: "why not" }]) {
      const err = await failure("composition:label", { name: "tournament", label: "stable", version: "2.0.2", ...data });
      expect(err.code).toBe("conflict");
      expect(err.message).toMatch(/tournament@stable is protected .*needs force: true and a reason/);
    }
    expect(await snapshot(store)).toEqual(before);
    const forced = await c.request<Msg>("composition:label", { name: "tournament", label: "stable", version: "2.0.2", force: true, reason: "hotfix approved" });
    expect(forced).toMatchObject({ target: "2.0.2", previous: "2.0.1", protected: true });
    expect(await trailers(store, forced.commit as string)).toMatchObject({ Op: "label", Forced: "true", Reason: "hotfix approved", From: "2.0.1", To: "2.0.2" });
    const history = await c.request<{ moves: Msg[] }>("composition:label_history", { name: "tournament", label: "stable" });
    expect(history.moves[0]).toMatchObject({ forced: true, reason: "hotfix approved" });
  });

  it("pat label refuses the same way, and --force --reason moves it", async () => {
    const refused = await pat(d.home, ["label", "tournament", "stable", "2.0.1"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/protected/);
    const moved = await pat(d.home, ["label", "tournament", "stable", "2.0.1", "--force", "--reason", "back to 2.0.1"]);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toMatch(/tournament@stable: 2\.0\.2 -> 2\.0\.1 \(protected\)/);
    const listed = await pat(d.home, ["labels", "tournament", "--json"]);
    expect(json<{ labels: Msg[] }>(listed).labels).toContainEqual({ name: "tournament", label: "stable", target: "2.0.1", protected: true });
    const table = await pat(d.home, ["labels", "tournament", "stable"]);
    expect(table.stdout).toMatch(/2\.0\.2 +2\.0\.1 +\(forced\) back to 2\.0\.1/);
  });
});

describe("name@label wherever a ref is taken", () => {
  it("get, compose, fork's parent, diff, lineage, history and resolve take tournament@production (2.0.0)", async () => {
    const got = await c.request<Msg>("composition:get", { name: "tournament@production" });
    expect(got).toMatchObject({ name: "tournament", version: "2.0.0" });
    const composed = await c.request<{ composition: Msg }>("composition:compose", { name: "tournament@production" });
    expect((composed.composition.metadata as Msg).stage).toBeUndefined();
    const diff = await c.request<{ changes: Msg[]; left_version: string; right_version: string }>("composition:diff", { left: "tournament@production", right: "tournament@latest" });
    expect(diff).toMatchObject({ left_version: "2.0.0", right_version: "2.0.2" });
    expect(diff.changes).toContainEqual(expect.objectContaining({ path: "metadata.stage", to: "two" }));
    const fork = await c.request<Msg>("composition:fork", { parent: "tournament@production", name: "tournament_live", reason: "from what is live" });
    expect(fork.parent).toBe("tournament@2.0.0");
    const lineage = await c.request<{ pattern: string }>("composition:lineage", { name: "tournament@production" });
    expect(lineage.pattern).toBe("tournament");
    const history = await c.request<{ versions: Msg[] }>("composition:history", { name: "tournament@production" });
    expect(history.versions.map((v) => v.version)).toContain("2.0.0");
    expect(await c.request("composition:resolve", { ref: "tournament@production" })).toEqual({ ref: "tournament@production", name: "tournament", version: "2.0.0", label: "production" });
    expect(await c.request("composition:resolve", { ref: "tournament" })).toEqual({ ref: "tournament", name: "tournament", version: "2.0.2" });
    const shown = await pat(d.home, ["show", "tournament@production"]);
    expect(shown.stdout).toMatch(/^version: 2\.0\.0/m);
  });

  it.each([
    ["composition:get", { name: "tournament@nolabel" }],
    ["composition:compose", { name: "tournament@nolabel" }],
    ["composition:diff", { left: "tournament@nolabel", right: "tournament" }],
    ["composition:fork", { parent: "tournament@nolabel", name: "x_from_nothing", reason: "none" }],
    ["composition:lineage", { name: "tournament@nolabel" }],
    ["composition:history", { name: "tournament@nolabel" }],
  ])("%s with a label that is not there: not_found naming the labels there are", async (event, data) => {
    const err = await failure(event, data);
    expect(err.code).toBe("not_found");
    expect(err.message).toMatch(/tournament has no label nolabel; its labels: production, stable/);
  });
});

describe("split labels (a trial)", () => {
  it("splits a label between the parent and its fork, normalised; resolve is sticky per key and honours the weights", async () => {
    const split = await c.request<Msg>("composition:label", { name: "tournament", label: "trial", split: { "tournament@2.0.2": 3, "tournament_swiss@0.1.0": 1 }, reason: "trial swiss" });
    expect(split.target).toEqual({ split: { "tournament@2.0.2": 0.75, "tournament_swiss@0.1.0": 0.25 } });
    expect(await trailers(store, split.commit as string)).toMatchObject({ To: "split tournament@2.0.2=0.75 tournament_swiss@0.1.0=0.25" });
    const arms = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const key = `run-${i}`;
      const [a, b] = await Promise.all([c.request<Msg>("composition:resolve", { ref: "tournament@trial", key }), c.request<Msg>("composition:resolve", { ref: "tournament@trial", key })]);
      expect(b).toEqual(a);
      arms.set(a.arm as string, (arms.get(a.arm as string) ?? 0) + 1);
    }
    expect(arms.get("tournament_swiss@0.1.0")).toBeGreaterThan(60);
    expect(arms.get("tournament@2.0.2")).toBeGreaterThan(240);
    const one = await c.request<Msg>("composition:resolve", { ref: "tournament@trial", key: "run-7" });
    expect(one).toMatchObject({ ref: "tournament@trial", label: "trial" });
    expect(`${one.name as string}@${one.version as string}`).toBe(one.arm);
  });

  it("a split names no one version: get and resolve without a key say to use composition:resolve with a key", async () => {
    const err = await failure("composition:get", { name: "tournament@trial" });
    expect(err.code).toBe("invalid_params");
    expect(err.message).toMatch(/is a split .*composition:resolve \{ref: "tournament@trial", key: RUN_ID\}/);
    expect((await failure("composition:resolve", { ref: "tournament@trial" })).message).toMatch(/give key/);
  });
});

describe("labels.yaml by hand", () => {
  it("a person's committed edit is taken in at the next read, and shows in the history as manual", async () => {
    const path = join(store, "labels.yaml");
    const text = await readFile(path, "utf8");
    await writeFile(path, text.replace(/^ {2}production: 2\.0\.0$/m, "  production: 2.0.1 # moved by hand"));
    await git(store, ...PERSON, "commit", "-qam", "production to 2.0.1 by hand");
    expect(await c.request("composition:resolve", { ref: "tournament@production" })).toMatchObject({ version: "2.0.1" });
    const history = await c.request<{ moves: Msg[] }>("composition:label_history", { name: "tournament", label: "production" });
    expect(history.moves[0]).toMatchObject({ op: "manual", from: "2.0.0", to: "2.0.1" });
    // The daemon's next move keeps the person's comment.
    await c.request("composition:label", { name: "tournament", label: "production", version: "2.0.2" });
    expect(await readFile(path, "utf8")).toMatch(/^ {2}production: 2\.0\.2 # moved by hand$/m);
    await expectStoreTruth(store);
  });

  it("a broken labels.yaml is reported with its path and the right form; exact refs keep working", async () => {
    const path = join(store, "labels.yaml");
    const good = await readFile(path, "utf8");
    await writeFile(path, good.replace(/^ {2}production: 2\.0\.2/m, "  production: soon"));
    for (const [event, data] of [
      ["composition:labels", {}],
      ["composition:get", { name: "tournament@production" }],
      ["composition:label", { name: "tournament", label: "staging", version: "2.0.1" }],
    ] as const) {
      const err = await failure(event, data);
      expect(err.code, event).toBe("invalid_params");
      expect(err.message).toMatch(/labels\.yaml in the store is not valid at tournament\.production: .*production: 1\.2\.0/);
      expect(err.details?.path).toBe("labels.yaml");
    }
    await stillServes();
    expect((await c.request<Msg>("composition:get", { name: "tournament@2.0.0" })).version).toBe("2.0.0");
    const reload = await c.request<{ invalid: Msg[]; ignored: Msg[] }>("composition:reload", {});
    expect(reload.invalid).toContainEqual(expect.objectContaining({ path: "labels.yaml" }));
    await writeFile(path, good);
    expect((await c.request<{ labels: Msg[] }>("composition:labels", {})).labels.length).toBeGreaterThan(0);
    await expectFsckClean(store);
  });

  it("a labels.yaml that is a symbolic link out of the store is neither read nor written: unsafe_path", async () => {
    const path = join(store, "labels.yaml");
    const outside = join(await mkdtemp(join(tmpdir(), "pd-outside-")), "labels.yaml");
    const planted = "tournament:\n  production: 2.0.1\n";
    await writeFile(outside, planted);
    await rename(path, `${path}.kept`);
    await symlink(outside, path);
    try {
      for (const [event, data] of [
        ["composition:labels", {}],
        ["composition:get", { name: "tournament@production" }],
        ["composition:label", { name: "tournament", label: "staging", version: "2.0.1" }],
      ] as const) {
        expect((await failure(event, data)).code, event).toBe("unsafe_path");
      }
      expect(await readFile(outside, "utf8")).toBe(planted);
      await stillServes();
    } finally {
      await rename(`${path}.kept`, path);
    }
    expect((await c.request<{ labels: Msg[] }>("composition:labels", {})).labels.length).toBeGreaterThan(0);
  });
});
