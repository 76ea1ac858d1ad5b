import { describe, expect, it } from "vitest";
import { DecisionIndex } from "./decision-index.js";
import { lastItemStart, parseLog, readLogChunk, readRecordItems } from "./decision-log-text.js";
import { evidenceOf, formatRecord, queryDecisions, type AppendedRecord, type DecisionsQuery } from "./decisions.js";

const T0 = Date.UTC(2026, 10, 18, 14, 0, 0);
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

const DECISIONS = ["pairing=adaptive", "Round 2 timed out", "__proto__", "ajouter un juge – élu", "use 3 judges", "PAIRING=round_robin"];
const OUTCOMES = ["success", "failure", "timeout", "Success", null, "partial success", "no errors", "pending"];

/** Varied records: repeated and distinct decisions, every kind of outcome, equal, missing, unreadable and out-of-order times. */
function record(n: number): AppendedRecord {
  const minute = n % 7 === 3 ? n - 5 : n;
  return {
    id: n % 11 === 5 ? `d_same_${n % 3}` : `d_${String(n).padStart(6, "0")}`,
    pattern: "tournament",
    decision: n % 13 === 0 ? `unique decision ${n}` : DECISIONS[n % DECISIONS.length]!,
    context: { n, note: n % 5 === 0 ? "line one\nline two" : "x" },
    outcome: OUTCOMES[n % OUTCOMES.length]!,
    confidence: n % 4 === 0 ? null : (n % 10) / 10,
    agent_id: n % 2 === 0 ? "agent_a" : null,
    timestamp: n % 17 === 0 ? "yesterday" : at(n % 9 === 0 ? 2 : minute),
    pattern_version: "1.0.0",
  };
}

const KSI_ITEM = "- pattern: tournament\n  decision: from KSI\n  outcome: improved\n  confidence: '0.85'\n  timestamp: '2026-11-18T14:03:00.000001Z'\n";
const NOT_A_RECORD = "- just words\n";
const ODD_CONFIDENCE = "- pattern: tournament\n  decision: use 3 judges\n  confidence: high\n";

const QUERIES: DecisionsQuery[] = [
  {},
  { limit: 5 },
  { limit: 1 },
  { decision: "PAIRING" },
  { decision: "juge" },
  { decision: "nothing like it" },
  { outcome: "success" },
  { outcome: "failure" },
  { outcome: "TIMEOUT" },
  { since: at(20) },
  { since: "2026-11-18" },
  { decision: "pairing", outcome: "success", since: at(3), limit: 2 },
];

/** A log's items, as a list of texts, some not patternd's. */
function items(count: number): string[] {
  const texts = Array.from({ length: count }, (_, n) => formatRecord(record(n)));
  texts.splice(Math.min(3, texts.length), 0, KSI_ITEM);
  texts.splice(Math.min(8, texts.length), 0, NOT_A_RECORD, ODD_CONFIDENCE);
  return texts;
}

/** Indexes `text` piece by piece, cut at the given byte offsets, the way the store follows a log; null when a piece must be read whole. */
function indexInPieces(text: string, cuts: readonly number[]) {
  const buffer = Buffer.from(text);
  const index = new DecisionIndex();
  const issues: { line?: number; message: string }[] = [];
  let end = 0;
  let lines = 0;
  let torn = null;
  for (const cut of [...cuts, buffer.length]) {
    const chunk = readLogChunk(buffer.subarray(end, cut).toString("utf8"), lines + 1, end > 0);
    if (!chunk.clean) return null;
    for (const { record: read, offset, bytes } of chunk.records) index.add(read, { offset: end + offset, bytes });
    issues.push(...chunk.issues);
    end += chunk.bytes;
    lines += chunk.lines;
    torn = chunk.torn;
  }
  return { index, issues: torn === null ? issues : [...issues, torn], buffer };
}

/** What composition:decisions answers from the index, reading the records back from the bytes. */
function answerFrom(built: NonNullable<ReturnType<typeof indexInPieces>>, query: DecisionsQuery) {
  const { index, buffer } = built;
  const { picks, stats, firstSeen, lastSeen } = index.query(query);
  const readOne = (number: number) => {
    const { offset, bytes } = index.place(number);
    return readRecordItems(buffer.subarray(offset, offset + bytes).toString("utf8"), 1)![0]!;
  };
  return {
    decisions: picks.map(readOne),
    stats: {
      total: stats.total,
      by_decision: stats.by_decision,
      by_outcome: stats.by_outcome,
      mean_confidence: stats.mean_confidence,
      first_seen: firstSeen === null ? null : readOne(firstSeen).timestamp,
      last_seen: lastSeen === null ? null : readOne(lastSeen).timestamp,
      successes: stats.successes,
      failures: stats.failures,
    },
  };
}

function expectSameAsWhole(text: string, cuts: readonly number[]): void {
  const built = indexInPieces(text, cuts);
  expect(built, "every piece reads on its own").not.toBeNull();
  const whole = parseLog(text);
  expect(built!.issues).toEqual(whole.issues);
  expect(built!.index.evidence()).toEqual(evidenceOf(whole.records));
  for (const query of QUERIES) {
    const answer = answerFrom(built!, query);
    const expected = queryDecisions(whole.records, query);
    expect(answer, JSON.stringify(query)).toEqual(expected);
    // Key order is what the reply shows.
    expect(Object.keys(answer.stats.by_decision)).toEqual(Object.keys(expected.stats.by_decision));
  }
}

/** Byte offsets where each item starts. */
function itemOffsets(texts: readonly string[], head = ""): number[] {
  const offsets: number[] = [];
  let at = Buffer.byteLength(head);
  for (const text of texts) {
    offsets.push(at);
    at += Buffer.byteLength(text);
  }
  return offsets;
}

describe("DecisionIndex: the answers and evidence of a full parse", () => {
  const texts = items(60);
  const log = texts.join("");
  const starts = itemOffsets(texts);

  it.each<[string, string, number[]]>([
    ["read in one piece", log, []],
    ["appended one record at a time", log, starts.slice(1)],
    ["appended in uneven batches", log, [starts[2]!, starts[9]!, starts[10]!, starts[40]!]],
    ["behind a head of comments and a document marker", "# decisions of tournament\n---\n" + log, itemOffsets(texts, "# decisions of tournament\n---\n").slice(5, 30)],
    ["a log of no records", "# nothing yet\n", []],
    ["an empty log", "", []],
    ["with CRLF line ends", log.replaceAll("\n", "\r\n"), []],
  ])("%s", (_label, text, cuts) => {
    expectSameAsWhole(text, cuts);
  });

  it("a torn last item is reported, not read, and is read once an append ends it", () => {
    const torn = log + formatRecord(record(99)).slice(0, 50);
    expectSameAsWhole(torn, starts.slice(50));
    // The daemon closes the torn line before its next append: the item is then read for what it is.
    const closed = torn + "\n" + formatRecord(record(100));
    const whole = parseLog(closed);
    const built = indexInPieces(closed, [Buffer.byteLength(torn)]);
    // Cut mid-key the closed item is unreadable YAML: then the log is read whole, never answered wrong.
    if (built === null) expect(whole.issues.some((issue) => /unreadable record/.test(issue.message))).toBe(true);
    else expect(built.issues).toEqual(whole.issues);
  });

  it("ties in by_decision beyond the 100 kept are cut as a full sort cuts them", () => {
    const many = Array.from({ length: 250 }, (_, n) => formatRecord({ ...record(n), decision: `decision ${String(249 - n).padStart(3, "0")}` }));
    many.push(formatRecord({ ...record(300), decision: "decision 200" }));
    expectSameAsWhole(many.join(""), itemOffsets(many).slice(100, 110));
  });
});

describe("readLogChunk: a piece that does not read on its own as within the log", () => {
  const texts = items(4);
  const log = texts.join("");

  it.each<[string, string, boolean]>([
    ["an appended piece that does not start with an item", "  decision: more of the last item\n" + texts[1]!, true],
    ["a document end marker", texts[0] + "...\n" + texts[1]!, false],
    ["a key at the left edge", texts[0] + "key: value\n", false],
    ["a directive in the head", "%YAML 1.2\n---\n" + log, false],
    ["a flow list in the head", "[]\n" + log, false],
    ["an empty flow list (items appended after it would not read)", "[]\n", false],
    ["a head that is a key", "name: x\n", false],
    ["an alias to another item's anchor", "- &a {pattern: p, decision: d}\n- *a\n", false],
    ["broken YAML in an item", texts[0] + "- id: x\n  decision: [unclosed\n" + texts[1]!, false],
    ["text without a newline and no item", "# only a comment", false],
  ])("%s is read whole", (_label, text, continues) => {
    expect(readLogChunk(text, 1, continues)).toEqual({ clean: false });
  });
});

describe("lastItemStart: where the store cuts a log into pieces it indexes a turn at a time", () => {
  it.each<[string, string, number]>([
    ["two items: the second starts after the first's 7 bytes", "- a: 1\n- b: 2\n", 7],
    ["the last of three", "- a\n- b\n- c\n", 8],
    ["a single item", "- a: 1\n", 0],
    ["a block scalar holding list-like lines (indented: no item starts)", "- a: |\n    - x\n  b: 2\n", 0],
    ["a dash at the left edge without a gap after it is no item", "- a: 1\n-x\n", 0],
    ["a comment is not an item", "- a\n# - b\n- c\n", 10],
    ["an empty item (its dash ends the line)", "- a\n-\n  b: 1\n", 4],
    ["CRLF line ends", "- a\r\n-\r\n", 5],
    ["a tab after the dash", "- a\n-\tb\n", 4],
    ["a dash at the very end (what follows it is not read yet)", "- a\n-", 0],
    ["the first byte never counts", "-\n", 0],
    ["a comment head before the first item is a piece of its own", "# log\n- a\n", 6],
  ])("%s", (_label, text, expected) => {
    expect(lastItemStart(Buffer.from(text))).toBe(expected);
  });

  /** The cuts the store makes: pieces of `size` bytes cut at their last item's start, a longer item read whole. */
  function pieceCuts(text: string, size: number): number[] {
    const buffer = Buffer.from(text);
    const cuts: number[] = [];
    for (let from = 0; ; ) {
      let length = size;
      let cut = 0;
      while (from + length < buffer.length && (cut = lastItemStart(buffer.subarray(from, from + length))) === 0) length *= 2;
      if (from + length >= buffer.length) return cuts;
      from += cut;
      cuts.push(from);
    }
  }

  it.each([40, 200, 1_000, 10_000])("a log indexed in pieces of %i bytes answers as the whole log, torn tail and all", (size) => {
    const texts = items(120);
    const log = texts.join("");
    expectSameAsWhole(log, pieceCuts(log, size));
    const torn = log + texts[5]!.slice(0, 30);
    expectSameAsWhole(torn, pieceCuts(torn, size));
  });
});
