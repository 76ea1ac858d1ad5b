import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StateFile } from "./state-file.js";

let dir: string;
let path: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "patternd-state-"));
  path = join(dir, "state.json");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A StateFile over a plain object, counting how often it is snapshotted (once per write). */
function counted(state: Record<string, unknown>, at = () => path) {
  const counter = { snapshots: 0 };
  const file = new StateFile(at(), () => {
    counter.snapshots++;
    return { ...state };
  });
  return { file, counter };
}

describe("StateFile.load", () => {
  it("a missing file is an empty object", async () => {
    expect(await new StateFile(path, () => ({})).load()).toEqual({});
  });

  it("returns the parsed file, for the caller to judge", async () => {
    await writeFile(path, JSON.stringify({ "run_1.status": "done", n: [1, { a: null }], $versions: { n: 2 } }));
    expect(await new StateFile(path, () => ({})).load()).toEqual({ "run_1.status": "done", n: [1, { a: null }], $versions: { n: 2 } });
  });

  it("invalid JSON is an error", async () => {
    await writeFile(path, '{"a": ');
    await expect(new StateFile(path, () => ({})).load()).rejects.toThrow(SyntaxError);
  });

  it("a path that cannot be read is an error, not an empty state", async () => {
    await mkdir(path);
    await expect(new StateFile(path, () => ({})).load()).rejects.toThrow(/EISDIR/);
  });
});

describe("StateFile.save", () => {
  it("writes the snapshot where load finds it, mode 0600, with no temp file left", async () => {
    const state: Record<string, unknown> = { "run_1.status": "running", list: [1, 2], nested: { a: "é" } };
    const { file } = counted(state);
    await file.save();
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual(state);
    expect(await new StateFile(path, () => ({})).load()).toEqual(state);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(["state.json"]);

    state["run_1.status"] = "done";
    await file.save();
    expect(JSON.parse(await readFile(path, "utf8"))).toMatchObject({ "run_1.status": "done" });
    expect(await readdir(dir)).toEqual(["state.json"]);
  });

  it("a reader never sees a partial file while saves replace it", async () => {
    const state: Record<string, unknown> = {};
    const { file } = counted(state);
    state.big = "x".repeat(200_000);
    await file.save();
    let writing = true;
    let reads = 0;
    const reader = (async () => {
      while (writing) {
        const text = await readFile(path, "utf8");
        expect(() => JSON.parse(text) as unknown).not.toThrow();
        reads++;
      }
    })();
    for (let i = 0; i < 20; i++) {
      state.big = String(i).repeat(100_000 + i * 1_000);
      await file.save();
    }
    writing = false;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({ big: state.big });
  });

  it("50 saves while one is in flight share at most two more writes; each caller sees its change on disk", async () => {
    const state: Record<string, unknown> = { n: 0 };
    const { file, counter } = counted(state);
    const onDisk = () => (JSON.parse(readFileSync(path, "utf8")) as { n: number }).n;
    const seen: number[] = [];
    const saves: Promise<void>[] = [];
    for (let i = 1; i <= 50; i++) {
      state.n = i;
      // Read synchronously at the moment the caller is told its save is durable.
      saves.push(file.save().then(() => void (seen[i] = onDisk())));
    }
    await Promise.all(saves);
    expect(counter.snapshots).toBeGreaterThanOrEqual(2);
    expect(counter.snapshots).toBeLessThanOrEqual(3);
    for (let i = 1; i <= 50; i++) expect(seen[i], `caller ${i}`).toBeGreaterThanOrEqual(i);
    expect(onDisk()).toBe(50);
  });

  it("saves after the coalesced batch resolve with their own change", async () => {
    const state: Record<string, unknown> = { n: 0 };
    const { file, counter } = counted(state);
    await Promise.all([1, 2, 3].map((n) => ((state.n = n), file.save())));
    state.n = 4;
    await file.save();
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({ n: 4 });
    expect(counter.snapshots).toBe(3);
  });

  it("a failing write rejects its callers; the next save works", async () => {
    const state: Record<string, unknown> = { n: 1 };
    const { file } = counted(state, () => join(dir, "sub", "state.json"));
    await expect(file.save()).rejects.toThrow(/ENOENT/);
    const both = [file.save(), file.save()];
    await expect(Promise.all(both)).rejects.toThrow(/ENOENT/);
    await Promise.allSettled(both);

    await mkdir(join(dir, "sub"));
    state.n = 2;
    await file.save();
    expect(JSON.parse(await readFile(join(dir, "sub", "state.json"), "utf8"))).toEqual({ n: 2 });
  });

  it("a snapshot that throws rejects only its own write; saves that joined meanwhile get the next one", async () => {
    const state: Record<string, unknown> = { n: 1 };
    let calls = 0;
    const file = new StateFile(path, () => {
      if (++calls === 1) throw new Error("snapshot failed");
      return { ...state };
    });
    const first = file.save();
    state.n = 2;
    const joined = file.save();
    await expect(first).rejects.toThrow("snapshot failed");
    await joined;
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({ n: 2 });
    expect(calls).toBe(2);
  });
});
