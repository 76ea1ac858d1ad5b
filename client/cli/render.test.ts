/** What `pat` prints on a terminal: outlines, discover tables, help pages, pushes and errors. */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  outline,
  renderChange,
  renderConflicts,
  renderDecisions,
  renderDiff,
  renderDiscover,
  renderError,
  renderFork,
  renderFound,
  renderMerge,
  renderMergeConflict,
  renderPush,
  renderSelection,
  renderTracked,
  renderUpdate,
  type DecisionRecord,
  type TrackedRecord,
} from "./render.js";
import { renderHelp, type HelpResult } from "./render-help.js";
import { COLOURED } from "./paint.js";

describe("outline", () => {
  it("prints scalars as they are", () => {
    expect(outline(42)).toBe("42");
    expect(outline(true)).toBe("true");
    expect(outline(null)).toBe("null");
    expect(outline("plain")).toBe("plain");
  });

  it("nests objects by two spaces per level", () => {
    expect(outline({ status: "ok", store: { path: "/h/store", head: { sha: "abc", patterns: 3 } }, pid: 7 })).toBe(
      ["status: ok", "store:", "  path: /h/store", "  head:", "    sha: abc", "    patterns: 3", "pid: 7"].join("\n"),
    );
  });

  it("prints arrays as dashes, objects inside arrays aligned under their first key", () => {
    expect(outline({ events: [{ event: "system:health", ok: true }, { event: "monitor:subscribe", ok: false }] })).toBe(
      ["events:", "  - event: system:health", "    ok: true", "  - event: monitor:subscribe", "    ok: false"].join("\n"),
    );
    expect(outline(["a", "b"])).toBe("- a\n- b");
  });

  it("prints nested arrays as nested dashes", () => {
    expect(outline({ grid: [[1, 2], [3]] })).toBe(["grid:", "  - - 1", "    - 2", "  - - 3"].join("\n"));
  });

  it("prints empty values inline", () => {
    expect(outline({ list: [], map: {}, text: "", nothing: null })).toBe('list: []\nmap: {}\ntext: ""\nnothing: null');
    expect(outline({})).toBe("{}");
    expect(outline([])).toBe("[]");
    expect(outline({ items: [[], {}] })).toBe("items:\n  - []\n  - {}");
  });

  it.each([
    ["a: b", '"a: b"'],
    ["two\nlines", '"two\\nlines"'],
    [" leading", '" leading"'],
    ["trailing ", '"trailing "'],
    ["see # this", '"see # this"'],
    ["", '""'],
  ])("quotes a string that would read ambiguously: %j", (value, printed) => {
    expect(outline({ v: value })).toBe(`v: ${printed}`);
    expect(outline([value])).toBe(`- ${printed}`);
  });

  it.each(["system:health", "orchestration:**", "https://example.org/x", "run_42.status", "it's fine", "C#"])(
    "leaves an everyday string unquoted: %j",
    (value) => {
      expect(outline({ v: value })).toBe(`v: ${value}`);
    },
  );
});

describe("renderDiscover", () => {
  it("lists the events of every namespace under a header, the summaries in one column after the longest event name", () => {
    const events = [
      { event: "system:health", summary: "Is the daemon up" },
      { event: "monitor:get_events", summary: "Recent records" },
      { event: "a:b", summary: "Short" },
    ];
    const lines = renderDiscover({ system: [events[0]!], monitor: [events[1]!], a: [events[2]!] }).split("\n");
    expect(lines).toEqual([
      "EVENT               SUMMARY",
      "system:health       Is the daemon up",
      "monitor:get_events  Recent records",
      "a:b                 Short",
    ]);
    const columns = new Set(lines.slice(1).map((line, i) => line.indexOf(events[i]!.summary)));
    expect([...columns]).toEqual(["monitor:get_events".length + 2]);
  });

  it("on a narrow terminal the summaries are cut with …, every line within the width", () => {
    const lines = renderDiscover({ system: [{ event: "system:health", summary: "Is the daemon up, with its pid, version and uptime" }] }, { width: 40 }).split("\n");
    expect(lines[1]).toBe("system:health  Is the daemon up, with i…");
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(40);
  });
});

const GET_EVENTS_HELP: HelpResult = {
  event: "monitor:get_events",
  summary: "Recent records of the event log, newest last",
  description: "Recent records of the event log, newest last",
  params: {
    properties: {
      patterns: { type: "array", items: { type: "string" } },
      since: { anyOf: [{ type: "string" }, { type: "integer" }], description: "ISO-8601 time or epoch milliseconds" },
      limit: { type: "integer", default: 100 },
    },
  },
  example: { event: "monitor:get_events", data: { patterns: ["system:*"], limit: 10 } },
};

const SUBSCRIBE_HELP: HelpResult = {
  event: "monitor:subscribe",
  summary: "Receive pushes for routed events whose names match the patterns",
  description: "Every successful request whose name matches one of the globs is pushed to this connection.",
  params: {
    properties: {
      patterns: { type: "array", items: { type: "string" } },
      since_seq: { type: "integer" },
    },
    required: ["patterns"],
  },
  example: { event: "monitor:subscribe", data: { patterns: ["composition:*", "orchestration:**"] } },
};

describe("renderHelp", () => {
  it("heads with the event and summary, then the description when it says more", () => {
    const lines = renderHelp(SUBSCRIBE_HELP).split("\n");
    expect(lines[0]).toBe("monitor:subscribe — Receive pushes for routed events whose names match the patterns");
    expect(lines).toContain("Every successful request whose name matches one of the globs is pushed to this connection.");
    // Same text twice would be noise.
    const getEvents = renderHelp(GET_EVENTS_HELP);
    expect(getEvents.split("Recent records of the event log").length - 1).toBe(1);
  });

  it("lists every param as --name with its type, (required) and default, names aligned", () => {
    const lines = renderHelp(SUBSCRIBE_HELP).split("\n");
    expect(lines).toContain("params:");
    expect(lines).toContain("  --patterns   array of string (required)");
    expect(lines).toContain("  --since_seq  integer");
    const other = renderHelp(GET_EVENTS_HELP).split("\n");
    expect(other).toContain("  --limit     integer [default 100]");
    expect(other).toContain("  --since     string | integer  ISO-8601 time or epoch milliseconds");
    expect(other.find((line) => line.startsWith("  --limit"))).not.toContain("(required)");
  });

  it("names a JSON Logic rule param as such, not as a bare object | boolean", () => {
    const text = renderHelp({
      ...SUBSCRIBE_HELP,
      params: { properties: { condition: { type: ["object", "boolean"], format: "json-logic", description: "when to emit" } } },
    });
    expect(text.split("\n")).toContain("  --condition  JSON Logic rule (object or true/false)  when to emit");
  });

  it("ends with a pat send example line built from the example data", () => {
    const lines = renderHelp(SUBSCRIBE_HELP).split("\n");
    expect(lines.slice(-2)).toEqual(["example:", `  pat send monitor:subscribe '{"patterns":["composition:*","orchestration:**"]}'`]);
  });

  it("says so when an event takes no params", () => {
    const text = renderHelp({
      event: "system:health",
      summary: "Is the daemon up",
      description: "Is the daemon up",
      params: { properties: {} },
      example: { event: "system:health", data: {} },
    });
    expect(text).toContain("params: none");
    expect(text).toContain("pat send system:health '{}'");
  });

  it("gives an example line a POSIX shell reads back as the example data, even with a quote in it", () => {
    const data = { reason: "it's faster", note: "$HOME `x` \\ \"q\"" };
    const text = renderHelp({ ...SUBSCRIBE_HELP, event: "composition:decide", example: { event: "composition:decide", data } });
    const line = text.split("\n").at(-1)!.trim();
    expect(line.startsWith("pat send composition:decide ")).toBe(true);
    // Let a real shell split the line into words, as a user pasting it would.
    const shell = spawnSync("sh", ["-c", `printf '%s\\0' ${line}`], { encoding: "utf8" });
    expect(shell.status, `sh could not read: ${line}\n${shell.stderr}`).toBe(0);
    const words = shell.stdout.split("\0").slice(0, -1);
    expect(words.slice(0, 3)).toEqual(["pat", "send", "composition:decide"]);
    expect(words).toHaveLength(4);
    expect(JSON.parse(words[3]!)).toEqual(data);
  });
});

describe("renderPush", () => {
  const push = { event: "system:health", data: { a: 1 }, subscription: "s1", seq: 42, ts: "2026-11-21T10:00:05.123Z" };

  it("prints time of day, seq, event and compact data on one line", () => {
    expect(renderPush(push)).toBe('10:00:05.123  #42  system:health  {"a":1}');
  });

  it("cuts long data to 200 characters with an ellipsis, still one line", () => {
    const text = renderPush({ ...push, data: { blob: "x".repeat(1000), lines: "a\nb" } });
    const data = text.slice("10:00:05.123  #42  system:health  ".length);
    expect(data).toHaveLength(200);
    expect(data.endsWith("…")).toBe(true);
    expect(text).not.toContain("\n");
  });
});

describe("renderError", () => {
  it("prints the code and message, then the details as an indented outline", () => {
    expect(
      renderError({
        code: "unknown_event",
        message: "no handler for system:helth; did you mean system:health?",
        details: { suggestions: ["system:health", "system:help"] },
      }),
    ).toBe(
      ["error [unknown_event]: no handler for system:helth; did you mean system:health?", "  suggestions:", "    - system:health", "    - system:help"].join(
        "\n",
      ),
    );
  });

  it("prints nested details (invalid_params issues) readably", () => {
    const text = renderError({
      code: "invalid_params",
      message: 'invalid data for monitor:get_events at "limit"',
      details: { issues: [{ path: "limit", message: "Too small: expected number to be >=1" }] },
    });
    expect(text.split("\n")).toEqual([
      'error [invalid_params]: invalid data for monitor:get_events at "limit"',
      "  issues:",
      "    - path: limit",
      '      message: "Too small: expected number to be >=1"',
    ]);
  });

  it("is one line without details or with empty details", () => {
    expect(renderError({ code: "not_found", message: "no pattern x" })).toBe("error [not_found]: no pattern x");
    expect(renderError({ code: "conflict", message: "exists", details: {} })).toBe("error [conflict]: exists");
  });
});

describe("fork, merge and diff", () => {
  it("renderFork: one line naming both refs and the short commit, then what was set", () => {
    const fork = { name: "tournament_swiss", version: "0.1.0", parent: "tournament@2.0.0", commit: "abc1234def5678" };
    expect(renderFork(fork)).toBe("forked tournament@2.0.0 -> tournament_swiss@0.1.0 (commit abc1234)");
    expect(renderFork(fork, { "metadata.tags": ["swiss"], "orchestration_logic.description": "a: b" }).split("\n").slice(1)).toEqual([
      '  set metadata.tags = ["swiss"]',
      '  set orchestration_logic.description = "a: b"',
    ]);
  });

  it("renderFork and renderUpdate mark a path that did not exist (new), so a typo shows", () => {
    const fork = { name: "t2", version: "0.1.0", parent: "t@1.0.0", commit: "abc1234def5678", new_paths: ["metadata.tgas"] };
    expect(renderFork(fork, { "metadata.tgas": ["x"] }).split("\n")[1]).toBe('  set metadata.tgas = ["x"] (new)');
    const update = { name: "t", version: "1.0.1", commit: "abc1234def5678", new_paths: ["variables.rouns"] };
    expect(renderUpdate(update, { "variables.rounds.default": 4, "variables.rouns": 4 }, ["metadata.owner"])).toBe(
      ["updated t to 1.0.1 (commit abc1234)", "  set variables.rounds.default = 4", "  set variables.rouns = 4 (new)", "  unset metadata.owner"].join("\n"),
    );
    expect(renderUpdate({ ...update, unchanged: true, new_paths: [] }, { a: 1 }, [])).toMatch(/^unchanged: t@1\.0\.1 already holds these values/);
  });

  it("renderChange: ~ + - with short values inline, long or multi-line ones left out", () => {
    expect(renderChange({ op: "replace", path: "variables.rounds.default", from: 5, to: 3 })).toBe("~ variables.rounds.default  5 -> 3");
    expect(renderChange({ op: "replace", path: "prompt", from: "a\nb", to: "a\nc" })).toBe("~ prompt");
    expect(renderChange({ op: "replace", path: "description", from: "x".repeat(41), to: "y" })).toBe("~ description");
    expect(renderChange({ op: "add", path: "metadata.tags", to: ["a"] })).toBe('+ metadata.tags  ["a"]');
    expect(renderChange({ op: "add", path: "lineage", to: { parent: "x".repeat(80) } })).toBe("+ lineage");
    expect(renderChange({ op: "remove", path: "forks", from: [1] })).toBe("- forks");
  });

  it("renderDiff: unified text as it is; changes one per line; no differences said so", () => {
    expect(renderDiff({ left: "a@1.0.0", right: "b@0.1.0", unified: "--- a\n+++ b\n-x\n+y\n" })).toBe("--- a\n+++ b\n-x\n+y");
    // An empty patch is empty (pat diff says "no differences" on stderr).
    expect(renderDiff({ left: "a@1.0.0", right: "a@1.0.0", unified: "" })).toBe("");
    expect(renderDiff({ left: "a@1.0.0", right: "b@0.1.0", changes: [{ op: "replace", path: "name", from: "a", to: "b" }] })).toBe(
      "a@1.0.0 -> b@0.1.0: 1 change\n  ~ name  a -> b",
    );
    expect(renderDiff({ left: "a@1.0.0", right: "a@1.0.0", changes: [] })).toBe("no differences between a@1.0.0 and a@1.0.0");
  });

  it("renderMerge: merged, nothing to merge, and a clean dry run", () => {
    const base = { name: "t", version: "2.1.0", from: "f@0.1.0", base: "t@2.0.0", changes: [{ op: "replace" as const, path: "x", from: 1, to: 2 }] };
    expect(renderMerge({ ...base, merged: true, commit: "0123456789abcdef" })).toBe("merged f@0.1.0 into t@2.1.0 (commit 0123456, base t@2.0.0)\n  ~ x  1 -> 2");
    expect(renderMerge({ ...base, merged: true, unchanged: true, changes: [] })).toBe("nothing to merge: t@2.1.0 already has every change of f@0.1.0");
    const dry = renderMerge({ ...base, dry_run: true, clean: true, conflicts: [] });
    expect(dry).toMatch(/^dry run: merging f@0\.1\.0 into t would make t@2\.1\.0 \(base t@2\.0\.0\); nothing was written\n {2}~ x {2}1 -> 2\nclean: /);
  });

  it("renderMerge: what --set resolved; a dry run's open conflicts with the --set hint", () => {
    const base = { name: "t", version: "2.1.0", from: "f@0.1.0", base: "t@2.0.0", changes: [{ op: "replace" as const, path: "x", from: 1, to: 2 }] };
    expect(renderMerge({ ...base, merged: true, commit: "0123456789abcdef", resolved: ["x"] }).split("\n")).toEqual([
      "merged f@0.1.0 into t@2.1.0 (commit 0123456, base t@2.0.0)",
      "  ~ x  1 -> 2",
      "resolved by --set: x",
    ]);
    const open = renderMerge({ ...base, dry_run: true, clean: false, conflicts: [{ path: "rounds", base: 5, ours: 7, theirs: 3 }] });
    expect(open.split("\n").at(-1)).toBe(
      "hint: pat merge f --set rounds=VALUE (JSON, else text) settles a conflict; --strategy ours keeps t's values where both sides changed, --strategy theirs takes f's",
    );
  });

  it("renderConflicts: short values on the label's line, absent said so, multi-line text cut to where the sides differ", () => {
    const text = (middle: string) => ["one", "two", "three", middle, "five", "six", "seven"].join("\n") + "\n";
    const out = renderConflicts(
      [
        { path: "rounds", base: 5, ours: 7, theirs: 3 },
        { path: "note", base: "x", ours: "y" },
        { path: "strategy", base: text("four"), ours: text("FOUR"), theirs: text("4") },
      ],
      { base: "t@1.0.0", ours: "t@1.1.0", theirs: "f@0.2.0" },
    );
    expect(out).toBe(
      [
        "3 conflicts (base t@1.0.0, ours t@1.1.0, theirs f@0.2.0):",
        "  rounds",
        "    base:   5",
        "    ours:   7",
        "    theirs: 3",
        "  note",
        "    base:   x",
        "    ours:   y",
        "    theirs: (absent)",
        "  strategy",
        "    base:",
        "      … 2 lines in common",
        "      three",
        "      four",
        "      five",
        "      … 2 lines in common",
        "    ours:",
        "      … 2 lines in common",
        "      three",
        "      FOUR",
        "      five",
        "      … 2 lines in common",
        "    theirs:",
        "      … 2 lines in common",
        "      three",
        "      4",
        "      five",
        "      … 2 lines in common",
      ].join("\n"),
    );
  });

  it("renderConflicts: a long differing region is capped", () => {
    const long = (tag: string) => Array.from({ length: 30 }, (_, i) => `${tag} ${i}`).join("\n");
    const out = renderConflicts([{ path: "p", base: long("b"), ours: long("o"), theirs: long("t") }]);
    expect(out).toContain("      … 18 more lines");
    expect(out).not.toContain("b 12");
  });

  it("renderMergeConflict: message, conflicts, and the --strategy / --dry-run hint", () => {
    const out = renderMergeConflict({
      code: "merge_conflict",
      message: "f@0.1.0 and t@2.1.0 both changed rounds since t@2.0.0",
      details: { conflicts: [{ path: "rounds", base: 5, ours: 7, theirs: 3 }], base: "t@2.0.0", from: "f@0.1.0", target: "t@2.1.0" },
    });
    expect(out.split("\n")).toEqual([
      "error [merge_conflict]: f@0.1.0 and t@2.1.0 both changed rounds since t@2.0.0",
      "1 conflict (base t@2.0.0, ours t@2.1.0, theirs f@0.1.0):",
      "  rounds",
      "    base:   5",
      "    ours:   7",
      "    theirs: 3",
      "hint: pat merge f --set rounds=VALUE (JSON, else text) settles a conflict; --strategy ours keeps t's values where both sides changed, --strategy theirs takes f's; --dry-run shows the whole merge without writing it",
    ]);
  });
});

describe("find, select, decide and decisions", () => {
  const found = [
    { name: "tournament", type: "orchestration", version: "2.0.0", description: "Ranks candidates. More text.", performance: { avg_score: 0.78 }, metadata: { tags: ["a", "b"] } },
    { name: "ab", type: "orchestration", version: "1.0.0", description: "Compares two." },
  ];

  it("renderFound: the ls table; a paging hint when more match", () => {
    expect(renderFound({ compositions: found, total: 2 })).toBe(
      [
        "NAME        TYPE           VERSION  DESCRIPTION",
        "tournament  orchestration  2.0.0    Ranks candidates.",
        "ab          orchestration  1.0.0    Compares two.",
      ].join("\n"),
    );
    expect(renderFound({ compositions: found, total: 7 }, { offset: 2 }).split("\n").at(-1)).toBe("showing 3-4 of 7; --offset 4 for more");
  });

  it("renderFound with fields: each pattern, then its fields, absent ones said so", () => {
    expect(renderFound({ compositions: found, total: 2 }, { fields: ["performance.avg_score", "metadata.tags"] }).split("\n")).toEqual([
      "tournament  orchestration  2.0.0",
      "  performance.avg_score:  0.78",
      '  metadata.tags:          ["a","b"]',
      "ab          orchestration  1.0.0",
      "  performance.avg_score:  (absent)",
      "  metadata.tags:          (absent)",
    ]);
  });

  it("renderFound: nothing found, or nothing past the offset", () => {
    expect(renderFound({ compositions: [], total: 0 })).toBe("(no patterns match)");
    expect(renderFound({ compositions: [], total: 3 }, { offset: 5 })).toBe("(no patterns past --offset 5; 3 match)");
  });

  it("renderSelection: the pick and its explanation, then each candidate with score, breakdown and reasons", () => {
    const out = renderSelection({
      selected: "tournament",
      explanation: "tournament is the best of 2",
      candidates: [
        { name: "tournament", version: "2.0.0", score: 1.1688, breakdown: { relevance: 1, evidence: 0.1688, requirements: 0 }, reasons: ["relevance 1.00", "requirement t met: mixin"], requirements_met: true },
        {
          name: "ab",
          version: "1.0.0",
          score: -0.9,
          breakdown: { relevance: 0.2, evidence: 0.15, requirements: -1.25 },
          reasons: ["relevance 0.20", "requirement t not met: nothing mentions t"],
          requirements_met: false,
          unmet: [
            { requirement: "t", reason: "nothing mentions t" },
            { requirement: "u", reason: "no u" },
          ],
        },
      ],
    });
    expect(out.split("\n")).toEqual([
      "selected tournament@2.0.0",
      "  tournament is the best of 2",
      "candidates:",
      "  1. tournament@2.0.0  score 1.169  (relevance 1.000, evidence 0.169, requirements 0.000)",
      "       - relevance 1.00",
      "       - requirement t met: mixin",
      "  2. ab@1.0.0  score -0.900  (relevance 0.200, evidence 0.150, requirements -1.250)  ✗ unmet: t, u",
      "       - relevance 0.20",
      "       ✗ requirement t not met: nothing mentions t",
      "       ✗ requirement u not met: no u",
    ]);
  });

  it("renderSelection: nothing fits, with the explanation", () => {
    expect(renderSelection({ selected: null, explanation: "no pattern mentions bread", candidates: [] })).toBe("nothing fits\n  no pattern mentions bread");
  });

  const record = (over: Partial<TrackedRecord>): TrackedRecord => ({
    id: "d_1",
    timestamp: "2026-11-21T07:24:22.385Z",
    pattern: "tournament",
    pattern_version: "2.0.0",
    agent_id: null,
    decision: "use 3 judges",
    context: null,
    outcome: null,
    confidence: null,
    ...over,
  });

  it("renderTracked: recorded ID in FILE, then what", () => {
    expect(renderTracked({ tracked: record({ id: "d_0mwq318tt_000000", outcome: "success", confidence: 0.8 }), file: "orchestrations/tournament_decisions.yaml" })).toBe(
      "recorded d_0mwq318tt_000000 in orchestrations/tournament_decisions.yaml\n  tournament@2.0.0: use 3 judges (outcome success, confidence 0.8)",
    );
    expect(renderTracked({ tracked: record({ decision: "two\nlines" }), file: "f.yaml" }).split("\n")[1]).toBe("  tournament@2.0.0: two lines");
  });

  it("renderDecisions: the stats, then one line per record (time, agent, outcome, confidence, decision)", () => {
    const out = renderDecisions({
      pattern: "tournament",
      file: "orchestrations/tournament_decisions.yaml",
      decisions: [record({ agent_id: "orch_x", outcome: "failure", confidence: 0.6, decision: "use 5 judges" }), record({ timestamp: "2026-11-20T09:31:02.915Z" })],
      stats: {
        total: 3,
        by_decision: { "use 5 judges": 1, "use 3 judges": 2 },
        by_outcome: { failure: 1, success: 1 },
        mean_confidence: 0.7,
        first_seen: "2026-11-18T14:02:11.417Z",
        last_seen: "2026-11-21T07:24:22.385Z",
        successes: 1,
        failures: 1,
      },
      issues: [{ line: 12, message: "not a mapping" }],
    });
    expect(out.split("\n")).toEqual([
      "tournament: 3 decisions in orchestrations/tournament_decisions.yaml, 2026-11-18 14:02:11 to 2026-11-21 07:24:22",
      "outcomes: failure 1, success 1 (1 success, 1 failure); mean confidence 0.70",
      "most frequent: use 3 judges (2)",
      "newest 2 of 3:",
      "2026-11-21 07:24:22  orch_x  failure  0.60  use 5 judges",
      "2026-11-20 09:31:02  -       -           -  use 3 judges",
      "warning: orchestrations/tournament_decisions.yaml:12: not a mapping",
    ]);
  });

  it("renderDecisions: a record in KSI's shape (no id, no version) and one without a time", () => {
    const ksi: DecisionRecord = { pattern: "tournament", decision: "reduce_rounds", context: {}, outcome: "improved", confidence: 0.85, agent_id: "unknown", timestamp: null };
    const stats = { total: 1, by_decision: { reduce_rounds: 1 }, by_outcome: { improved: 1 }, mean_confidence: 0.85, first_seen: null, last_seen: null, successes: 1, failures: 0 };
    const out = renderDecisions({ pattern: "tournament", file: "orchestrations/tournament_decisions.yaml", decisions: [ksi], stats });
    expect(out.split("\n").at(-1)).toBe("-                    unknown  improved  0.85  reduce_rounds");
  });

  it("renderDecisions: an empty log, or no match", () => {
    const empty = { pattern: "judge", file: "profiles/judge_decisions.yaml", decisions: [] };
    const stats = { total: 0, by_decision: {}, by_outcome: {}, mean_confidence: null, first_seen: null, last_seen: null, successes: 0, failures: 0 };
    expect(renderDecisions({ ...empty, stats })).toBe("judge: no decisions recorded (profiles/judge_decisions.yaml)");
    expect(renderDecisions({ ...empty, stats }, true)).toBe("judge: no decisions match (profiles/judge_decisions.yaml)");
  });
});

describe("colour on a terminal", () => {
  const RED = "\u001b[31m";
  const GREEN = "\u001b[32m";
  const RESET = "\u001b[39m";

  it("a unified diff: added lines green, removed red, hunk headers cyan, file headers bold", () => {
    const out = renderDiff({ left: "a", right: "b", unified: "--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n z\n" }, COLOURED).split("\n");
    expect(out).toEqual(["\u001b[1m--- a\u001b[22m", "\u001b[1m+++ b\u001b[22m", "\u001b[36m@@ -1 +1 @@\u001b[39m", `${RED}-x${RESET}`, `${GREEN}+y${RESET}`, " z"]);
  });

  it("changes: + green, - red, ~ yellow, the indent left plain", () => {
    const out = renderDiff({ left: "a", right: "b", changes: [{ op: "add", path: "x", to: 1 }, { op: "remove", path: "y" }, { op: "replace", path: "z", from: 1, to: 2 }] }, COLOURED);
    expect(out.split("\n").slice(1)).toEqual([`  ${GREEN}+ x  1${RESET}`, `  ${RED}- y${RESET}`, "  \u001b[33m~ z  1 -> 2\u001b[39m"]);
  });

  it("an error's code in red, whole, so `error [code]` stays one piece of text", () => {
    expect(renderError({ code: "not_found", message: "no composition x" }, COLOURED)).toBe(`${RED}error [not_found]${RESET}: no composition x`);
  });
});

describe("renderError", () => {
  it("leaves an empty suggestion list out", () => {
    expect(renderError({ code: "no_handler", message: "no handler owns a:b now", details: { suggestions: [] } })).toBe("error [no_handler]: no handler owns a:b now");
    expect(renderError({ code: "unknown_event", message: "no event a:b", details: { suggestions: ["a:c"], limit: 3 } })).toBe(
      "error [unknown_event]: no event a:b\n  suggestions:\n    - a:c\n  limit: 3",
    );
  });
});
