import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { silentLog, type Log } from "../../core/log.js";
import { DAMAGED_COPIES_KEPT, Journal, readJournal, type JournalRecord } from "./journal.js";
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

/** The daemon's clock at open: names the copy of a damaged journal. */
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const COPY = "schedule.ndjson.damaged-20260102T030405.678Z";

async function openJournal(isQuiet: () => boolean = () => true, log: Log = silentLog()) {
  const result = await Journal.open(path, { isQuiet, log, now: () => NOW });
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

/** Waits for the compaction under way to put a file with `expected` in place (it runs off the loop), and for its temp file to go. */
async function compacted(expected: unknown[]): Promise<void> {
  await vi.waitFor(
    async () => {
      expect(await lines()).toEqual(expected);
      expect((await readdir(dir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
    },
    { timeout: 20_000, interval: 20 },
  );
}

describe("Journal", () => {
  it("opens a missing file as empty and creates it", async () => {
    const { replay } = await openJournal();
    expect(replay).toEqual({ schedules: [], records: 0, skipped: 0, damaged: [] });
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
    expect(replay).toMatchObject({ schedules: [b], records: 3, skipped: 1 });
    const c = schedule("c");
    await journal.append([add(c)]);
    const second = await reopen(journal);
    expect(second.replay).toEqual({ schedules: [b, c], records: 2, skipped: 0, damaged: [] });
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
    // Appended while the compaction that the previous batch started runs: carried into the new file.
    await journal.append([cancel("after")]);
    await compacted([...live.map(add), cancel("after")]);
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
    // Appended while the compaction that batch started runs: it lands in the new file.
    await journal.append([done("after")]);
    await compacted([...live.map(add), done("after")]);

    quiet = false;
    // Past four times the threshold it compacts even when never quiet.
    await journal.append(Array.from({ length: 4 * (10_000 + 2) + 2 }, (_, i) => done(`more-${i}`)));
    await journal.append([done("last")]);
    await compacted([...live.map(add), done("last")]);
  });

  it("does not compact while a burst fires, not even past the forced threshold; it does right after", async () => {
    let bursting = true;
    const live = [schedule("live-1")];
    const result = await Journal.open(path, { isQuiet: () => false, isBursting: () => bursting, log: silentLog(), now: () => NOW });
    const { journal } = result;
    opened.push(journal);
    await journal.append(live.map(add));
    const past = 4 * (10_000 + 2) + 2;
    await journal.append(Array.from({ length: past }, (_, i) => done(`gone-${i}`)));
    await journal.append([done("during")]);
    expect(await lines()).toHaveLength(past + 2);
    bursting = false;
    await journal.append([done("over")]);
    // Appended while the compaction that batch started runs: it lands in the new file.
    await journal.append([done("after")]);
    await compacted([...live.map(add), done("after")]);
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

describe("Journal over a damaged file", () => {
  /** A real pino logger whose JSON lines are kept in memory. */
  function memoryLog(): { log: Log; records: Record<string, unknown>[] } {
    const records: Record<string, unknown>[] = [];
    const log = pino({ level: "info" }, { write: (line: string) => void records.push(JSON.parse(line) as Record<string, unknown>) });
    return { log, records };
  }

  const a = schedule("a", { data: { note: "café ☕" } });
  const b = schedule("b", { key: "k" });
  const c = schedule("c");
  const badFields = JSON.stringify({ ...add(schedule("bad")), fire_at: "soon" });
  /** Each line as bytes: valid records, a garbage line, a record with a text fire_at, bytes that are not UTF-8, null, and a torn last line. */
  const damagedLines: Buffer[] = [
    Buffer.from(JSON.stringify(add(a)) + "\n"),
    Buffer.from("#!%garbage{{ not a record\n"),
    Buffer.from(JSON.stringify(add(b)) + "\n"),
    Buffer.from(badFields + "\n"),
    Buffer.concat([Buffer.from('{"op":"add","schedule_id":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]),
    Buffer.from("null\n"),
    Buffer.from(JSON.stringify(add(c)) + "\n"),
    Buffer.from('{"op":"add","schedule_id":"torn","ev'),
  ];
  const damagedFile = Buffer.concat(damagedLines);
  /** Byte offset of line `n` (1-based). */
  const offsetOf = (n: number) => damagedLines.slice(0, n - 1).reduce((sum, line) => sum + line.length, 0);

  it("skips each bad line with its line number, byte offset, excerpt and problem; the rest replays", async () => {
    await writeFile(path, damagedFile);
    const { replay } = await openJournal();
    expect(replay.schedules).toEqual([a, b, c]);
    expect(replay.records).toBe(3);
    expect(replay.skipped).toBe(5);
    expect(replay.damaged).toEqual([
      { line: 2, offset: offsetOf(2), excerpt: "#!%garbage{{ not a record", problem: expect.stringMatching(/^not JSON: /) },
      { line: 4, offset: offsetOf(4), excerpt: `${badFields.slice(0, 80)}…`, problem: 'fire_at must be a number of epoch milliseconds (got "soon")' },
      { line: 5, offset: offsetOf(5), excerpt: '{"op":"add","schedule_id":"\uFFFD\uFFFD"}', problem: "not UTF-8 text" },
      { line: 6, offset: offsetOf(6), excerpt: "null", problem: "not a record object: null" },
      { line: 8, offset: offsetOf(8), excerpt: '{"op":"add","schedule_id":"torn","ev', problem: expect.stringMatching(/^the last line has no end \(torn by a crash\?\): not JSON: /) },
    ]);
    // byte offsets, not character offsets: line 1 holds multi-byte characters
    expect(offsetOf(2)).toBeGreaterThan(damagedLines[0]!.toString("utf8").length);
  });

  it("keeps a byte-identical copy beside the journal before rewriting it with the live records, and warns naming the lines and the copy", async () => {
    await writeFile(path, damagedFile);
    const { log, records } = memoryLog();
    const { journal, replay } = await openJournal(() => true, log);
    expect(replay.damagedCopy).toBe(join(dir, COPY));
    expect((await readdir(dir)).sort()).toEqual(["schedule.ndjson", COPY]);
    expect((await readFile(join(dir, COPY))).equals(damagedFile)).toBe(true);
    expect(await lines()).toEqual([add(a), add(b), add(c)]);

    const warnings = records.filter((r) => r.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ path, copy: join(dir, COPY), skipped: 5, loaded: 3, lines: replay.damaged });
    expect(warnings[0]!.msg).toContain(`skipped 5 unreadable line(s) (line 2 at byte ${offsetOf(2)}, line 4 at byte ${offsetOf(4)}, `);
    expect(warnings[0]!.msg).toContain(`kept at ${join(dir, COPY)}`);

    // the repaired journal takes appends and replays cleanly: no second copy, no warning
    await journal.append([add(schedule("d"))]);
    const second = await reopen(journal);
    expect(second.replay).toMatchObject({ skipped: 0, damaged: [] });
    expect(second.replay.damagedCopy).toBeUndefined();
    expect(await readdir(dir)).toHaveLength(2);
  });

  it("never overwrites an earlier copy, and keeps only the newest few", async () => {
    const made: string[] = [];
    for (let i = 0; i <= DAMAGED_COPIES_KEPT; i++) {
      const damaged = Buffer.from(`garbage ${i}\n` + JSON.stringify(add(a)) + "\n");
      await writeFile(path, damaged);
      const { journal, replay } = await openJournal(); // the same clock reading every time
      made.push(replay.damagedCopy!);
      expect((await readFile(replay.damagedCopy!)).equals(damaged)).toBe(true);
      opened.splice(opened.indexOf(journal), 1);
      await journal.close();
    }
    expect(made).toEqual([COPY, `${COPY}-1`, `${COPY}-2`, `${COPY}-3`].map((name) => join(dir, name)));
    const kept = (await readdir(dir)).filter((name) => name.startsWith("schedule.ndjson.damaged-")).sort();
    expect(kept).toEqual([`${COPY}-1`, `${COPY}-2`, `${COPY}-3`]);
    expect(await readFile(join(dir, `${COPY}-1`), "utf8")).toMatch(/^garbage 1\n/);
  });

  it("a journal with only a torn last line still gets its copy (a crash mid-write is damage a person may want to see)", async () => {
    await writeFile(path, JSON.stringify(add(a)) + "\n" + '{"op":"ad');
    const { replay } = await openJournal();
    expect(replay.schedules).toEqual([a]);
    expect(replay.damaged).toHaveLength(1);
    expect(await readdir(dir)).toContain(COPY);
  });
});

describe("an append whose sync fails is refused, and never replayed (issue 24)", () => {
  it("the refused records leave the file; records appended before and after stay, and a restart replays exactly those", async () => {
    let failNext = false;
    const { journal } = await Journal.open(path, {
      isQuiet: () => false,
      log: silentLog(),
      now: () => NOW,
      syncFile: () => (failNext ? Promise.reject(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" })) : Promise.resolve()),
    });
    opened.push(journal);
    await journal.append([add(schedule("kept", { key: "k" }))]);
    failNext = true;
    // A replacement by key and a cancel, refused together: the replaced schedule and the cancelled one stay live.
    const refused = [journal.append([cancel("kept"), add(schedule("replacing", { key: "k" }))]), journal.append([add(schedule("new"))])];
    for (const result of await Promise.allSettled(refused)) expect(result.status).toBe("rejected");
    failNext = false;
    await journal.append([add(schedule("after"))]);
    expect(await lines()).toEqual([add(schedule("kept", { key: "k" })), add(schedule("after"))]);
    const { replay } = await reopen(journal);
    expect(replay.schedules.map((s) => s.schedule_id)).toEqual(["kept", "after"]);
  });
});

describe("compaction runs off the loop (issue 22)", () => {
  /** 20 000 live schedules of ~300 bytes (6 MB): the temp file takes several chunks, each a turn of the loop. */
  const LIVE = 20_000;
  const pad = "p".repeat(200);
  /** Appended records past 10 000 + 2 × live: the next sync starts a compaction. */
  const TRIGGER = 10_000 + 2 * LIVE - LIVE + 1;

  const tempFiles = () => readdirSync(dir).filter((name) => name.endsWith(".tmp"));
  /** What a start would replay from the file as it is now, which is what a daemon killed now leaves (appends and the rename are synchronous). */
  const replayedNow = () => readJournal(readFileSync(path)).replay;
  const sorted = (ids: Iterable<string>) => [...ids].sort();

  /** A journal with LIVE live schedules whose next append starts a compaction; `live` is what it holds. */
  async function beforeCompaction(options: Partial<Parameters<typeof Journal.open>[1]> = {}) {
    const { journal } = await Journal.open(path, { isQuiet: () => true, log: silentLog(), now: () => NOW, ...options });
    opened.push(journal);
    const live = new Set<string>();
    const records = Array.from({ length: LIVE }, (_, i) => add(schedule(`live-${i}`, { data: { pad } })));
    await journal.append(records);
    for (const record of records) live.add(record.schedule_id);
    return { journal, live };
  }

  it("appends go on while it runs, each in the journal at once and carried into the new file; a kill at any turn replays exactly what was appended", async () => {
    const { journal, live } = await beforeCompaction();
    await journal.append(Array.from({ length: TRIGGER }, (_, i) => done(`gone-${i}`)));
    let turnsWithTemp = 0;
    let keyed: string | undefined;
    const synced: Promise<void>[] = [];
    for (let turn = 0; turn < 10_000; turn++) {
      // What a turn of a busy daemon appends: a new schedule, a replacement by key (cancel + add, as the scheduler writes it), fires and cancels.
      const records: JournalRecord[] = [add(schedule(`new-${turn}`))];
      if (keyed !== undefined) records.push(cancel(keyed));
      keyed = `keyed-${turn}`;
      records.push(add(schedule(keyed, { key: "k" })));
      if (turn % 2 === 0) records.push(done(`live-${turn}`));
      if (turn % 3 === 2) records.push(cancel(`new-${turn - 1}`));
      if (turn % 2 === 0) journal.appendNow(records);
      else synced.push(journal.append(records));
      for (const record of records) {
        if (record.op === "add") live.add(record.schedule_id);
        else live.delete(record.schedule_id);
      }
      const replay = replayedNow();
      expect(replay.skipped, `turn ${turn}`).toBe(0);
      expect(sorted(replay.schedules.map((s) => s.schedule_id)), `turn ${turn}: what a kill now would replay`).toEqual(sorted(live));
      if (tempFiles().length === 0) break;
      turnsWithTemp++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Before, the whole rewrite ran in the turn that started it: no turn ever saw its temp file.
    expect(turnsWithTemp, "turns of the loop served while the compaction ran").toBeGreaterThan(1);
    await Promise.all(synced);
    // The new file holds the live adds as they were when it began, then every record appended since; no dead add of before.
    const records = readFileSync(path, "utf8").trim().split("\n").map((line) => JSON.parse(line) as JournalRecord);
    expect(records.filter((r) => r.schedule_id.startsWith("gone-"))).toEqual([]);
    expect(records.length).toBeLessThan(LIVE + 6 * turnsWithTemp + 10);
    const { replay } = await reopen(journal);
    expect(sorted(replay.schedules.map((s) => s.schedule_id))).toEqual(sorted(live));
  });

  it("a sync that fails while it runs drops it: the temp file goes, and the refused records are not replayed", async () => {
    let failNext = false;
    const { journal, live } = await beforeCompaction({
      isQuiet: () => true,
      syncFile: () => (failNext ? Promise.reject(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" })) : Promise.resolve()),
    });
    await journal.append(Array.from({ length: TRIGGER }, (_, i) => done(`gone-${i}`)));
    expect(tempFiles()).toHaveLength(1);
    failNext = true;
    await expect(journal.append([add(schedule("refused")), done("live-1")])).rejects.toThrow(/EIO|disk/i);
    failNext = false;
    await journal.append([add(schedule("after"))]);
    live.add("after");
    await vi.waitFor(() => expect(tempFiles()).toEqual([]), { timeout: 20_000, interval: 20 });
    expect(sorted(replayedNow().schedules.map((s) => s.schedule_id))).toEqual(sorted(live));
    const { replay } = await reopen(journal);
    expect(sorted(replay.schedules.map((s) => s.schedule_id))).toEqual(sorted(live));
  });

  it("close while it runs stops it: the temp file goes, the journal keeps every record", async () => {
    const { journal, live } = await beforeCompaction();
    await journal.append(Array.from({ length: TRIGGER }, (_, i) => done(`gone-${i}`)));
    expect(tempFiles()).toHaveLength(1);
    journal.appendNow([add(schedule("last")), done("live-7")]);
    live.add("last");
    live.delete("live-7");
    opened.splice(opened.indexOf(journal), 1);
    await journal.close();
    expect(tempFiles()).toEqual([]);
    expect(sorted(replayedNow().schedules.map((s) => s.schedule_id))).toEqual(sorted(live));
  });

  it("a temp file a killed daemon left is removed at open, and the journal replays as it was", async () => {
    await writeFile(path, JSON.stringify(add(schedule("a"))) + "\n");
    await writeFile(join(dir, ".schedule.ndjson.compaction.4242.tmp"), JSON.stringify(add(schedule("half-written"))) + "\n");
    const { replay } = await openJournal();
    expect(replay.schedules.map((s) => s.schedule_id)).toEqual(["a"]);
    expect(await readdir(dir)).toEqual(["schedule.ndjson"]);
  });
});
