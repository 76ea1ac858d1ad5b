import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { appendWhole, closeTornLine, writeAtomicAll } from "./atomic-file.js";
import { createLog } from "./log.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "atomic-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("writeAtomicAll", () => {
  it("keeps the old files until told: restore puts them back (a new one removed), by renames only", async () => {
    writeFileSync(join(dir, "a"), "old a");
    const replaced = await writeAtomicAll([
      { path: join(dir, "a"), content: "new a" },
      { path: join(dir, "b"), content: "new b" },
    ]);
    expect(readFileSync(join(dir, "a"), "utf8")).toBe("new a");
    replaced.restore();
    expect(readFileSync(join(dir, "a"), "utf8")).toBe("old a");
    expect(existsSync(join(dir, "b"))).toBe(false);
    expect(readdirSync(dir)).toEqual(["a"]);
  });

  it("discard lets the old versions go and leaves only the new files", async () => {
    writeFileSync(join(dir, "a"), "old a");
    (await writeAtomicAll([{ path: join(dir, "a"), content: "new a" }])).discard();
    expect(readdirSync(dir)).toEqual(["a"]);
    expect(readFileSync(join(dir, "a"), "utf8")).toBe("new a");
  });

  it("restore leaves alone a path someone else changed", async () => {
    writeFileSync(join(dir, "a"), "old a");
    const replaced = await writeAtomicAll([{ path: join(dir, "a"), content: "new a" }]);
    replaced.restore((path) => path === join(dir, "a"));
    expect(readFileSync(join(dir, "a"), "utf8")).toBe("new a");
    expect(readdirSync(dir)).toEqual(["a"]);
  });

  it("a failure before the renames leaves nothing behind and changes nothing", async () => {
    writeFileSync(join(dir, "a"), "old a");
    await expect(writeAtomicAll([{ path: join(dir, "a"), content: "new a" }], join(dir, "missing"))).rejects.toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual(["a"]);
    expect(readFileSync(join(dir, "a"), "utf8")).toBe("old a");
  });
});

describe("appendWhole", () => {
  it("appends everything when the disk takes it", () => {
    const fd = openSync(join(dir, "log"), "a");
    appendWhole(fd, "one\n");
    appendWhole(fd, Buffer.from("two\n"));
    closeSync(fd);
    expect(readFileSync(join(dir, "log"), "utf8")).toBe("one\ntwo\n");
  });

  it("throws ENOSPC from a full device, having written nothing", () => {
    const fd = openSync("/dev/full", "a");
    try {
      expect(() => appendWhole(fd, "record\n")).toThrow(expect.objectContaining({ code: "ENOSPC" }));
    } finally {
      closeSync(fd);
    }
  });
});

describe("the daemon log on a full disk", () => {
  it("drops and counts lines instead of throwing", () => {
    const { log, dropped } = createLog("/dev/full", "info");
    expect(() => {
      log.info("one");
      log.error({ err: new Error("x") }, "two");
    }).not.toThrow();
    expect(dropped()).toBe(2);
  });

  it("writes whole lines when it can", () => {
    const path = join(dir, "log", "daemon.log");
    const { log, dropped } = createLog(path, "info");
    log.info({ a: 1 }, "hello");
    expect(JSON.parse(readFileSync(path, "utf8"))).toMatchObject({ msg: "hello", a: 1 });
    expect(dropped()).toBe(0);
  });
});

describe("closeTornLine", () => {
  it.each([
    ["an empty file", "", "", 0],
    ["a file ending in a newline", "{\"a\":1}\n", "{\"a\":1}\n", 8],
    ["a torn last line", "{\"a\":1}\n{\"b\":", "{\"a\":1}\n{\"b\":\n", 13],
  ])("%s: the next record starts a line of its own", (_label, before, after, size) => {
    const path = join(dir, "log");
    writeFileSync(path, before);
    const fd = openSync(path, "a+");
    try {
      expect(closeTornLine(fd)).toBe(size);
      appendWhole(fd, "{\"c\":3}\n");
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(path, "utf8")).toBe(`${after}{"c":3}\n`);
  });
});
