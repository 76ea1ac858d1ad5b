/**
 * The first read of a long decision log is indexed a slice per turn
 * (issue 22): while composition:decisions waits for a log of 20 000
 * records (5 MB) to be indexed, other connections are served — before,
 * the whole log was parsed in one turn (about 0.7 s) and every other
 * request waited behind it. The answers are those of the whole file, for
 * decisions and select alike, and again after a restart (where the log is
 * indexed in the background).
 */
import { writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { parseLog } from "../daemon/modules/composition/model/decision-log-text.js";
import { formatRecord, makeRecord, queryDecisions } from "../daemon/modules/composition/model/decisions.js";
import { cleanup, sleepTick, startDaemon, type Daemon } from "./harness.js";

const PATTERN = "big_referee";
const LOG = `orchestrations/${PATTERN}_decisions.yaml`;
const RECORDS = 20_000;
const TASK = "Referee a chess tournament between many engines";

let d: Daemon;
let store: string;

beforeAll(async () => {
  d = await startDaemon();
  store = join(d.home, "var", "lib", "compositions");
  const c = await d.client();
  await c.request("composition:save", {
    composition: { name: PATTERN, type: "orchestration", version: "1.0.0", description: "Referee a chess tournament between engines", metadata: { tags: ["chess", "referee"] } },
  });
  // Written straight into the store, as a person's copy or a KSI log would be: the daemon has read none of it.
  const t0 = Date.UTC(2026, 0, 1);
  const items: string[] = [];
  for (let n = 0; n < RECORDS; n++) {
    const record = makeRecord(
      { pattern: PATTERN, decision: `pair by rating, round ${n % 7}`, outcome: n % 3 === 0 ? "failure" : "success", confidence: (n % 10) / 10, context: { round: n % 12, engines: 16 } },
      { now: t0 + n * 60_000, sequence: n, agentId: `orch_${n % 5}`, patternVersion: "1.0.0" },
    );
    items.push(formatRecord(record));
  }
  writeFileSync(join(store, LOG), items.join(""));
}, 60_000);
afterAll(cleanup);

function expected(query: { limit: number; outcome?: string }) {
  const { records, issues } = parseLog(readFileSync(join(store, LOG), "utf8"));
  return { pattern: PATTERN, file: LOG, ...queryDecisions(records, query), ...(issues.length === 0 ? {} : { issues }) };
}

/** Pings on `other` until `reply` settles; how many pings were answered before it. */
async function pingsAnsweredBefore(other: Client, reply: Promise<unknown>): Promise<number> {
  let settled = false;
  void reply.then(
    () => (settled = true),
    () => (settled = true),
  );
  let answered = 0;
  while (!settled) {
    await other.request("system:health");
    if (!settled) answered++;
  }
  return answered;
}

describe("the first read of a long decision log", () => {
  it("serves other connections while the log is indexed, and answers decisions and select as the whole file", async () => {
    const asking = await d.client();
    const other = await d.client();
    const decisions = asking.request<Record<string, unknown>>("composition:decisions", { pattern: PATTERN, outcome: "failure", limit: 5 });
    const select = asking.request<{ candidates: { name: string; reasons: string[] }[] }>("composition:select", { task: TASK });
    // Both requests are read (the daemon is idle) before the first ping is written.
    await sleepTick(20);
    // Before: the log was parsed in the turn that read the request, so every ping came after the reply.
    expect(await pingsAnsweredBefore(other, decisions)).toBeGreaterThan(0);
    expect(await decisions).toEqual(expected({ outcome: "failure", limit: 5 }));
    const failures = Math.ceil(RECORDS / 3);
    const reasons = (await select).candidates.find((candidate) => candidate.name === PATTERN)?.reasons.join(" ");
    expect(reasons).toContain(`decision log: ${RECORDS - failures} success(es), ${failures} failure(s) in ${RECORDS} record(s)`);
    // Once indexed, the daemon's appends are added as they are written.
    await asking.request("composition:track_decision", { pattern: PATTERN, decision: "pair by rating, round 1", outcome: "failure" });
    expect(await asking.request("composition:decisions", { pattern: PATTERN, outcome: "failure", limit: 5 })).toEqual(expected({ outcome: "failure", limit: 5 }));
    await other.request("system:health");
  }, 60_000);

  it("after a restart, the log indexed in the background answers as the whole file", async () => {
    expect((await d.stop()).code).toBe(0);
    d = await startDaemon({ home: d.home });
    const c = await d.client();
    const pings = await d.client();
    const decisions = c.request<Record<string, unknown>>("composition:decisions", { pattern: PATTERN, limit: 3 });
    await pingsAnsweredBefore(pings, decisions);
    expect(await decisions).toEqual(expected({ limit: 3 }));
    await pings.request("system:health");
  }, 60_000);
});
