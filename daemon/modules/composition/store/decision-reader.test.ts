import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { manualClock, type Clock, type ManualClock } from "../../../core/clock.js";
import { silentLog } from "../../../core/log.js";
import { parseLog } from "../model/decision-log-text.js";
import { evidenceOf, formatRecord, queryDecisions, type AppendedRecord, type DecisionsQuery, type Evidence } from "../model/decisions.js";
import { DecisionLogs } from "./decision-log.js";
import { StoreFiles } from "./files.js";
import { GitRepo } from "./git.js";

const LOG = "orchestrations/p_decisions.yaml";
const T0 = Date.UTC(2026, 10, 18, 14, 0, 0);

let root: string;
let git: GitRepo;
let logs: DecisionLogs;

function gitIn(...args: string[]): string {
  return execFileSync("git", args, { cwd: root, encoding: "utf8", env: { PATH: process.env.PATH, HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1" } });
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "patternd-decision-reader-"));
  mkdirSync(join(root, "orchestrations"));
  git = new GitRepo(root);
  await git.init();
  writeFileSync(join(root, "orchestrations", "p.yaml"), "name: p\n");
  await git.commitPaths(["orchestrations/p.yaml"], "seed\n\nOp: seed\n", undefined);
  logs = new DecisionLogs(new StoreFiles(root), git, turning(), silentLog());
});
afterEach(async () => {
  await logs.flush();
  await rm(root, { recursive: true, force: true });
});

/** A manual clock whose deferred work runs in the event loop's next turns, as the daemon's does. */
function turning(): Clock {
  return { ...manualClock(), defer: (callback) => void setImmediate(callback) };
}

/** select's evidence: asked again once the log's indexing is over. */
async function evidence(of: DecisionLogs = logs, path = LOG): Promise<Evidence> {
  for (;;) {
    const now = of.evidenceNow(path);
    if (now !== undefined) return now;
    await of.indexed(path);
  }
}

function record(n: number, outcome = n % 3 === 0 ? "failure" : "success"): AppendedRecord {
  return {
    id: `d_${String(n).padStart(6, "0")}`,
    pattern: "p",
    decision: `decision ${n % 4}`,
    context: { n },
    outcome,
    confidence: (n % 10) / 10,
    agent_id: null,
    timestamp: new Date(T0 + n * 1000).toISOString(),
    pattern_version: "1.0.0",
  };
}

async function append(from: number, to: number): Promise<void> {
  for (let n = from; n < to; n++) await logs.append(LOG, formatRecord(record(n)), "p", 1, undefined);
}

const file = () => join(root, LOG);

const QUERIES: DecisionsQuery[] = [{ limit: 100 }, { limit: 3 }, { decision: "decision 1", limit: 100 }, { outcome: "failure", limit: 5 }, { since: new Date(T0 + 20_000).toISOString(), limit: 100 }];

/** Every query answered exactly as a fresh parse of the file answers it, and the evidence is that of a full parse. */
async function expectSameAsFile(): Promise<void> {
  const { records, issues } = parseLog(readFileSync(file(), "utf8"));
  for (const query of QUERIES) expect(await logs.query(LOG, query), JSON.stringify(query)).toEqual({ ...queryDecisions(records, query), issues });
  logs.changed(LOG);
  expect(await evidence()).toEqual(evidenceOf(records));
}

describe("DecisionReader through DecisionLogs", () => {
  it("answers what the file holds after each append, and a missing log as empty", async () => {
    expect(await logs.query(LOG, { limit: 10 })).toEqual({ ...queryDecisions([], {}), issues: [] });
    expect(await evidence()).toEqual({ successes: 0, failures: 0, total: 0, mean_confidence: null });
    await append(0, 1);
    await expectSameAsFile();
    for (let n = 1; n < 30; n += 7) {
      await append(n, n + 7);
      // Evidence follows the daemon's own appends without any report from the watcher.
      expect(logs.evidenceNow(LOG)?.total).toBe(n + 7);
      await expectSameAsFile();
    }
  });

  it("a log known absent (the listing had none, or a select looked) counts the first append at once, with no word from the watcher", async () => {
    logs.absent([LOG]);
    expect(logs.evidenceNow(LOG)).toEqual({ successes: 0, failures: 0, total: 0, mean_confidence: null });
    await append(0, 3);
    await logs.indexed(LOG);
    expect(logs.evidenceNow(LOG) ?? (await logs.indexed(LOG), logs.evidenceNow(LOG))).toMatchObject({ total: 3 });
  });

  it("a torn last record (an append cut by kill -9) is reported, and the next append closes it as today", async () => {
    await append(0, 10);
    await expectSameAsFile();
    appendFileSync(file(), formatRecord(record(10)).slice(0, 70));
    await expectSameAsFile();
    expect((await logs.query(LOG, { limit: 1 })).issues).toEqual([{ line: 101, message: expect.stringMatching(/^line 101: the last record is cut off/) as string }]);
    // A new process closes the torn line before its first append (the torn item is then read for what it is).
    logs = new DecisionLogs(new StoreFiles(root), git, turning(), silentLog());
    expect((await logs.query(LOG, { limit: 1 })).issues).toHaveLength(1);
    await append(11, 14);
    await expectSameAsFile();
    expect((await logs.query(LOG, { limit: 100 })).decisions).toHaveLength(13);
  });

  it.each<[string, (text: string) => string]>([
    ["shorter: the last records removed", (text) => text.slice(0, text.indexOf("- id: d_000020"))],
    ["records removed in the middle", (text) => text.slice(0, text.indexOf("- id: d_000005")) + text.slice(text.indexOf("- id: d_000012"))],
    ["the same length, other content", (text) => text.replace("outcome: success", "outcome: failure")],
    ["longer, an earlier record changed", (text) => text.replace("decision: decision 1", "decision: decision one") + formatRecord(record(90))],
    ["a record appended by hand", (text) => text + formatRecord(record(91))],
    ["a comment written at the top", (text) => "# kept by hand\n" + text],
    ["made unreadable in the middle", (text) => text.replace("  decision: decision 2", "  decision: [decision 2")],
    ["emptied", () => ""],
  ])("a person's rewrite (%s) is indexed anew and answered as a fresh parse", async (_label, rewrite) => {
    await append(0, 30);
    await expectSameAsFile();
    writeFileSync(file(), rewrite(readFileSync(file(), "utf8")));
    await expectSameAsFile();
    // And the daemon appends after it as before.
    await append(40, 43);
    await expectSameAsFile();
  });

  it("a same-length rewrite that keeps the old mtime is still seen (ctime changes)", async () => {
    await append(0, 30);
    await expectSameAsFile();
    const { atime, mtime } = statSync(file());
    writeFileSync(file(), readFileSync(file(), "utf8").replaceAll("outcome: success", "outcome: failure"));
    utimesSync(file(), atime, mtime);
    await expectSameAsFile();
    expect((await logs.query(LOG, { outcome: "success", limit: 10 })).stats.total).toBe(0);
  });

  it("a git checkout of an older version, and back, is answered as the file", async () => {
    await append(0, 10);
    await logs.flush();
    const older = gitIn("rev-parse", "HEAD").trim();
    await append(10, 25);
    await logs.flush();
    await expectSameAsFile();
    gitIn("checkout", older, "--", LOG);
    await expectSameAsFile();
    expect((await logs.query(LOG, { limit: 100 })).decisions).toHaveLength(10);
    gitIn("checkout", "HEAD", "--", LOG);
    await expectSameAsFile();
    expect((await logs.query(LOG, { limit: 100 })).decisions).toHaveLength(25);
  });

  it("select's evidence is kept until the daemon or the watcher reports a change", async () => {
    await append(0, 12);
    expect(await evidence()).toEqual(evidenceOf(parseLog(readFileSync(file(), "utf8")).records));
    writeFileSync(file(), formatRecord(record(1)));
    // The watcher's report is what has the file checked again (as before: select asks many logs per query).
    logs.changed(LOG);
    expect(await evidence()).toEqual(evidenceOf([record(1)]));
  });
});

describe("a log indexed a slice per turn (issue 22: the first read of 30 000 records stalled every connection for 1 s)", () => {
  /** About 2 KiB per turn: the 200 records below (46 KB) take some 20 turns. */
  const SLICE = { budgetMs: Infinity, maxBytes: 2_048, pieceBytes: 1_024 };
  const OTHER = "orchestrations/q_decisions.yaml";
  let clock: ManualClock;
  let sliced: DecisionLogs;

  beforeEach(() => {
    clock = manualClock();
    sliced = new DecisionLogs(new StoreFiles(root), git, clock, silentLog(), undefined, SLICE);
    writeFileSync(file(), Array.from({ length: 200 }, (_, n) => formatRecord(record(n))).join(""));
  });
  afterEach(() => sliced.flush());

  /** Runs the clock's deferred work a turn at a time (the real event loop runs between turns) until `promise` settles; the turns it took. */
  async function turnsUntil(promise: Promise<unknown>): Promise<number> {
    let settled = false;
    promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let turns = 0; turns < 10_000; turns++) {
      await new Promise((resolve) => setImmediate(resolve));
      if (settled) return turns;
      clock.turn();
    }
    throw new Error("never settled");
  }

  /** The answers of a fresh parse of the file. */
  function fromFile(path = LOG) {
    const { records, issues } = parseLog(readFileSync(join(root, path), "utf8"));
    return { answer: (query: DecisionsQuery) => ({ ...queryDecisions(records, query), issues }), evidence: evidenceOf(records) };
  }

  it("queries and select asking during the build wait for that one build, and answer as after it", async () => {
    const first = sliced.query(LOG, { limit: 300 });
    expect(sliced.evidenceNow(LOG)).toBeUndefined();
    clock.turn();
    clock.turn();
    const during = QUERIES.map((query) => sliced.query(LOG, query));
    expect(sliced.evidenceNow(LOG)).toBeUndefined();
    const turns = await turnsUntil(Promise.all([first, ...during]));
    // One build: the log's bytes at about 2 KiB a turn (a build per query would take several times as many).
    expect(turns + 2).toBeLessThanOrEqual(Math.ceil(statSync(file()).size / SLICE.maxBytes) + 1);
    const expected = fromFile();
    expect(await first).toEqual(expected.answer({ limit: 300 }));
    for (const [i, answer] of (await Promise.all(during)).entries()) expect(answer, JSON.stringify(QUERIES[i])).toEqual(expected.answer(QUERIES[i]!));
    expect(sliced.evidenceNow(LOG)).toEqual(expected.evidence);
    // Once built, a query is answered in its own turn.
    const after = sliced.query(LOG, QUERIES[2]!);
    expect(await turnsUntil(after)).toBe(0);
    expect(await after).toEqual(expected.answer(QUERIES[2]!));
  });

  it.each([0, 1, 5, 12, 20])("the daemon's append after %i turns of the build is counted once", async (turns) => {
    const asked = sliced.query(LOG, { limit: 300 });
    for (let i = 0; i < turns; i++) clock.turn();
    await sliced.append(LOG, formatRecord(record(500)), "p", 1, undefined);
    await turnsUntil(asked);
    const expected = fromFile();
    expect(expected.evidence.total).toBe(201);
    expect(await asked).toEqual(expected.answer({ limit: 300 }));
    expect(sliced.evidenceNow(LOG)).toEqual(expected.evidence);
    // The index follows the next append as it is written.
    await sliced.append(LOG, formatRecord(record(501)), "p", 1, undefined);
    expect(sliced.evidenceNow(LOG)?.total).toBe(202);
    expect(await turnsUntil(sliced.query(LOG, { limit: 1 }))).toBe(0);
  });

  it.each<[string, (text: string) => string]>([
    ["records removed at the start", (text) => text.slice(text.indexOf("- id: d_000030"))],
    ["an outcome changed in what was read already", (text) => text.replace("outcome: success", "outcome: failure")],
    ["an outcome changed in what was not read yet", (text) => text.replace(/outcome: success(?![^]*outcome: success)/, "outcome: failure")],
    ["a record appended by hand (what was read is the same: the build goes on)", (text) => text + formatRecord(record(600))],
    ["made unreadable in what was read already (read whole)", (text) => text.replace("  decision: decision 2", "  decision: [decision 2")],
    ["emptied", () => ""],
  ])("a person's rewrite during the build (%s) is answered as the new file", async (_label, rewrite) => {
    const asked = sliced.query(LOG, { limit: 300 });
    for (let i = 0; i < 4; i++) clock.turn();
    writeFileSync(file(), rewrite(readFileSync(file(), "utf8")));
    await turnsUntil(asked);
    const expected = fromFile();
    expect(await asked).toEqual(expected.answer({ limit: 300 }));
    expect(sliced.evidenceNow(LOG)).toEqual(expected.evidence);
  });

  it("a log asked for goes before the logs warmed in the background, and a short one asked for behind a long one waits a slice", async () => {
    sliced.warm([LOG]);
    clock.turn();
    writeFileSync(join(root, OTHER), formatRecord(record(1)) + formatRecord(record(2)));
    const short = sliced.query(OTHER, { limit: 10 });
    expect(await turnsUntil(short)).toBe(1);
    expect(await short).toEqual(fromFile(OTHER).answer({ limit: 10 }));
    // The background build went on after it, and is taken up by a query now.
    expect(sliced.evidenceNow(LOG)).toBeUndefined();
    const long = sliced.query(LOG, { limit: 300 });
    writeFileSync(join(root, OTHER), formatRecord(record(3)));
    const again = sliced.query(OTHER, { limit: 10 });
    expect(await turnsUntil(again)).toBeLessThanOrEqual(2);
    expect(await again).toEqual(fromFile(OTHER).answer({ limit: 10 }));
    await turnsUntil(long);
    expect(await long).toEqual(fromFile().answer({ limit: 300 }));
  });

  it("a build dropped by forget (the store is back, or an append was taken back) leaves its waiters to the next", async () => {
    const asked = sliced.query(LOG, { limit: 300 });
    clock.turn();
    sliced.forget();
    await turnsUntil(asked);
    expect(await asked).toEqual(fromFile().answer({ limit: 300 }));
  });
});
