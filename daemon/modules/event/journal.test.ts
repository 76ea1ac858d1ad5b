import { readFileSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { silentLog } from "../../core/log.js";
import { Journal, type JournalRecord } from "./journal.js";
import type { Schedule } from "./schedule-book.js";

let dir: string;
let path: string;
const opened: Journal[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "patternd-journal-"));
  path = join(dir, "schedule.ndjson");
});
afterEach(async () => {
  vi.restoreAllMocks();
  for (const journal of opened.splice(0)) await journal.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

function schedule(id: string, extra: Partial<Schedule> = {}): Schedule {
  return { schedule_id: id, event: "test:fired", data: { id }, fire_at: 1_000, created_at: 1, ...extra };
}

const add = (s: Schedule): JournalRecord => ({ op: "add", ...s });
const done = (id: string): JournalRecord => ({ op: "done", schedule_id: id });
const cancel = (id: string): JournalRecord => ({ op: "cancel", schedule_id: id });

async function openJournal(isQuiet: () => boolean = () => true) {
  const result = await Journal.open(path, { isQuiet, log: silentLog() });
  opened.push(result.journal);
  return result;
}

/** Closes, then opens the same file again: what a restart would replay. */
async function reopen(journal: Journal) {
  await journal.close();
  opened.splice(opened.indexOf(journal), 1);
  return openJournal();
}

async function lines(): Promise<unknown[]> {
  const text = await readFile(path, "utf8");
  if (text !== "") expect(text.endsWith("\n")).toBe(true);
  return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as unknown);
}

describe("Journal", () => {
  it("opens a missing file as empty and creates it", async () => {
    const { replay } = await openJournal();
    expect(replay).toEqual({ schedules: [], records: 0, skipped: 0 });
    expect(await readFile(path, "utf8")).toBe("");
  });

  it("replays appended adds after a reopen, in journal order, with every field", async () => {
    const { journal } = await openJournal();
    const a = schedule("a", { fire_at: 3_000, key: "k", condition: { "==": [1, 1] }, agent_id: "agent-1", data: { x: [1, { y: null }] } });
    const b = schedule("b", { fire_at: 2_000 });
    await journal.append([add(a)]);
    await journal.append([add(b)]);
    const { replay } = await reopen(journal);
    expect(replay.schedules).toEqual([a, b]);
    expect(replay).toMatchObject({ records: 2, skipped: 0 });
    // The replayed schedules are plain schedules, without the record's op.
    expect(replay.schedules[0]).not.toHaveProperty("op");
  });

  it("cancel and done records remove their schedule", async () => {
    const { journal } = await openJournal();
    await journal.append([add(schedule("a")), add(schedule("b")), add(schedule("c"))]);
    await journal.append([cancel("b"), done("c")]);
    const { replay } = await reopen(journal);
    expect(replay.schedules.map((s) => s.schedule_id)).toEqual(["a"]);
    expect(replay.records).toBe(5);
  });

  it("a later add with the same key replaces the earlier one; cancelling it does not bring the earlier back", async () => {
    const { journal } = await openJournal();
    await journal.append([add(schedule("a", { key: "k" })), add(schedule("x", { key: "other" })), add(schedule("b", { key: "k" }))]);
    const second = await reopen(journal);
    expect(second.replay.schedules.map((s) => s.schedule_id)).toEqual(["x", "b"]);
    await second.journal.append([cancel("b")]);
    const third = await reopen(second.journal);
    expect(third.replay.schedules.map((s) => s.schedule_id)).toEqual(["x"]);
  });

  it("a torn last line is skipped and counted, and later appends do not join it", async () => {
    const a = schedule("a");
    const b = schedule("b");
    await writeFile(path, JSON.stringify(add(a)) + "\n" + JSON.stringify(add(b)) + "\n" + JSON.stringify(cancel("a")) + "\n" + '{"op":"add","schedule_id":"torn","ev');
    const { journal, replay } = await openJournal();
    expect(replay).toEqual({ schedules: [b], records: 3, skipped: 1 });
    const c = schedule("c");
    await journal.append([add(c)]);
    const second = await reopen(journal);
    expect(second.replay).toEqual({ schedules: [b, c], records: 2, skipped: 0 });
  });

  it("open rewrites the file with only the live schedules, atomically (no temp file left)", async () => {
    const a = schedule("a", { key: "k" });
    const b = schedule("b", { key: "k" });
    const c = schedule("c");
    const d = schedule("d");
    const records = [add(a), add(c), add(b), add(d), done("c"), cancel("nobody")];
    await writeFile(path, records.map((r) => JSON.stringify(r) + "\n").join(""));
    const { replay } = await openJournal();
    expect(replay.records).toBe(6);
    expect(await lines()).toEqual([add(b), add(d)]);
    expect(await readdir(dir)).toEqual(["schedule.ndjson"]);
  });

  it("does not compact at 10 000 + 2 × live appended records", async () => {
    const live = [schedule("live-1"), schedule("live-2", { key: "k" })];
    const { journal } = await openJournal();
    await journal.append(live.map(add));
    await journal.append(Array.from({ length: 10_002 }, (_, i) => done(`gone-${i}`)));
    // close() waits for the drain, including any compaction it started.
    opened.splice(opened.indexOf(journal), 1);
    await journal.close();
    expect(await lines()).toHaveLength(10_004);
  });

  it("compacts to the live adds once more than 10 000 + 2 × live records were appended", async () => {
    const live = [schedule("live-1"), schedule("live-2", { key: "k" })];
    const { journal } = await openJournal();
    await journal.append(live.map(add));
    await journal.append(Array.from({ length: 10_003 }, (_, i) => done(`gone-${i}`)));
    // Queued behind the compaction that the previous batch started: it goes to the new file.
    await journal.append([cancel("after")]);
    expect(await lines()).toEqual([...live.map(add), cancel("after")]);
    expect(await readdir(dir)).toEqual(["schedule.ndjson"]);

    const { replay } = await reopen(journal);
    expect(replay.schedules).toEqual(live);
  });

  it("puts compaction off while something is about to fire, but not forever", async () => {
    let quiet = false;
    const live = [schedule("live-1")];
    const { journal } = await openJournal(() => quiet);
    await journal.append(live.map(add));
    await journal.append(Array.from({ length: 10_003 }, (_, i) => done(`gone-${i}`)));
    expect(await lines()).toHaveLength(10_004); // due soon: not now
    quiet = true;
    await journal.append([done("gone-x")]);
    // Queued behind the compaction that batch started: it lands in the new file.
    await journal.append([done("after")]);
    expect(await lines()).toEqual([...live.map(add), done("after")]);

    quiet = false;
    // Past four times the threshold it compacts even when never quiet.
    await journal.append(Array.from({ length: 4 * (10_000 + 2) + 2 }, (_, i) => done(`more-${i}`)));
    await journal.append([done("last")]);
    expect(await lines()).toEqual([...live.map(add), done("last")]);
  });

  it("an append of no records resolves at once", async () => {
    const { journal } = await openJournal();
    let resolved = false;
    void journal.append([]).then(() => (resolved = true));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(resolved).toBe(true);
    await journal.append([add(schedule("a"))]);
    expect(await lines()).toEqual([add(schedule("a"))]);
  });

  it("a record is in the file when append returns; its promise resolves once synced", async () => {
    const { journal } = await openJournal();
    const resolved: string[] = [];
    const appends = Array.from({ length: 100 }, (_, i) => journal.append([add(schedule(`s${i}`))]).then(() => void resolved.push(`s${i}`)));
    // Written synchronously, in call order, before any sync has happened.
    const written = readFileSync(path, "utf8").trim().split("\n").map((line) => (JSON.parse(line) as { schedule_id: string }).schedule_id);
    expect(written).toEqual(Array.from({ length: 100 }, (_, i) => `s${i}`));
    expect(resolved).toHaveLength(0);
    await Promise.all(appends);
    expect(resolved).toHaveLength(100);
  });

  it("appendNow writes before it returns (what a fire relies on), and throws once closed", async () => {
    const { journal } = await openJournal();
    journal.appendNow([add(schedule("a")), done("a")]);
    expect(readFileSync(path, "utf8")).toContain('"op":"done","schedule_id":"a"');
    opened.splice(opened.indexOf(journal), 1);
    await journal.close();
    expect(() => journal.appendNow([done("b")])).toThrow(/closed/);
  });

  it("close waits for queued appends", async () => {
    const { journal } = await openJournal();
    let written = false;
    const appended = journal.append([add(schedule("a")), add(schedule("b"))]).then(() => (written = true));
    opened.splice(opened.indexOf(journal), 1);
    await journal.close();
    expect(written).toBe(true);
    await appended;
    expect(await lines()).toEqual([add(schedule("a")), add(schedule("b"))]);
  });

  it("an append after close rejects instead of hanging", async () => {
    const { journal } = await openJournal();
    opened.splice(opened.indexOf(journal), 1);
    await journal.close();
    await expect(journal.append([add(schedule("late"))])).rejects.toThrow();
  });
});
