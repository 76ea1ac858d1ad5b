/**
 * composition:compare end to end (issue 17): a real daemon reads decision
 * logs written into its store (300 against 300 records at known rates) and
 * answers with intervals that cover the truth, P(b better) and the right
 * recommendation; across a fork and its parent (two logs); by name@label
 * (a split refused as get refuses it); and the store keeps serving.
 */
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../bench/random.js";
import type { Client } from "../client/index.js";
import { formatRecord, type AppendedRecord } from "../daemon/modules/composition/model/decisions.js";
import { cleanup, startDaemon, type Daemon } from "./harness.js";

type Msg = Record<string, unknown>;

interface Arm {
  ref: string;
  runs: number;
  successes: number;
  failures: number;
  undecided: number;
  success_rate: number | null;
  interval: { low: number; high: number };
  mean_confidence: number | null;
  recorded: Msg | null;
}

interface Compared {
  a: Arm;
  b: Arm;
  since: string | null;
  p_b_better: number;
  recommendation: { action: string; text: string; more_runs: number | null; reason: string };
}

let d: Daemon;
let c: Client;
let store: string;

const START = Date.parse("2026-11-01T00:00:00Z");

beforeAll(async () => {
  d = await startDaemon();
  store = join(d.home, "var", "lib", "compositions");
  c = await d.client({ agentId: "referee" });
  await c.request("composition:save", { composition: { name: "arena", type: "orchestration", version: "1.0.0", description: "Pit prompts against each other in rounds" } });
  await c.request("composition:update", { name: "arena", set: { description: "Pit prompts against each other in rounds, judged twice" } });
  await c.request("composition:label", { name: "arena", label: "production", version: "1.0.0" });
});
afterAll(cleanup);

/** `runs` records of `pattern@version`, each a success with probability `rate` (seeded), a minute apart from `from`. */
function records(pattern: string, version: string, rate: number, runs: number, seed: number, from = START): string {
  const random = seededRandom(seed);
  let text = "";
  for (let i = 0; i < runs; i++) {
    const record: AppendedRecord = {
      id: `${pattern}-${version}-${seed}-${i}`,
      pattern,
      decision: `round ${i}`,
      context: null,
      outcome: random() < rate ? "success" : "failure",
      confidence: 0.8,
      agent_id: "referee",
      timestamp: new Date(from + i * 60_000).toISOString(),
      pattern_version: version,
    };
    text += formatRecord(record);
  }
  return text;
}

async function failure(event: string, data: Msg): Promise<{ code: string; message: string; details?: Msg }> {
  const reply = await c.send(event, data);
  expect(reply.ok, `${event} should fail, got ${JSON.stringify(reply).slice(0, 400)}`).toBe(false);
  return (reply as unknown as { error: { code: string; message: string; details?: Msg } }).error;
}

describe("composition:compare on synthetic decision logs", () => {
  it("300 at 0.6 against 300 at 0.7 in one pattern's log: the intervals cover the truth, p is high, b is promoted; the other way round, a is kept", async () => {
    // Two versions of one pattern share its log; pattern_version tells them apart. Records of a third version are nobody's here.
    writeFileSync(join(store, "orchestrations", "arena_decisions.yaml"), records("arena", "1.0.0", 0.6, 300, 1) + records("arena", "1.0.1", 0.7, 300, 2) + records("arena", "9.9.9", 0, 50, 3));
    const result = await c.request<Compared>("composition:compare", { a: "arena@production", b: "arena@1.0.1" });
    expect(result.a).toMatchObject({ ref: "arena@1.0.0", runs: 300, undecided: 0, recorded: null });
    expect(result.a.mean_confidence).toBeCloseTo(0.8, 9);
    expect(result.b).toMatchObject({ ref: "arena@1.0.1", runs: 300, undecided: 0 });
    expect(result.a.interval.low).toBeLessThanOrEqual(0.6);
    expect(result.a.interval.high).toBeGreaterThanOrEqual(0.6);
    expect(result.b.interval.low).toBeLessThanOrEqual(0.7);
    expect(result.b.interval.high).toBeGreaterThanOrEqual(0.7);
    expect(result.p_b_better).toBeGreaterThan(0.95);
    expect(result.recommendation).toMatchObject({ action: "promote_b", text: "promote b" });

    const reversed = await c.request<Compared>("composition:compare", { a: "arena@1.0.1", b: "arena@1.0.0" });
    expect(reversed.p_b_better).toBeCloseTo(1 - result.p_b_better, 9);
    expect(reversed.recommendation).toMatchObject({ action: "keep_a", text: "keep a" });

    // name alone is the current version (1.0.1).
    expect((await c.request<Compared>("composition:compare", { a: "arena@1.0.0", b: "arena" })).b.ref).toBe("arena@1.0.1");
  });

  it("since counts only the records from then on: a short trial asks for more runs", async () => {
    const since = new Date(START + 290 * 60_000).toISOString();
    const result = await c.request<Compared>("composition:compare", { a: "arena@1.0.0", b: "arena@1.0.1", since });
    expect(result.since).toBe(since);
    expect([result.a.runs, result.b.runs]).toEqual([10, 10]);
    expect(result.recommendation).toMatchObject({ action: "need_more_runs", more_runs: 20, text: "need 20 more runs per arm" });
  });

  it("a fork against its parent reads two logs; the performance the parent's file records counts for it", async () => {
    await c.request("composition:update", { name: "arena", set: { performance: { success_rate: 0.9, runs: 40 } } });
    await c.request("composition:fork", { parent: "arena", name: "arena_swiss", reason: "Swiss pairing" });
    const parent = (await c.request<{ version: string }>("composition:get", { name: "arena" })).version;
    const fork = (await c.request<{ version: string }>("composition:get", { name: "arena_swiss" })).version;
    appendFileSync(join(store, "orchestrations", "arena_decisions.yaml"), records("arena", parent, 0.5, 60, 4));
    writeFileSync(join(store, "orchestrations", "arena_swiss_decisions.yaml"), records("arena_swiss", fork, 0.8, 60, 5));
    const result = await c.request<Compared>("composition:compare", { a: "arena", b: `arena_swiss@${fork}` });
    // The parent's file records 40 runs at 0.9, counted beside its 60 logged runs; the fork starts with no figures of its own.
    expect(result.a).toMatchObject({ ref: `arena@${parent}`, runs: 100, recorded: { runs: 40, successes: 36, failures: 4, source: "performance", counted: true } });
    expect(result.b).toMatchObject({ ref: `arena_swiss@${fork}`, runs: 60, recorded: null });
    expect(result.b.successes + result.b.failures).toBe(60);
    expect(result.a.interval.low).toBeLessThan(result.a.success_rate!);
    // With since, the figures (undated) are left out, and say why.
    const dated = await c.request<Compared>("composition:compare", { a: "arena", b: `arena_swiss@${fork}`, since: "2026-01-01" });
    expect(dated.a).toMatchObject({ runs: 60, recorded: { counted: false } });
    expect(String(dated.a.recorded?.note)).toContain("since is given");
  });

  it("a split label names no one version: refused with get's message; a and b the same variant, and a label not there, are errors too", async () => {
    await c.request("composition:label", { name: "arena", label: "trial", split: { "arena@1.0.0": 1, "arena@1.0.1": 1 } });
    const compared = await failure("composition:compare", { a: "arena@trial", b: "arena@1.0.1" });
    const got = await failure("composition:get", { name: "arena@trial" });
    expect(compared).toEqual(got);
    expect(compared.code).toBe("invalid_params");
    expect(compared.message).toContain("composition:resolve");

    const same = await failure("composition:compare", { a: "arena@production", b: "arena@1.0.0" });
    expect(same).toMatchObject({ code: "invalid_params", details: { issues: [{ path: "b" }] } });
    expect(same.message).toContain("same variant, arena@1.0.0");

    expect((await failure("composition:compare", { a: "arena@staging", b: "arena@1.0.0" })).code).toBe("not_found");
    expect((await failure("composition:compare", { a: "arena@1.0.0", b: "arena@7.0.0" })).code).toBe("not_found");
    expect((await failure("composition:compare", { a: "arena@1.0.0", b: "arena@1.0.1", since: "last week" })).code).toBe("invalid_params");
    expect((await c.request<{ version: string }>("composition:get", { name: "arena@production" })).version).toBe("1.0.0");
  });
});

describe("composition:track_decision with the version a run used", () => {
  it("records pattern_version as given, so a trial arm that is not the current version gets its runs; a version there is not is not_found", async () => {
    const tracked = await c.request<{ tracked: Msg }>("composition:track_decision", { pattern: "arena", decision: "ran the trial arm", outcome: "success", version: "1.0.0" });
    expect(tracked.tracked.pattern_version).toBe("1.0.0");
    const error = await failure("composition:track_decision", { pattern: "arena", decision: "x", outcome: "success", version: "4.0.0" });
    expect(error.code).toBe("not_found");
    expect(error.message).toContain("arena@4.0.0");
    const compared = await c.request<Compared>("composition:compare", { a: "arena@1.0.0", b: "arena@1.0.1" });
    expect(compared.a.runs).toBe(301);
  });
});
