/**
 * Finding patterns and recording what was learned, end to end (SPEC §3
 * composition:discover / select / track_decision / decisions, §4.4–§4.6):
 * a real daemon, its git store, decision logs read back as YAML and from git.
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import type { AppendedRecord } from "../daemon/modules/composition/model/decisions.js";
import { cleanup, startDaemon, waitFor, type Daemon } from "./harness.js";
import { expectStoreTruth, git } from "./store-git.js";

type Msg = Record<string, unknown>;

interface WireErr {
  code: string;
  message: string;
  details?: { issues?: { path: string; message: string }[] } & Msg;
}

interface Found {
  compositions: Msg[];
  total: number;
}

interface Candidate {
  name: string;
  version: string;
  score: number;
  breakdown: Record<string, number>;
  reasons: string[];
  requirements_met: boolean;
}

interface Selected {
  selected: string | null;
  explanation?: string;
  candidates: Candidate[];
}

let d: Daemon;
let c: Client;
let store: string;

beforeAll(async () => {
  d = await startDaemon();
  store = join(d.home, "var", "lib", "compositions");
  c = await d.client({ agentId: "finder" });
  // A small family to filter: numbers, lists, nested metadata, top-level performance.
  const docs: Msg[] = [
    { name: "dx_alpha", description: "Alpha sorts widgets", metadata: { tags: ["dx", "widgets", "fast"], use_cases: ["sorting widgets"], cost: 3, owner: "ann" }, performance: { avg_score: 0.91, runs: 40 } },
    { name: "dx_beta", description: "Beta counts gadgets", metadata: { tags: ["dx", "gadgets"], use_cases: ["counting gadgets"], cost: 7, owner: "bob" }, performance: { avg_score: 0.55, runs: 4 } },
    { name: "dx_gamma", description: "Gamma sorts gadgets slowly", metadata: { tags: ["dx", "gadgets", "slow"], cost: 5 } },
  ];
  for (const doc of docs) await c.request("composition:save", { composition: { type: "orchestration", version: "1.0.0", ...doc } });
});
afterAll(cleanup);

async function failure(event: string, data: Msg): Promise<WireErr> {
  const reply = await c.send(event, data);
  expect(reply.ok, `${event} should fail, got ${JSON.stringify(reply).slice(0, 300)}`).toBe(false);
  return (reply as unknown as { error: WireErr }).error;
}

async function names(query: Msg): Promise<string[]> {
  return (await c.request<Found>("composition:discover", { tags: ["dx"], ...query })).compositions.map((p) => p.name as string);
}

describe("discover (SPEC §4.4)", () => {
  it("the seed's example works as written", async () => {
    const found = await c.request<Found>("composition:discover", { type: "orchestration", metadata_filter: { tags: ["tournament"], "performance.avg_score": { ">": 0.7 } } });
    expect(found.compositions.map((p) => p.name)).toEqual(["tournament"]);
    expect(found.total).toBe(1);
  });

  it("tags must all be present; text words match name, description, tags and use cases", async () => {
    expect(await names({})).toEqual(["dx_alpha", "dx_beta", "dx_gamma"]);
    expect(await names({ tags: ["dx", "gadgets"] })).toEqual(["dx_beta", "dx_gamma"]);
    expect(await names({ text: "sorts" })).toEqual(["dx_alpha", "dx_gamma"]);
    expect(await names({ text: "GADGET slow" })).toEqual(["dx_gamma"]);
    expect(await names({ text: "counting" })).toEqual(["dx_beta"]);
  });

  it("each metadata_filter operator", async () => {
    const filter = async (metadata_filter: Msg) => names({ metadata_filter });
    expect(await filter({ owner: "ann" })).toEqual(["dx_alpha"]);
    expect(await filter({ tags: "slow" })).toEqual(["dx_gamma"]);
    expect(await filter({ tags: ["gadgets", "slow"] })).toEqual(["dx_gamma"]);
    expect(await filter({ cost: { ">": 3 } })).toEqual(["dx_beta", "dx_gamma"]);
    expect(await filter({ cost: { ">=": 5 } })).toEqual(["dx_beta", "dx_gamma"]);
    expect(await filter({ cost: { "<": 5 } })).toEqual(["dx_alpha"]);
    expect(await filter({ cost: { "<=": 5 } })).toEqual(["dx_alpha", "dx_gamma"]);
    expect(await filter({ cost: { "==": 7 } })).toEqual(["dx_beta"]);
    expect(await filter({ cost: { "!=": 7 } })).toEqual(["dx_alpha", "dx_gamma"]);
    expect(await filter({ owner: { in: ["bob", "carl"] } })).toEqual(["dx_beta"]);
    expect(await filter({ tags: { contains: "fast" } })).toEqual(["dx_alpha"]);
    expect(await filter({ owner: { exists: true } })).toEqual(["dx_alpha", "dx_beta"]);
    expect(await filter({ owner: { exists: false } })).toEqual(["dx_gamma"]);
    expect(await filter({ "performance.runs": { ">": 10 } })).toEqual(["dx_alpha"]);
    expect(await filter({ cost: { ">": 2, "<": 7 } })).toEqual(["dx_alpha", "dx_gamma"]);
  });

  it("where is a JSON Logic rule over the whole document; fields, sort, limit and offset", async () => {
    expect(await names({ where: { ">": [{ var: "performance.avg_score" }, 0.6] } })).toEqual(["dx_alpha"]);
    const page = await c.request<Found>("composition:discover", { tags: ["dx"], fields: ["metadata.cost"], sort: "-metadata.cost", limit: 2, offset: 1 });
    expect(page.total).toBe(3);
    expect(page.compositions).toEqual([
      { name: "dx_gamma", type: "orchestration", version: "1.0.0", metadata: { cost: 5 } },
      { name: "dx_alpha", type: "orchestration", version: "1.0.0", metadata: { cost: 3 } },
    ]);
  });

  it("a where that is not a JSON Logic object is invalid_params with the object form, never every pattern; keeps serving", async () => {
    // Each of these used to be a constant to the engine: text and numbers matched every pattern, null and a list none.
    const cases: [unknown, RegExp][] = [
      [
        "performance.avg_score>0.7",
        /^invalid data for composition:discover at "where": a rule is a JSON Logic object .* not text: write "performance\.avg_score>0\.7" as \{">":\[\{"var":"performance\.avg_score"\},0\.7\]\}; or, .* send metadata_filter \{"performance\.avg_score":\{">":0\.7\}\}, as pat find --where 'performance\.avg_score>0\.7' does$/,
      ],
      ["dx", /such as \{">":\[\{"var":"performance\.avg_score"\},0\.7\]\}; got the text "dx"$/],
      ['{"==": [{"var": "name"}, "dx_alpha"]}', /not text holding one: send \{"==":\[\{"var":"name"\},"dx_alpha"\]\} itself/],
      [1, /got the number 1/],
      [null, /got null/],
      [[{ "==": [1, 1] }], /got a list/],
      [{ "=": [{ var: "name" }, "dx_alpha"] }, /operator "=" is not allowed; did you mean "=="\?/],
    ];
    for (const [where, message] of cases) {
      const error = await failure("composition:discover", { tags: ["dx"], where });
      expect(error.code, JSON.stringify(where)).toBe("invalid_params");
      expect(error.message, JSON.stringify(where)).toMatch(message);
      expect(error.details?.issues?.[0]?.path).toBe("where");
    }
    // The forms the hint shows do what the text meant.
    expect(await names({ where: { ">": [{ var: "performance.avg_score" }, 0.6] } })).toEqual(["dx_alpha"]);
    expect(await names({ where: true })).toEqual(["dx_alpha", "dx_beta", "dx_gamma"]);
    expect(await names({ where: false })).toEqual([]);
    expect((await c.request<{ status: string }>("system:health")).status).toBe("ok");
  });

  it("refuses an unknown operator, a bad or prototype-reaching rule and bad paths with the param's path; keeps serving", async () => {
    const op = await failure("composition:discover", { metadata_filter: { cost: { "~=": 1 } } });
    expect(op.code).toBe("invalid_params");
    expect(op.details?.issues?.[0]?.path).toBe("metadata_filter.cost");
    expect(op.message).toContain("~=");
    for (const where of [{ eval: ["x"] }, { var: "__proto__.polluted" }, { var: "constructor.name" }, { "==": [1] , or: [] }]) {
      const error = await failure("composition:discover", { where });
      expect(error.code, JSON.stringify(where)).toBe("invalid_params");
    }
    // A path built at run time cannot be checked up front: it reaches nothing and matches nothing.
    const computed = await c.request<Found>("composition:discover", { where: { "!!": { var: { cat: ["__pro", "to__.constructor"] } } } });
    expect(computed.total).toBe(0);
    expect((await failure("composition:discover", { fields: ["__proto__"] })).code).toBe("invalid_params");
    expect((await failure("composition:discover", { limit: 0 })).code).toBe("invalid_params");
    expect(({} as Msg).polluted).toBeUndefined();
    expect((await c.request<{ status: string }>("system:health")).status).toBe("ok");
  });
});

describe("select (SPEC §4.5)", () => {
  it("the seed's example picks a tournament-style pattern that handles timeouts, and explains it", async () => {
    const result = await c.request<Selected>("composition:select", { task: "Evaluate 15 prompts competitively", requirements: { timeout_handling: true } });
    expect(result.selected).toBe("tournament");
    const top = result.candidates[0]!;
    expect(top.requirements_met).toBe(true);
    expect(top.reasons.join(" ")).toMatch(/timeout/i);
  });

  it("every candidate's breakdown sums to its score; ranking is deterministic", async () => {
    const first = await c.request<Selected>("composition:select", { task: "review code for security problems", limit: 10 });
    expect(first.candidates.length).toBeGreaterThan(1);
    for (const candidate of first.candidates) {
      const sum = Object.values(candidate.breakdown).reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - candidate.score)).toBeLessThan(1e-9);
      expect(candidate.reasons.length).toBeGreaterThan(0);
    }
    const scores = first.candidates.map((x) => x.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(await c.request<Selected>("composition:select", { task: "review code for security problems", limit: 10 })).toEqual(first);
  });

  it("nothing relevant: selected is null with an explanation, no invented fallback", async () => {
    const result = await c.request<Selected>("composition:select", { task: "xylophone quokka zeppelin" });
    expect(result.selected).toBeNull();
    expect(result.explanation).toBeTruthy();
    expect(result.candidates).toEqual([]);
  });

  it("50 good recorded outcomes outrank 2 on an equally relevant pattern", async () => {
    const twin = (name: string) => ({
      name,
      type: "orchestration",
      version: "1.0.0",
      description: "Quarterly zorblax reconciliation across ledgers",
      metadata: { tags: ["zorblax", "ledgers"], use_cases: ["reconcile zorblax ledgers"] },
    });
    await c.request("composition:save", { composition: twin("zorb_many") });
    await c.request("composition:save", { composition: twin("zorb_few") });
    const before = await c.request<Selected>("composition:select", { task: "reconcile the zorblax ledgers" });
    const [a, b] = before.candidates;
    expect(a!.breakdown.relevance!).toBeCloseTo(b!.breakdown.relevance!, 9);
    await Promise.all([
      ...Array.from({ length: 50 }, (_, i) => c.request("composition:track_decision", { pattern: "zorb_many", decision: `run ${i}`, outcome: "success", confidence: 0.9 })),
      ...Array.from({ length: 2 }, (_, i) => c.request("composition:track_decision", { pattern: "zorb_few", decision: `run ${i}`, outcome: "success", confidence: 0.9 })),
    ]);
    const after = await c.request<Selected>("composition:select", { task: "reconcile the zorblax ledgers" });
    expect(after.candidates.map((x) => x.name).slice(0, 2)).toEqual(["zorb_many", "zorb_few"]);
    expect(after.candidates[0]!.breakdown.evidence!).toBeGreaterThan(after.candidates[1]!.breakdown.evidence!);
  });

  it("refuses an empty task", async () => {
    expect((await failure("composition:select", { task: "   " })).code).toBe("invalid_params");
    expect((await failure("composition:select", { task: "the and of" })).code).toBe("invalid_params");
  });
});

describe("decision logs (SPEC §4.6)", () => {
  it("a record is typed, stamped with the agent and the pattern's version, and on disk beside the pattern", async () => {
    const reply = await c.request<{ tracked: AppendedRecord; file: string }>("composition:track_decision", {
      pattern: "dx_alpha",
      decision: "sort by cost first",
      context: { note: "line one\nline two: with a colon # and a hash", nested: { n: 1 } },
      outcome: "success",
      confidence: 0.75,
    });
    expect(reply.file).toBe("orchestrations/dx_alpha_decisions.yaml");
    expect(reply.tracked).toMatchObject({ pattern: "dx_alpha", pattern_version: "1.0.0", agent_id: "finder", outcome: "success", confidence: 0.75 });
    expect(reply.tracked.id).toMatch(/^d_/);
    const onDisk = parseYaml(await readFile(join(store, reply.file), "utf8")) as AppendedRecord[];
    expect(onDisk).toEqual([reply.tracked]);
    const read = await c.request<{ decisions: AppendedRecord[]; stats: Msg }>("composition:decisions", { pattern: "dx_alpha" });
    expect(read.decisions).toEqual([reply.tracked]);
    expect(read.stats).toMatchObject({ total: 1, mean_confidence: 0.75, last_seen: reply.tracked.timestamp });
  });

  it("refuses an unknown pattern, a bad confidence, a 5 MiB context and an empty decision; no log is created", async () => {
    expect((await failure("composition:track_decision", { pattern: "no_such_pattern", decision: "x" })).code).toBe("not_found");
    expect((await failure("composition:decisions", { pattern: "no_such_pattern" })).code).toBe("not_found");
    for (const confidence of [1.7, -0.1, "high"]) {
      const error = await failure("composition:track_decision", { pattern: "dx_beta", decision: "x", confidence });
      expect(error.code).toBe("invalid_params");
      expect(error.details?.issues?.[0]?.path).toBe("confidence");
    }
    const huge = await failure("composition:track_decision", { pattern: "dx_beta", decision: "x", context: { blob: "x".repeat(5 * 1024 * 1024) } });
    expect(huge.code).toBe("invalid_params");
    expect(huge.message).toMatch(/context/);
    expect((await failure("composition:track_decision", { pattern: "dx_beta", decision: "" })).code).toBe("invalid_params");
    expect((await c.request<{ decisions: unknown[] }>("composition:decisions", { pattern: "dx_beta" })).decisions).toEqual([]);
    expect(await git(store, "status", "--porcelain", "--untracked-files=all")).not.toContain("dx_beta_decisions");
  });

  it("2 000 records from 8 concurrent clients: all there, whole, once each, valid YAML; the batch reaches git", async () => {
    await c.request("composition:save", { composition: { name: "dx_busy", type: "orchestration", version: "1.0.0", description: "logged a lot" } });
    const clients = await Promise.all(Array.from({ length: 8 }, (_, i) => d.client({ agentId: `writer_${i}` })));
    const acked = await Promise.all(
      clients.flatMap((client, i) =>
        Array.from({ length: 250 }, (_, j) =>
          client.request<{ tracked: AppendedRecord }>("composition:track_decision", {
            pattern: "dx_busy",
            decision: `writer ${i} step ${j}`,
            context: { writer: i, step: j, text: "multi\nline\n- id: not a record" },
            outcome: j % 5 === 0 ? "failure" : "success",
            confidence: (j % 10) / 10,
          }),
        ),
      ),
    );
    const ids = acked.map((r) => r.tracked.id);
    expect(new Set(ids).size).toBe(2000);
    const log = join(store, "orchestrations", "dx_busy_decisions.yaml");
    const records = parseYaml(await readFile(log, "utf8")) as AppendedRecord[];
    expect(records).toHaveLength(2000);
    expect(new Set(records.map((r) => r.id))).toEqual(new Set(ids));
    for (const record of records) {
      const { writer, step } = record.context as { writer: number; step: number };
      expect(record.decision).toBe(`writer ${writer} step ${step}`);
      expect(record.agent_id).toBe(`writer_${writer}`);
    }
    const stats = (await c.request<{ stats: { total: number; successes: number; failures: number } }>("composition:decisions", { pattern: "dx_busy", limit: 1 })).stats;
    expect(stats).toMatchObject({ total: 2000, failures: 400, successes: 1600 });
    await waitFor("the decision log committed", async () => (await git(store, "status", "--porcelain", "--", "orchestrations/dx_busy_decisions.yaml")) === "", 5_000, 100);
    const committed = parseYaml(await git(store, "show", "HEAD:orchestrations/dx_busy_decisions.yaml")) as AppendedRecord[];
    expect(committed).toHaveLength(2000);
    const subjects = await git(store, "log", "--format=%s", "--", "orchestrations/dx_busy_decisions.yaml");
    expect(subjects).toMatch(/^decisions: \d+ records? \(.*\bdx_busy \d+.*\)$/m);
    const trailers = await git(store, "log", "-1", "--format=%(trailers:only,unfold)", "--", "orchestrations/dx_busy_decisions.yaml");
    expect(trailers).toContain("Op: decisions");
  });
});

describe("decision logs survive kill -9", () => {
  it("every acknowledged append is there after a restart, and gets committed", async () => {
    const own = await startDaemon();
    const client = await own.client({ agentId: "crasher" });
    const ownStore = join(own.home, "var", "lib", "compositions");
    const ids: string[] = [];
    for (let i = 0; i < 150; i++) ids.push((await client.request<{ tracked: AppendedRecord }>("composition:track_decision", { pattern: "tournament", decision: `before the crash ${i}` })).tracked.id);
    await own.kill();
    const again = await startDaemon({ home: own.home });
    const after = await again.client();
    const read = await after.request<{ decisions: AppendedRecord[] }>("composition:decisions", { pattern: "tournament", decision: "before the crash", limit: 1000 });
    expect(new Set(read.decisions.map((r) => r.id))).toEqual(new Set(ids));
    // What the killed daemon had not committed yet is committed at start.
    await waitFor("the log committed after the restart", async () => (await git(ownStore, "status", "--porcelain")) === "", 5_000, 100);
    const committed = parseYaml(await git(ownStore, "show", "HEAD:orchestrations/tournament_decisions.yaml")) as AppendedRecord[];
    expect(committed.filter((r) => ids.includes(r.id))).toHaveLength(150);
    await expectStoreTruth(ownStore);
  });
});

describe("select's ranking index across restarts", () => {
  /** The "pattern store indexed" records of daemon.log, oldest first. */
  async function indexedRecords(home: string): Promise<Array<{ select_from_cache?: boolean; from_cache?: number }>> {
    const text = await readFile(join(home, "var", "log", "daemon.log"), "utf8");
    return text
      .split("\n")
      .filter((line) => line.includes('"pattern store indexed'))
      .map((line) => JSON.parse(line) as { select_from_cache?: boolean; from_cache?: number });
  }

  it("after a kill -9, the caches of the last clean stop serve only what did not change since: saves made after it are served and ranked as saved", async () => {
    const first = await startDaemon();
    const c = await first.client();
    const save = (client: typeof c, name: string, version: string, description: string) =>
      client.request("composition:save", { composition: { name, type: "orchestration", version, description } });
    await save(c, "cx_alpha", "1.0.0", "Agents pick the ripest apples from the orchard");
    await first.stop();

    const second = await startDaemon({ home: first.home });
    const c2 = await second.client();
    await save(c2, "cx_alpha", "1.1.0", "Agents herd zebracorns across the plain");
    await save(c2, "cx_beta", "1.0.0", "Agents sort bananas by ripeness");
    await second.kill();
    // The kill left the store one truth: status clean, every version tagged, HEAD holding what was acknowledged.
    await expectStoreTruth(join(first.home, "var", "lib", "compositions"), { cx_alpha: "1.1.0", cx_beta: "1.0.0" });

    const third = await startDaemon({ home: first.home });
    const c3 = await third.client();
    expect((await indexedRecords(first.home)).at(-1)).toMatchObject({ from_cache: expect.any(Number) as unknown, select_from_cache: true });
    expect((await indexedRecords(first.home)).at(-1)!.from_cache).toBeGreaterThan(0);
    expect(await c3.request("composition:get", { name: "cx_alpha" })).toMatchObject({ version: "1.1.0", composition: { description: "Agents herd zebracorns across the plain" } });
    expect(await c3.request("composition:select", { task: "herd the zebracorns" })).toMatchObject({ selected: "cx_alpha" });
    expect(await c3.request("composition:select", { task: "sort the bananas" })).toMatchObject({ selected: "cx_beta" });
    expect(await c3.request("composition:select", { task: "orchard apples" })).toMatchObject({ selected: null });
    await third.stop();
  });

  it("is saved at stop and read back: a file edited while stopped is ranked as it now reads, exactly as an index built afresh ranks it", async () => {
    const first = await startDaemon();
    const c = await first.client();
    for (const [name, description] of [
      ["sx_review", "Reviewers check every claim of a research report against its sources"],
      ["sx_vote", "Several agents vote and the majority answer wins"],
      ["sx_plan", "A planner splits the work into parts for workers"],
    ]) {
      await c.request("composition:save", { composition: { name, type: "orchestration", version: "1.0.0", description } });
    }
    const task = { task: "check the claims of a report against sources", limit: 3 };
    const before = await c.request<{ candidates: { name: string }[] }>("composition:select", task);
    await first.stop();
    const lib = join(first.home, "var", "lib");
    const images = (await readdir(lib)).filter((file) => /^select-[0-9a-f]{12}\.v8$/.test(file));
    expect(images).toHaveLength(1);
    // Edited by hand while no daemon runs: this pattern's text moved, the others' did not.
    const store = join(lib, "compositions");
    const votePath = join(store, "orchestrations", "sx_vote.yaml");
    await writeFile(votePath, (await readFile(votePath, "utf8")).replace("majority answer wins", "majority answer wins, zebracorn style"));

    const second = await startDaemon({ home: first.home });
    const again = await second.client();
    const restored = await again.request<{ candidates: { name: string }[] }>("composition:select", task);
    expect(restored.candidates.map((c) => c.name)).toEqual(before.candidates.map((c) => c.name));
    expect(await again.request("composition:select", { task: "zebracorn" })).toMatchObject({ selected: "sx_vote" });
    expect((await indexedRecords(first.home)).at(-1)).toMatchObject({ select_from_cache: true });
    await second.stop();

    // A damaged image is no reason to fail or rank wrongly: the index is built from the patterns, and ranks as the restored one did.
    await writeFile(join(lib, images[0]!), "not an index");
    const third = await startDaemon({ home: first.home });
    const last = await third.client();
    expect(await last.request("composition:select", task)).toEqual(restored);
    expect(await last.request("composition:select", { task: "zebracorn" })).toMatchObject({ selected: "sx_vote" });
    expect((await indexedRecords(first.home)).at(-1)).toMatchObject({ select_from_cache: false });
    await third.stop();
  });
});
