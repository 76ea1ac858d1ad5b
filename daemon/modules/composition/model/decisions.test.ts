import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DaemonError } from "../../../core/errors.js";
import {
  decisionId,
  decisionsQuerySchema,
  evidenceOf,
  formatRecord,
  makeRecord,
  MAX_CONTEXT_BYTES,
  outcomeClass,
  outcomeWarning,
  queryDecisions,
  trackDecisionSchema,
  type AppendedRecord,
  type DecisionRecord,
  type RecordStamp,
} from "./decisions.js";
import { parseLog } from "./decision-log-text.js";
import { formatSequenceItem, readSequence } from "./document.js";

const REPO = join(import.meta.dirname, "../../../..");
const T0 = Date.UTC(2026, 10, 18, 14, 2, 11, 417);

function stamp(overrides: Partial<RecordStamp> = {}): RecordStamp {
  return { now: T0, sequence: 0, agentId: "orch_7f3e", patternVersion: "2.0.0", ...overrides };
}

function record(overrides: Partial<AppendedRecord> = {}): AppendedRecord {
  return {
    ...makeRecord({ pattern: "tournament", decision: "pairing=adaptive" }, stamp()),
    ...overrides,
  };
}

function firstMessage(params: unknown): string {
  const result = trackDecisionSchema.safeParse(params);
  if (result.success) throw new Error("expected the params to be refused");
  return result.error.issues[0]!.message;
}

describe("track_decision's task", () => {
  it.each<[string, Record<string, unknown>, unknown]>([
    ["without a context", {}, { task: "rank 12 drafts" }],
    ["beside a context's keys", { context: { entrants: 12 } }, { entrants: 12, task: "rank 12 drafts" }],
    ["with a null context", { context: null }, { task: "rank 12 drafts" }],
    ["the same as context.task", { context: { task: "rank 12 drafts" } }, { task: "rank 12 drafts" }],
  ])("is recorded as context.task %s", (_label, more, context) => {
    const input = trackDecisionSchema.parse({ pattern: "tournament", decision: "go", task: " rank 12 drafts ", ...more });
    expect(makeRecord(input, stamp()).context).toEqual(context);
  });

  it("a log's records with a task and an outcome are evidence for similar tasks", () => {
    const records = [
      record({ context: { task: "rank 12 drafts" }, outcome: "success" }),
      record({ context: { task: "rank 12 drafts" }, outcome: "error" }),
      record({ context: { task: "vote" }, outcome: null }),
    ];
    expect(evidenceOf(records).tasks).toEqual([{ text: "rank 12 drafts", terms: ["rank", "12", "draft"], successes: 1, failures: 1 }]);
    expect(evidenceOf([record()]).tasks).toBeUndefined();
  });
});

describe("trackDecisionSchema", () => {
  it("accepts the smallest and the fullest params", () => {
    expect(trackDecisionSchema.parse({ pattern: "tournament", decision: "go" })).toEqual({ pattern: "tournament", decision: "go" });
    const full = { pattern: "tournament", decision: "go", context: { run: 1, list: [null, true, "x"] }, outcome: "success", confidence: 0.8 };
    expect(trackDecisionSchema.parse(full)).toEqual(full);
    expect(trackDecisionSchema.parse({ pattern: "t", decision: "d", confidence: 0 }).confidence).toBe(0);
    expect(trackDecisionSchema.parse({ pattern: "t", decision: "d", confidence: 1 }).confidence).toBe(1);
    expect(trackDecisionSchema.parse({ pattern: "t", decision: "d", context: null }).context).toBeNull();
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ["confidence as a word", { confidence: "high" }, /^confidence is a number from 0 to 1, like 0\.8, not "high"$/],
    ["confidence above 1", { confidence: 1.7 }, /^confidence is at most 1 \(a number from 0 to 1\), not 1\.7$/],
    ["confidence below 0", { confidence: -0.1 }, /^confidence is at least 0 .*-0\.1$/],
    ["an empty decision", { decision: "" }, /decision is empty/],
    ["a decision over 2000 characters", { decision: "x".repeat(2001) }, /longer than 2000/],
    ["an empty outcome", { outcome: "" }, /outcome is empty/],
    ["an outcome over 200 characters", { outcome: "x".repeat(201) }, /longer than 200/],
    ["a reserved pattern name", { pattern: "tournament_decisions" }, /reserved/],
    ["a pattern name in capitals", { pattern: "Tournament" }, /lower-case/],
    ["an unknown key", { confidance: 0.5 }, /confidance/],
    ["an empty task", { task: "  " }, /task is empty; leave it out, or say in a sentence what the run was for/],
    ["a task with a context that is not a map", { task: "rank drafts", context: "run 7" }, /task is recorded as context\.task, so context must then be a map/],
    ["a task and another context.task", { task: "rank drafts", context: { task: "vote" } }, /task and context\.task differ; give the task once/],
  ])("refuses %s with a clear message", (_label, change, message) => {
    expect(firstMessage({ pattern: "tournament", decision: "go", ...change })).toMatch(message);
  });

  it("a 5 MiB context is refused before it is serialised", () => {
    const started = performance.now();
    expect(firstMessage({ pattern: "t", decision: "d", context: { blob: "x".repeat(5 * 1024 * 1024) } })).toMatch(
      /^context is more than 65536 bytes when serialised; the limit is 64 KiB/,
    );
    const many = { rows: Array.from({ length: 200_000 }, (_, i) => ({ id: `row_${i}`, ok: true })) };
    expect(firstMessage({ pattern: "t", decision: "d", context: many })).toMatch(/more than 65536 bytes/);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("the limit is on serialised UTF-8 bytes", () => {
    const fits = "x".repeat(MAX_CONTEXT_BYTES - 2); // the quotes make it 64 KiB exactly
    expect(trackDecisionSchema.safeParse({ pattern: "t", decision: "d", context: fits }).success).toBe(true);
    expect(firstMessage({ pattern: "t", decision: "d", context: `${fits}x` })).toMatch(/^context is 65537 bytes when serialised/);
    // Fewer characters than the limit, more bytes.
    expect(firstMessage({ pattern: "t", decision: "d", context: "é".repeat(40_000) })).toMatch(/^context is 80002 bytes/);
  });

  it("a context nested too deep is refused, not a stack overflow", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(firstMessage({ pattern: "t", decision: "d", context: deep })).toMatch(/nested deeper than 64 levels/);
  });

  it.each([
    ["undefined inside", { a: undefined }, /holds undefined/],
    ["a function", { f: () => 1 }, /holds function/],
    ["NaN", [Number.NaN], /holds NaN/],
  ])("a context that is not JSON data (%s) is refused", (_label, context, message) => {
    expect(firstMessage({ pattern: "t", decision: "d", context })).toMatch(message);
  });
});

describe("makeRecord", () => {
  it("fills a record from the params and the stamp", () => {
    const input = trackDecisionSchema.parse({ pattern: "tournament", decision: "pairing=adaptive", context: { entries: 12 }, outcome: "pending", confidence: 0.6 });
    expect(makeRecord(input, stamp({ sequence: 5 }))).toEqual({
      id: "d_0mwm6xaah_000005",
      timestamp: "2026-11-18T14:02:11.417Z",
      pattern: "tournament",
      pattern_version: "2.0.0",
      agent_id: "orch_7f3e",
      decision: "pairing=adaptive",
      context: { entries: 12 },
      outcome: "pending",
      confidence: 0.6,
    });
  });

  it("what was not given is null, the agent included", () => {
    expect(makeRecord({ pattern: "t", decision: "d" }, stamp({ agentId: undefined }))).toMatchObject({ agent_id: null, context: null, outcome: null, confidence: null });
  });

  it("ids sort as the records were made, across digit boundaries", () => {
    const made: string[] = [];
    for (const now of [0, 1, 35, 36, 1295, 1296, T0, T0 + 1, 36 ** 9 - 1]) {
      for (const sequence of [0, 1, 35, 36, 36 ** 6 - 1]) made.push(decisionId(now, sequence));
    }
    expect([...made].sort()).toEqual(made);
    expect(new Set(made).size).toBe(made.length);
    for (const id of made) expect(id).toMatch(/^d_[0-9a-z]{9}_[0-9a-z]{6}$/);
  });
});

const HOSTILE = [
  "line one\nline two",
  "  leading spaces",
  "trailing spaces   ",
  "key: value",
  "'single' and \"double\" quotes",
  "# not a comment",
  "a # comment-looking tail",
  "- id: fake",
  "\n- id: injected",
  "\n- id: injected\n  timestamp: x\n",
  "---\n...\n---",
  " \n \n",
  "\n\n",
  "x\n\n\n",
  "\t tab\tinside",
  "crlf\r\nline",
  "ünïcödé ✓ 𝄞 日本語 🙂",
  "\u2028\u2029\u0085\ufeff\u0000\u001b\u007f",
  "\ud800 lone surrogate",
  "null",
  "true",
  "1.5",
  "0b101",
  "0x1F",
  "~",
  "",
  "&anchor *alias !tag %directive @at `tick` |pipe >fold ?q",
  "{flow: map}",
  "[flow, list]",
  "|\n  looks like a block",
  "ends with a backslash \\",
  "x".repeat(3000),
];

function hostileRecords(): AppendedRecord[] {
  return HOSTILE.map((text, i) =>
    makeRecord(
      {
        pattern: "tournament",
        decision: text === "" ? "empty context string" : text,
        context: { text, nested: { list: [text, i, null, true], "key: with colon": text, "": "empty key", "1": "numeric key" } },
        outcome: text === "" ? undefined : text.slice(0, 200),
        confidence: (i % 11) / 10,
      },
      stamp({ sequence: i, now: T0 + i, agentId: i % 3 === 0 ? undefined : `agent ${text.slice(0, 20)}` }),
    ),
  );
}

describe("formatRecord", () => {
  it("writes one block-sequence item ending in a newline: KSI's keys in KSI's order, between id and pattern_version", () => {
    const text = formatRecord(record({ outcome: "success", confidence: 0.7, context: { entries: 12 } }));
    expect(text).toBe(
      [
        "- id: d_0mwm6xaah_000000",
        "  pattern: tournament",
        "  decision: pairing=adaptive",
        "  context:",
        "    entries: 12",
        "  outcome: success",
        "  confidence: 0.7",
        "  agent_id: orch_7f3e",
        "  timestamp: 2026-11-18T14:02:11.417Z",
        "  pattern_version: 2.0.0",
        "",
      ].join("\n"),
    );
  });

  it.each(HOSTILE.map((text, i) => [i, text] as const))("hostile string %i stays inside its item and reads back by either parser", (i) => {
    const one = hostileRecords()[i]!;
    const formatted = formatRecord(one);
    expect(parseLog(formatted)).toEqual({ records: [one], issues: [] });
    // readSequence's fast path (js-yaml) and the yaml parser agree on it.
    expect(readSequence(formatted)).toEqual({ ok: true, items: parse(formatted, { schema: "core" }) as unknown[] });
    expect(formatted.startsWith("- id: ")).toBe(true);
    expect(formatted.endsWith("\n")).toBe(true);
    // Every line after the first is indented (or empty): nothing can start an item of its own.
    expect(formatted.slice(0, -1).split("\n").slice(1).every((line) => line === "" || line.startsWith("  "))).toBe(true);
  });

  it("many records appended one after another read back exactly, and never one more", () => {
    const records = hostileRecords();
    const log = "# Decision log of `tournament`.\n" + records.map(formatRecord).join("");
    const parsed = parseLog(log);
    expect(parsed.issues).toEqual([]);
    expect(parsed.records).toEqual(records);
    // Through the bytes a file would hold.
    expect(parseLog(Buffer.from(log, "utf8").toString("utf8")).records).toEqual(records);
  });

  it("keys beyond the record's do not reach the text; keys are written in record order", () => {
    const shuffled = { confidence: null, outcome: null, context: null, decision: "d", agent_id: null, pattern_version: "1.0.0", pattern: "p", timestamp: "t", id: "i", extra: 1 };
    expect(formatRecord(shuffled as AppendedRecord)).toBe(
      "- id: i\n  pattern: p\n  decision: d\n  context: null\n  outcome: null\n  confidence: null\n  agent_id: null\n  timestamp: t\n  pattern_version: 1.0.0\n",
    );
  });
});

describe("parseLog", () => {
  const records = [
    record({ id: "d_1", decision: "first", context: { text: " \n \n" } }),
    record({ id: "d_2", decision: "second\n  with an indented line", outcome: "success", confidence: 0.9 }),
    // The one torn below: block scalars, a nested map and a list, so the cuts land in each.
    record({ id: "d_3", decision: "third\nover two lines\n", context: { note: "multi\nline", list: [1, { a: "b" }] }, outcome: "timeout", agent_id: null, confidence: 0.25 }),
  ];
  const texts = records.map(formatRecord);
  const log = texts.join("");
  const lastStart = texts[0]!.length + texts[1]!.length;
  const lastLine = log.slice(0, lastStart).split("\n").length;

  it("reads the bundled example log", () => {
    const parsed = parseLog(readFileSync(join(REPO, "compositions/tournament_decisions.yaml"), "utf8"));
    expect(parsed.issues).toEqual([]);
    expect(parsed.records).toHaveLength(6);
    expect(parsed.records[1]).toMatchObject({ id: "01M7QFVT6MP866FH730W3PCGKG", outcome: "partial", confidence: 0.7, agent_id: "orch_7f3e" });
  });

  it.each([
    ["an empty log", ""],
    ["a log of comments", "# nothing yet\n"],
    ["a document marker", "---\n"],
  ])("%s has no records and no issues", (_label, text) => {
    expect(parseLog(text)).toEqual({ records: [], issues: [] });
  });

  it("a crash at any point of the last append loses only that record, and says so", () => {
    for (let cut = lastStart + 1; cut < log.length; cut++) {
      const parsed = parseLog(log.slice(0, cut));
      expect(parsed.records, `cut at ${cut}`).toEqual(records.slice(0, 2));
      expect(parsed.issues, `cut at ${cut}`).toHaveLength(1);
      expect(parsed.issues[0]!.line).toBe(lastLine);
      expect(parsed.issues[0]!.message).toMatch(log[cut - 1] === "\n" ? /missing/ : /cut off/);
    }
    expect(parseLog(log.slice(0, lastStart))).toEqual({ records: records.slice(0, 2), issues: [] });
    expect(parseLog(log)).toEqual({ records, issues: [] });
  });

  it("a torn append followed by later ones loses only the torn record when a newline separates them", () => {
    const torn = texts[1]!.slice(0, 40);
    const parsed = parseLog(texts[0]! + torn + "\n" + texts[2]!);
    expect(parsed.records).toEqual([records[0], records[2]]);
    expect(parsed.issues).toHaveLength(1);
    expect(parsed.issues[0]!.line).toBe(texts[0]!.split("\n").length);
  });

  it("a torn append glued to the next one loses those two, never the records before", () => {
    const parsed = parseLog(texts[0]! + texts[1]!.slice(0, 60) + texts[2]!);
    expect(parsed.records).toEqual([records[0]]);
    expect(parsed.issues.length).toBeGreaterThanOrEqual(1);
  });

  it("a broken item in the middle costs only itself, reported at its line", () => {
    const broken = "- id: broken\n  decision: [unclosed\n  outcome: x\n";
    const parsed = parseLog(texts[0]! + broken + texts[1]!);
    expect(parsed.records).toEqual([records[0], records[1]]);
    const line = texts[0]!.split("\n").length;
    expect(parsed.issues).toEqual([{ line, message: expect.stringMatching(new RegExp(`^line ${line}: unreadable record: line \\d+, column \\d+: `)) as string }]);
  });

  it.each([
    ["a scalar item", "- just words\n", /not a decision record: an item is a map/],
    ["missing keys (an id: patternd's, whole or torn)", "- id: x\n  decision: y\n", /not a decision record: missing pattern, context, outcome, confidence, agent_id, timestamp, pattern_version/],
    ["no id and no pattern (not KSI's either)", "- decision: y\n  outcome: success\n", /not a decision record: missing pattern$/],
    ["a numeric version", formatRecord(record()).replace("pattern_version: 2.0.0", "pattern_version: 2.0"), /pattern_version is a string/],
    ["a decision that is a map", "- pattern: p\n  decision: {a: 1}\n", /pattern and decision are strings/],
    ["an outcome that is a list", "- pattern: p\n  decision: d\n  outcome: [a]\n", /outcome is a string or null/],
  ])("an item that is not a record (%s) is reported and skipped", (_label, item, message) => {
    const parsed = parseLog(texts[0]! + item + texts[1]!);
    expect(parsed.records).toEqual([records[0], records[1]]);
    expect(parsed.issues).toEqual([{ line: texts[0]!.split("\n").length, message: expect.stringMatching(message) as string }]);
  });

  it("text before the first record that is not a comment is reported", () => {
    const parsed = parseLog("name: not a log\n" + log);
    expect(parsed.records).toEqual(records);
    expect(parsed.issues).toEqual([{ line: 1, message: expect.stringMatching(/^line 1: the text before the first record/) as string }]);
  });

  it("a log that is a map is reported", () => {
    expect(parseLog("a: 1\n")).toEqual({ records: [], issues: [{ line: 1, message: expect.stringMatching(/^line 1: not a decision log .*: a log is a YAML sequence/) as string }] });
  });

  it("keys beyond a record's are dropped", () => {
    const parsed = parseLog(formatRecord(record()).replace("- id:", "- extra: 1\n  id:"));
    expect(parsed.records).toEqual([record()]);
  });
});

describe("parseLog: records in KSI's shape", () => {
  // Written here in the shape KSI's composition service writes (its keys, its order, its quoting): no id, no
  // pattern_version, a confidence as a quoted string or a number, an outcome that may be null, KSI's 'unknown' agent.
  const ksiLog = [
    "- pattern: relay_race",
    "  decision: shorten_handoffs",
    "  context:",
    "    handoff_ms: 420",
    "    legs: 4",
    "  outcome: improved_latency",
    "  confidence: 0.81",
    "  agent_id: relay_orchestrator",
    "  timestamp: '2025-06-02T09:15:00.120456Z'",
    "- pattern: relay_race",
    "  decision: manual_probe",
    "  context: {}",
    "  outcome: null",
    "  confidence: '0.65'",
    "  agent_id: unknown",
    "  timestamp: '2025-06-02T09:20:30.000001Z'",
    "",
  ].join("\n");

  it("reads them as they are: no id or pattern_version, a string confidence as its number", () => {
    const parsed = parseLog(ksiLog);
    expect(parsed.issues).toEqual([]);
    expect(parsed.records).toEqual([
      {
        pattern: "relay_race",
        decision: "shorten_handoffs",
        context: { handoff_ms: 420, legs: 4 },
        outcome: "improved_latency",
        confidence: 0.81,
        agent_id: "relay_orchestrator",
        timestamp: "2025-06-02T09:15:00.120456Z",
      },
      { pattern: "relay_race", decision: "manual_probe", context: {}, outcome: null, confidence: 0.65, agent_id: "unknown", timestamp: "2025-06-02T09:20:30.000001Z" },
    ]);
    expect(Object.keys(parsed.records[0]!)).not.toContain("id");
    expect(Object.keys(parsed.records[0]!)).not.toContain("pattern_version");
  });

  it("a record patternd appends after them is read too, and a KSI reader sees its keys", () => {
    const appended = record({ pattern: "relay_race", decision: "add a fifth leg", outcome: "success", confidence: 0.9 });
    const parsed = parseLog(ksiLog + formatRecord(appended));
    expect(parsed.issues).toEqual([]);
    expect(parsed.records).toHaveLength(3);
    expect(parsed.records[2]).toEqual(appended);
    // What KSI's yaml.safe_load sees: a list of maps, every one with KSI's seven keys.
    const asKsiReadsIt = parse(ksiLog + formatRecord(appended)) as Record<string, unknown>[];
    for (const item of asKsiReadsIt) expect(Object.keys(item)).toEqual(expect.arrayContaining(["pattern", "decision", "context", "outcome", "confidence", "agent_id", "timestamp"]));
  });

  it("only a pattern and a decision are needed; the rest is null when absent", () => {
    expect(parseLog("- pattern: p\n  decision: d\n")).toEqual({
      records: [{ pattern: "p", decision: "d", context: null, outcome: null, confidence: null, agent_id: null, timestamp: null }],
      issues: [],
    });
  });

  it.each([
    ["a word", "high"],
    ["a percentage", "85"],
    ["a number above 1", 7],
    ["an empty string", ""],
    ["a map", { value: 0.5 }],
  ])("a confidence that is %s leaves the record readable without it, with a note at its line", (_label, confidence) => {
    const text = `- pattern: p\n  decision: d\n- pattern: p\n  decision: e\n  confidence: ${JSON.stringify(confidence)}\n`;
    const parsed = parseLog(text);
    expect(parsed.records.map((r) => [r.decision, r.confidence])).toEqual([
      ["d", null],
      ["e", null],
    ]);
    expect(parsed.issues).toEqual([{ line: 3, message: expect.stringMatching(/^line 3: confidence .* is not a number from 0 to 1; the record is read without it$/) as string }]);
  });

  it("they count in stats and evidence: outcomes by their words, string confidences in the mean, microsecond times", () => {
    const { records } = parseLog(ksiLog);
    const { decisions, stats } = queryDecisions(records, {});
    expect(decisions.map((r) => r.decision)).toEqual(["manual_probe", "shorten_handoffs"]);
    expect(stats).toMatchObject({ total: 2, successes: 1, failures: 0, first_seen: "2025-06-02T09:15:00.120456Z", last_seen: "2025-06-02T09:20:30.000001Z" });
    expect(stats.mean_confidence).toBeCloseTo((0.81 + 0.65) / 2);
    expect(queryDecisions(records, { since: "2025-06-02T09:16:00Z" }).decisions.map((r) => r.decision)).toEqual(["manual_probe"]);
    expect(evidenceOf(records)).toMatchObject({ successes: 1, failures: 0, total: 2 });
  });

  it("a record without a timestamp is the oldest; one without an id sorts before one with at the same time", () => {
    const same = "2025-06-02T09:00:00Z";
    const records: DecisionRecord[] = [
      { pattern: "p", decision: "no time", context: null, outcome: null, confidence: null, agent_id: null, timestamp: null },
      { pattern: "p", decision: "ksi", context: null, outcome: null, confidence: null, agent_id: null, timestamp: same },
      { ...record({ decision: "ours", timestamp: same }) },
    ];
    const { decisions, stats } = queryDecisions(records, {});
    expect(decisions.map((r) => r.decision)).toEqual(["ours", "ksi", "no time"]);
    expect(stats.first_seen).toBe(same);
  });
});

const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const LOG: DecisionRecord[] = [
  record({ id: "d_a", timestamp: at(0), decision: "pairing=adaptive", outcome: "pending", confidence: 0.6 }),
  record({ id: "d_b", timestamp: at(1), decision: "Round 2 timed out", outcome: "timeout", confidence: 0.7 }),
  record({ id: "d_c", timestamp: at(2), decision: "pairing=adaptive", outcome: "success", confidence: 0.8 }),
  record({ id: "d_d", timestamp: at(3), decision: "added a judge", outcome: "Success", confidence: null }),
  record({ id: "d_e", timestamp: at(4), decision: "pairing=round_robin", outcome: null, confidence: 1 }),
  record({ id: "d_f", timestamp: at(4), decision: "__proto__", outcome: "failed", confidence: 0 }),
];

describe("queryDecisions", () => {
  it("everything, newest first (same time: the larger id), with stats", () => {
    const { decisions, stats } = queryDecisions(LOG, {});
    expect(decisions.map((d) => d.id)).toEqual(["d_f", "d_e", "d_d", "d_c", "d_b", "d_a"]);
    expect(stats).toEqual({
      total: 6,
      // A computed key: a literal `__proto__:` would set the prototype instead.
      by_decision: { "pairing=adaptive": 2, "Round 2 timed out": 1, ["__proto__"]: 1, "added a judge": 1, "pairing=round_robin": 1 },
      by_outcome: { Success: 1, failed: 1, pending: 1, success: 1, timeout: 1 },
      mean_confidence: (0.6 + 0.7 + 0.8 + 1 + 0) / 5,
      first_seen: at(0),
      last_seen: at(4),
      successes: 2,
      failures: 2,
    });
    expect(Object.getPrototypeOf(stats.by_decision)).toBe(Object.prototype);
    expect(Object.hasOwn(stats.by_decision, "__proto__")).toBe(true);
    expect(Object.keys(stats.by_decision)[0]).toBe("pairing=adaptive");
  });

  it.each<[string, Parameters<typeof queryDecisions>[1], string[]]>([
    ["limit keeps the newest", { limit: 2 }, ["d_f", "d_e"]],
    ["decision: contained, any case", { decision: "PAIRING" }, ["d_e", "d_c", "d_a"]],
    ["outcome: equal, any case", { outcome: "SUCCESS" }, ["d_d", "d_c"]],
    ["outcome failure: every failure kind", { outcome: "failure" }, ["d_f", "d_b"]],
    ["outcome: an exact other value", { outcome: "timeout" }, ["d_b"]],
    ["since: at or after", { since: at(3) }, ["d_f", "d_e", "d_d"]],
    ["since with an offset", { since: "2026-11-18T15:05:11.417+01:00" }, ["d_f", "d_e", "d_d"]],
    ["all together", { decision: "pairing", outcome: "success", since: at(1) }, ["d_c"]],
  ])("%s", (_label, query, ids) => {
    expect(queryDecisions(LOG, query).decisions.map((d) => d.id)).toEqual(ids);
  });

  it("stats cover what matched, not only what the limit returns", () => {
    const { decisions, stats } = queryDecisions(LOG, { decision: "pairing", limit: 1 });
    expect(decisions).toHaveLength(1);
    expect(stats).toMatchObject({ total: 3, successes: 1, failures: 0, first_seen: at(0), last_seen: at(4) });
  });

  it("nothing matching gives empty stats", () => {
    expect(queryDecisions(LOG, { decision: "nope" })).toEqual({
      decisions: [],
      stats: { total: 0, by_decision: {}, by_outcome: {}, mean_confidence: null, first_seen: null, last_seen: null, successes: 0, failures: 0 },
    });
  });

  it("a timestamp that does not parse is the oldest and has no time", () => {
    const log = [record({ id: "d_x", timestamp: "yesterday" }), ...LOG.slice(0, 1)];
    expect(queryDecisions(log, {}).decisions.map((d) => d.id)).toEqual(["d_a", "d_x"]);
    expect(queryDecisions(log, {}).stats.first_seen).toBe(at(0));
    expect(queryDecisions(log, { since: at(-10) }).decisions.map((d) => d.id)).toEqual(["d_a"]);
  });

  it("keeps the 100 most frequent decisions in by_decision", () => {
    const log = Array.from({ length: 150 }, (_, i) => record({ id: `d_${i}`, decision: `decision ${String(i).padStart(3, "0")}` }));
    log.push(record({ id: "d_again", decision: "decision 149" }));
    const { by_decision } = queryDecisions(log, {}).stats;
    expect(Object.keys(by_decision)).toHaveLength(100);
    expect(Object.entries(by_decision)[0]).toEqual(["decision 149", 2]);
    expect(Object.keys(by_decision)[1]).toBe("decision 000");
  });

  it("refuses a since that is not a time", () => {
    expect(() => queryDecisions(LOG, { since: "soon" })).toThrow(DaemonError);
  });
});

describe("decisionsQuerySchema", () => {
  it("fills the limit and checks since", () => {
    expect(decisionsQuerySchema.parse({ pattern: "tournament" })).toEqual({ pattern: "tournament", limit: 100 });
    expect(decisionsQuerySchema.safeParse({ pattern: "tournament", since: "yesterday" }).success).toBe(false);
    expect(decisionsQuerySchema.safeParse({ pattern: "tournament", limit: 0 }).success).toBe(false);
  });
});

describe("outcomeClass", () => {
  it.each<[string | null | undefined, "success" | "failure" | "other"]>([
    ["success", "success"],
    ["SUCCESS", "success"],
    ["succeeded", "success"],
    ["won", "success"],
    ["good", "success"],
    ["passed", "success"],
    ["completed ok", "success"],
    ["all tests passed", "success"],
    ["no errors", "success"],
    ["without failures", "success"],
    ["failure", "failure"],
    ["failed", "failure"],
    ["Error: rate limited", "failure"],
    ["timeout", "failure"],
    ["timed out", "failure"],
    ["lost", "failure"],
    ["bad", "failure"],
    ["completed with errors", "failure"],
    ["not good", "failure"],
    ["partially failed", "failure"],
    ["no", "failure"],
    ["improved_discrimination", "success"],
    ["pattern_validated", "success"],
    ["breakthrough", "success"],
    ["measured", "other"],
    ["pending", "other"],
    ["partial", "other"],
    ["partial success", "other"],
    ["not yet", "other"],
    ["draw", "other"],
    ["42", "other"],
    ["", "other"],
    [null, "other"],
    [undefined, "other"],
  ])("%j is %s", (outcome, kind) => {
    expect(outcomeClass(outcome)).toBe(kind);
  });
});

describe("evidenceOf", () => {
  it("counts outcomes by kind and averages the confidences given", () => {
    expect(evidenceOf(LOG)).toEqual({ successes: 2, failures: 2, total: 6, mean_confidence: (0.6 + 0.7 + 0.8 + 1 + 0) / 5 });
    expect(evidenceOf([])).toEqual({ successes: 0, failures: 0, total: 0, mean_confidence: null });
  });
});

describe("document.ts: readSequence and formatSequenceItem", () => {
  it.each([
    ["plain items", "- a\n- b: 1\n", ["a", { b: 1 }]],
    ["free text with ! and & inside words (fast path)", "- done! A & B\n- x&y\n", ["done! A & B", "x&y"]],
    ["anchors and aliases (the yaml parser)", "- &a {x: 1}\n- *a\n", [{ x: 1 }, { x: 1 }]],
    ["core schema scalars", "- 0x10\n- '1'\n- yes\n- 0b1\n", [16, "1", "yes", "0b1"]],
    ["nothing", "", []],
    ["only a comment", "# log\n", []],
  ])("reads %s", (_label, text, items) => {
    expect(readSequence(text)).toEqual({ ok: true, items });
  });

  it.each([
    ["a map", "a: 1\n", /sequence/],
    ["a custom tag", "- !js/function x\n", /tag/i],
    ["duplicate keys", "- {a: 1, a: 2}\n", /unique/i],
    ["two documents", "- a\n---\n- b\n", /documents/i],
  ])("refuses %s", (_label, text, message) => {
    const result = readSequence(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0]!.message).toMatch(message);
  });

  it("formats whitespace-only lines, which a block scalar would lose, in quotes", () => {
    expect(formatSequenceItem({ a: " \n \n" })).toBe('- a: "\\ \\n\\ \\n"\n');
    expect(formatSequenceItem({ a: "x\ny" })).toBe("- a: |-\n    x\n    y\n");
  });

  it("refuses what would not read back the same", () => {
    expect(() => formatSequenceItem({ a: undefined })).toThrow(/read back/);
    expect(() => formatSequenceItem(Number.NaN)).toThrow(/read back/);
  });
});

describe("decisionsQuerySchema since", () => {
  it("takes a date or a time with its offset, and says which forms when neither", () => {
    expect(decisionsQuerySchema.safeParse({ pattern: "p", since: "2026-11-21" }).success).toBe(true);
    expect(decisionsQuerySchema.safeParse({ pattern: "p", since: "2026-11-21T10:00:00+01:00" }).success).toBe(true);
    const bad = decisionsQuerySchema.safeParse({ pattern: "p", since: "yesterday" });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toMatch(/ISO-8601 date or time/);
  });
});

describe("outcomeWarning: an outcome select cannot read is kept, with a warning", () => {
  it.each([
    ["sucess", "success"],
    ["SUCESS", "success"],
    ["faild", "fail"],
    ["not sucessful", "not successful"],
    ["timout after 30s", "timeout after 30s"],
  ])("%s: did you mean %s", (outcome, meant) => {
    const warning = outcomeWarning(outcome);
    expect(outcomeClass(outcome)).toBe("other");
    expect(warning?.path).toBe("outcome");
    expect(warning?.message).toContain(`outcome "${outcome}" has no word select reads, so it counts as neither a success nor a failure`);
    expect(warning?.message).toContain(`Did you mean "${meant}"?`);
    expect(warning?.message).toContain("Words select reads: success, ok, passed");
  });

  it("an outcome with no close word: the warning and the vocabulary, no guess", () => {
    const warning = outcomeWarning("42/100");
    expect(warning?.message).not.toContain("Did you mean");
    expect(warning?.message).toContain("partial, pending, skipped");
  });

  it.each([undefined, "success", "failure", "partial success", "pending", "skipped", "completed with errors", "no errors", "ok", "Timeout"])(
    "%s: read by select, no warning",
    (outcome) => expect(outcomeWarning(outcome)).toBeUndefined(),
  );
});
