import { mkdtemp, readdir, readFile, rm, truncate, writeFile, appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { compileGlobs } from "../../core/glob.js";
import { EventLogReader, type EventQuery, type EventRecord } from "./event-log-reader.js";

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pd-reader-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const DAY_MS = 86_400_000;
const T0 = Date.UTC(2026, 2, 8);

/** A record line as EventLog writes it. */
function line(seq: number, ts: number, event: string, agentId: string | null, data: unknown): string {
  return `{"ts":"${new Date(ts).toISOString()}","seq":${seq},"event":${JSON.stringify(event)},"id":${seq},"agent_id":${JSON.stringify(agentId)},"ok":true,"ms":0.2,"data":${JSON.stringify(data)}}\n`;
}

/**
 * Three days of 1 500 records each (about 500 KB a day: several blocks per
 * file), mostly `work:*` by four agents, a few `rare:event` here and there,
 * and one torn line in the middle of the second day (a crash, then writing went on).
 */
let logTexts: string[] | null = null;
async function writeLog(): Promise<void> {
  logTexts ??= logText();
  for (const [day, text] of logTexts.entries()) await writeFile(join(dir, `${new Date(T0 + day * DAY_MS).toISOString().slice(0, 10)}.ndjson`), text);
}

function logText(): string[] {
  const texts: string[] = [];
  let seq = 0;
  for (let day = 0; day < 3; day++) {
    let text = "";
    for (let i = 0; i < 1_500; i++) {
      seq++;
      const ts = T0 + day * DAY_MS + i * 50_000;
      const event = seq % 701 === 0 ? "rare:event" : `work:${["a", "b", "c"][seq % 3]}`;
      text += line(seq, ts, event, `agent_${seq % 4}`, { seq, pad: "p".repeat(200 + (seq % 50)) });
      if (day === 1 && i === 700) text += `{"ts":"${new Date(ts).toISOString()}","seq":0,"event":"work:a","id":null,"agent_id":"agent_0","ok":tr\n`;
    }
    texts.push(text);
  }
  return texts;
}

/** What get_events answered before the index: every line of every file parsed and filtered, the newest `limit`, newest last. */
async function fullScan(query: EventQuery): Promise<EventRecord[]> {
  const all: EventRecord[] = [];
  for (const name of (await readdir(dir)).sort()) {
    for (const text of (await readFile(join(dir, name), "utf8")).split("\n")) {
      let record: EventRecord;
      try {
        record = JSON.parse(text) as EventRecord;
      } catch {
        continue;
      }
      const ts = Date.parse(record.ts);
      if (query.since !== undefined && ts < query.since) continue;
      if (query.until !== undefined && ts > query.until) continue;
      if (query.agentId !== undefined && record.agent_id !== query.agentId) continue;
      if (query.matchesName(record.event)) all.push(record);
    }
  }
  return all.slice(Math.max(0, all.length - query.limit));
}

const glob = (...patterns: string[]) => compileGlobs(patterns);

describe("EventLogReader answers what a full scan answers", () => {
  it.each<[string, EventQuery]>([
    ["everything, default limit", { matchesName: () => true, limit: 100 }],
    ["everything, more than one day", { matchesName: () => true, limit: 2_000 }],
    ["everything there is", { matchesName: () => true, limit: 10_000 }],
    ["a name that matches nothing", { matchesName: glob("nothing:*"), limit: 100 }],
    ["a rare name, fewer than the limit", { matchesName: glob("rare:*"), limit: 100 }],
    ["a rare name, limit 2", { matchesName: glob("rare:event"), limit: 2 }],
    ["one of three names", { matchesName: glob("work:b"), limit: 700 }],
    ["an agent", { matchesName: () => true, agentId: "agent_2", limit: 500 }],
    ["an agent nobody is", { matchesName: () => true, agentId: "agent_9", limit: 500 }],
    ["a name and an agent", { matchesName: glob("work:*"), agentId: "agent_1", limit: 50 }],
    ["since, inside the second day", { matchesName: () => true, since: T0 + DAY_MS + 600 * 50_000, limit: 10_000 }],
    ["until, inside the second day", { matchesName: () => true, until: T0 + DAY_MS + 600 * 50_000, limit: 300 }],
    ["a window across midnight", { matchesName: glob("work:a", "rare:*"), since: T0 + 1_400 * 50_000, until: T0 + DAY_MS + 100 * 50_000, limit: 10_000 }],
    ["a window with nothing in it", { matchesName: () => true, since: T0 - 10 * DAY_MS, until: T0 - DAY_MS, limit: 10 }],
  ])("%s", async (_name, query) => {
    await writeLog();
    const expected = await fullScan(query);
    const reader = new EventLogReader(dir);
    expect(await reader.read(query)).toEqual(expected);
    // Again, through the index the first read built.
    expect(await reader.read(query)).toEqual(expected);
  });

  it("sees lines appended after the index was built, and a last line only once it is whole", async () => {
    await writeLog();
    const reader = new EventLogReader(dir);
    const rare = { matchesName: glob("rare:*"), limit: 100 };
    const before = await reader.read(rare);
    const file = join(dir, "2026-03-10.ndjson");
    const late = line(9_001, T0 + 3 * DAY_MS - 1, "rare:event", "agent_0", { late: true });
    await appendFile(file, late.slice(0, 40));
    expect(await reader.read(rare)).toEqual(before);
    await appendFile(file, late.slice(40));
    const after = await reader.read(rare);
    expect(after).toEqual([...before, JSON.parse(late)]);
    expect(after).toEqual(await fullScan(rare));
  });

  it("summarises anew a file a person cut short or replaced", async () => {
    await writeLog();
    const reader = new EventLogReader(dir);
    const everything = { matchesName: () => true, limit: 10_000 };
    await reader.read(everything);
    const file = join(dir, "2026-03-10.ndjson");
    await truncate(file, 0);
    await writeFile(file, line(1, T0 + 2 * DAY_MS, "edited:by_hand", null, {}));
    expect(await reader.read({ matchesName: glob("edited:*"), limit: 10 })).toEqual(await fullScan({ matchesName: glob("edited:*"), limit: 10 }));
    expect(await reader.read(everything)).toEqual(await fullScan(everything));
  });

  it("warm indexes every file; a file deleted since is skipped", async () => {
    await writeLog();
    const reader = new EventLogReader(dir);
    await reader.warm();
    await rm(join(dir, "2026-03-08.ndjson"));
    reader.forget("2026-03-08");
    const query = { matchesName: () => true, limit: 10_000 };
    expect(await reader.read(query)).toEqual(await fullScan(query));
  });
});
