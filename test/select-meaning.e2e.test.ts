/**
 * composition:select understands a task as people phrase it (issue 25), on a
 * real daemon with its seeded git store: everyday phrases reach the pattern
 * that names the intent in its own words, with the meaning in its reasons;
 * and a pattern that worked for tasks like this one (decisions recorded with
 * their task) ranks higher afterwards, as its own criterion, similar_tasks.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { cleanup, startDaemon, type Daemon } from "./harness.js";
import { json, pat } from "./pat-process.js";

interface Candidate {
  name: string;
  score: number;
  breakdown: Record<string, number>;
  reasons: string[];
}

interface Selected {
  selected: string | null;
  explanation?: string;
  candidates: Candidate[];
}

interface WireErr {
  code: string;
  message: string;
  details?: { issues?: { path: string; message: string }[] };
}

let d: Daemon;
let c: Client;

beforeAll(async () => {
  d = await startDaemon();
  c = await d.client({ agentId: "select_bot" });
});
afterAll(cleanup);

function summed(result: Selected): void {
  for (const candidate of result.candidates) expect(Object.values(candidate.breakdown).reduce((a, b) => a + b, 0)).toBeCloseTo(candidate.score, 9);
}

async function failure(event: string, data: Record<string, unknown>): Promise<WireErr> {
  const reply = await c.send(event, data);
  expect(reply.ok, `${event} should fail, got ${JSON.stringify(reply).slice(0, 300)}`).toBe(false);
  return (reply as unknown as { error: WireErr }).error;
}

describe("composition:select in everyday words", () => {
  // The task says it in everyday words, the library in its own (voting, hierarchy, red team): the reason names the meaning that matched.
  it.each([
    ["take the answer most voters give", "ensemble_voting", "'most voters' ≈ voting"],
    ["have a few bosses hand chunks to their staff", "hierarchical_delegation", "'bosses' ≈ hierarchy delegation"],
    ["hackers should poke at our login page", "red_team_review", "'hackers' ≈ red team adversarial security"],
  ])("%s → %s, saying %s", async (task, expected, meaning) => {
    const result = await c.request<Selected>("composition:select", { task });
    expect(result.selected).toBe(expected);
    expect(result.candidates[0]!.reasons[0]).toContain(`by meaning: ${meaning}`);
    expect(result.explanation).toContain(meaning);
    summed(result);
  });
});

describe("composition:select learns from decisions recorded with their task", () => {
  const TASK = "rank the engines of our chess ladder";

  beforeAll(async () => {
    for (const name of ["ladder_swiss", "ladder_knockout"]) {
      await c.request("composition:save", {
        composition: { name, type: "orchestration", version: "1.0.0", description: "Rank chess engines on a ladder, round by round", metadata: { tags: ["chess", "ladder"] } },
      });
    }
  });

  it("a pattern that worked for similar tasks ranks higher, with similar_tasks in its breakdown and a reason", async () => {
    const ladders = (result: Selected) => result.candidates.map((x) => x.name).filter((name) => name.startsWith("ladder_"));
    const before = await c.request<Selected>("composition:select", { task: TASK });
    // Alike but for the name: the tie goes by name.
    expect(before.selected).toBe("ladder_knockout");
    expect(ladders(before)).toEqual(["ladder_knockout", "ladder_swiss"]);
    expect(before.candidates.every((x) => x.breakdown.similar_tasks === 0)).toBe(true);

    // A task as track_decision's own param, and one given in the context: both count; one without an outcome does not.
    await c.request("composition:track_decision", { pattern: "ladder_swiss", decision: "swiss pairing", outcome: "success", task: "rank engines on the chess ladder" });
    await c.request("composition:track_decision", { pattern: "ladder_swiss", decision: "swiss pairing", outcome: "completed", context: { task: "ranking chess engines for the ladder", rounds: 5 } });
    await c.request("composition:track_decision", { pattern: "ladder_swiss", decision: "swiss pairing", task: "rank engines on the chess ladder" });
    const logged = await c.request<{ decisions: { context: unknown }[] }>("composition:decisions", { pattern: "ladder_swiss" });
    expect(logged.decisions.map((r) => r.context)).toContainEqual({ task: "rank engines on the chess ladder" });

    const after = await c.request<Selected>("composition:select", { task: TASK });
    expect(after.selected).toBe("ladder_swiss");
    expect(ladders(after)).toEqual(["ladder_swiss", "ladder_knockout"]);
    const swiss = after.candidates[0]!;
    expect(swiss.breakdown.similar_tasks).toBeGreaterThan(0);
    expect(swiss.reasons).toContainEqual(expect.stringMatching(/^similar tasks \+0\.\d\d: 2 past task\(s\) like this one, 2 success\(es\), 0 failure\(s\); closest: "rank engines on the chess ladder"/));
    summed(after);
    // Deterministic for a given store state.
    expect(await c.request<Selected>("composition:select", { task: TASK })).toEqual(after);
    // An unlike task is not moved by them.
    const unlike = await c.request<Selected>("composition:select", { task: "a chess openings quiz for a school club" });
    expect(unlike.candidates.every((x) => x.breakdown.similar_tasks === 0)).toBe(true);
  });

  it("a task beside a context that cannot hold it is invalid_params with the right form; the daemon keeps serving", async () => {
    const error = await failure("composition:track_decision", { pattern: "ladder_swiss", decision: "d", outcome: "success", task: "rank engines", context: "round 3" });
    expect(error.code).toBe("invalid_params");
    expect(error.message).toContain("task is recorded as context.task, so context must then be a map");
    expect(error.details?.issues?.[0]?.path).toBe("context");
    const other = await failure("composition:track_decision", { pattern: "ladder_swiss", decision: "d", task: "rank engines", context: { task: "vote" } });
    expect(other.message).toContain("task and context.task differ");
    expect((await c.request<Selected>("composition:select", { task: TASK })).selected).toBe("ladder_swiss");
  });
});

describe("pat lint", () => {
  it("passes the bundled library, every pattern with example_tasks", async () => {
    const run = await pat(d.home, ["lint"]);
    expect(run.stdout).toMatch(/^\d+ file\(s\), 0 finding\(s\)\n$/);
    expect(run.code).toBe(0);
  });

  it("flags a pattern without example_tasks, and an invalid one, with the right form; exit 1", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pat-lint-"));
    await writeFile(join(dir, "knockout.yaml"), "name: knockout\ntype: orchestration\nversion: 1.0.0\ndescription: Knock-out rounds.\n");
    await writeFile(join(dir, "broken.yaml"), "name: broken\ntype: orchestration\nversion: one\ndescription: x\n");
    await writeFile(join(dir, "knockout_decisions.yaml"), "[]\n");
    const run = await pat(d.home, ["lint", dir, "--json"]);
    expect(run.code).toBe(1);
    const out = json<{ files: number; findings: { file: string; path: string; message: string }[] }>(run);
    expect(out.files).toBe(2);
    expect(out.findings.map((f) => [f.file, f.path])).toEqual([
      [join(dir, "broken.yaml"), "version"],
      [join(dir, "knockout.yaml"), "metadata.example_tasks"],
    ]);
    expect(out.findings[1]!.message).toContain('e.g. example_tasks: ["knock-out rounds between drafts"');
    expect((await c.request<Selected>("composition:select", { task: "knock-out rounds between drafts" })).selected).toBe("tournament");
  });
});
