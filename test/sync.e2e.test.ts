/**
 * Patterns through git remotes (issue 19): three daemons on three homes,
 * each with its own seeded store (unrelated histories, the normal case),
 * one bare remote. Concurrent edits of different patterns and of the same
 * pattern (auto-merged and conflicting), decision logs appended on all
 * three, the same version made on two machines, labels moved on two sides;
 * after syncing every store holds the same patterns, every decision record
 * once, and nothing acknowledged is lost. Before this, composition:sync
 * and composition:remote were unknown_event.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { cleanup, makeHome, startDaemon, waitFor, type Daemon } from "./harness.js";
import { json, pat } from "./pat-process.js";
import { expectFsckClean, expectStoreTruth, git, gitRun, lines, snapshot, trailers } from "./store-git.js";

type Msg = Record<string, unknown>;

interface SyncReply {
  applied: boolean;
  fast_forward: boolean;
  pulled: string[];
  merged: { file: string; name?: string; version?: string; records_added?: number }[];
  pushed: string[];
  pushed_branch: boolean;
  renamed_tags: { from: string; to: string }[];
  conflicts: { file: string; path: string; base: unknown; ours: unknown; theirs: unknown }[];
  head: string | null;
}

interface Node {
  name: string;
  d: Daemon;
  c: Client;
  store: string;
}

let remote: string;
const nodes: Node[] = [];
const [A, C] = [0, 2];

async function node(name: string): Promise<Node> {
  const d = await startDaemon({ home: await makeHome() });
  return { name, d, c: await d.client({ agentId: `agent_${name}` }), store: join(d.home, "var", "lib", "compositions") };
}

function sync(n: Node, data: Msg = {}): Promise<SyncReply> {
  return n.c.request<SyncReply>("composition:sync", { remote: "origin", ...data });
}

async function failure(n: Node, event: string, data: Msg): Promise<{ code: string; message: string; details?: Msg }> {
  const reply = await n.c.send(event, data);
  expect(reply.ok, `${event} should fail: ${JSON.stringify(reply).slice(0, 300)}`).toBe(false);
  return (reply as unknown as { error: { code: string; message: string; details?: Msg } }).error;
}

beforeAll(async () => {
  remote = mkdtempSync(join(tmpdir(), "pd-remote-"));
  execFileSync("git", ["init", "--quiet", "--bare", remote]);
  nodes.push(...(await Promise.all(["a", "b", "c"].map(node))));
  for (const n of nodes) await n.c.request("composition:remote", { action: "add", name: "origin", url: remote });
}, 60_000);
afterAll(async () => {
  await cleanup();
  execFileSync("rm", ["-rf", remote]);
});

describe("remotes", () => {
  it("are kept in the store's git config and listed", async () => {
    const listed = await nodes[A]!.c.request<{ remotes: { name: string; url: string }[] }>("composition:remote", {});
    expect(listed.remotes).toEqual([{ name: "origin", url: remote }]);
    expect((await git(nodes[A]!.store, "config", "remote.origin.url")).trim()).toBe(remote);
  });

  it("refuses a bad name or a url that would run a command, showing the right form", async () => {
    for (const [data, path] of [
      [{ action: "add", name: "-evil", url: remote }, "name"],
      [{ action: "add", name: "x", url: "ext::sh -c touch% /tmp/pwned" }, "url"],
      [{ action: "add", name: "x", url: "--upload-pack=touch /tmp/pwned" }, "url"],
      [{ action: "add", name: "x" }, "url"],
    ] as const) {
      const err = await failure(nodes[A]!, "composition:remote", data);
      expect(err.code).toBe("invalid_params");
      expect((err.details?.issues as { path: string }[])[0]!.path).toBe(path);
      expect(err.message).toMatch(/like|is a path|letters|e\.g\./);
    }
    const err = await failure(nodes[A]!, "composition:sync", { remote: "nowhere" });
    expect(err).toMatchObject({ code: "not_found" });
    expect(err.message).toContain("pat remote add nowhere");
  });

  it("an unreachable remote is a clear error; local saves go on", async () => {
    const n = nodes[C]!;
    await n.c.request("composition:remote", { action: "add", name: "gone", url: join(remote, "no-such-repo.git") });
    const before = await snapshot(n.store);
    const err = await failure(n, "composition:sync", { remote: "gone" });
    expect(err.code).toBe("unavailable");
    expect(err.message).toMatch(/could not fetch from remote gone .*local saves go on/);
    expect(await snapshot(n.store)).toEqual(before);
    await n.c.request("composition:remote", { action: "remove", name: "gone" });
    expect((await n.c.request<{ remotes: unknown[] }>("composition:remote", {})).remotes).toHaveLength(1);
  });
});

describe("three machines, one remote", () => {
  const acknowledged: { name: string; path: string; value: unknown }[] = [];
  const decisionIds: string[] = [];

  async function update(n: Node, name: string, set: Msg): Promise<Msg> {
    const reply = await n.c.request<Msg>("composition:update", { name, set });
    for (const [path, value] of Object.entries(set)) acknowledged.push({ name, path, value });
    return reply;
  }

  it("syncs concurrent work on three stores into one truth", async () => {
    const [a, b, c] = nodes as [Node, Node, Node];
    // Different patterns on each machine.
    await update(a, "ensemble_voting", { "metadata.edited_on": "a" });
    await update(b, "judging_panel", { "metadata.edited_on": "b" });
    await update(c, "consensus_builder", { "metadata.edited_on": "c" });
    // The same pattern, different fields, on a and b: both make tournament@2.0.1 (a tag collision) and merge cleanly.
    expect(await update(a, "tournament", { "metadata.reviewed_by_a": true })).toMatchObject({ version: "2.0.1" });
    expect(await update(b, "tournament", { "metadata.reviewed_by_b": true })).toMatchObject({ version: "2.0.1" });
    // The same field of one pattern on a and c: a conflict c settles.
    await update(a, "debate_with_judge", { description: "Debate, judged (from a)" });
    await c.c.request("composition:update", { name: "debate_with_judge", set: { description: "Debate, judged (from c)" } });
    // Decision logs appended on all three.
    for (const n of nodes) {
      for (let i = 0; i < 2; i++) {
        const tracked = await n.c.request<{ tracked: { id: string } }>("composition:track_decision", { pattern: "tournament", decision: `${n.name} run ${i}`, outcome: "success" });
        decisionIds.push(tracked.tracked.id);
      }
    }
    // Labels moved on two sides.
    await a.c.request("composition:label", { name: "tournament", label: "production", version: "2.0.0" });
    await b.c.request("composition:label", { name: "judging_panel", label: "staging", version: "1.0.0" }).catch(async () => {
      const v = (await b.c.request<{ version: string }>("composition:get", { name: "judging_panel" })).version;
      await b.c.request("composition:label", { name: "judging_panel", label: "staging", version: v });
    });

    // a first: the remote is empty, everything is pushed.
    const first = await sync(a);
    expect(first).toMatchObject({ applied: false, pushed_branch: true, conflicts: [] });
    expect(first.pushed).toContain("tournament@2.0.1");

    // b: unrelated history, merged over what both seeded; records appended on b while its sync rewrites that log are all kept.
    const [second, ...during] = (await Promise.all([
      sync(b),
      ...Array.from({ length: 6 }, (_, i) => b.c.request<{ tracked: { id: string } }>("composition:track_decision", { pattern: "tournament", decision: `b during sync ${i}` })),
    ])) as [SyncReply, ...{ tracked: { id: string } }[]];
    decisionIds.push(...during.map((d) => d.tracked.id));
    expect(second.conflicts).toEqual([]);
    expect(second.applied).toBe(true);
    expect(second.renamed_tags).toEqual([{ from: "tournament@2.0.1", to: "tournament@2.0.2" }]);
    expect(second.merged).toEqual(
      expect.arrayContaining([
        { file: "orchestrations/tournament.yaml", name: "tournament", version: "2.0.3" },
        expect.objectContaining({ file: "orchestrations/tournament_decisions.yaml" }),
        { file: "labels.yaml" },
      ]),
    );
    expect(second.pulled).toEqual(expect.arrayContaining(["orchestrations/ensemble_voting.yaml", "orchestrations/debate_with_judge.yaml"]));
    const merge = (await git(b.store, "rev-parse", "HEAD")).trim();
    expect(lines(await git(b.store, "rev-list", "--parents", "-n1", merge))[0]!.split(" ")).toHaveLength(3);
    expect(await trailers(b.store, merge)).toMatchObject({ Op: "sync", Remote: "origin", "Renamed-Tag": "tournament@2.0.1 -> tournament@2.0.2", Agent: "agent_b" });
    // The renamed version is b's own, and the old name is a's.
    expect((await b.c.request<Msg>("composition:get", { name: "tournament@2.0.2" })).composition).toMatchObject({ metadata: expect.objectContaining({ reviewed_by_b: true }) });
    expect((await b.c.request<Msg>("composition:get", { name: "tournament@2.0.1" })).composition).toMatchObject({ metadata: expect.objectContaining({ reviewed_by_a: true }) });

    // c: its description clashes with a's: nothing applied, nothing pushed, the store exactly as it was.
    const before = await snapshot(c.store);
    const clash = await sync(c);
    expect(clash.applied).toBe(false);
    expect(clash.pushed).toEqual([]);
    expect(clash.conflicts).toEqual([{ file: "orchestrations/debate_with_judge.yaml", path: "description", base: expect.any(String), ours: "Debate, judged (from c)", theirs: "Debate, judged (from a)" }]);
    expect(await snapshot(c.store)).toEqual(before);
    // Settled as in merge: resolve names the conflict and the value to keep.
    const settled = await sync(c, { resolve: { debate_with_judge: { description: "Debate, judged (a and c agreed)" } } });
    expect(settled).toMatchObject({ applied: true, conflicts: [], pushed_branch: true });
    // The settled value replaces both sides' (a's edit was acknowledged, then knowingly replaced by the resolution).
    acknowledged.splice(acknowledged.findIndex((e) => e.name === "debate_with_judge"), 1);
    acknowledged.push({ name: "debate_with_judge", path: "description", value: "Debate, judged (a and c agreed)" });

    // a and b take the rest (fast-forwards), then everything is quiet.
    expect(await sync(a)).toMatchObject({ applied: true, fast_forward: true });
    expect(await sync(b)).toMatchObject({ applied: true, fast_forward: true });
    for (const n of nodes) expect(await sync(n)).toMatchObject({ applied: false, pushed: [], pushed_branch: false, conflicts: [] });

    const remoteHead = (await git(remote, "rev-parse", "refs/heads/main")).trim();
    const trees = new Set<string>();
    for (const n of nodes) {
      expect((await git(n.store, "rev-parse", "HEAD")).trim()).toBe(remoteHead);
      trees.add((await git(n.store, "rev-parse", "HEAD^{tree}")).trim());
      expect(await git(n.store, "status", "--porcelain", "--untracked-files=all")).toBe("");
      expect((await gitRun(n.store, ["fsck", "--strict", "--no-progress"])).code).toBe(0);
      await expectFsckClean(n.store);
      await expectStoreTruth(n.store);
      // What the daemon serves is what the files say: every acknowledged edit is there.
      for (const { name, path, value } of acknowledged) {
        const served = (await n.c.request<{ composition: Msg }>("composition:get", { name })).composition;
        expect(path.split(".").reduce<unknown>((v, k) => (v as Msg)[k], served), `${n.name}: ${name} ${path}`).toEqual(value);
      }
      // discover and select serve what came in: their index is the store's.
      const found = await n.c.request<{ compositions: { name: string }[] }>("composition:discover", { metadata_filter: { edited_on: "a" } });
      expect(found.compositions.map((r) => r.name)).toContain("ensemble_voting");
      const chosen = await n.c.request<{ candidates: { name: string }[] }>("composition:select", { task: "tournament reviewed by a and b" });
      expect(chosen.candidates.map((r) => r.name)).toContain("tournament");
      const log = readFileSync(join(n.store, "orchestrations", "tournament_decisions.yaml"), "utf8");
      for (const id of decisionIds) expect(log.split(`id: ${id}\n`).length - 1, `${n.name}: record ${id}`).toBe(1);
      const served = await n.c.request<{ records?: unknown[]; total?: number }>("composition:decisions", { pattern: "tournament" });
      expect(JSON.stringify(served)).toContain(decisionIds.at(-1)!);
      const labels = await n.c.request<{ labels: { name: string; label: string }[] }>("composition:labels", {});
      expect(labels.labels.map((l) => `${l.name}@${l.label}`).sort()).toEqual(["judging_panel@staging", "tournament@production"]);
      expect((await n.c.request<{ version: string }>("composition:get", { name: "tournament" })).version).toBe("2.0.3");
      expect(lines(await git(n.store, "tag", "-l", "tournament@*"))).toEqual(expect.arrayContaining(["tournament@2.0.1", "tournament@2.0.2", "tournament@2.0.3"]));
    }
    // Byte-equal stores: one tree.
    expect(trees.size).toBe(1);
    // The remote has every version tag, none moved.
    expect(lines(await git(remote, "tag", "-l", "tournament@*"))).toEqual(expect.arrayContaining(["tournament@2.0.1", "tournament@2.0.2", "tournament@2.0.3"]));
    expect((await git(remote, "rev-parse", "tournament@2.0.1")).trim()).toBe((await git(nodes[A]!.store, "rev-parse", "tournament@2.0.1")).trim());
    // Every daemon still serves.
    for (const n of nodes) expect((await n.c.request<{ status: string }>("system:health", {})).status).toBe("ok");
  }, 60_000);

  it("pat remote and pat sync: a dry run says what would happen, then the sync does it", async () => {
    const [a, , c] = nodes as [Node, Node, Node];
    const listed = await pat(a.d.home, ["remote"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(remote);
    await c.c.request("composition:update", { name: "tree_of_thoughts", set: { "metadata.edited_on": "c again" } });
    await sync(c);
    const before = await snapshot(a.store);
    const dry = await pat(a.d.home, ["sync", "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("would take   orchestrations/tree_of_thoughts.yaml");
    expect(await snapshot(a.store)).toEqual(before);
    const done = await pat(a.d.home, ["sync", "origin", "--pull", "-o", "json"]);
    expect(done.code, done.stderr).toBe(0);
    expect(json<{ applied: boolean; fast_forward: boolean }>(done)).toMatchObject({ applied: true, fast_forward: true });
    expect((await pat(a.d.home, ["sync"])).stdout.trim()).toBe("in sync with origin");
    const usage = await pat(a.d.home, ["sync", "--pull", "--push"]);
    expect(usage.code).toBe(2);
  }, 30_000);

  it("a person's edit not committed yet, on a file the sync would write, is a conflict: nothing is overwritten", async () => {
    const [a, , c] = nodes as [Node, Node, Node];
    await a.c.request("composition:update", { name: "red_team_review", set: { "metadata.edited_on": "a" } });
    await sync(a);
    const file = join(c.store, "orchestrations", "red_team_review.yaml");
    const edited = readFileSync(file, "utf8") + "# a note not committed yet\n";
    writeFileSync(file, edited);
    const refused = await sync(c);
    expect(refused).toMatchObject({ applied: false, pushed_branch: false });
    expect(refused.conflicts).toEqual([{ file: "orchestrations/red_team_review.yaml", path: "", base: null, ours: expect.stringMatching(/not committed yet/), theirs: null }]);
    expect(readFileSync(file, "utf8")).toBe(edited);
    await git(c.store, "checkout", "--", "orchestrations/red_team_review.yaml");
    expect(await sync(c)).toMatchObject({ applied: true, fast_forward: true, conflicts: [] });
    expect((await c.c.request<{ composition: Msg }>("composition:get", { name: "red_team_review" })).composition.metadata).toMatchObject({ edited_on: "a" });
  }, 30_000);

  it("--sync-every: background syncs take the remote's work in; an unreachable remote is reported in health and never blocks local saves", async () => {
    const d = await startDaemon({ home: await makeHome(), args: ["--sync-every", "1"] });
    const c = await d.client({ agentId: "agent_d" });
    await c.request("composition:remote", { action: "add", name: "gone", url: join(remote, "no-such-repo.git") });
    await c.request("composition:remote", { action: "add", name: "origin", url: remote });
    type Health = { store: { sync?: { remote: string; last_ok: string | null; last_error: string | null; next_at: string }[] } };
    const health = await waitFor(
      "both remotes' background syncs to be reported",
      async () => {
        const h = await c.request<Health>("system:health", {});
        const byName = new Map((h.store.sync ?? []).map((s) => [s.remote, s]));
        return byName.get("origin")?.last_ok != null && byName.get("gone")?.last_error != null ? byName : null;
      },
      20_000,
      100,
    );
    expect(health.get("gone")!.last_error).toMatch(/could not fetch from remote gone/);
    expect(health.get("origin")!.last_error).toBeNull();
    // d seeded its own store and edited nothing: its merge commit has the remote's files, and joining it is a fast-forward that
    // changes no file here, which must still move the branch (or the next push would be refused).
    const joined = await sync(nodes[A]!);
    expect(joined).toMatchObject({ applied: true, fast_forward: true });
    expect(joined.head).toBe((await git(remote, "rev-parse", "refs/heads/main")).trim());
    // The remote's work arrived; local saves answer meanwhile.
    expect((await c.request<{ version: string }>("composition:get", { name: "tournament" })).version).toBe("2.0.3");
    expect(await c.request("composition:update", { name: "watchdog_supervisor", set: { "metadata.edited_on": "d" } })).toMatchObject({ name: "watchdog_supervisor" });
  }, 40_000);

  it("pat start --sync-every passes the interval to the daemon it starts, and refuses one that is not a number of seconds", async () => {
    const home = await makeHome();
    const refused = await pat(home, ["start", "--sync-every", "0"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--sync-every must be a number of seconds, at least 1, e.g. 300");
    const started = await pat(home, ["start", "--sync-every", "1"]);
    expect(started.code, started.stderr).toBe(0);
    try {
      expect((await pat(home, ["remote", "add", "origin", remote])).code).toBe(0);
      type Health = { store: { sync?: { remote: string; last_ok: string | null }[] } };
      await waitFor("pat's daemon to sync by itself", async () => (json<Health>(await pat(home, ["send", "system:health", "--json"])).store.sync ?? []).some((s) => s.remote === "origin" && s.last_ok !== null), 20_000, 200);
    } finally {
      await pat(home, ["stop"]);
    }
  }, 40_000);

  it("a symbolic link on the remote where a file would be is a conflict: nothing is written, nothing points out of the store", async () => {
    const linked = mkdtempSync(join(tmpdir(), "pd-sync-linked-"));
    await git(tmpdir(), "init", "--bare", "--initial-branch=main", linked);
    const d = await startDaemon({ home: await makeHome() });
    const c = await d.client({ agentId: "agent_e" });
    await c.request("composition:remote", { action: "add", name: "origin", url: linked });
    expect(await c.request<SyncReply>("composition:sync", { remote: "origin" })).toMatchObject({ pushed_branch: true });
    const person = mkdtempSync(join(tmpdir(), "pd-sync-person-"));
    await git(tmpdir(), "clone", "-q", linked, person);
    symlinkSync("/etc/passwd", join(person, "orchestrations", "outside.yaml"));
    await git(person, "add", "orchestrations/outside.yaml");
    await git(person, "-c", "user.name=p", "-c", "user.email=p@example.com", "commit", "-qm", "a link");
    await git(person, "push", "-q", "origin", "HEAD:main");
    const head = (await git(d.home + "/var/lib/compositions", "rev-parse", "HEAD")).trim();
    const reply = await c.request<SyncReply>("composition:sync", { remote: "origin" });
    expect(reply.applied).toBe(false);
    expect(reply.conflicts).toEqual([expect.objectContaining({ file: "orchestrations/outside.yaml", theirs: expect.stringContaining("a symbolic link on the remote, not a regular file") })]);
    expect(existsSync(join(d.home, "var/lib/compositions/orchestrations/outside.yaml"))).toBe(false);
    expect((await git(d.home + "/var/lib/compositions", "rev-parse", "HEAD")).trim()).toBe(head);
    expect(await c.request("composition:update", { name: "tournament", set: { "metadata.edited_on": "e" } })).toMatchObject({ name: "tournament" });
  }, 30_000);
});
