import { appendFile, mkdtemp, readdir, readFile, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RoutedEvent } from "../../core/bus.js";
import { manualClock, systemClock, type ManualClock } from "../../core/clock.js";
import { silentLog, type Log } from "../../core/log.js";
import { EventLog, type EventRecord } from "./event-log.js";

const DAY1 = Date.UTC(2026, 10, 21, 23, 59, 59, 0);
const DAY2 = Date.UTC(2026, 10, 22, 0, 0, 0, 0);

let dir: string;
const logs: EventLog[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pd-events-"));
});

afterEach(async () => {
  for (const log of logs.splice(0)) await log.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * The log as of the test's own days (DAY1, DAY2): its retention counts days
 * from the clock, and on the system clock those days age out (14 days on).
 */
function open(maxDataBytes = 1024): EventLog {
  const log = new EventLog(dir, maxDataBytes, silentLog(), manualClock(DAY2 + 3_600_000));
  logs.push(log);
  return log;
}

let nextSeq = 1;
function routed(ts: number, event: string, extra: Partial<RoutedEvent> = {}): RoutedEvent {
  return { seq: nextSeq++, ts, event, id: null, agentId: undefined, ok: true, ms: 1.23456, data: {}, ...extra };
}

const all = () => true;

async function fileLines(name: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(dir, name), "utf8");
  expect(text.endsWith("\n")).toBe(true);
  return text
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("EventLog writing", () => {
  it("writes one JSON line per event into the file of its UTC day", async () => {
    const log = open();
    nextSeq = 1;
    log.append(routed(DAY1, "a:one", { id: "r1", agentId: "orch_1", data: { x: 1 } }));
    log.append(routed(DAY1 + 999, "a:two", { ok: false, code: "not_found", id: 7, ms: 0.5 }));
    log.append(routed(DAY2, "a:three", { meta: { schedule_id: "sch_9", late_ms: 3 } }));
    await log.flush();

    expect((await readdir(dir)).sort()).toEqual(["2026-11-21.ndjson", "2026-11-22.ndjson"]);
    expect(await fileLines("2026-11-21.ndjson")).toEqual([
      { ts: "2026-11-21T23:59:59.000Z", seq: 1, event: "a:one", id: "r1", agent_id: "orch_1", ok: true, ms: 1.235, data: { x: 1 } },
      { ts: "2026-11-21T23:59:59.999Z", seq: 2, event: "a:two", id: 7, agent_id: null, ok: false, code: "not_found", ms: 0.5, data: {} },
    ]);
    expect(await fileLines("2026-11-22.ndjson")).toEqual([
      {
        ts: "2026-11-22T00:00:00.000Z",
        seq: 3,
        event: "a:three",
        id: null,
        agent_id: null,
        schedule_id: "sch_9",
        late_ms: 3,
        ok: true,
        ms: 1.235,
        data: {},
      },
    ]);
  });

  it("appends to the day's existing file across restarts", async () => {
    const first = open();
    first.append(routed(DAY1, "a:one"));
    await first.close();
    const second = open();
    second.append(routed(DAY1 + 1, "a:two"));
    await second.flush();
    expect((await fileLines("2026-11-21.ndjson")).map((r) => r.event)).toEqual(["a:one", "a:two"]);
  });

  it.each<[string, unknown, boolean]>([
    ["small data is kept", { text: "short" }, false],
    ["data exactly at the limit is kept", { t: "x".repeat(64 - 8) }, false],
    ["data one byte over the limit is truncated", { t: "x".repeat(64 - 7) }, true],
    ["the limit counts UTF-8 bytes, not characters", { t: "é".repeat(30) }, true],
    ["a large array is truncated", Array.from({ length: 100 }, (_, i) => i), true],
  ])("%s", async (_name, data, truncated) => {
    const limit = 64;
    const log = open(limit);
    log.append(routed(DAY1, "a:big", { data }));
    const [record] = await log.read({ matchesName: all, limit: 10 });
    const json = JSON.stringify(data);
    if (!truncated) {
      expect(record!.data).toEqual(data);
      return;
    }
    const stored = record!.data as { _truncated: boolean; bytes: number; preview: string };
    expect(stored._truncated).toBe(true);
    expect(stored.bytes).toBe(Buffer.byteLength(json));
    expect(Buffer.byteLength(stored.preview)).toBeLessThanOrEqual(limit);
    expect(Buffer.byteLength(stored.preview)).toBeGreaterThan(limit - 4);
    expect(json.startsWith(stored.preview)).toBe(true); // a clean prefix: no broken character
  });
});

describe("EventLog.read", () => {
  /** Ten events a minute apart, starting 5 minutes before midnight (UTC): five on each day. */
  async function tenEvents(log: EventLog): Promise<number[]> {
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const ts = DAY2 - 5 * 60_000 + i * 60_000;
      times.push(ts);
      log.append(routed(ts, i % 2 === 0 ? "even:n" : "odd:n", { data: { i }, agentId: `agent_${i % 3}` }));
    }
    await log.flush();
    return times;
  }

  const indexes = (records: EventRecord[]) => records.map((r) => (r.data as { i: number }).i);

  it.each<[string, (t: number[]) => { since?: number; until?: number; limit: number; matchesName?: (name: string) => boolean; agentId?: string }, number[]]>([
    ["everything, oldest first", () => ({ limit: 100 }), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
    ["limit keeps the newest", () => ({ limit: 3 }), [7, 8, 9]],
    ["limit reaching into the previous day", () => ({ limit: 7 }), [3, 4, 5, 6, 7, 8, 9]],
    ["matches filters before the limit", () => ({ limit: 3, matchesName: (name) => name === "even:n" }), [4, 6, 8]],
    ["matches by agent", () => ({ limit: 100, agentId: "agent_1" }), [1, 4, 7]],
    ["since is inclusive", (t) => ({ since: t[6]!, limit: 100 }), [6, 7, 8, 9]],
    ["until is inclusive", (t) => ({ until: t[2]!, limit: 100 }), [0, 1, 2]],
    ["since and until across midnight", (t) => ({ since: t[3]!, until: t[6]!, limit: 100 }), [3, 4, 5, 6]],
    ["since and until inside the first day", (t) => ({ since: t[1]!, until: t[2]! + 1, limit: 100 }), [1, 2]],
    ["until before everything", (t) => ({ until: t[0]! - 1, limit: 100 }), []],
    ["since after everything", (t) => ({ since: t[9]! + 1, limit: 100 }), []],
    ["limit with since", (t) => ({ since: t[2]!, limit: 2 }), [8, 9]],
  ])("%s", async (_name, query, expected) => {
    const log = open();
    const times = await tenEvents(log);
    const { matchesName = all, ...rest } = query(times);
    expect(indexes(await log.read({ matchesName, ...rest }))).toEqual(expected);
  });

  it("on a full disk drops and counts records instead of throwing, and writes again once it can", async () => {
    const day = Date.UTC(2026, 10, 21, 12);
    await symlink("/dev/full", join(dir, "2026-11-21.ndjson"));
    const log = open();
    log.append(routed(day, "a:one"));
    log.append(routed(day, "a:two"));
    await expect(log.flush()).resolves.toBeUndefined();
    expect(log.dropped).toBe(2);
    // The next day's file is a real one: records are written again, the count kept.
    await unlink(join(dir, "2026-11-21.ndjson"));
    log.append(routed(day + 86_400_000, "a:three"));
    await log.flush();
    expect((await fileLines("2026-11-22.ndjson")).map((r) => r.event)).toEqual(["a:three"]);
    expect(log.dropped).toBe(2);
  });

  it("sees events appended just before the read", async () => {
    const log = open();
    log.append(routed(DAY1, "a:one"));
    expect((await log.read({ matchesName: all, limit: 10 })).map((r) => r.event)).toEqual(["a:one"]);
  });

  it("returns nothing when the directory is empty or missing", async () => {
    expect(await open().read({ matchesName: all, limit: 10 })).toEqual([]);
    const missing = new EventLog(join(dir, "nope"), 1024, silentLog(), systemClock());
    expect(await missing.read({ matchesName: all, limit: 10 })).toEqual([]);
  });

  it("reads a file much larger than its read chunk, lines spanning chunk boundaries", async () => {
    const log = open(4096);
    nextSeq = 1;
    const count = 700;
    for (let i = 0; i < count; i++) log.append(routed(DAY1 - count + i, "a:n", { data: { i, pad: "ü".repeat(i % 150) } }));
    const records = await log.read({ matchesName: all, limit: 10_000 });
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    expect(records.every((r, i) => (r.data as { pad: string }).pad === "ü".repeat(i % 150))).toBe(true);
  });

  it("skips a torn last line left by a crash", async () => {
    const good = (seq: number) =>
      JSON.stringify({ ts: new Date(DAY1 + seq).toISOString(), seq, event: "a:n", id: null, agent_id: null, ok: true, ms: 0, data: {} });
    await writeFile(join(dir, "2026-11-21.ndjson"), `${good(1)}\n${good(2)}\n{"ts":"2026-11-21T23:59:59.003Z","seq":3,"ev`);
    const log = open();
    expect((await log.read({ matchesName: all, limit: 10 })).map((r) => r.seq)).toEqual([1, 2]);
  });

  it("keeps the first record written after a torn last line", async () => {
    await appendFile(join(dir, "2026-11-21.ndjson"), '{"ts":"2026-11-21T00:00:00.000Z","seq":1,"event":"a:n","da');
    const log = open();
    nextSeq = 10;
    log.append(routed(DAY1, "a:after"));
    log.append(routed(DAY1 + 1, "a:after2"));
    expect((await log.read({ matchesName: all, limit: 10 })).map((r) => r.event)).toEqual(["a:after", "a:after2"]);
  });
});

describe("EventLog retention", () => {
  const TODAY = Date.UTC(2026, 2, 10, 12);
  const KB = 1024;

  /** A day file of about `bytes` bytes, `daysAgo` days before TODAY. */
  async function dayFile(daysAgo: number, bytes: number): Promise<string> {
    const name = `${new Date(TODAY - daysAgo * 86_400_000).toISOString().slice(0, 10)}.ndjson`;
    const record = `{"ts":"${new Date(TODAY - daysAgo * 86_400_000).toISOString()}","seq":1,"event":"old:n","id":null,"agent_id":null,"ok":true,"ms":0,"data":{"pad":"`;
    await writeFile(join(dir, name), `${record}${"x".repeat(Math.max(0, bytes - record.length - 4))}"}}\n`);
    return name;
  }

  function retained(clock: ManualClock, maxBytes: number, maxDays: number, lines: string[] = []): EventLog {
    const log = new EventLog(dir, 1024, capture(lines), clock, { maxBytes, maxDays });
    logs.push(log);
    return log;
  }

  it("at start deletes the files past the age cap, then the oldest past the size cap, and logs each", async () => {
    const ancient = await dayFile(30, 10 * KB);
    const expired = await dayFile(14, 10 * KB);
    const oldest = await dayFile(5, 40 * KB);
    const kept = [await dayFile(3, 40 * KB), await dayFile(1, 40 * KB), await dayFile(0, 40 * KB)];
    await writeFile(join(dir, "notes.txt"), "not a day file: never touched");
    const lines: string[] = [];
    await retained(manualClock(TODAY), 130 * KB, 14, lines).start();
    expect((await readdir(dir)).sort()).toEqual([...kept, "notes.txt"].sort());
    const deleted = lines.map((text) => JSON.parse(text) as { msg: string; file: string; reason: string }).filter((entry) => entry.msg.startsWith("event log day file deleted"));
    expect(deleted.map((entry) => [entry.file, entry.reason])).toEqual([
      [join(dir, ancient), "age"],
      [join(dir, expired), "age"],
      [join(dir, oldest), "size"],
    ]);
  });

  it("never deletes today's file, even alone over the size cap", async () => {
    const today = await dayFile(0, 50 * KB);
    await dayFile(1, 1 * KB);
    const clock = manualClock(TODAY);
    const log = retained(clock, 10 * KB, 14);
    await log.start();
    expect(await readdir(dir)).toEqual([today]);
    log.append(routed(TODAY + 1, "new:n"));
    await log.flush();
    expect((await log.read({ matchesName: all, limit: 10 })).map((r) => r.event)).toEqual(["old:n", "new:n"]);
  });

  it("checks again once a sixteenth of the size cap has been written", async () => {
    const yesterday = await dayFile(1, 60 * KB);
    const clock = manualClock(TODAY);
    const log = retained(clock, 64 * KB, 14);
    await log.start();
    expect(await readdir(dir)).toEqual([yesterday]);
    for (let i = 0; i < 10; i++) log.append(routed(TODAY + i, "new:n", { data: { pad: "y".repeat(500) } }));
    await log.flush();
    await vi.waitFor(async () => expect(await readdir(dir)).toEqual(["2026-03-10.ndjson"]));
  });

  it("checks on a new day and every hour: the day written yesterday goes once it is past the age cap", async () => {
    const clock = manualClock(TODAY);
    const log = retained(clock, 100 * 1024 * KB, 2);
    await log.start();
    log.append(routed(TODAY, "day:one"));
    await log.flush();
    // Tomorrow: yesterday's file is within two days, kept.
    clock.advance(86_400_000);
    log.append(routed(clock.now(), "day:two"));
    await log.flush();
    // The day after: the first file is two days old; the hourly check finds it without a write.
    clock.advance(86_400_000);
    await vi.waitFor(async () => expect((await readdir(dir)).sort()).toEqual(["2026-03-11.ndjson"]));
    // A write on the new day rotates and checks again: the file of the 11th is now within the cap, kept.
    log.append(routed(clock.now(), "day:three"));
    await log.flush();
    expect((await readdir(dir)).sort()).toEqual(["2026-03-11.ndjson", "2026-03-12.ndjson"]);
  });
});

/** A pino logger writing its lines into `lines`. */
function capture(lines: string[]): Log {
  return pino({ level: "info" }, { write: (text: string) => void lines.push(text) });
}
