/**
 * The pattern store end to end (SPEC §1 store layout, §2 errors, §3
 * composition:list/get/save/delete/validate/compose/history/reload, §4.1
 * lossless YAML, §4.2 git, §4.3 compose, §6 kill -9): a real daemon, a real
 * git repository at <home>/var/lib/compositions, and every claim checked the
 * way a user would check it — through the socket and with plain `git` run in
 * the store.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseYaml, parseDocument } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client, Push } from "../client/index.js";
import { cleanup, ROOT, startDaemon, waitFor, type Daemon } from "./harness.js";
import { commitCount, expectFsckClean, expectStoreTruth, git, head, lines, snapshot, trailers } from "./store-git.js";

type Msg = Record<string, unknown>;

interface WireErr {
  code: string;
  message: string;
  details?: Msg;
}

interface Issue {
  path: string;
  message: string;
}

interface Saved {
  name: string;
  version: string;
  commit: string;
  unchanged?: boolean;
}

interface Got {
  name: string;
  version: string;
  path: string;
  commit: string;
  composition: Msg;
}

interface Listed {
  name: string;
  type: string;
  version: string;
  description: string;
}

interface HistoryEntry {
  version: string | null;
  commit: string;
  date: string;
  author: string;
  op: string;
  message: string;
}

// ---------------------------------------------------------------- daemon helpers

let d: Daemon;
let c: Client;
let store: string;

const AGENT = "e2e-alice";

function storeOf(daemon: Daemon): string {
  return join(daemon.home, "var", "lib", "compositions");
}

beforeAll(async () => {
  d = await startDaemon();
  store = storeOf(d);
  c = await d.client({ agentId: AGENT });
});
afterAll(cleanup);

async function failure(client: Client, event: string, data: Msg): Promise<WireErr> {
  const reply = await client.send(event, data);
  expect(reply.ok, `${event} ${JSON.stringify(data).slice(0, 300)} should fail, got ${JSON.stringify(reply).slice(0, 500)}`).toBe(false);
  return (reply as unknown as { error: WireErr }).error;
}

function issuesOf(error: WireErr): Issue[] {
  const issues = (error.details as { issues?: Issue[] } | undefined)?.issues;
  expect(Array.isArray(issues), `details.issues in ${JSON.stringify(error)}`).toBe(true);
  expect(issues!.length).toBeGreaterThan(0);
  for (const issue of issues!) {
    expect(typeof issue.path).toBe("string");
    expect(issue.message.length).toBeGreaterThan(0);
  }
  return issues!;
}

function save(data: Msg, client: Client = c): Promise<Saved> {
  return client.request<Saved>("composition:save", data);
}

function get(name: string, client: Client = c): Promise<Got> {
  return client.request<Got>("composition:get", { name });
}

async function list(type?: string): Promise<Listed[]> {
  return (await c.request<{ compositions: Listed[] }>("composition:list", type === undefined ? {} : { type })).compositions;
}

async function history(name: string): Promise<HistoryEntry[]> {
  return (await c.request<{ versions: HistoryEntry[] }>("composition:history", { name })).versions;
}

function doc(name: string, version = "1.0.0", extra: Msg = {}): Msg {
  return { name, type: "orchestration", version, description: `${name} for the composition e2e tests`, ...extra };
}

/** Collects the pushes of a subscription in the background. */
function collect(sub: AsyncIterable<Push>): Push[] {
  const pushes: Push[] = [];
  void (async () => {
    for await (const push of sub) pushes.push(push);
  })();
  return pushes;
}

// ---------------------------------------------------------------- tests

describe("seeding (SPEC §1)", () => {
  it("first start makes one Op: seed commit, one name@version tag per pattern, and list shows them", async () => {
    expect(lines(await git(store, "log", "--format=%H"))).toHaveLength(1);
    const seeds = lines(await git(store, "log", "--grep=^Op: seed$", "--format=%H"));
    expect(seeds).toHaveLength(1);
    expect((await trailers(store, seeds[0]!)).Op).toBe("seed");

    const tags = lines(await git(store, "tag", "-l"));
    const tagged = new Map<string, string>();
    for (const tag of tags) {
      const match = /^([a-z0-9][a-z0-9_-]*)@(\d+\.\d+\.\d+\S*)$/.exec(tag);
      expect(match, `tag ${tag} is name@version`).not.toBeNull();
      expect(tagged.has(match![1]!), `one tag per pattern (${match![1]})`).toBe(false);
      tagged.set(match![1]!, match![2]!);
    }

    const all = await list();
    expect(new Set(all.map((e) => e.name))).toEqual(new Set(tagged.keys()));
    for (const entry of all) {
      expect(entry.version, entry.name).toBe(tagged.get(entry.name));
      expect(entry.description.length).toBeGreaterThan(0);
    }
    const orchestrations = await list("orchestration");
    expect(orchestrations.length).toBeGreaterThanOrEqual(12);
    expect(orchestrations.every((e) => e.type === "orchestration")).toBe(true);
    const files = new Set(lines(await git(store, "ls-files")));
    for (const o of orchestrations) expect(files.has(`orchestrations/${o.name}.yaml`), o.name).toBe(true);

    const profiles = await list("profile");
    expect(profiles.map((p) => p.name)).toContain("base_orchestrator");
    expect(files.has("profiles/base_orchestrator.yaml")).toBe(true);
    // The seeded file is the bundled one, byte for byte, and its tag shows it.
    const bundled = await readFile(join(ROOT, "profiles", "base_orchestrator.yaml"), "utf8");
    expect(await git(store, "show", `base_orchestrator@${tagged.get("base_orchestrator")}:profiles/base_orchestrator.yaml`)).toBe(bundled);
    expect((await git(store, "status", "--porcelain")).trim()).toBe("");
  });
});

describe("save, get, history and git (SPEC §3, §4.2)", () => {
  it("save → get → newer version → history, get name@version, git show, git log --author, trailers", async () => {
    const first = await save({ composition: doc("hist_demo", "1.0.0", { description: "the first version" }) });
    expect(first).toMatchObject({ name: "hist_demo", version: "1.0.0" });
    expect(first.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(await head(store)).toBe(first.commit);

    const current = await get("hist_demo");
    expect(current).toMatchObject({ name: "hist_demo", version: "1.0.0", path: "orchestrations/hist_demo.yaml", commit: first.commit });
    expect(current.composition).toEqual(doc("hist_demo", "1.0.0", { description: "the first version" }));

    const second = await save({ composition: doc("hist_demo", "1.1.0", { description: "the second version" }), message: "sharper description" });
    expect(second).toMatchObject({ name: "hist_demo", version: "1.1.0" });
    expect(second.commit).not.toBe(first.commit);
    expect((await get("hist_demo")).composition.description).toBe("the second version");

    const versions = await history("hist_demo");
    expect(versions.map((v) => [v.version, v.commit, v.op])).toEqual([
      ["1.1.0", second.commit, "update"],
      ["1.0.0", first.commit, "create"],
    ]);
    for (const v of versions) {
      expect(v.author).toBe(AGENT);
      expect(Number.isNaN(Date.parse(v.date))).toBe(false);
    }
    expect(versions[0]!.message).toBe("sharper description");

    const old = await get("hist_demo@1.0.0");
    expect(old).toMatchObject({ name: "hist_demo", version: "1.0.0", commit: first.commit });
    expect(old.composition.description).toBe("the first version");

    const shown = await git(store, "show", "hist_demo@1.0.0:orchestrations/hist_demo.yaml");
    expect(parseYaml(shown)).toEqual(doc("hist_demo", "1.0.0", { description: "the first version" }));
    expect(lines(await git(store, "tag", "-l", "hist_demo@*"))).toEqual(["hist_demo@1.0.0", "hist_demo@1.1.0"]);
    expect((await git(store, "rev-parse", "hist_demo@1.1.0^{commit}")).trim()).toBe(second.commit);

    const byAgent = lines(await git(store, "log", `--author=${AGENT}`, "--format=%H", "--", "orchestrations/hist_demo.yaml"));
    expect(byAgent).toEqual([second.commit, first.commit]);
    expect((await git(store, "log", "-1", "--format=%an <%ae>", second.commit)).trim()).toBe(`${AGENT} <${AGENT}@patternd>`);
    expect(lines(await git(store, "log", "--format=%H", "--", "orchestrations/hist_demo.yaml"))).toEqual([second.commit, first.commit]);

    expect(await trailers(store, first.commit)).toMatchObject({ Op: "create", Pattern: "hist_demo", Version: "1.0.0", Agent: AGENT });
    expect(await trailers(store, second.commit)).toMatchObject({ Op: "update", Pattern: "hist_demo", Version: "1.1.0", Agent: AGENT });
    expect((await git(store, "log", "-1", "--format=%s", second.commit)).trim()).toBe("sharper description");
    // Exactly one commit per mutation, touching only the pattern's file.
    expect(lines(await git(store, "show", "--format=", "--name-only", second.commit))).toEqual(["orchestrations/hist_demo.yaml"]);
  });
});

describe("lossless YAML (SPEC §4.1)", () => {
  const PATH = "orchestrations/lossless_demo.yaml";
  const TEXT = [
    "# Lossless demo: a header comment that must survive",
    "name: lossless_demo",
    "type: orchestration",
    "version: 1.0.0",
    "# the description is what people read first",
    "description: Keeps comments and unknown sections",
    "agents:",
    "  # the lead agent",
    "  lead:",
    "    profile: base_orchestrator   # who leads",
    "    vars: {temperature: 0.2, style: terse}",
    "  worker:",
    "    profile: executor",
    "routing:",
    "  rules:",
    "    - from: lead",
    "      to: worker",
    '      when: "result.ready"   # only when ready',
    "metadata:",
    "  tags: [demo, lossless]   # inline list",
    "# trailing comment at the end of the file",
    "",
  ].join("\n");

  it("a JSON update changes only the touched line (+ bumped version); comments and unknown sections stay", async () => {
    const created = await save({ yaml: TEXT });
    expect(created).toMatchObject({ name: "lossless_demo", version: "1.0.0" });
    expect(await readFile(join(store, PATH), "utf8")).toBe(TEXT);
    expect(await git(store, "show", `HEAD:${PATH}`)).toBe(TEXT);

    const current = await get("lossless_demo");
    expect(current.composition.agents).toEqual({ lead: { profile: "base_orchestrator", vars: { temperature: 0.2, style: "terse" } }, worker: { profile: "executor" } });
    expect(current.composition.routing).toEqual({ rules: [{ from: "lead", to: "worker", when: "result.ready" }] });

    // The whole document as JSON, one field changed, same version → patch bump.
    const edited = { ...current.composition, description: "Keeps comments, unknown sections and key order" };
    const updated = await save({ composition: edited });
    expect(updated).toMatchObject({ name: "lossless_demo", version: "1.0.1" });
    expect(updated.commit).not.toBe(created.commit);

    const diff = await git(store, "diff", "--unified=0", "HEAD~1", "--", PATH);
    const changed = lines(diff).filter((l) => /^[-+]/.test(l) && !/^(---|\+\+\+) /.test(l));
    expect(changed.sort()).toEqual(
      [
        "-version: 1.0.0",
        "+version: 1.0.1",
        "-description: Keeps comments and unknown sections",
        "+description: Keeps comments, unknown sections and key order",
      ].sort(),
    );
    const text = await readFile(join(store, PATH), "utf8");
    expect(text).toBe(
      TEXT.replace("version: 1.0.0\n", "version: 1.0.1\n").replace(
        "description: Keeps comments and unknown sections\n",
        "description: Keeps comments, unknown sections and key order\n",
      ),
    );
    for (const comment of TEXT.split("\n").filter((l) => l.includes("#"))) expect(text).toContain(comment);
    expect(parseYaml(text)).toMatchObject({ agents: current.composition.agents, routing: current.composition.routing, version: "1.0.1" });

    const afterUpdate = await snapshot(store);
    // Identical content (as JSON and as the file's own text) → unchanged, no commit.
    const same = await save({ composition: { ...edited, version: "1.0.1" } });
    expect(same).toMatchObject({ name: "lossless_demo", version: "1.0.1", unchanged: true });
    const sameText = await save({ yaml: text });
    expect(sameText).toMatchObject({ name: "lossless_demo", version: "1.0.1", unchanged: true });
    expect(await snapshot(store)).toEqual(afterUpdate);
    expect(await readFile(join(store, PATH), "utf8")).toBe(text);

    // An older version is a conflict; create_only over an existing name is a conflict.
    const older = await failure(c, "composition:save", { composition: { ...edited, version: "0.9.0", description: "older" } });
    expect(older.code).toBe("conflict");
    const createOnly = await failure(c, "composition:save", { composition: { ...edited, version: "2.0.0" }, create_only: true });
    expect(createOnly.code).toBe("conflict");
    expect(await snapshot(store)).toEqual(afterUpdate);
    expect(await readFile(join(store, PATH), "utf8")).toBe(text);
  });
});

describe("concurrency (SPEC §2 pipelining, §4.2 serialised git)", () => {
  it("50 pipelined saves of different patterns from 5 clients → 50 commits, 50 tags, fsck clean, no index.lock", async () => {
    const before = await commitCount(store);
    const clients = await Promise.all([0, 1, 2, 3, 4].map((k) => d.client({ agentId: `burst-${k}` })));
    const replies = await Promise.all(
      clients.flatMap((client, k) =>
        Array.from({ length: 10 }, (_, i) => save({ composition: doc(`burst_${k}_${i}`, `1.${i}.0`) }, client).then((r) => ({ ...r, k, i }))),
      ),
    );
    expect(replies).toHaveLength(50);
    for (const r of replies) expect(r).toMatchObject({ name: `burst_${r.k}_${r.i}`, version: `1.${r.i}.0` });
    expect(new Set(replies.map((r) => r.commit)).size).toBe(50);

    expect(await commitCount(store)).toBe(before + 50);
    const refs = new Map(
      lines(await git(store, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/tags/burst_*")).map((l) => l.split(" ") as [string, string]),
    );
    expect(refs.size).toBe(50);
    for (const r of replies) expect(refs.get(`burst_${r.k}_${r.i}@1.${r.i}.0`)).toBe(r.commit);
    // Each commit touches exactly its own file.
    const touched = lines(await git(store, "log", "-50", "--format=", "--name-only"));
    expect(new Set(touched)).toEqual(new Set(replies.map((r) => `orchestrations/${r.name}.yaml`)));
    expect(touched).toHaveLength(50);
    for (const r of replies) expect((await trailers(store, r.commit)).Agent).toBe(`burst-${r.k}`);

    await expectFsckClean(store);
    expect(existsSync(join(store, ".git", "index.lock"))).toBe(false);
    expect((await git(store, "status", "--porcelain")).trim()).toBe("");
    expect((await list("orchestration")).filter((e) => e.name.startsWith("burst_"))).toHaveLength(50);
    await Promise.all(clients.map((client) => client.close()));
  }, 45_000);
});

describe("the store changed behind the daemon's back (SPEC §4.4 watcher, composition:reload)", () => {
  const HAND = "orchestrations/hand_made.yaml";
  const handText = (description: string) => `name: hand_made\ntype: orchestration\nversion: 1.0.0\ndescription: ${description}\n`;

  it("hand edits show up without restart; a broken file is reported and the last good version keeps serving", async () => {
    await writeFile(join(store, HAND), handText("written by hand"));
    await waitFor("hand_made in composition:list", async () => (await list()).some((e) => e.name === "hand_made"));
    expect((await get("hand_made")).composition).toEqual({ name: "hand_made", type: "orchestration", version: "1.0.0", description: "written by hand" });

    // A field of an existing, committed pattern edited by hand.
    const target = "orchestrations/consensus_builder.yaml";
    const original = await readFile(join(store, target), "utf8");
    expect(original).toMatch(/^description: .*$/m);
    await writeFile(join(store, target), original.replace(/^description: .*$/m, "description: edited by hand in the store"));
    await waitFor("the hand-edited description", async () => (await get("consensus_builder")).composition.description === "edited by hand in the store");
    expect((await list()).find((e) => e.name === "consensus_builder")?.description).toBe("edited by hand in the store");

    // Broken YAML: reported by reload and validate; get keeps the last good version.
    await writeFile(join(store, HAND), "name: hand_made\ntype: orchestration\nversion: 1.0.0\ndescription: [unclosed\n  : : :\n");
    const reload = await c.request<{ indexed: number; invalid: { path: string; issues: Issue[] }[] }>("composition:reload");
    expect(reload.indexed).toBeGreaterThan(0);
    const broken = reload.invalid.find((f) => f.path === HAND);
    expect(broken, JSON.stringify(reload.invalid)).toBeDefined();
    expect(broken!.issues.length).toBeGreaterThan(0);
    expect(broken!.issues[0]!.message.length).toBeGreaterThan(0);
    const validation = await c.request<{ valid: boolean; issues: Issue[] }>("composition:validate", { name: "hand_made" });
    expect(validation.valid).toBe(false);
    expect(validation.issues.length).toBeGreaterThan(0);
    expect((await get("hand_made")).composition.description).toBe("written by hand");
    expect((await list()).some((e) => e.name === "hand_made")).toBe(true);
    // Its text is in neither its file nor git (never committed): the YAML served is written out from the last good data.
    expect(parseYaml((await c.request<{ yaml: string }>("composition:get", { name: "hand_made", format: "yaml" })).yaml)).toEqual({
      name: "hand_made",
      type: "orchestration",
      version: "1.0.0",
      description: "written by hand",
    });
    // A committed pattern broken by hand serves its last good text itself, read back from git.
    const committed = "orchestrations/tournament.yaml";
    const good = await readFile(join(store, committed), "utf8");
    await writeFile(join(store, committed), "name: tournament\ntype: orchestration\nversion: [broken\n");
    expect((await c.request<{ invalid: { path: string }[] }>("composition:reload")).invalid.map((f) => f.path)).toContain(committed);
    expect((await c.request<{ yaml: string }>("composition:get", { name: "tournament", format: "yaml" })).yaml).toBe(good);
    await writeFile(join(store, committed), good);
    await c.request("composition:reload");

    // Fixed: current again, no longer reported.
    await writeFile(join(store, HAND), handText("fixed by hand"));
    await waitFor("the fixed hand_made", async () => (await get("hand_made")).composition.description === "fixed by hand");
    const again = await c.request<{ invalid: { path: string }[] }>("composition:reload");
    expect(again.invalid.map((f) => f.path)).not.toContain(HAND);
    expect(await c.request<{ valid: boolean }>("composition:validate", { name: "hand_made" })).toMatchObject({ valid: true });

    // Deleted by hand: gone from list and get.
    await unlink(join(store, HAND));
    await waitFor("hand_made gone from composition:list", async () => !(await list()).some((e) => e.name === "hand_made"));
    expect((await failure(c, "composition:get", { name: "hand_made" })).code).toBe("not_found");

    // `git checkout` in the store is a change like any other.
    await git(store, "checkout", "--", target);
    await waitFor("consensus_builder back to its committed text", async () => (await get("consensus_builder")).composition.description !== "edited by hand in the store");
    expect(await readFile(join(store, target), "utf8")).toBe(original);
    expect((await git(store, "status", "--porcelain")).trim()).toBe("");

    // A type folder made by hand after start, and a file in it.
    await mkdir(join(store, "prompts"));
    await writeFile(join(store, "prompts", "hand_prompt.yaml"), "name: hand_prompt\ntype: prompt\nversion: 1.0.0\ndescription: a new kind, by hand\n");
    await waitFor("hand_prompt in composition:list", async () => (await list("prompt")).some((e) => e.name === "hand_prompt"));
    await writeFile(join(store, "prompts", "hand_prompt.yaml"), "name: hand_prompt\ntype: prompt\nversion: 1.0.1\ndescription: edited in the new folder\n");
    await waitFor("the edit in the new folder", async () => (await get("hand_prompt")).version === "1.0.1");
    await rm(join(store, "prompts"), { recursive: true });
    await waitFor("hand_prompt gone with its folder", async () => !(await list()).some((e) => e.name === "hand_prompt"));
  });
});

describe("compose (SPEC §4.3)", () => {
  interface Composed {
    composition: Msg & { components?: { name: string; prompt?: string }[]; variables?: Msg };
    prompt?: string;
  }

  it("resolves base_orchestrator through its extends chain into a profile with a prompt from every ancestor", async () => {
    const chain: string[] = [];
    for (let name: string | undefined = "base_orchestrator"; name !== undefined; ) {
      chain.push(name);
      const ext: unknown = (await get(name)).composition.extends;
      name = typeof ext === "string" ? ext : undefined;
    }
    expect(chain).toEqual(["base_orchestrator", "base_multi_agent", "base_single_agent"]);

    const composed = await c.request<Composed>("composition:compose", { name: "base_orchestrator" });
    expect(composed.composition.type).toBe("profile");
    expect(composed.composition.name).toBe("base_orchestrator");
    const prompt = composed.prompt!;
    expect(typeof prompt).toBe("string");
    expect(prompt).toContain("How you work:"); // base_single_agent's working_rules component
    expect(prompt).toContain("## The patternd wire protocol"); // base_orchestrator's own component
    expect(prompt).toContain("Run `run_local` is yours"); // base_multi_agent's run_id default
    expect(prompt).toContain("Answer in concise Markdown."); // base_single_agent's output_format default
    expect(prompt).toContain("You are the orchestrator of a team of LLM agents"); // child's default wins
    expect(prompt).not.toContain("{{");
    const names = composed.composition.components!.map((component) => component.name);
    expect(names).toContain("working_rules");
    expect(new Set(names).size).toBe(names.length);
    expect(Object.keys(composed.composition.variables!)).toEqual(expect.arrayContaining(["output_format", "coordinator_id", "run_id", "merge_min_runs"]));

    const withVariables = await c.request<Composed>("composition:compose", {
      name: "base_orchestrator",
      variables: { agent_role: "release conductor", run_id: "run_99" },
    });
    expect(withVariables.prompt).toContain("You are the release conductor");
    expect(withVariables.prompt).toContain("Run `run_99` is yours");
    expect(withVariables.prompt).not.toContain("run_local");
  });

  it("a three-level chain of own profiles: components from every level, in order; variables override defaults", async () => {
    const profile = (name: string, extra: Msg): Msg => ({ name, type: "profile", version: "1.0.0", description: `${name} profile`, ...extra });
    await save({ composition: profile("e2e_root", { variables: { who: { default: "world" } }, components: [{ name: "intro", prompt: "ROOT says hello {{who}}" }, { name: "tone", prompt: "ROOT tone" }] }) });
    await save({ composition: profile("e2e_mid", { extends: "e2e_root", components: [{ name: "middle", prompt: "MID adds a step" }] }) });
    await save({ composition: profile("e2e_leaf", { extends: "e2e_mid", components: [{ name: "tone", prompt: "LEAF tone for {{who}}" }, { name: "leaf", prompt: "LEAF finishes" }] }) });
    expect((await get("e2e_leaf")).path).toBe("profiles/e2e_leaf.yaml");

    const composed = await c.request<Composed>("composition:compose", { name: "e2e_leaf" });
    expect(composed.composition.type).toBe("profile");
    expect(composed.prompt).toBe(["ROOT says hello world", "LEAF tone for world", "MID adds a step", "LEAF finishes"].join("\n\n"));
    const overridden = await c.request<Composed>("composition:compose", { name: "e2e_leaf", variables: { who: "Ada" } });
    expect(overridden.prompt).toContain("ROOT says hello Ada");
    expect(overridden.prompt).toContain("LEAF tone for Ada");
    expect(overridden.prompt).not.toContain("ROOT tone");
  });

  it("a missing parent is not_found and a cycle is invalid_params naming it; nothing is committed", async () => {
    const before = await snapshot(store);
    const orphan = await failure(c, "composition:save", { composition: doc("e2e_orphan", "1.0.0", { extends: "no_such_parent" }) });
    expect(orphan.code).toBe("not_found");
    expect(orphan.message).toContain("no_such_parent");
    expect(existsSync(join(store, "orchestrations", "e2e_orphan.yaml"))).toBe(false);
    expect(await snapshot(store)).toEqual(before);

    await save({ composition: doc("cyc_a") });
    await save({ composition: doc("cyc_b", "1.0.0", { extends: "cyc_a" }) });
    const fileA = await readFile(join(store, "orchestrations", "cyc_a.yaml"), "utf8");
    const beforeCycle = await snapshot(store);
    const cycle = await failure(c, "composition:save", { composition: doc("cyc_a", "1.1.0", { extends: "cyc_b" }) });
    expect(cycle.code).toBe("invalid_params");
    expect(cycle.message).toMatch(/cycle/i);
    expect(cycle.message).toContain("cyc_a");
    expect(cycle.message).toContain("cyc_b");
    expect(await snapshot(store)).toEqual(beforeCycle);
    expect(await readFile(join(store, "orchestrations", "cyc_a.yaml"), "utf8")).toBe(fileA);
    expect((await get("cyc_a")).version).toBe("1.0.0");
    const checked = await c.request<{ valid: boolean; issues: Issue[] }>("composition:validate", { composition: doc("cyc_a", "1.1.0", { extends: "cyc_b" }) });
    expect(checked.valid).toBe(false);
    expect(checked.issues.map((i) => i.path)).toContain("extends");
    expect(checked.issues.map((i) => i.message).join(" ")).toMatch(/cyc_a.*cyc_b|cyc_b.*cyc_a/);
    expect(await snapshot(store)).toEqual(beforeCycle);
    // SPEC §2: invalid_params carries {issues: [{path, message}]}; the problem is at `extends`.
    expect(issuesOf(cycle).map((i) => i.path)).toContain("extends");
  });
});

describe("bad input (SPEC §2, §3 names, §4.1 safe parsing)", () => {
  const BAD_NAMES = ["a/b", "..", "../escape", "orchestrations/../../escape", "UpperCase", "x".repeat(200), "plan_decisions"];

  it.each(BAD_NAMES.map((name) => [name.length > 40 ? `${name.slice(0, 10)}…(${name.length})` : name, name]))(
    "name %s → invalid_params at path name, nothing written",
    async (_label, name) => {
      const before = await snapshot(store);
      const asObject = await failure(c, "composition:save", { composition: doc(name) });
      expect(asObject.code).toBe("invalid_params");
      expect(issuesOf(asObject).map((i) => i.path)).toContainEqual(expect.stringMatching(/(^|\.)name$/));
      const asYaml = await failure(c, "composition:save", { yaml: `name: ${JSON.stringify(name)}\ntype: orchestration\nversion: 1.0.0\ndescription: bad name\n` });
      expect(asYaml.code).toBe("invalid_params");
      expect(issuesOf(asYaml).map((i) => i.path)).toContainEqual(expect.stringMatching(/(^|\.)name$/));
      for (const event of ["composition:get", "composition:history", "composition:delete"]) {
        const error = await failure(c, event, { name });
        expect(error.code, event).toBe("invalid_params");
        expect(issuesOf(error).map((i) => i.path), event).toContain("name");
      }
      expect(await snapshot(store)).toEqual(before);
      for (const escaped of [join(store, "..", "escape.yaml"), join(store, "..", "..", "escape.yaml"), join(store, "escape.yaml")]) {
        expect(existsSync(escaped), escaped).toBe(false);
      }
    },
  );

  const header = (name: string) => `name: ${name}\ntype: orchestration\nversion: 1.0.0\n`;
  const bomb = (() => {
    const out = [header("alias_bomb"), "description: billion laughs\n", 'lol: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'];
    for (let i = 1; i <= 9; i++) out.push(`l${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(", ")}]\n`);
    return out.join("");
  })();
  const big = (() => {
    const start = header("huge_doc") + "description: two MiB\nblob: ";
    return start + "x".repeat(2 * 1024 * 1024 - start.length - 1) + "\n";
  })();
  const BAD_YAML: [string, string, RegExp | null][] = [
    ["a custom tag", `${header("custom_tag")}description: !custom evil\n`, /line \d+|description/],
    ["a js/function tag", `${header("js_tag")}description: !!js/function "function () { return 1 }"\n`, /line \d+|description/],
    ["an alias bomb", bomb, null],
    ["duplicate keys", `${header("dup_keys")}description: first\ndescription: second\n`, /line \d+|description/],
    ["a 2 MiB document", big, null],
  ];

  it.each(BAD_YAML)("YAML with %s → invalid_params, nothing written", async (_label, yaml, where) => {
    const before = await snapshot(store);
    const error = await failure(c, "composition:save", { yaml });
    expect(error.code).toBe("invalid_params");
    const issues = issuesOf(error);
    if (where !== null) expect(issues.some((i) => where.test(i.path) || where.test(i.message)), JSON.stringify(issues)).toBe(true);
    const validation = await c.send("composition:validate", { yaml });
    if (validation.ok) expect((validation.data as { valid: boolean }).valid).toBe(false);
    else expect(validation.error.code).toBe("invalid_params");
    expect(await snapshot(store)).toEqual(before);
    const name = /^name: (\S+)$/m.exec(yaml)![1]!;
    expect(existsSync(join(store, "orchestrations", `${name}.yaml`))).toBe(false);
    expect((await failure(c, "composition:get", { name })).code).toBe("not_found");
  });

  it("get of a missing name suggests close names; get of a missing version lists the versions", async () => {
    const before = await snapshot(store);
    const typo = await failure(c, "composition:get", { name: "tournamnet" });
    expect(typo.code).toBe("not_found");
    expect(typo.details?.suggestions).toContain("tournament");
    expect(typo.message).toContain("tournament");

    const version = (await get("tournament")).version;
    const missing = await failure(c, "composition:get", { name: "tournament@9.9.9" });
    expect(missing.code).toBe("not_found");
    expect(missing.details?.versions).toContain(version);
    expect(missing.message).toContain("9.9.9");
    expect(await snapshot(store)).toEqual(before);
  });
});

describe("delete and composition:changed (SPEC §3)", () => {
  it("delete commits, removes the file and the list entry, keeps tags and history; subscribers get every change", async () => {
    const watcher = await d.client({ agentId: "e2e-watcher" });
    const sub = await watcher.subscribe(["composition:changed"]);
    const pushes = collect(sub);

    const created = await save({ composition: doc("del_demo") });
    const updated = await save({ composition: doc("del_demo", "1.1.0", { description: "second" }) });
    const deleted = await c.request<{ deleted: boolean; commit: string }>("composition:delete", { name: "del_demo", message: "no longer needed" });
    expect(deleted.deleted).toBe(true);
    expect(deleted.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(await head(store)).toBe(deleted.commit);
    expect(await trailers(store, deleted.commit)).toMatchObject({ Op: "delete", Pattern: "del_demo", Version: "1.1.0", Agent: AGENT });
    expect((await git(store, "log", "-1", "--format=%s", deleted.commit)).trim()).toBe("no longer needed");
    expect(lines(await git(store, "show", "--format=", "--name-status", deleted.commit))).toEqual(["D\torchestrations/del_demo.yaml"]);

    expect(existsSync(join(store, "orchestrations", "del_demo.yaml"))).toBe(false);
    expect((await list()).some((e) => e.name === "del_demo")).toBe(false);
    expect((await failure(c, "composition:get", { name: "del_demo" })).code).toBe("not_found");
    expect(lines(await git(store, "tag", "-l", "del_demo@*"))).toEqual(["del_demo@1.0.0", "del_demo@1.1.0"]);
    expect(parseYaml(await git(store, "show", "del_demo@1.0.0:orchestrations/del_demo.yaml"))).toEqual(doc("del_demo"));
    expect((await get("del_demo@1.1.0")).composition.description).toBe("second");
    expect((await history("del_demo")).map((v) => [v.op, v.commit])).toEqual([
      ["delete", deleted.commit],
      ["update", updated.commit],
      ["create", created.commit],
    ]);
    expect((await failure(c, "composition:delete", { name: "del_demo" })).code).toBe("not_found");

    await waitFor("three composition:changed pushes", () => pushes.filter((p) => (p.data as Msg).name === "del_demo").length >= 3);
    const mine = pushes.filter((p) => (p.data as Msg).name === "del_demo");
    expect(mine.map((p) => p.event)).toEqual(["composition:changed", "composition:changed", "composition:changed"]);
    expect(mine.map((p) => p.data)).toEqual([
      { name: "del_demo", version: "1.0.0", op: "create", commit: created.commit },
      { name: "del_demo", version: "1.1.0", op: "update", commit: updated.commit },
      { name: "del_demo", version: "1.1.0", op: "delete", commit: deleted.commit },
    ]);
    sub.close();
    await watcher.close();
  });
});

describe("kill -9 during a burst of saves (SPEC §6)", () => {
  it("restart: fsck clean, every YAML parses, every acknowledged save is in git and served", async () => {
    const k9 = await startDaemon();
    const kstore = storeOf(k9);
    const clients = await Promise.all([0, 1, 2].map((k) => k9.client({ agentId: `crash-${k}` })));
    const acked: Saved[] = [];
    let stop = false;

    const loops = clients.map(async (client, k) => {
      for (let i = 0; !stop; i++) {
        // Pipelined: an update of the client's own pattern and a brand-new one.
        const batch = [
          save({ composition: doc(`crash_${k}`, `1.${i}.0`, { description: `version ${i} of crash_${k}`, agents: { lead: { n: i } } }) }, client),
          save({ composition: doc(`crash_${k}_${i}`) }, client),
        ];
        const settled = await Promise.allSettled(batch);
        for (const s of settled) if (s.status === "fulfilled") acked.push(s.value);
        if (settled.some((s) => s.status === "rejected")) return;
      }
    });
    await waitFor("20 acknowledged saves before the kill", () => acked.length >= 20, 20_000);
    const exit = await k9.kill();
    stop = true;
    expect(exit.signal).toBe("SIGKILL");
    await Promise.all(loops);
    const acknowledged = [...acked];

    const again = await startDaemon({ home: k9.home });
    await expectFsckClean(kstore);

    const yamlFiles: string[] = [];
    for (const dir of await readdir(kstore, { withFileTypes: true })) {
      if (!dir.isDirectory() || dir.name === ".git") continue;
      for (const file of await readdir(join(kstore, dir.name))) if (file.endsWith(".yaml")) yamlFiles.push(`${dir.name}/${file}`);
    }
    expect(yamlFiles.length).toBeGreaterThan(20);
    for (const path of yamlFiles) {
      const parsed = parseDocument(await readFile(join(kstore, path), "utf8"));
      expect(parsed.errors, path).toEqual([]);
    }

    const reindexed = await again.client();
    expect((await reindexed.request<{ invalid: unknown[] }>("composition:reload")).invalid).toEqual([]);

    const tags = new Map(lines(await git(kstore, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/tags")).map((l) => l.split(" ") as [string, string]));
    const reachable = new Set(lines(await git(kstore, "rev-list", "HEAD")));
    for (const a of acknowledged) {
      expect(tags.get(`${a.name}@${a.version}`), `tag of acknowledged ${a.name}@${a.version}`).toBe(a.commit);
      expect(reachable.has(a.commit), `commit of ${a.name}@${a.version} on HEAD`).toBe(true);
    }

    const c2 = await again.client({ agentId: "crash-after" });
    for (const a of acknowledged) {
      const current = await c2.request<Got>("composition:get", { name: a.name });
      expect(current.composition.name).toBe(a.name);
      const old = await c2.request<Got>("composition:get", { name: `${a.name}@${a.version}` });
      expect(old.commit).toBe(a.commit);
    }
    // The store is usable after the crash: no stale lock blocks the next save.
    const after = await c2.request<Saved>("composition:save", { composition: doc("after_crash") });
    expect(after.commit).toBe(await head(kstore));
    expect(existsSync(join(kstore, ".git", "index.lock"))).toBe(false);
    await expectFsckClean(kstore);
    // Issue 24: one truth — nothing of the killed daemon's staged or left changed, and every version tagged.
    await expectStoreTruth(kstore);
  }, 45_000);
});
