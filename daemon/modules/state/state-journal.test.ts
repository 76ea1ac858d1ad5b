/**
 * The state journal over real files in a temp dir: appends durable when
 * they resolve, replay after a restart, a torn last line, compaction while
 * changes keep arriving, a leftover compaction temp file, and carrying over
 * an old state.json (state-load.ts).
 */
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLog, type Log } from "../../core/log.js";
import { StateJournal } from "./state-journal.js";
import { loadState } from "./state-load.js";
import { deleteLine, metaLine, replayJournal, SET_LINE_OVERHEAD, setLine, stateBytes } from "./state-record.js";

let dir: string;
let path: string;
let legacy: string;
const open: StateJournal[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "patternd-state-journal-"));
  path = join(dir, "state.ndjson");
  legacy = join(dir, "state.json");
});
afterEach(async () => {
  for (const journal of open.splice(0)) await journal.close();
  await rm(dir, { recursive: true, force: true });
});

function capturingLog(): { log: Log; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  return { log: pino({ level: "info" }, { write: (line: string) => void records.push(JSON.parse(line) as Record<string, unknown>) }), records };
}

/** The journal with a model of the state beside it, as the state module keeps one: changed when a record is durable. */
async function opened(options: { compactMinDeadBytes?: number; log?: Log } = {}) {
  const log = options.log ?? silentLog();
  const loaded = await loadState(path, legacy, log);
  const model = { values: loaded.values, versions: loaded.versions, highest: loaded.highestDeletedVersion, bytes: 0 };
  for (const size of loaded.sizes.values()) model.bytes += size;
  const journal = StateJournal.open(path, loaded.wholeBytes, {
    log,
    compactMinDeadBytes: options.compactMinDeadBytes ?? 0,
    live: {
      bytes: () => model.bytes + SET_LINE_OVERHEAD * model.values.size,
      *lines() {
        yield metaLine(model.highest);
        for (const [key, value] of model.values) yield setLine(key, model.versions.get(key)!, JSON.stringify(value));
      },
    },
  });
  open.push(journal);
  const set = (key: string, value: unknown) => {
    const json = JSON.stringify(value);
    const version = (model.versions.get(key) ?? model.highest) + 1;
    return journal.append(setLine(key, version, json), (durable) => {
      if (!durable) return;
      model.bytes += stateBytes(key, json) - (model.values.has(key) ? stateBytes(key, JSON.stringify(model.values.get(key))) : 0);
      model.values.set(key, value);
      model.versions.set(key, version);
    });
  };
  const del = (key: string) => {
    const version = model.versions.get(key)!;
    model.highest = Math.max(model.highest, version);
    return journal.append(deleteLine(key, version), (durable) => {
      if (!durable) return;
      model.bytes -= stateBytes(key, JSON.stringify(model.values.get(key)));
      model.values.delete(key);
      model.versions.delete(key);
    });
  };
  return { journal, model, set, del, close: () => journal.close() };
}

/** The file replayed, as plain objects. */
async function onDisk() {
  const state = replayJournal(await readFile(path));
  return { values: Object.fromEntries(state.values), versions: Object.fromEntries(state.versions), highest: state.highestDeletedVersion, torn: state.torn };
}

describe("appends", () => {
  it("each resolves once its record is in the file; a restart replays them, versions and deleted versions included", async () => {
    const first = await opened();
    await first.set("a", 1);
    expect((await onDisk()).values).toEqual({ a: 1 });
    await Promise.all([first.set("a", { n: 2 }), first.set("b", "x"), first.set("gone", 1)]);
    await first.set("gone", 2);
    await first.del("gone");
    expect(await onDisk()).toMatchObject({ values: { a: { n: 2 }, b: "x" }, versions: { a: 2, b: 1 }, highest: 2 });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await first.close();

    const second = await opened();
    expect(Object.fromEntries(second.model.versions)).toEqual({ a: 2, b: 1 });
    expect(second.model.highest).toBe(2);
    await second.set("gone", "back");
    expect((await onDisk()).versions).toEqual({ a: 2, b: 1, gone: 3 });
  });

  it("settle(true) runs in file order before each append resolves; a closed journal refuses", async () => {
    const { journal, close } = await opened();
    const order: string[] = [];
    const appends = ["one", "two", "three"].map((name, i) =>
      journal.append(setLine(name, 1, `${i}`), () => order.push(`settled ${name}`)).then(() => order.push(`resolved ${name}`)),
    );
    await Promise.all(appends);
    expect(order).toEqual(["settled one", "settled two", "settled three", "resolved one", "resolved two", "resolved three"]);
    await close();
    let settledAs: boolean | undefined;
    await expect(journal.append(setLine("late", 1, "1"), (durable) => (settledAs = durable))).rejects.toThrow(/closed/);
    expect(settledAs).toBe(false);
  });
});

describe("a torn last line", () => {
  it("is cut off at start with a warning naming it; the records before it load, and appends continue on a clean line", async () => {
    const whole = setLine("a", 1, "1") + setLine("b", 1, '"kept"');
    await writeFile(path, whole + '{"op":"set","key":"a","version":2,"val');
    const { log, records } = capturingLog();
    const { set, model } = await opened({ log });
    expect(Object.fromEntries(model.values)).toEqual({ a: 1, b: "kept" });
    const warning = records.find((r) => r.level === 40)!;
    expect(warning).toMatchObject({ path, line: 3, offset: Buffer.byteLength(whole) });
    expect(String(warning.msg)).toMatch(/the last line \(line 3, 38 bytes at byte \d+\) was cut short by a crash/);
    expect(await readFile(path, "utf8")).toBe(whole);

    await set("a", 2);
    expect(await onDisk()).toMatchObject({ values: { a: 2, b: "kept" }, torn: undefined });
  });

  it("a damaged line that is not the last stops the start, naming the file and the line", async () => {
    await writeFile(path, setLine("a", 1, "1") + "{garbage\n" + setLine("b", 1, "1"));
    await expect(loadState(path, legacy, silentLog())).rejects.toThrow(/cannot read .*state\.ndjson: line 2 \(byte 45\) is not a state record: not JSON.*; fix or move it away/);
  });
});

describe("compaction", () => {
  it("rewrites the journal to the live records while sets keep arriving; every change is kept", async () => {
    const { journal, model, set, del } = await opened({ compactMinDeadBytes: 256 * 1024 });
    const kilobyte = (n: number) => ({ n, text: "v".repeat(1_000) });
    // 2 000 keys of 1 KB: compaction writes them in several chunks, so sets land in the middle of it.
    for (let start = 0; start < 2_000; start += 200) await Promise.all(Array.from({ length: 200 }, (_, i) => set(`k${start + i}`, kilobyte(0))));
    let round = 0;
    while (journal.stats().compactions < 2 && round < 200) {
      round++;
      await Promise.all(Array.from({ length: 100 }, (_, i) => set(`k${(round * 37 + i * 13) % 2_000}`, kilobyte(round))));
      if (round % 10 === 0) await del(`k${round}`);
    }
    expect(journal.stats().compactions).toBeGreaterThanOrEqual(2);
    await Promise.all(Array.from({ length: 50 }, (_, i) => set(`tail${i}`, i)));

    const disk = await onDisk();
    expect(disk.values).toEqual(Object.fromEntries(model.values));
    expect(disk.versions).toEqual(Object.fromEntries(model.versions));
    expect(disk.highest).toBe(model.highest);
    // Compacted: far less than the ~4 MB of records appended, and no temp file left.
    expect(journal.stats().bytes).toBe((await stat(path)).size);
    expect((await stat(path)).size).toBeLessThan(3 * (model.bytes + SET_LINE_OVERHEAD * model.values.size) + 256 * 1024 + 200_000);
    expect(await readdir(dir)).toEqual(["state.ndjson"]);
  });

  it("a daemon stopping during compaction leaves the journal whole and no temp file", async () => {
    const { journal, model, set, close } = await opened({ compactMinDeadBytes: 64 * 1024 });
    for (let start = 0; start < 3_000; start += 300) await Promise.all(Array.from({ length: 300 }, (_, i) => set(`k${start + i}`, "w".repeat(500))));
    // Overwrite until a compaction starts, then stop at once.
    while (!(await readdir(dir)).some((name) => name.endsWith(".tmp"))) await Promise.all(Array.from({ length: 100 }, (_, i) => set(`k${i}`, "z".repeat(500))));
    await close();
    expect(await readdir(dir)).toEqual(["state.ndjson"]);
    expect((await onDisk()).values).toEqual(Object.fromEntries(model.values));
    expect(journal.stats().compactions).toBeLessThanOrEqual(1);
  });

  it("a temp file a killed compaction left is removed at start, and the journal it was made from is read", async () => {
    await writeFile(path, setLine("a", 3, '"journal"'));
    const temp = join(dir, ".state.ndjson.4242.tmp");
    await writeFile(temp, metaLine(0) + setLine("a", 2, '"half-written compaction"'));
    const { model } = await opened();
    expect(model.values.get("a")).toBe("journal");
    expect(existsSync(temp)).toBe(false);
  });
});

describe("an old state.json", () => {
  it("is carried over with its versions, kept as state.json.migrated, and not read again", async () => {
    await writeFile(legacy, JSON.stringify({ "run_1.status": "done", n: [1, { a: null }], $versions: { "run_1.status": 4, n: 2 }, $highest_deleted_version: 9 }));
    const { log, records } = capturingLog();
    const first = await opened({ log });
    expect(Object.fromEntries(first.model.values)).toEqual({ "run_1.status": "done", n: [1, { a: null }] });
    expect(Object.fromEntries(first.model.versions)).toEqual({ "run_1.status": 4, n: 2 });
    expect(first.model.highest).toBe(9);
    expect(existsSync(legacy)).toBe(false);
    expect(JSON.parse(await readFile(`${legacy}.migrated`, "utf8"))).toMatchObject({ "run_1.status": "done" });
    expect(records.find((r) => String(r.msg).startsWith("state carried over"))).toMatchObject({ keys: 2, kept: `${legacy}.migrated` });
    await first.set("n", 3);
    await first.close();

    const second = await opened();
    expect(second.model.values.get("n")).toBe(3);
    expect(second.model.versions.get("n")).toBe(3);
  });

  it("beside a journal, is left where it is and not read, with a warning", async () => {
    await writeFile(path, setLine("a", 1, '"from the journal"'));
    await writeFile(legacy, JSON.stringify({ a: "from state.json" }));
    const { log, records } = capturingLog();
    const { model } = await opened({ log });
    expect(model.values.get("a")).toBe("from the journal");
    expect(existsSync(legacy)).toBe(true);
    expect(String(records.find((r) => r.level === 40)?.msg)).toMatch(/state\.json is not read: .*state\.ndjson holds the state/);
  });

  it("a damaged one stops the start, naming it", async () => {
    await writeFile(legacy, '{"a": ');
    await expect(loadState(path, legacy, silentLog())).rejects.toThrow(/cannot read .*state\.json: .*; fix or move it away/);
    expect(existsSync(path)).toBe(false);
  });
});
