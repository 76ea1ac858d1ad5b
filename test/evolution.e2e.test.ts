/**
 * Pattern evolution end to end (SPEC §3 composition:fork / merge / diff /
 * lineage, §4.2 git): a real daemon and its git store, checked through the
 * socket and with plain git the way a person browses the lineage.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { cleanup, startDaemon, waitFor, type Daemon } from "./harness.js";
import { commitCount, expectFsckClean, git, lines, snapshot, trailers } from "./store-git.js";

type Msg = Record<string, unknown>;

interface WireErr {
  code: string;
  message: string;
  details?: Msg;
}

interface Forked {
  name: string;
  version: string;
  parent: string;
  commit: string;
}

interface Change {
  op: string;
  path: string;
  from?: unknown;
  to?: unknown;
}

interface Merged {
  merged: true;
  name: string;
  version: string;
  commit: string;
  from: string;
  base: string;
  changes: Change[];
}

interface Conflict {
  path: string;
  base: unknown;
  ours: unknown;
  theirs: unknown;
}

let d: Daemon;
let c: Client;
let store: string;

const AGENT = "orch_7f3e";

beforeAll(async () => {
  d = await startDaemon();
  store = join(d.home, "var", "lib", "compositions");
  c = await d.client({ agentId: AGENT });
});
afterAll(cleanup);

/** Lines "1. step one" … "10. step ten", with `edits` (line number → text) applied. */
function strategy(edits: Record<number, string> = {}): string {
  const words = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];
  return words.map((word, i) => edits[i + 1] ?? `${i + 1}. step ${word}`).join("\n") + "\n";
}

/** A hand-written pattern: comments, an unknown `agents:` section, a 10-line strategy. */
function parentYaml(name: string): string {
  const body = strategy()
    .trimEnd()
    .split("\n")
    .map((line) => `    ${line}`)
    .join("\n");
  return `# ${name}: written by hand for the evolution tests
name: ${name}
type: orchestration
version: 1.0.0   # first cut
description: A pattern the evolution tests fork and merge back
metadata:
  tags: [evolution, test]
components:
  - name: judge
    prompt: Judge fairly.
  - name: worker
    prompt: Work hard.
orchestration_logic:
  description: Ten steps
  strategy: |
${body}
# agents is not a core field: it must survive every machine edit
agents:
  - id: scout      # looks around
    role: explorer
`;
}

async function failure(event: string, data: Msg, client: Client = c): Promise<WireErr> {
  const reply = await client.send(event, data);
  expect(reply.ok, `${event} should fail, got ${JSON.stringify(reply).slice(0, 400)}`).toBe(false);
  return (reply as unknown as { error: WireErr }).error;
}

async function current(name: string): Promise<Msg> {
  return (await c.request<{ composition: Msg }>("composition:get", { name })).composition;
}

async function fileText(name: string): Promise<string> {
  return readFile(join(store, "orchestrations", `${name}.yaml`), "utf8");
}

/** Saves the pattern's current document with its strategy replaced (the version's patch is bumped by the daemon). */
async function editStrategy(name: string, text: string, client: Client = c): Promise<string> {
  const doc = await current(name);
  const logic = doc.orchestration_logic as Msg;
  const saved = await client.request<{ version: string }>("composition:save", { composition: { ...doc, orchestration_logic: { ...logic, strategy: text } } });
  return saved.version;
}

function strategyOf(doc: Msg): string {
  return (doc.orchestration_logic as Msg).strategy as string;
}

describe("fork (SPEC §3 composition:fork)", () => {
  it("copies every section losslessly, records lineage, adds a forks entry to the parent, in one Op: fork commit with a tag", async () => {
    await c.request("composition:save", { yaml: parentYaml("evo_copy") });
    const before = await commitCount(store);
    const forked = await c.request<Forked>("composition:fork", {
      parent: "evo_copy",
      name: "evo_copy_fork",
      reason: "try a louder judge",
      modifications: { "components.judge": "ignored" },
    }).catch((err: unknown) => err as Error);
    // A modification that would index into a list of components is refused; nothing was written.
    expect(forked).toBeInstanceOf(Error);
    expect(await commitCount(store)).toBe(before);

    const ok = await c.request<Forked>("composition:fork", {
      parent: "evo_copy",
      name: "evo_copy_fork",
      reason: "try a longer description",
      modifications: { description: "A longer description", "orchestration_logic.description": "Ten steps, forked", "metadata.owner": "e2e" },
    });
    expect(ok).toMatchObject({ name: "evo_copy_fork", version: "0.1.0", parent: "evo_copy@1.0.0" });
    expect(await commitCount(store)).toBe(before + 1);

    const text = await fileText("evo_copy_fork");
    expect(text).toContain("# agents is not a core field: it must survive every machine edit");
    expect(text).toContain("  - id: scout      # looks around");
    expect(text).toContain("version: 0.1.0   # first cut");
    const fork = parseYaml(text) as Msg;
    expect(fork.description).toBe("A longer description");
    expect((fork.metadata as Msg).owner).toBe("e2e");
    expect((fork.orchestration_logic as Msg).description).toBe("Ten steps, forked");
    expect(strategyOf(fork)).toBe(strategy());
    expect(fork.lineage).toMatchObject({ parent: "evo_copy@1.0.0", fork_reason: "try a longer description", fork_author: AGENT });
    expect((fork.lineage as Msg).parent_commit).toMatch(/^[0-9a-f]{40}$/);
    expect(fork.forks).toBeUndefined();

    const parent = parseYaml(await fileText("evo_copy")) as Msg;
    expect(parent.forks).toEqual([expect.objectContaining({ name: "evo_copy_fork", version: "0.1.0", agent: AGENT })]);
    expect(parent.version).toBe("1.0.0");

    const files = lines(await git(store, "show", "--format=", "--name-only", ok.commit)).sort();
    expect(files).toEqual(["orchestrations/evo_copy.yaml", "orchestrations/evo_copy_fork.yaml"]);
    expect(await trailers(store, ok.commit)).toMatchObject({
      Op: "fork",
      Pattern: "evo_copy_fork",
      Version: "0.1.0",
      Parent: "evo_copy@1.0.0",
      Agent: AGENT,
      Reason: "try a longer description",
    });
    expect((await git(store, "log", "-1", "--format=%an %s", ok.commit)).trim()).toBe(`${AGENT} fork: evo_copy -> evo_copy_fork`);
    expect((await git(store, "rev-parse", "evo_copy_fork@0.1.0^{commit}")).trim()).toBe(ok.commit);
    expect(await git(store, "show", "evo_copy_fork@0.1.0:orchestrations/evo_copy_fork.yaml")).toBe(text);
    // In the parent's history the fork commit is a change of its file, not a version of it.
    const history = (await c.request<{ versions: { version: string | null; op: string; commit: string }[] }>("composition:history", { name: "evo_copy" })).versions;
    expect(history.map(({ version, op }) => ({ version, op }))).toEqual([
      { version: null, op: "fork" },
      { version: "1.0.0", op: "create" },
    ]);
  });

  it("forks a fork, and an older tagged version of a pattern", async () => {
    const grandchild = await c.request<Forked>("composition:fork", { parent: "evo_copy_fork", name: "evo_copy_fork2", reason: "second generation" });
    expect(grandchild.parent).toBe("evo_copy_fork@0.1.0");
    await editStrategy("evo_copy", strategy({ 1: "1. step one, revised" }));
    const old = await c.request<Forked>("composition:fork", { parent: "evo_copy@1.0.0", name: "evo_copy_old", reason: "from the first cut", version: "1.0.0" });
    expect(old).toMatchObject({ parent: "evo_copy@1.0.0", version: "1.0.0" });
    expect(strategyOf(await current("evo_copy_old"))).toBe(strategy());
    const forks = (await current("evo_copy")).forks as Msg[];
    expect(forks.map((f) => f.name)).toEqual(["evo_copy_fork", "evo_copy_old"]);
  });

  it("refuses a fork to an existing name, of a missing ref, and a modification through a scalar: clear codes, nothing written", async () => {
    const before = await snapshot(store);
    expect((await failure("composition:fork", { parent: "evo_copy", name: "evo_copy_fork", reason: "again" })).code).toBe("conflict");
    expect((await failure("composition:fork", { parent: "evo_copy", name: "tournament", reason: "clash across the library" })).code).toBe("conflict");
    expect((await failure("composition:fork", { parent: "no_such_pattern", name: "evo_x", reason: "r" })).code).toBe("not_found");
    expect((await failure("composition:fork", { parent: "evo_copy@9.9.9", name: "evo_x", reason: "r" })).code).toBe("not_found");
    const scalar = await failure("composition:fork", { parent: "evo_copy", name: "evo_x", reason: "r", modifications: { "description.text": "x" } });
    expect(scalar.code).toBe("invalid_params");
    expect(scalar.message).toContain("description");
    expect((await failure("composition:fork", { parent: "evo_copy", name: "evo_x", reason: "r", modifications: { name: "other" } })).code).toBe("invalid_params");
    expect((await failure("composition:fork", { parent: "evo_copy", name: "evo_x", reason: "" })).code).toBe("invalid_params");
    expect((await failure("composition:fork", { parent: "evo_copy", name: "../evo_x", reason: "r" })).code).toBe("invalid_params");
    expect(await snapshot(store)).toEqual(before);
    expect((await c.request<{ status: string }>("system:health", {})).status).toBe("ok");
  });
});

describe("merge (SPEC §3 composition:merge)", () => {
  it("edits to different lines of one strategy both survive; comments and unknown sections stay; one Op: merge commit", async () => {
    await c.request("composition:save", { yaml: parentYaml("evo_p") });
    await c.request<Forked>("composition:fork", { parent: "evo_p", name: "evo_f", reason: "better step three" });
    await editStrategy("evo_f", strategy({ 3: "3. step three, done twice" }));
    await editStrategy("evo_p", strategy({ 7: "7. step seven, with a timeout" }));

    const merged = await c.request<Merged>("composition:merge", { source: "evo_f" });
    expect(merged).toMatchObject({ merged: true, name: "evo_p", version: "1.1.0", base: "evo_p@1.0.0" });
    expect(merged.changes).toEqual([expect.objectContaining({ op: "replace", path: "orchestration_logic.strategy" })]);
    const text = await fileText("evo_p");
    const doc = parseYaml(text) as Msg;
    expect(strategyOf(doc)).toBe(strategy({ 3: "3. step three, done twice", 7: "7. step seven, with a timeout" }));
    expect(doc.version).toBe("1.1.0");
    expect(doc.merges).toEqual([expect.objectContaining({ from: merged.from, agent: AGENT })]);
    expect(doc.lineage).toBeUndefined();
    expect(doc.name).toBe("evo_p");
    expect(doc.forks).toEqual([expect.objectContaining({ name: "evo_f" })]);
    expect(text).toContain("# agents is not a core field: it must survive every machine edit");
    expect(text).toContain("  - id: scout      # looks around");
    expect(text).toContain("version: 1.1.0   # first cut");

    expect((await git(store, "log", "-1", "--format=%an %s", merged.commit)).trim()).toBe(`${AGENT} merge: ${merged.from} -> evo_p 1.1.0`);
    expect(await trailers(store, merged.commit)).toMatchObject({ Op: "merge", Pattern: "evo_p", Version: "1.1.0", "Merged-From": merged.from, Agent: AGENT });
    expect(lines(await git(store, "show", "--format=", "--name-only", merged.commit))).toEqual(["orchestrations/evo_p.yaml"]);
    expect(await git(store, "show", "evo_p@1.1.0:orchestrations/evo_p.yaml")).toBe(text);
    // Only the strategy line, the version and the merges record changed in the file.
    const diff = await git(store, "diff", "-U0", "evo_p@1.0.1", "evo_p@1.1.0", "--", "orchestrations/evo_p.yaml");
    const changed = lines(diff).filter((line) => /^[-+](?![-+])/.test(line));
    expect(changed.filter((line) => line.startsWith("-"))).toEqual(["-version: 1.0.1   # first cut", "-    3. step three"]);
    expect(changed.filter((line) => line.startsWith("+")).slice(0, 2)).toEqual(["+version: 1.1.0   # first cut", "+    3. step three, done twice"]);
  });

  it("a second merge of the same fork brings only what changed since the first", async () => {
    // The parent moves line 3 on after the merge; the fork then edits line 5 only.
    await editStrategy("evo_p", strategy({ 3: "3. step three, parent's final word", 7: "7. step seven, with a timeout" }));
    await editStrategy("evo_f", strategy({ 3: "3. step three, done twice", 5: "5. step five, in parallel" }));
    const second = await c.request<Merged>("composition:merge", { source: "evo_f" });
    expect(second.base).toMatch(/^evo_f@/);
    expect(second.changes.map((change) => change.path)).toEqual(["orchestration_logic.strategy"]);
    expect(strategyOf(await current("evo_p"))).toBe(
      strategy({ 3: "3. step three, parent's final word", 5: "5. step five, in parallel", 7: "7. step seven, with a timeout" }),
    );
    expect(((await current("evo_p")).merges as Msg[]).map((m) => m.from)).toHaveLength(2);
    // Nothing new: no commit, no version.
    const before = await commitCount(store);
    const again = await c.request<Msg>("composition:merge", { source: "evo_f" });
    expect(again).toMatchObject({ merged: true, unchanged: true, changes: [] });
    expect(await commitCount(store)).toBe(before);
  });

  it("the same line edited differently is merge_conflict with the path and all three values, nothing written; theirs resolves it", async () => {
    await c.request("composition:save", { yaml: parentYaml("evo_q") });
    await c.request<Forked>("composition:fork", { parent: "evo_q", name: "evo_qf", reason: "rival step three" });
    await editStrategy("evo_qf", strategy({ 3: "3. the fork's step three" }));
    await editStrategy("evo_q", strategy({ 3: "3. the parent's step three" }));
    const before = await snapshot(store);

    const conflict = await failure("composition:merge", { source: "evo_qf" });
    expect(conflict.code).toBe("merge_conflict");
    const conflicts = (conflict.details as { conflicts: Conflict[] }).conflicts;
    expect(conflicts).toEqual([
      { path: "orchestration_logic.strategy", base: strategy(), ours: strategy({ 3: "3. the parent's step three" }), theirs: strategy({ 3: "3. the fork's step three" }) },
    ]);
    expect(conflict.message).toContain("orchestration_logic.strategy");
    expect(await snapshot(store)).toEqual(before);

    const dry = await c.request<Msg>("composition:merge", { source: "evo_qf", dry_run: true });
    expect(dry).toMatchObject({ dry_run: true, clean: false, conflicts });
    expect(await snapshot(store)).toEqual(before);

    const resolved = await c.request<Merged>("composition:merge", { source: "evo_qf", strategy: "theirs" });
    expect(strategyOf(await current("evo_q"))).toBe(strategy({ 3: "3. the fork's step three" }));
    expect(await trailers(store, resolved.commit)).toMatchObject({ Op: "merge", Strategy: "theirs" });
  });

  it("components merge by name: each side's edit to a different component survives", async () => {
    await c.request("composition:save", { yaml: parentYaml("evo_c") });
    await c.request<Forked>("composition:fork", { parent: "evo_c", name: "evo_cf", reason: "stricter judge" });
    const fork = await current("evo_cf");
    const components = (comps: Msg[], name: string, prompt: string) => comps.map((comp) => (comp.name === name ? { ...comp, prompt } : comp));
    await c.request("composition:save", { composition: { ...fork, components: [...components(fork.components as Msg[], "judge", "Judge strictly."), { name: "scribe", prompt: "Take notes." }] } });
    const parent = await current("evo_c");
    await c.request("composition:save", { composition: { ...parent, components: [...(parent.components as Msg[])].reverse().map((comp) => (comp.name === "worker" ? { ...comp, prompt: "Work smart." } : comp)) } });
    await c.request<Merged>("composition:merge", { source: "evo_cf" });
    const merged = (await current("evo_c")).components as Msg[];
    expect(Object.fromEntries(merged.map((comp) => [comp.name, comp.prompt]))).toEqual({ judge: "Judge strictly.", worker: "Work smart.", scribe: "Take notes." });
  });

  it("refuses what is not a fork of the target, and a fork base that is not in the history", async () => {
    const before = await snapshot(store);
    const unrelated = await failure("composition:merge", { source: "evo_f", target: "tournament" });
    expect(unrelated.code).toBe("invalid_params");
    expect(unrelated.message).toMatch(/not a fork of tournament/);
    const notFork = await failure("composition:merge", { source: "tournament" });
    expect(notFork.code).toBe("invalid_params");
    expect((await failure("composition:merge", { source: "no_such_fork" })).code).toBe("not_found");
    expect((await failure("composition:merge", { source: "evo_f", target: "evo_f" })).code).toBe("invalid_params");
    expect(await snapshot(store)).toEqual(before);
    await c.request("composition:save", {
      composition: { name: "evo_orphan", type: "orchestration", version: "1.0.0", description: "claims a base that never existed", lineage: { parent: "evo_p@0.0.9" } },
    });
    const noBase = await failure("composition:merge", { source: "evo_orphan" });
    expect(noBase.code).toBe("not_found");
    expect(noBase.message).toContain("evo_p@0.0.9");
  });
});

describe("diff (SPEC §3 composition:diff)", () => {
  it("is structural and key-aware between two patterns or two versions; unified gives the YAML line diff", async () => {
    const changes = (await c.request<{ changes: Change[] }>("composition:diff", { left: "evo_c@1.0.0", right: "evo_cf" })).changes;
    expect(changes).toContainEqual({ op: "replace", path: "components.judge.prompt", from: "Judge fairly.", to: "Judge strictly." });
    expect(changes).toContainEqual(expect.objectContaining({ op: "add", path: "components.scribe" }));
    expect(changes.some((change) => change.path.startsWith("components.worker"))).toBe(false);
    const versions = (await c.request<{ changes: Change[] }>("composition:diff", { left: "evo_p@1.0.0", right: "evo_p@1.1.0" })).changes;
    // 1.0.0 was tagged before the fork added its `forks` entry.
    expect(versions.map((change) => change.path)).toEqual(["version", "orchestration_logic.strategy", "forks", "merges"]);
    const unified = (await c.request<{ unified: string }>("composition:diff", { left: "evo_p@1.0.1", right: "evo_p@1.1.0", format: "unified" })).unified;
    expect(unified).toMatch(/^--- a\/orchestrations\/evo_p\.yaml\t\(evo_p@1\.0\.1\)\n\+\+\+ b\/orchestrations\/evo_p\.yaml\t\(evo_p@1\.1\.0\)\n/);
    expect(unified).toContain("-    3. step three\n+    3. step three, done twice");
    expect((await failure("composition:diff", { left: "evo_p@7.7.7", right: "evo_p" })).code).toBe("not_found");
    expect((await failure("composition:diff", { left: "evo_p", right: "missing_one" })).code).toBe("not_found");
  });
});

describe("lineage (SPEC §3 composition:lineage)", () => {
  it("a three-generation family as JSON, tree, Mermaid and DOT", async () => {
    await c.request("composition:save", { composition: { name: "evo_g1", type: "orchestration", version: "1.0.0", description: "grandparent" } });
    await c.request("composition:fork", { parent: "evo_g1", name: "evo_g2", reason: "second generation" });
    await c.request("composition:fork", { parent: "evo_g2", name: "evo_g3", reason: "third generation" });
    await c.request("composition:fork", { parent: "evo_g2", name: "evo_g3b", reason: "a sibling" });

    const graph = await c.request<{ ancestors: string[]; descendants: string[]; edges: { from: string; to: string }[] }>("composition:lineage", { name: "evo_g2" });
    expect(graph.ancestors).toEqual(["evo_g1"]);
    expect([...graph.descendants].sort()).toEqual(["evo_g3", "evo_g3b"]);
    expect(graph.edges).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ from: "evo_g1", to: "evo_g2" }),
        expect.objectContaining({ from: "evo_g2", to: "evo_g3" }),
        expect.objectContaining({ from: "evo_g2", to: "evo_g3b" }),
      ]),
    );
    const up = await c.request<{ descendants: string[]; ancestors: string[] }>("composition:lineage", { name: "evo_g3", direction: "up" });
    expect(up.ancestors).toEqual(["evo_g2", "evo_g1"]);
    expect(up.descendants).toEqual([]);

    const text = async (format: string) => (await c.request<{ text: string }>("composition:lineage", { name: "evo_g1", format })).text;
    const tree = await text("tree");
    expect(lines(tree)[0]).toMatch(/^evo_g1@1\.0\.0/);
    expect(tree).toMatch(/evo_g2@0\.1\.0\n.*evo_g3@0\.1\.0/);
    const mermaid = await text("mermaid");
    expect(mermaid).toMatch(/^graph TD/);
    for (const name of ["evo_g1", "evo_g2", "evo_g3", "evo_g3b"]) expect(mermaid).toContain(`${name}@`);
    expect(mermaid.match(/-->/g)).toHaveLength(3);
    const dot = await text("dot");
    expect(dot).toMatch(/^digraph/);
    expect(dot).toMatch(/"evo_g1" -> "evo_g2"/);
    expect(dot).toMatch(/"evo_g2" -> "evo_g3"/);
    expect((await failure("composition:lineage", { name: "nobody_here" })).code).toBe("not_found");
  });
});

describe("parallel forks", () => {
  it("100 forks of one parent from 10 concurrent clients: 100 files, 100 forks entries, 100 commits, fsck clean", async () => {
    await c.request("composition:save", { composition: { name: "evo_hub", type: "orchestration", version: "1.0.0", description: "forked by many" } });
    const before = await commitCount(store);
    const clients = await Promise.all(Array.from({ length: 10 }, (_, i) => d.client({ agentId: `forker_${i}` })));
    const results = await Promise.all(
      clients.flatMap((client, i) =>
        Array.from({ length: 10 }, (_, j) => client.request<Forked>("composition:fork", { parent: "evo_hub", name: `evo_hub_${i}_${j}`, reason: `fork ${j} of client ${i}` })),
      ),
    );
    expect(new Set(results.map((r) => r.commit)).size).toBe(100);
    expect(await commitCount(store)).toBe(before + 100);
    const forks = (parseYaml(await fileText("evo_hub")) as Msg).forks as Msg[];
    expect(forks).toHaveLength(100);
    expect(new Set(forks.map((f) => f.name)).size).toBe(100);
    const files = lines(await git(store, "ls-files", "orchestrations")).filter((path) => /evo_hub_\d+_\d+\.yaml$/.test(path));
    expect(files).toHaveLength(100);
    expect(lines(await git(store, "tag", "-l", "evo_hub_*@0.1.0"))).toHaveLength(100);
    expect(lines(await git(store, "log", "--format=%an", `-100`)).sort()).toEqual(clients.flatMap((_, i) => Array.from({ length: 10 }, () => `forker_${i}`)).sort());
    expect(await git(store, "status", "--porcelain")).toBe("");
    await expectFsckClean(store);
  });
});

interface Candidate {
  name: string;
  breakdown: { relevance: number; evidence: number; requirements: number };
  reasons: string[];
}

describe("a fork's evidence is its own (issue 12)", () => {
  /** A pattern with a proven record, words no other pattern has, and learnings. */
  const proven = (name: string) => `name: ${name}
type: orchestration
version: 1.0.0
description: Quokka census ranking with a proven record
metadata:
  tags: [quokka]
orchestration_logic:
  description: count the quokkas, rank the islands
performance:   # measured over fifty runs
  runs: 50
  avg_score: 0.9
  success_rate: 0.9
learnings:
  - insight: three counters beat one
    confidence: 0.8
    discovered_by: orch_counter
`;

  async function candidates(task: string): Promise<Map<string, Candidate>> {
    const result = await c.request<{ candidates: Candidate[] }>("composition:select", { task, limit: 10 });
    return new Map(result.candidates.map((candidate) => [candidate.name, candidate]));
  }

  it("a fork starts with no performance: the parent's is kept as lineage.parent_performance, learnings stay, select and discover do not count it", async () => {
    await c.request("composition:save", { yaml: proven("evo_quokka") });
    await c.request<Forked>("composition:fork", { parent: "evo_quokka", name: "evo_quokka_fork", reason: "count at night" });

    const fork = parseYaml(await fileText("evo_quokka_fork")) as Msg;
    expect(fork.performance).toBeUndefined();
    expect((fork.lineage as Msg).parent_performance).toEqual({ runs: 50, avg_score: 0.9, success_rate: 0.9 });
    expect(fork.learnings).toEqual([{ insight: "three counters beat one", confidence: 0.8, discovered_by: "orch_counter" }]);
    // The parent keeps its figures and its comment.
    expect(await fileText("evo_quokka")).toContain("performance:   # measured over fifty runs\n  runs: 50");

    // select: the same text, so the same relevance; only the parent has evidence beyond the prior.
    const ranked = await candidates("quokka census ranking");
    const parent = ranked.get("evo_quokka")!;
    const forked = ranked.get("evo_quokka_fork")!;
    expect(forked.breakdown.evidence).toBeCloseTo(0.25 * 0.5, 9);
    expect(parent.breakdown.evidence).toBeGreaterThan(forked.breakdown.evidence + 0.05);
    expect(forked.reasons.at(-1)).toContain("no recorded outcomes, so the prior alone");
    expect(parent.reasons.at(-1)).toContain("50 run(s)");

    // discover: a filter on performance finds the parent, not the never-run fork.
    const found = await c.request<{ compositions: Msg[] }>("composition:discover", { metadata_filter: { tags: ["quokka"], "performance.avg_score": { ">": 0.7 } } });
    expect(found.compositions.map((p) => p.name)).toEqual(["evo_quokka"]);
  });

  it("the fork's evidence is its own decision log: the parent's records do not count for it, its own do", async () => {
    const before = (await candidates("quokka census ranking")).get("evo_quokka_fork")!.breakdown.evidence;
    for (let i = 0; i < 3; i++) await c.request("composition:track_decision", { pattern: "evo_quokka", decision: `parent run ${i}`, outcome: "success" });
    expect((await candidates("quokka census ranking")).get("evo_quokka_fork")!.breakdown.evidence).toBeCloseTo(before, 9);
    for (let i = 0; i < 3; i++) await c.request("composition:track_decision", { pattern: "evo_quokka_fork", decision: `fork run ${i}`, outcome: "success" });
    const after = (await candidates("quokka census ranking")).get("evo_quokka_fork")!;
    expect(after.breakdown.evidence).toBeGreaterThan(before);
    expect(after.reasons.at(-1)).toContain("decision log: 3 success(es)");
    // The logs reach git in a batch commit; wait for it so later tests' snapshots hold still.
    await waitFor("the decision logs committed", async () => (await git(store, "status", "--porcelain")) === "", 10_000, 50);
  });

  it("a fork cannot be given performance by modifications: invalid_params, nothing written", async () => {
    const before = await snapshot(store);
    for (const path of ["performance", "performance.avg_score"]) {
      const error = await failure("composition:fork", { parent: "evo_quokka", name: "evo_quokka_claims", reason: "claims a record", modifications: { [path]: 0.99 } });
      expect(error.code).toBe("invalid_params");
      expect(error.message).toContain("no performance of its own");
    }
    expect(await snapshot(store)).toEqual(before);
  });

  it("merging the fork back keeps the target's performance and takes the fork's new learnings", async () => {
    const fork = await current("evo_quokka_fork");
    const learnings = [...(fork.learnings as Msg[]), { insight: "night counts double", confidence: 0.6 }];
    await c.request("composition:save", { composition: { ...fork, learnings, performance: { runs: 2, avg_score: 0.1 } } });
    const merged = await c.request<Merged>("composition:merge", { source: "evo_quokka_fork" });
    expect(merged.changes.map((change) => change.path)).toEqual(["learnings"]);
    const parent = parseYaml(await fileText("evo_quokka")) as Msg;
    expect(parent.performance).toEqual({ runs: 50, avg_score: 0.9, success_rate: 0.9 });
    expect(parent.learnings).toEqual(learnings);
  });
});

describe("merge resolve: conflicts settled in the same request (issue 12)", () => {
  async function editComponent(name: string, component: string, prompt: string): Promise<void> {
    const doc = await current(name);
    const components = (doc.components as Msg[]).map((comp) => (comp.name === component ? { ...comp, prompt } : comp));
    await c.request("composition:save", { composition: { ...doc, components } });
  }

  it("two conflicts; resolve of one still merge_conflict listing the other; a wrong path is invalid_params; resolving both merges in one commit", async () => {
    await c.request("composition:save", { yaml: parentYaml("evo_r") });
    await c.request<Forked>("composition:fork", { parent: "evo_r", name: "evo_rf", reason: "rival judge", modifications: { description: "evo_r forked to test resolve" } });
    await editStrategy("evo_rf", strategy({ 3: "3. the fork's step three" }));
    await editComponent("evo_rf", "judge", "Judge by the fork's rules.");
    await editComponent("evo_rf", "worker", "Work in pairs."); // clean: only the fork changed it
    await editStrategy("evo_r", strategy({ 3: "3. the parent's step three" }));
    await editComponent("evo_r", "judge", "Judge by the parent's rules.");
    const before = await snapshot(store);

    const open = await failure("composition:merge", { source: "evo_rf" });
    expect(open.code).toBe("merge_conflict");
    expect((open.details as { conflicts: Conflict[] }).conflicts.map((conflict) => conflict.path)).toEqual(["components.judge.prompt", "orchestration_logic.strategy"]);
    expect(open.message).toContain('resolve: {"components.judge.prompt": value}');
    expect(open.message).toContain("pat merge evo_rf --set components.judge.prompt=VALUE");
    expect(open.message).toContain("strategy ours or theirs");

    const half = await failure("composition:merge", { source: "evo_rf", resolve: { "components.judge.prompt": "Judge by both." } });
    expect(half.code).toBe("merge_conflict");
    expect((half.details as { conflicts: Conflict[] }).conflicts.map((conflict) => conflict.path)).toEqual(["orchestration_logic.strategy"]);
    expect(half.details?.resolved).toEqual(["components.judge.prompt"]);
    expect(half.message).toContain("both changed orchestration_logic.strategy since");

    const wrong = await failure("composition:merge", { source: "evo_rf", resolve: { "components.judge.prompt": "x", "orchestration_logic.strategi": "y" } });
    expect(wrong.code).toBe("invalid_params");
    expect(wrong.message).toContain("resolve names orchestration_logic.strategi");
    expect(wrong.message).toContain("the conflicts are components.judge.prompt, orchestration_logic.strategy");
    expect(wrong.details?.issues).toEqual([{ path: "resolve.orchestration_logic.strategi", message: expect.stringContaining("not a conflict") }]);
    expect(await snapshot(store)).toEqual(before);

    const settled = strategy({ 3: "3. step three, settled" });
    const commits = await commitCount(store);
    const merged = await c.request<Merged & { resolved: string[] }>("composition:merge", {
      source: "evo_rf",
      resolve: { "components.judge.prompt": "Judge by both.", "orchestration_logic.strategy": settled },
    });
    expect(merged).toMatchObject({ merged: true, name: "evo_r", resolved: ["components.judge.prompt", "orchestration_logic.strategy"] });
    expect(await commitCount(store)).toBe(commits + 1);
    const text = await fileText("evo_r");
    const doc = parseYaml(text) as Msg;
    expect(strategyOf(doc)).toBe(settled);
    expect(Object.fromEntries((doc.components as Msg[]).map((comp) => [comp.name, comp.prompt]))).toEqual({ judge: "Judge by both.", worker: "Work in pairs." });
    // The fork's description was written at fork time: it says what the fork is, so the parent keeps its own.
    expect(doc.description).toBe("A pattern the evolution tests fork and merge back");
    expect(doc.merges).toEqual([expect.objectContaining({ from: merged.from, resolved: ["components.judge.prompt", "orchestration_logic.strategy"] })]);
    expect(text).toContain("# agents is not a core field: it must survive every machine edit");
    expect(text).toContain("  - id: scout      # looks around");
    expect(await trailers(store, merged.commit)).toMatchObject({ Op: "merge", Resolved: "components.judge.prompt, orchestration_logic.strategy" });

    // Merged: nothing conflicts any more, so a resolution now names nothing.
    const after = await snapshot(store);
    const none = await failure("composition:merge", { source: "evo_rf", resolve: { description: "x" } });
    expect(none.code).toBe("invalid_params");
    expect(none.message).toContain("this merge has no conflicts");
    expect(await snapshot(store)).toEqual(after);
    expect((await c.request<{ status: string }>("system:health", {})).status).toBe("ok");
  });

  it("a dry run with resolve shows the merged result and the conflicts left, writing nothing", async () => {
    await c.request("composition:save", { yaml: parentYaml("evo_rd") });
    await c.request<Forked>("composition:fork", { parent: "evo_rd", name: "evo_rdf", reason: "dry" });
    await editStrategy("evo_rdf", strategy({ 3: "3. fork" }));
    await editStrategy("evo_rd", strategy({ 3: "3. parent" }));
    const before = await snapshot(store);
    const dry = await c.request<Msg>("composition:merge", { source: "evo_rdf", dry_run: true, resolve: { "orchestration_logic.strategy": "1. one\n" } });
    expect(dry).toMatchObject({ dry_run: true, clean: true, conflicts: [], resolved: ["orchestration_logic.strategy"] });
    expect(strategyOf(dry.composition as Msg)).toBe("1. one\n");
    expect(await snapshot(store)).toEqual(before);
  });

  it("the description a fork was born with is not merged; one it changed later is (a conflict when the target has its own)", async () => {
    const born = "evo_desc, forked for ten faster steps";
    const parentDescription = "A pattern the evolution tests fork and merge back";
    await c.request("composition:save", { yaml: parentYaml("evo_desc") });
    await c.request<Forked>("composition:fork", { parent: "evo_desc", name: "evo_descf", reason: "own words", modifications: { description: born } });
    await editStrategy("evo_descf", strategy({ 4: "4. step four, faster" }));
    const first = await c.request<Merged>("composition:merge", { source: "evo_descf" });
    expect(first.changes.map((change) => change.path)).toEqual(["orchestration_logic.strategy"]);
    expect((await current("evo_desc")).description).toBe(parentDescription);

    // Changed after the first merge: the base (the fork as merged) has the fork's words, the target its own.
    const fork = await current("evo_descf");
    await c.request("composition:save", { composition: { ...fork, description: "Ten steps, the fourth one faster" } });
    const conflict = await failure("composition:merge", { source: "evo_descf" });
    expect(conflict.code).toBe("merge_conflict");
    expect(conflict.details?.conflicts).toEqual([{ path: "description", base: born, ours: parentDescription, theirs: "Ten steps, the fourth one faster" }]);
    await c.request<Merged>("composition:merge", { source: "evo_descf", resolve: { description: "Ten steps, the fourth one faster" } });
    expect((await current("evo_desc")).description).toBe("Ten steps, the fourth one faster");

    // Changed before the first merge, with the target's description untouched: taken.
    await c.request("composition:save", { yaml: parentYaml("evo_desc2") });
    await c.request<Forked>("composition:fork", { parent: "evo_desc2", name: "evo_desc2f", reason: "own words", modifications: { description: born } });
    const fork2 = await current("evo_desc2f");
    await c.request("composition:save", { composition: { ...fork2, description: "Ten careful steps" } });
    const taken = await c.request<Merged>("composition:merge", { source: "evo_desc2f" });
    expect(taken.changes).toEqual([{ op: "replace", path: "description", from: parentDescription, to: "Ten careful steps" }]);
  });
});
