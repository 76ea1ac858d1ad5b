import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { manualClock } from "../../../core/clock.js";
import { silentLog } from "../../../core/log.js";
import { parseLog } from "../model/decision-log-text.js";
import { evidenceOf, formatRecord, queryDecisions, type AppendedRecord, type DecisionsQuery } from "../model/decisions.js";
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
  logs = new DecisionLogs(new StoreFiles(root), git, manualClock(), silentLog());
});
afterEach(async () => {
  await logs.flush();
  await rm(root, { recursive: true, force: true });
});

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
function expectSameAsFile(): void {
  const { records, issues } = parseLog(readFileSync(file(), "utf8"));
  for (const query of QUERIES) expect(logs.query(LOG, query), JSON.stringify(query)).toEqual({ ...queryDecisions(records, query), issues });
  logs.changed(LOG);
  expect(logs.evidence(LOG)).toEqual(evidenceOf(records));
}

describe("DecisionReader through DecisionLogs", () => {
  it("answers what the file holds after each append, and a missing log as empty", async () => {
    expect(logs.query(LOG, { limit: 10 })).toEqual({ ...queryDecisions([], {}), issues: [] });
    expect(logs.evidence(LOG)).toEqual({ successes: 0, failures: 0, total: 0, mean_confidence: null });
    await append(0, 1);
    expectSameAsFile();
    for (let n = 1; n < 30; n += 7) {
      await append(n, n + 7);
      // Evidence follows the daemon's own appends without any report from the watcher.
      expect(logs.evidence(LOG).total).toBe(n + 7);
      expectSameAsFile();
    }
  });

  it("a torn last record (an append cut by kill -9) is reported, and the next append closes it as today", async () => {
    await append(0, 10);
    expectSameAsFile();
    appendFileSync(file(), formatRecord(record(10)).slice(0, 70));
    expectSameAsFile();
    expect(logs.query(LOG, { limit: 1 }).issues).toEqual([{ line: 101, message: expect.stringMatching(/^line 101: the last record is cut off/) as string }]);
    // A new process closes the torn line before its first append (the torn item is then read for what it is).
    logs = new DecisionLogs(new StoreFiles(root), git, manualClock(), silentLog());
    expect(logs.query(LOG, { limit: 1 }).issues).toHaveLength(1);
    await append(11, 14);
    expectSameAsFile();
    expect(logs.query(LOG, { limit: 100 }).decisions).toHaveLength(13);
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
    expectSameAsFile();
    writeFileSync(file(), rewrite(readFileSync(file(), "utf8")));
    expectSameAsFile();
    // And the daemon appends after it as before.
    await append(40, 43);
    expectSameAsFile();
  });

  it("a same-length rewrite that keeps the old mtime is still seen (ctime changes)", async () => {
    await append(0, 30);
    expectSameAsFile();
    const { atime, mtime } = statSync(file());
    writeFileSync(file(), readFileSync(file(), "utf8").replaceAll("outcome: success", "outcome: failure"));
    utimesSync(file(), atime, mtime);
    expectSameAsFile();
    expect(logs.query(LOG, { outcome: "success", limit: 10 }).stats.total).toBe(0);
  });

  it("a git checkout of an older version, and back, is answered as the file", async () => {
    await append(0, 10);
    await logs.flush();
    const older = gitIn("rev-parse", "HEAD").trim();
    await append(10, 25);
    await logs.flush();
    expectSameAsFile();
    gitIn("checkout", older, "--", LOG);
    expectSameAsFile();
    expect(logs.query(LOG, { limit: 100 }).decisions).toHaveLength(10);
    gitIn("checkout", "HEAD", "--", LOG);
    expectSameAsFile();
    expect(logs.query(LOG, { limit: 100 }).decisions).toHaveLength(25);
  });

  it("select's evidence is kept until the daemon or the watcher reports a change", async () => {
    await append(0, 12);
    expect(logs.evidence(LOG)).toEqual(evidenceOf(parseLog(readFileSync(file(), "utf8")).records));
    writeFileSync(file(), formatRecord(record(1)));
    // The watcher's report is what has the file checked again (as before: select asks many logs per query).
    logs.changed(LOG);
    expect(logs.evidence(LOG)).toEqual(evidenceOf([record(1)]));
  });
});
