/**
 * `pat find / select / decide / decisions` end to end (SPEC §5 over §3's
 * composition:discover/select/track_decision/decisions, §4.4–§4.6): the
 * compiled CLI run as a real process against a real daemon (test/harness.ts)
 * in a temporary home seeded with the bundled patterns. Standard output is a
 * pipe and the tests ask for JSON (--json); the human rendering is checked
 * on a pseudo-terminal (script(1)).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import type { AppendedRecord, DecisionRecord } from "../daemon/modules/composition/model/decisions.js";
import { cleanup, makeHome, startDaemon, type Daemon } from "./harness.js";
import { hasScript, json, pat, patOnTerminal } from "./pat-process.js";

interface Found {
  compositions: { name: string; type: string; version: string; tags?: string[]; performance?: { avg_score?: number } }[];
  total: number;
}

interface Selection {
  selected: string | null;
  explanation?: string;
  candidates: {
    name: string;
    version: string;
    score: number;
    breakdown: { relevance: number; evidence: number; similar_tasks: number; requirements: number };
    reasons: string[];
    requirements_met: boolean;
    unmet?: { requirement: string; reason: string }[];
  }[];
}

interface Decisions {
  pattern: string;
  file: string;
  decisions: DecisionRecord[];
  stats: { total: number; by_decision: Record<string, number>; by_outcome: Record<string, number>; successes: number; failures: number; mean_confidence: number | null };
}

const names = (found: Found) => found.compositions.map((c) => c.name);

afterAll(cleanup);

describe("pat find / select / decide / decisions against a real daemon", () => {
  let d: Daemon;
  let client: Client;
  let store: string;
  /** `pat ARGS --json`: these tests read the results as a script does (text is the default, piped or not). */
  const run = (...args: string[]) => pat(d.home, [...args, "--json"]);

  beforeAll(async () => {
    d = await startDaemon();
    client = await d.client();
    store = join(d.home, "var", "lib", "compositions");
  });

  // ------------------------------------------------------------------ find

  it("pat find --tag: every pattern carrying all the tags, and only those", async () => {
    const result = await run("find", "--tag", "evaluation", "--tag", "llm-as-judge");
    expect(result.code, result.stderr).toBe(0);
    const found = json<Found>(result);
    expect(names(found)).toEqual(expect.arrayContaining(["tournament", "debate_with_judge"]));
    expect(found.total).toBe(found.compositions.length);
    for (const pattern of found.compositions) expect(pattern.tags).toEqual(expect.arrayContaining(["evaluation", "llm-as-judge"]));
    // The same as the daemon answers for the same query.
    const direct = await client.request<Found>("composition:discover", { tags: ["evaluation", "llm-as-judge"] });
    expect(names(found)).toEqual(names(direct));
  });

  it("pat find --type orchestration --tag tournament --where 'performance.avg_score>0.7' finds tournament; a higher bar finds nothing", async () => {
    const result = await run("find", "--type", "orchestration", "--tag", "tournament", "--where", "performance.avg_score>0.7");
    expect(result.code, result.stderr).toBe(0);
    expect(names(json<Found>(result))).toEqual(["tournament"]);
    const none = await run("find", "--type", "orchestration", "--tag", "tournament", "--where", "performance.avg_score>0.9");
    expect(none.code, none.stderr).toBe(0);
    expect(json<Found>(none)).toEqual({ compositions: [], total: 0 });
  });

  it("pat find: several --where on one path join (a range), --sort descending, --fields project, --limit pages", async () => {
    const result = await run(
      "find",
      "--where",
      "performance.avg_score >= 0.75",
      "--where",
      "performance.avg_score<0.8",
      "--sort",
      "-performance.avg_score",
      "--fields",
      "performance.avg_score",
      "--limit",
      "2",
    );
    expect(result.code, result.stderr).toBe(0);
    const found = json<Found>(result);
    const direct = await client.request<Found>("composition:discover", {
      metadata_filter: { "performance.avg_score": { ">=": 0.75, "<": 0.8 } },
      sort: "-performance.avg_score",
      fields: ["performance.avg_score"],
      limit: 2,
    });
    expect(found).toEqual(direct);
    expect(found.compositions.length).toBeLessThanOrEqual(2);
    expect(found.total).toBeGreaterThanOrEqual(found.compositions.length);
    const scores = found.compositions.map((c) => c.performance?.avg_score ?? NaN);
    for (const score of scores) expect(score >= 0.75 && score < 0.8).toBe(true);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(found.compositions[0]).not.toHaveProperty("description"); // projected
  });

  it("pat find: = is equality or membership, ~ contains; --filter (JSON) and --rule (JSON Logic) pass through", async () => {
    expect(names(json<Found>(await run("find", "--where", "tags=tournament")))).toEqual(["tournament"]);
    expect(names(json<Found>(await run("find", "--where", "tags~pairwise", "--where", "type==orchestration")))).toContain("tournament");
    const filtered = await run("find", "--filter", '{"tags": {"contains": "tournament"}}', "--rule", '{">": [{"var": "performance.runs"}, 1]}');
    expect(filtered.code, filtered.stderr).toBe(0);
    expect(names(json<Found>(filtered))).toEqual(["tournament"]);
    const ruledOut = await run("find", "--tag", "tournament", "--rule", '{"<": [{"var": "performance.runs"}, 0]}');
    expect(json<Found>(ruledOut).total).toBe(0);
  });

  it("pat find with a malformed --where: usage error (exit 2) naming the accepted forms; nothing on stdout", async () => {
    for (const where of ["performance.avg_score", "performance.avg_score>", ">0.7", "score!0.7", "a..b>1", "a>>0.7", "a=>1", "a<", ">1", "a===1", "a>1 && b<2"]) {
      const result = await run("find", "--where", where);
      expect(result.code, `${where}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(/^pat: --where /);
      expect(result.stderr).toContain("path OP value with OP one of >= <= != == > < = ~");
      expect(result.stderr).toContain("pat find [--type T]"); // the usage line
      expect(result.stdout).toBe("");
    }
    // Other usage errors of find: a stray word, a repeated operator, = mixed with operators, bad JSON, a non-number limit.
    for (const args of [
      ["find", "tournament"],
      ["find", "--where", "x>1", "--where", "x>2"],
      ["find", "--where", "tags=a", "--where", "tags~b"],
      ["find", "--filter", "{nope"],
      ["find", "--rule", "{nope"],
      ["find", "--limit", "many"],
      ["find", "--bogus", "1"],
    ]) {
      const result = await run(...args);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(2);
      expect(result.stdout).toBe("");
    }
  });

  it("pat find --where with a doubled operator or two comparisons: the message says what is wrong with it", async () => {
    // Each used to pass: 'a>>0.7' compared a with the text ">0.7", 'a>1 && b<2' a with the text "1 && b<2".
    const doubled = await run("find", "--where", "performance.avg_score>>0.7");
    expect(doubled.code).toBe(2);
    expect(doubled.stderr).toMatch(/^pat: --where "performance\.avg_score>>0\.7": the value ">0\.7" after > starts with an operator character: one operator per comparison/);
    const joined = await run("find", "--where", "performance.avg_score>0.7 && performance.runs>1");
    expect(joined.code).toBe(2);
    expect(joined.stderr).toMatch(/joins another comparison on: give one comparison each \(all of them must hold\); it takes path OP value/);
    // Quoted as JSON, such text is a value: nothing carries it, so nothing matches (and it is not an error).
    const quoted = await run("find", "--where", 'description=">0.7"');
    expect(quoted.code, quoted.stderr).toBe(0);
    expect(json<Found>(quoted).total).toBe(0);
  });

  it("the where of composition:discover is JSON Logic: pat send with pat find's --where text is invalid_params showing both object forms", async () => {
    for (const args of [
      ["send", "composition:discover", "--where", "performance.avg_score>0.7"],
      ["send", "composition:discover", '{"where": "performance.avg_score>0.7"}'],
    ]) {
      const result = await run(...args);
      expect(result.code, result.stderr).toBe(1);
      const { error } = json<{ error: { code: string; message: string } }>(result);
      expect(error.code).toBe("invalid_params");
      expect(error.message).toBe(
        'invalid data for composition:discover at "where": a rule is a JSON Logic object ({operator: arguments}) or true/false, not text: ' +
          'write "performance.avg_score>0.7" as {">":[{"var":"performance.avg_score"},0.7]}; or, to look the path up under metadata and then at the top level, ' +
          `send metadata_filter {"performance.avg_score":{">":0.7}}, as pat find --where 'performance.avg_score>0.7' does`,
      );
    }
    // What the message suggests finds what pat find --where finds.
    const byRule = json<Found>(await run("send", "composition:discover", "--type", "orchestration", "--tags", "tournament", "--where", '{">": [{"var": "performance.avg_score"}, 0.7]}'));
    const byFind = json<Found>(await run("find", "--type", "orchestration", "--tag", "tournament", "--where", "performance.avg_score>0.7"));
    expect(names(byRule)).toEqual(["tournament"]);
    expect(names(byFind)).toEqual(names(byRule));
    expect(await client.request("system:health")).toMatchObject({ status: "ok" });
  });

  it("pat find with an operator the daemon refuses (in --filter): exit 1, invalid_params", async () => {
    const result = await run("find", "--filter", '{"performance.avg_score": {"~": 1}}');
    expect(result.code).toBe(1);
    expect(json<{ error: { code: string } }>(result).error.code).toBe("invalid_params");
    expect(result.stderr).toMatch(/^error \[invalid_params\]: .*unknown operator/);
  });

  it.skipIf(!hasScript)("pat find on a terminal: the ls table; with --fields, each field under its pattern; a paging hint", () => {
    const table = patOnTerminal(d.home, ["find", "--type", "orchestration", "--tag", "tournament", "--where", "performance.avg_score>0.7"], { NO_COLOR: "1" });
    expect(table.code, table.stdout).toBe(0);
    expect(table.stdout).toMatch(/^NAME +TYPE +VERSION +DESCRIPTION\ntournament {2}orchestration {2}2\.0\.0 +Ranks many candidate outputs/m);
    const fields = patOnTerminal(d.home, ["find", "--tag", "tournament", "--fields", "performance.avg_score,metadata.tags"]);
    expect(fields.stdout).toMatch(/^tournament {2}orchestration {2}2\.0\.0\n {2}performance\.avg_score: {2}0\.78\n {2}metadata\.tags: +\[.*"tournament".*\]$/m);
    const paged = patOnTerminal(d.home, ["find", "--type", "orchestration", "--limit", "2"]);
    expect(paged.stdout).toMatch(/^showing 1-2 of \d+; --offset 2 for more$/m);
    const none = patOnTerminal(d.home, ["find", "--tag", "no-such-tag"]);
    expect(none.stdout.trim()).toBe("(no patterns match)");
  });

  // ------------------------------------------------------------------ select

  it("pat select --require timeout_handling=true picks tournament; every candidate meets the requirement", async () => {
    const result = await run("select", "rank 20 candidate answers", "--require", "timeout_handling=true", "--limit", "3");
    expect(result.code, result.stderr).toBe(0);
    const selection = json<Selection>(result);
    expect(selection.selected).toBe("tournament");
    expect(selection.candidates.length).toBeGreaterThan(0);
    expect(selection.candidates.length).toBeLessThanOrEqual(3);
    const [first] = selection.candidates;
    expect(first).toMatchObject({ name: "tournament", version: "2.0.0", requirements_met: true });
    expect(first!.score).toBeCloseTo(first!.breakdown.relevance + first!.breakdown.evidence + first!.breakdown.similar_tasks + first!.breakdown.requirements, 9);
    expect(first!.reasons.some((reason) => reason.includes("timeout_handling"))).toBe(true);
    // The requirement went as a boolean: the daemon's answer to the same request is the same.
    const direct = await client.request<Selection>("composition:select", { task: "rank 20 candidate answers", requirements: { timeout_handling: true }, limit: 3 });
    expect(selection).toEqual(direct);
  });

  it("pat select with a requirement nothing meets: selected null, an explanation, candidates marked with what they lack", async () => {
    const result = await run("select", "rank candidate answers", "--require", "quantum_entanglement=true", "--require", "max_participants=20");
    expect(result.code, result.stderr).toBe(0);
    const selection = json<Selection>(result);
    expect(selection.selected).toBeNull();
    expect(selection.explanation).toMatch(/quantum_entanglement/);
    expect(selection.candidates.length).toBeGreaterThan(0);
    for (const candidate of selection.candidates) {
      expect(candidate.requirements_met).toBe(false);
      expect(candidate.unmet?.map((u) => u.requirement)).toContain("quantum_entanglement");
    }
    // max_participants went as the number 20: the daemon's answer to the same request is the same.
    const direct = await client.request<Selection>("composition:select", { task: "rank candidate answers", requirements: { quantum_entanglement: true, max_participants: 20 } });
    expect(selection).toEqual(direct);
  });

  it.skipIf(!hasScript)("pat select on a terminal: the pick, then each candidate's score, breakdown and reasons; unmet requirements marked", () => {
    const picked = patOnTerminal(d.home, ["select", "rank 20 candidate answers", "--require", "timeout_handling=true", "--limit", "2"]);
    expect(picked.code, picked.stdout).toBe(0);
    expect(picked.stdout).toMatch(/^selected tournament@2\.0\.0\n {2}\S/);
    expect(picked.stdout).toMatch(/^candidates:$/m);
    expect(picked.stdout).toMatch(/^ {2}1\. tournament@2\.0\.0 {2}score -?\d+\.\d{3} {2}\(relevance \d\.\d{3}, evidence \d\.\d{3}, similar_tasks -?\d\.\d{3}, requirements -?\d\.\d{3}\)$/m);
    expect(picked.stdout).toMatch(/^ {7}- requirement timeout_handling met: /m);
    expect(picked.stdout).toMatch(/^ {2}2\. \S+@\S+ {2}score /m);

    const unmet = patOnTerminal(d.home, ["select", "rank candidate answers", "--require", "quantum_entanglement=true", "--limit", "1"]);
    expect(unmet.code, unmet.stdout).toBe(0);
    expect(unmet.stdout).toMatch(/^nothing fits\n {2}.*quantum_entanglement/);
    expect(unmet.stdout).toMatch(/^ {2}1\. .* {2}✗ unmet: quantum_entanglement$/m);
    expect(unmet.stdout).toMatch(/^ {7}✗ requirement quantum_entanglement not met: /m);

    const none = patOnTerminal(d.home, ["select", "bake sourdough bread"]);
    expect(none.code, none.stdout).toBe(0);
    expect(none.stdout).toMatch(/^nothing fits\n {2}\S/);
    expect(none.stdout).not.toMatch(/candidates:/);
  });

  it("pat select usage errors: no task, an unquoted task, a --require without =, a bad --limit (exit 2)", async () => {
    for (const args of [["select"], ["select", "rank", "answers"], ["select", "rank answers", "--require", "timeout_handling"], ["select", "rank answers", "--limit", "1.5"]]) {
      const result = await run(...args);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain('pat select "TASK"');
    }
    const unquoted = await run("select", "rank", "answers");
    expect(unquoted.stderr).toContain('pat select "rank answers"');
  });

  // ------------------------------------------------------------------ decide, decisions

  it("pat decide, then pat decisions: the record first, with its context nested and typed; the stats count it", async () => {
    const before = json<Decisions>(await run("decisions", "tournament"));
    const result = await run(
      "decide",
      "tournament",
      "use 3 judges per match",
      "--outcome",
      "success",
      "--confidence",
      "0.8",
      "--context-json",
      '{"run": {"id": "r1"}, "note": "from json"}',
      "--context",
      "entrants=12",
      "--context",
      "run.split=true",
      "--context",
      "note=overridden",
      "--agent-id",
      "orch_cli",
    );
    expect(result.code, result.stderr).toBe(0);
    const { tracked, file } = json<{ tracked: DecisionRecord; file: string }>(result);
    expect(file).toBe("orchestrations/tournament_decisions.yaml");
    expect(tracked).toMatchObject({
      pattern: "tournament",
      pattern_version: "2.0.0",
      agent_id: "orch_cli",
      decision: "use 3 judges per match",
      outcome: "success",
      confidence: 0.8,
      context: { run: { id: "r1", split: true }, note: "overridden", entrants: 12 },
    });
    expect(tracked.id).toMatch(/^d_/);
    // On disk before the reply.
    expect(await readFile(join(store, file), "utf8")).toContain(tracked.id);

    const after = await run("decisions", "tournament");
    expect(after.code, after.stderr).toBe(0);
    const log = json<Decisions>(after);
    expect(log).toMatchObject({ pattern: "tournament", file });
    expect(log.decisions[0]).toEqual(tracked);
    expect(log.stats.total).toBe(before.stats.total + 1);
    expect(log.stats.successes).toBe(before.stats.successes + 1);
    expect(log.stats.by_decision["use 3 judges per match"]).toBe((before.stats.by_decision["use 3 judges per match"] ?? 0) + 1);
  });

  it("pat decisions filters: --outcome, --decision, --since (a date or a time), --limit", async () => {
    const recorded = await run("decide", "tournament", "dropped a judge who timed out", "--outcome", "failure", "--confidence", "0.4");
    expect(recorded.code, recorded.stderr).toBe(0);
    const { tracked } = json<{ tracked: AppendedRecord }>(recorded);

    const failures = json<Decisions>(await run("decisions", "tournament", "--outcome", "failure"));
    expect(failures.decisions.map((r) => r.id)).toContain(tracked.id);
    for (const record of failures.decisions) expect(record.outcome).toBe("failure");
    expect(failures.stats.total).toBe(failures.decisions.length);

    const byText = json<Decisions>(await run("decisions", "tournament", "--decision", "TIMED OUT"));
    expect(byText.decisions.map((r) => r.id)).toContain(tracked.id);

    const since = json<Decisions>(await run("decisions", "tournament", "--since", tracked.timestamp));
    expect(since.decisions.map((r) => r.id)).toEqual([tracked.id]);
    const sinceDay = json<Decisions>(await run("decisions", "tournament", "--since", tracked.timestamp.slice(0, 10)));
    expect(sinceDay.decisions.map((r) => r.id)).toContain(tracked.id);

    const one = json<Decisions>(await run("decisions", "tournament", "--limit", "1"));
    expect(one.decisions.map((r) => r.id)).toEqual([tracked.id]);
    expect(one.stats.total).toBeGreaterThan(1); // stats over everything that matches, not just the page
  });

  it.skipIf(!hasScript)("pat decide and pat decisions on a terminal: recorded ID in FILE; the stats then one line per record", () => {
    const decided = patOnTerminal(d.home, ["decide", "tournament", "pairing=swiss, rounds=5", "--outcome", "partial", "--confidence", "0.55", "--agent-id", "orch_tty"]);
    expect(decided.code, decided.stdout).toBe(0);
    const match = /^recorded (d_\S+) in orchestrations\/tournament_decisions\.yaml$/m.exec(decided.stdout);
    expect(match, decided.stdout).not.toBeNull();
    expect(decided.stdout).toMatch(/^ {2}tournament@2\.0\.0: pairing=swiss, rounds=5 \(outcome partial, confidence 0\.55\)$/m);

    const log = patOnTerminal(d.home, ["decisions", "tournament", "--limit", "2"]);
    expect(log.code, log.stdout).toBe(0);
    const lines = log.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^tournament: \d+ decisions in orchestrations\/tournament_decisions\.yaml, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d to \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(lines[1]).toMatch(/^outcomes: .*success \d+.*\(\d+ successes, \d+ failures?\); mean confidence \d\.\d\d$/);
    expect(log.stdout).toMatch(/^newest 2 of \d+:$/m);
    expect(log.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}orch_tty {2,}partial {2,}0\.55 {2,}pairing=swiss, rounds=5$/m);

    const empty = patOnTerminal(d.home, ["decisions", "tournament", "--decision", "no such decision text"]);
    expect(empty.stdout.trim()).toBe("tournament: no decisions match (orchestrations/tournament_decisions.yaml)");
  });

  it("pat decide --confidence 1.7: exit 1, invalid_params; nothing recorded", async () => {
    const before = json<Decisions>(await run("decisions", "tournament")).stats.total;
    const result = await run("decide", "tournament", "too sure", "--confidence", "1.7");
    expect(result.code).toBe(1);
    const { error } = json<{ error: { code: string; details: { issues: { path: string }[] } } }>(result);
    expect(error.code).toBe("invalid_params");
    expect(error.details.issues.map((issue) => issue.path)).toContain("confidence");
    expect(result.stderr).toMatch(/^error \[invalid_params\]: .*confidence/);
    expect(json<Decisions>(await run("decisions", "tournament")).stats.total).toBe(before);
  });

  it("pat decide on an unknown pattern: exit 1, not_found; pat decisions likewise", async () => {
    const result = await run("decide", "no_such_pattern", "anything");
    expect(result.code).toBe(1);
    expect(json<{ error: { code: string } }>(result).error.code).toBe("not_found");
    expect(result.stderr).toMatch(/^error \[not_found\]: .*no_such_pattern/);
    const log = await run("decisions", "no_such_pattern");
    expect(log.code).toBe(1);
    expect(json<{ error: { code: string } }>(log).error.code).toBe("not_found");
  });

  it("pat decide / decisions usage errors (exit 2): missing arguments, an unquoted decision, a word for --confidence, a bad --context", async () => {
    for (const args of [
      ["decide", "tournament"],
      ["decide", "tournament", "use", "judges"],
      ["decide", "tournament", "x", "--confidence", "high"],
      ["decide", "tournament", "x", "--context", "no_equals"],
      ["decide", "tournament", "x", "--context-json", "{bad"],
      ["decide", "tournament", "x", "--context-json", "[1]", "--context", "a=1"],
      ["decide", "tournament", "x", "--context", "__proto__.polluted=1"],
      ["decisions"],
      ["decisions", "tournament", "--limit", "ten"],
    ]) {
      const result = await run(...args);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(/^pat: /);
      expect(result.stdout).toBe("");
    }
  });

  // ------------------------------------------------------------------ --json, help, no daemon

  it.skipIf(!hasScript)("--json on a terminal: find, select, decide and decisions print JSON that parses", () => {
    const find = patOnTerminal(d.home, ["find", "--tag", "tournament", "--json"]);
    expect(JSON.parse(find.stdout)).toMatchObject({ total: 1, compositions: [{ name: "tournament" }] });
    const select = patOnTerminal(d.home, ["--json", "select", "rank 20 candidate answers", "--require", "timeout_handling=true"]);
    expect(JSON.parse(select.stdout)).toMatchObject({ selected: "tournament" });
    const decide = patOnTerminal(d.home, ["decide", "tournament", "json check", "--json"]);
    expect(JSON.parse(decide.stdout)).toMatchObject({ tracked: { decision: "json check" }, file: "orchestrations/tournament_decisions.yaml" });
    const decisions = patOnTerminal(d.home, ["decisions", "tournament", "--limit", "1", "--json"]);
    expect(JSON.parse(decisions.stdout)).toMatchObject({ pattern: "tournament", decisions: [{ decision: "json check" }] });
    const error = patOnTerminal(d.home, ["decide", "tournament", "x", "--confidence", "2", "--json"]);
    expect(error.code).toBe(1);
    expect(JSON.parse(error.stdout.slice(0, error.stdout.indexOf("\n}") + 2))).toMatchObject({ error: { code: "invalid_params" } });
  });

  it("pat help lists find, select, decide and decisions; pat find --help prints its usage", async () => {
    const help = await run("help");
    expect(help.code).toBe(0);
    for (const usage of ["pat find [--type T] [--tag T ...]", 'pat select "TASK" [--require key=value ...]', "pat decide PATTERN DECISION", "pat decisions PATTERN"]) {
      expect(help.stdout).toContain(usage);
    }
    const find = await run("find", "--help");
    expect(find.code).toBe(0);
    expect(find.stdout).toContain("--where 'path>0.7'");
    expect(find.stdout).toContain("--rule");
    // Which option is which language, and what each sends.
    expect(find.stdout).toContain("--where 'path OP value': one comparison each, all must hold");
    expect(find.stdout).toContain("Sent as composition:discover's metadata_filter.");
    expect(find.stdout).toContain("--rule '{json logic}': composition:discover's where, a JSON Logic object");
  });

  it("with no daemon: exit 3 and how to start it", async () => {
    const empty = await makeHome();
    for (const args of [["find", "--tag", "tournament"], ["decide", "tournament", "x"]]) {
      const result = await pat(empty, args);
      expect(result.code).toBe(3);
      expect(result.stderr).toContain("pat start");
    }
  });
});
