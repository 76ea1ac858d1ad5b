/**
 * Decision logs read through their index (issue 22): composition:decisions
 * and select's evidence answer exactly what the log file holds, after the
 * daemon's appends, a person's edit by hand, a torn tail, and a `git
 * checkout` of an older version and back.
 */
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { parseLog } from "../daemon/modules/composition/model/decision-log-text.js";
import { formatRecord, queryDecisions, type AppendedRecord, type DecisionsQuery } from "../daemon/modules/composition/model/decisions.js";
import { cleanup, startDaemon, waitFor, type Daemon } from "./harness.js";
import { git } from "./store-git.js";

interface Candidate {
  name: string;
  reasons: string[];
}

const LOG = "orchestrations/dl_alpha_decisions.yaml";
const TASK = "Referee a chess tournament between many engines";
const QUERIES: DecisionsQuery[] = [{}, { limit: 3 }, { outcome: "failure" }, { decision: "round 1", limit: 50 }, { since: "2020-01-01" }];

let d: Daemon;
let c: Client;
let store: string;
const file = () => join(store, LOG);

beforeAll(async () => {
  d = await startDaemon();
  store = join(d.home, "var", "lib", "compositions");
  c = await d.client({ agentId: "referee" });
  await c.request("composition:save", {
    composition: { name: "dl_alpha", type: "orchestration", version: "1.0.0", description: "Referee a chess tournament between engines", metadata: { tags: ["chess", "referee"] } },
  });
});
afterAll(cleanup);

async function track(from: number, to: number): Promise<void> {
  for (let n = from; n < to; n++) {
    await c.request("composition:track_decision", { pattern: "dl_alpha", decision: `round ${n % 3}: seed by rating`, outcome: n % 4 === 0 ? "failure" : "success", confidence: (n % 10) / 10, context: { n } });
  }
}

/** The daemon's appends are committed: a record a person removes before that would be appended again (acknowledged records are never lost). */
async function committed(): Promise<void> {
  await waitFor("the log committed", async () => (await git(store, "status", "--porcelain", "--", LOG)) === "", 10_000, 50);
}

/** Every query's reply is what a fresh parse of the file answers, issues included. */
async function expectDecisionsAsFile(): Promise<void> {
  const { records, issues } = parseLog(readFileSync(file(), "utf8"));
  for (const query of QUERIES) {
    const reply = await c.request<Record<string, unknown>>("composition:decisions", { pattern: "dl_alpha", ...query });
    const expected = queryDecisions(records, { ...query, limit: query.limit ?? 100 });
    expect(reply, JSON.stringify(query)).toEqual({ pattern: "dl_alpha", file: LOG, ...expected, ...(issues.length === 0 ? {} : { issues }) });
  }
}

/** select's reason for dl_alpha names the log's counts as the file has them (the watcher reports a person's edit). */
async function expectSelectAsFile(): Promise<void> {
  const records = parseLog(readFileSync(file(), "utf8")).records;
  const won = records.filter((r) => r.outcome === "success").length;
  const lost = records.filter((r) => r.outcome === "failure").length;
  const wanted = `decision log: ${won} success(es), ${lost} failure(s) in ${records.length} record(s)`;
  await waitFor(`select to read ${wanted}`, async () => {
    const { candidates } = await c.request<{ candidates: Candidate[] }>("composition:select", { task: TASK });
    return candidates.find((candidate) => candidate.name === "dl_alpha")?.reasons.some((reason) => reason.includes(wanted));
  }, 5_000);
}

describe("decision logs through their index", () => {
  it("appends are answered at once, by decisions and by select", async () => {
    await track(0, 25);
    await expectDecisionsAsFile();
    // Right after an append, without waiting for the watcher.
    const { candidates } = await c.request<{ candidates: Candidate[] }>("composition:select", { task: TASK });
    expect(candidates.find((candidate) => candidate.name === "dl_alpha")?.reasons.join(" ")).toContain("decision log: 18 success(es), 7 failure(s) in 25 record(s)");
  });

  it("a person's edits by hand: records removed, an outcome changed in place, a record added", async () => {
    await committed();
    const text = readFileSync(file(), "utf8");
    const items = text.split(/^(?=- id: )/m);
    writeFileSync(file(), items.slice(0, 10).join("") + items.slice(15).join(""));
    await expectDecisionsAsFile();
    await expectSelectAsFile();
    // The same length, other content.
    writeFileSync(file(), readFileSync(file(), "utf8").replaceAll("outcome: success", "outcome: failure"));
    await expectDecisionsAsFile();
    await expectSelectAsFile();
    const byHand: AppendedRecord = { ...(parseLog(items[0]!).records[0] as AppendedRecord), id: "d_by_hand", decision: "added by hand", outcome: "success" };
    appendFileSync(file(), formatRecord(byHand));
    await expectDecisionsAsFile();
    await expectSelectAsFile();
    await track(100, 103);
    await expectDecisionsAsFile();
  });

  it("a torn tail is reported as before, and the records before it are kept", async () => {
    await committed();
    appendFileSync(file(), "- id: d_torn\n  pattern: dl_alpha\n  decis");
    await expectDecisionsAsFile();
    const reply = await c.request<{ issues?: { message: string }[] }>("composition:decisions", { pattern: "dl_alpha", limit: 1 });
    expect(reply.issues?.at(-1)?.message).toMatch(/the last record is cut off/);
    writeFileSync(file(), readFileSync(file(), "utf8").replace(/- id: d_torn[^]*$/, ""));
    await expectDecisionsAsFile();
  });

  it("a git checkout of an older version of the log, and back", async () => {
    await track(190, 191);
    await committed();
    const older = (await git(store, "rev-parse", "HEAD")).trim();
    await track(200, 230);
    await committed();
    await expectDecisionsAsFile();
    await git(store, "checkout", older, "--", LOG);
    await expectDecisionsAsFile();
    await expectSelectAsFile();
    await git(store, "checkout", "HEAD", "--", LOG);
    await expectDecisionsAsFile();
    await expectSelectAsFile();
    // The daemon still serves.
    await c.request("system:health");
  });
});
