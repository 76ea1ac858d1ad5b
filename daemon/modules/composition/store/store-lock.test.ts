import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { STORE_LOCK, StoreLock, StoreTakenError } from "./store-lock.js";

let gitDir: string;
const me = { pid: process.pid, socket: "/h/var/run/patternd.sock", home: "/h" };
const other = { pid: 4242, socket: "/o/var/run/patternd.sock", home: "/o" };

beforeEach(() => {
  gitDir = mkdtempSync(join(tmpdir(), "store-lock-"));
});
afterEach(() => rmSync(gitDir, { recursive: true, force: true }));

const lockFile = () => join(gitDir, STORE_LOCK);

describe("StoreLock", () => {
  it("is taken when free, holds pid, socket and home, and is removed at release", async () => {
    const lock = await StoreLock.acquire("/store", gitDir, me, () => Promise.resolve(true));
    expect(JSON.parse(readFileSync(lockFile(), "utf8"))).toMatchObject(me);
    expect(lock.held()).toBe(true);
    lock.release();
    expect(existsSync(lockFile())).toBe(false);
  });

  it("a live holder: refused, naming its pid and socket", async () => {
    writeFileSync(lockFile(), JSON.stringify(other));
    const taken = StoreLock.acquire("/store", gitDir, me, (pid) => Promise.resolve(pid === other.pid));
    await expect(taken).rejects.toBeInstanceOf(StoreTakenError);
    await expect(taken).rejects.toThrow(/the store \/store is served by another daemon \(pid 4242, socket \/o\/var\/run\/patternd.sock\)/);
    expect(JSON.parse(readFileSync(lockFile(), "utf8"))).toMatchObject(other);
  });

  it.each([
    ["a dead holder", JSON.stringify(other), false],
    // A container's daemon is pid 1 every time: its own pid in the lock is an earlier process's, whatever the probe says.
    ["a holder with this process's pid (a leftover of an earlier process)", JSON.stringify({ ...other, pid: process.pid }), true],
    ["a lock that does not parse", "{torn", true],
  ])("%s: taken over", async (_what, text, live) => {
    writeFileSync(lockFile(), text);
    const lock = await StoreLock.acquire("/store", gitDir, me, () => Promise.resolve(live));
    expect(JSON.parse(readFileSync(lockFile(), "utf8"))).toMatchObject(me);
    expect(lock.held()).toBe(true);
  });

  it("release leaves a lock that is not this daemon's any more", async () => {
    const lock = await StoreLock.acquire("/store", gitDir, me, () => Promise.resolve(false));
    writeFileSync(lockFile(), JSON.stringify(other));
    lock.release();
    expect(JSON.parse(readFileSync(lockFile(), "utf8"))).toMatchObject(other);
  });
});
