/**
 * The event log's retention and indexed queries against a real daemon
 * (issue 22): day files past the age cap or over the size cap deleted at
 * start and logged in daemon.log, today's file never; the settings checked;
 * and monitor:get_events answering what a scan of every line answers, over
 * many files written before the start.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileGlobs } from "../daemon/core/glob.js";
import { cleanup, makeHome, readJsonLines, spawnDaemon, startDaemon } from "./harness.js";

afterAll(cleanup);

const DAY_MS = 86_400_000;
/** Noon (UTC) `daysAgo` days before today: away from midnight, whenever the test runs. */
const noon = (daysAgo: number) => Math.floor(Date.now() / DAY_MS) * DAY_MS + DAY_MS / 2 - daysAgo * DAY_MS;
const dayOf = (ts: number) => new Date(ts).toISOString().slice(0, 10);

interface LogRecord {
  ts: string;
  seq: number;
  event: string;
  agent_id: string | null;
  data: unknown;
}

/** A record line exactly as the daemon writes it. */
function line(seq: number, ts: number, event: string, agentId: string | null, data: unknown): string {
  return `{"ts":"${new Date(ts).toISOString()}","seq":${seq},"event":"${event}","id":${seq},"agent_id":${JSON.stringify(agentId)},"ok":true,"ms":0.3,"data":${JSON.stringify(data)}}\n`;
}

/** Writes a day file `daysAgo` days back of about `bytes` bytes; returns its name. */
async function dayFile(home: string, daysAgo: number, bytes: number, event = "old:n"): Promise<string> {
  const dir = join(home, "var", "log", "events");
  await mkdir(dir, { recursive: true });
  let text = "";
  for (let seq = 1; text.length < bytes; seq++) text += line(seq, noon(daysAgo) - 3_600_000 + seq, event, null, { pad: "x".repeat(400) });
  const name = `${dayOf(noon(daysAgo))}.ndjson`;
  await writeFile(join(dir, name), text);
  return name;
}

async function deletions(home: string): Promise<[string, unknown][]> {
  const entries = await readJsonLines(join(home, "var", "log", "daemon.log"));
  return entries.filter((entry) => String(entry.msg).startsWith("event log day file deleted")).map((entry) => [String(entry.file).split("/").at(-1)!, entry.reason]);
}

describe("retention at start", () => {
  it("deletes the day files past the age cap and logs each; younger ones stay", async () => {
    const home = await makeHome();
    const ancient = await dayFile(home, 40, 2_000);
    const expired = await dayFile(home, 3, 2_000);
    const kept = [await dayFile(home, 2, 2_000), await dayFile(home, 1, 2_000), await dayFile(home, 0, 2_000)];
    const daemon = await startDaemon({ home, env: { PATTERND_EVENT_LOG_MAX_DAYS: "3" } });
    expect((await readdir(join(home, "var", "log", "events"))).sort()).toEqual(kept);
    expect(await deletions(home)).toEqual([
      [ancient, "age"],
      [expired, "age"],
    ]);
    const client = await daemon.client();
    expect((await client.request<{ events: LogRecord[] }>("monitor:get_events", { patterns: ["old:*"], limit: 1 })).events).toHaveLength(1);
  });

  it("deletes the oldest files past the size cap, never today's, even when it alone is over the cap", async () => {
    const home = await makeHome();
    const older = [await dayFile(home, 4, 100_000), await dayFile(home, 3, 100_000), await dayFile(home, 2, 100_000)];
    const yesterday = await dayFile(home, 1, 100_000);
    const today = await dayFile(home, 0, 300_000, "today:n");
    const daemon = await startDaemon({ home, env: { PATTERND_EVENT_LOG_MAX_MB: "0.4" } });
    // 700 KB against a cap of 400 KB (419 430 bytes): the three oldest go, yesterday's fits beside today's.
    expect((await readdir(join(home, "var", "log", "events"))).sort()).toEqual([yesterday, today]);
    expect(await deletions(home)).toEqual(older.map((name) => [name, "size"]));

    const client = await daemon.client();
    await client.request("event:emit", { event: "after:start", data: { n: 1 } });
    const { events } = await client.request<{ events: LogRecord[] }>("monitor:get_events", { patterns: ["today:*", "after:*"], limit: 2 });
    expect(events.map((record) => record.event)).toEqual(["today:n", "after:start"]);
  });

  it.each([
    [{ PATTERND_EVENT_LOG_MAX_MB: "lots" }, 'PATTERND_EVENT_LOG_MAX_MB must be a positive number of megabytes, e.g. 256 or 0.5 (got "lots")'],
    [{ PATTERND_EVENT_LOG_MAX_DAYS: "0" }, 'PATTERND_EVENT_LOG_MAX_DAYS must be a positive whole number of days, e.g. 14 (got "0")'],
  ])("refuses to start with %j, saying what it takes, and deletes nothing", async (env, message) => {
    const home = await makeHome();
    const old = await dayFile(home, 100, 1_000);
    const proc = spawnDaemon(home, [], env);
    expect((await proc.waitExit()).code).toBe(2);
    expect(proc.stderr()).toContain(message);
    expect(await readdir(join(home, "var", "log", "events"))).toEqual([old]);
  });
});

describe("monitor:get_events over many day files", () => {
  /** Ten days of 2 000 records each (about 1 MB a day), mostly `work:*`; `rare:event` once a day; agents orch_0..4. */
  async function history(home: string): Promise<void> {
    const dir = join(home, "var", "log", "events");
    await mkdir(dir, { recursive: true });
    let seq = 0;
    for (let daysAgo = 10; daysAgo >= 1; daysAgo--) {
      let text = "";
      for (let i = 0; i < 2_000; i++) {
        seq++;
        const event = i === 1_000 ? "rare:event" : `work:${["plan", "act", "check"][i % 3]}`;
        text += line(seq, noon(daysAgo) - 4 * 3_600_000 + i * 1_000, event, `orch_${seq % 5}`, { seq, note: "n".repeat(300 + (seq % 200)) });
      }
      await writeFile(join(dir, `${dayOf(noon(daysAgo))}.ndjson`), text);
    }
  }

  /** Every line of every file parsed and filtered: what get_events answered before it had an index. */
  async function fullScan(home: string, query: { patterns?: string[]; agent_id?: string; since?: number; until?: number; limit?: number }): Promise<LogRecord[]> {
    const dir = join(home, "var", "log", "events");
    const matches = query.patterns === undefined ? () => true : compileGlobs(query.patterns);
    const found: LogRecord[] = [];
    for (const name of (await readdir(dir)).sort()) {
      for (const text of (await readFile(join(dir, name), "utf8")).split("\n")) {
        if (text === "") continue;
        const record = JSON.parse(text) as LogRecord;
        const ts = Date.parse(record.ts);
        if (query.since !== undefined && ts < query.since) continue;
        if (query.until !== undefined && ts > query.until) continue;
        if (query.agent_id !== undefined && record.agent_id !== query.agent_id) continue;
        if (matches(record.event)) found.push(record);
      }
    }
    return found.slice(Math.max(0, found.length - (query.limit ?? 100)));
  }

  it("answers each filter with what a scan of every line finds; a filter matching nothing answers []", async () => {
    const home = await makeHome();
    await history(home);
    const daemon = await startDaemon({ home });
    const client = await daemon.client();
    // `until` keeps the daemon's own records of today (these very requests) out of the comparison.
    const before = noon(0) - DAY_MS / 2;
    /** Each query, with how many records it finds. */
    const queries: [Parameters<typeof fullScan>[1], number][] = [
      [{ patterns: ["nothing:*"] }, 0],
      [{ patterns: ["nothing:*"], limit: 10_000 }, 0],
      [{ patterns: ["rare:*"] }, 10],
      [{ patterns: ["rare:event"], limit: 3 }, 3],
      [{ patterns: ["work:check"], limit: 1_000 }, 1_000],
      [{ patterns: ["work:*", "rare:*"], agent_id: "orch_3", limit: 2_500 }, 2_500],
      [{ agent_id: "nobody", until: before }, 0],
      [{ until: before }, 100],
      [{ until: before, limit: 5_000 }, 5_000],
      [{ patterns: ["rare:*", "work:plan"], since: noon(6), until: noon(4), limit: 10_000 }, 2 + 2 * 667],
      [{ patterns: ["**"], since: noon(3) - 4 * 3_600_000 + 500_000, until: noon(3) - 4 * 3_600_000 + 600_000 }, 100],
    ];
    for (const [query, count] of queries) {
      const { events } = await client.request<{ events: LogRecord[] }>("monitor:get_events", query);
      expect(events, JSON.stringify(query)).toEqual(await fullScan(home, query));
      expect(events, JSON.stringify(query)).toHaveLength(count);
    }
    // Without `until`: today's records (the daemon's own) come last, newest last, as before.
    const { events } = await client.request<{ events: LogRecord[] }>("monitor:get_events", { limit: 3 });
    expect(events.at(-1)!.event).toBe("monitor:get_events");
    expect(Date.parse(events.at(-1)!.ts)).toBeGreaterThan(before);
  });
});
