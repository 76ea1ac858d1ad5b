import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { textIdOf, type CachedEntry } from "./catalog.js";
import { readIndexCache, writeIndexCache } from "./index-cache.js";

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "patternd-index-"));
  path = join(dir, "index.ndjson");
});
afterEach(() => rm(dir, { recursive: true, force: true }));

function cached(name: string): CachedEntry {
  const text = `name: ${name}\ntype: orchestration\nversion: 1.0.0\ndescription: d\n`;
  return {
    entry: { name, type: "orchestration", version: "1.0.0", description: "d", path: `orchestrations/${name}.yaml`, textId: textIdOf(text), data: { name, nested: { list: [1, "x"] } }, warnings: [] },
    state: { mtimeMs: 1_700_000_000_000.5, ctimeMs: 1_700_000_000_000.5, size: text.length, ino: 4242, seenAt: 1_700_000_100_000 },
  };
}

describe("index cache", () => {
  it("reads back what it wrote, for the same store, across write chunks", async () => {
    const entries = Array.from({ length: 1_203 }, (_, i) => cached(`p${i}`));
    await writeIndexCache(path, "/store", entries);
    expect(await readIndexCache(path, "/store")).toEqual(entries);
  });

  it("ignores a cache of another store, another format, a missing or garbled file", async () => {
    await writeIndexCache(path, "/store", [cached("a")]);
    expect(await readIndexCache(path, "/elsewhere")).toEqual([]);
    expect(await readIndexCache(join(dir, "missing.ndjson"), "/store")).toEqual([]);
    writeFileSync(path, readFileSync(path, "utf8").replace('"format":5', '"format":4'));
    expect(await readIndexCache(path, "/store")).toEqual([]);
    writeFileSync(path, "not json\n");
    expect(await readIndexCache(path, "/store")).toEqual([]);
  });

  it("skips a damaged line and keeps the others", async () => {
    await writeIndexCache(path, "/store", [cached("a"), cached("b")]);
    appendFileSync(path, '{"entry": {"name": "c"');
    expect((await readIndexCache(path, "/store")).map((e) => e.entry.name)).toEqual(["a", "b"]);
  });

  it("skips lines of another shape (null, a number, an entry without its fields) rather than stopping the start", async () => {
    await writeIndexCache(path, "/store", [cached("a")]);
    const bad = cached("b");
    for (const line of ["null", "42", '"text"', '{"entry": null, "state": {}}', JSON.stringify({ ...bad, state: { mtimeMs: "x", size: 1 } }),
      // A cache of format 3's states (no ctime, inode or time taken) cannot tell a change: read from the file.
      JSON.stringify({ ...bad, state: { mtimeMs: 1, size: 1 } }),
      JSON.stringify({ entry: { ...bad.entry, data: [] }, state: bad.state })]) {
      appendFileSync(path, `${line}\n`);
    }
    appendFileSync(path, `${JSON.stringify(cached("c"))}\n`);
    expect((await readIndexCache(path, "/store")).map((e) => e.entry.name)).toEqual(["a", "c"]);
  });
});
