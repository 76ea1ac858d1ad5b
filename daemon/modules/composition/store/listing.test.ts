import { describe, expect, it } from "vitest";
import { isRacy, RACY_MS, sameFile, type FileState } from "./listing.js";

const state: FileState = { mtimeMs: 1_000_000, ctimeMs: 1_000_000, size: 10, ino: 7, seenAt: 1_000_000 + RACY_MS + 1 };

describe("sameFile", () => {
  it.each<[string, Partial<FileState>, boolean]>([
    ["the same lstat, taken later", { seenAt: state.seenAt + 60_000 }, true],
    ["another inode (a file put in its place)", { ino: 8 }, false],
    ["another size", { size: 11 }, false],
    ["another mtime", { mtimeMs: 999_000 }, false],
    ["another ctime (a write that kept size and mtime, or an mtime set back)", { ctimeMs: 1_000_001 }, false],
  ])("%s: %s", (_what, change, same) => {
    expect(sameFile(state, { ...state, ...change })).toBe(same);
  });
});

describe("isRacy", () => {
  it.each<[string, Partial<FileState>, boolean]>([
    ["taken more than RACY_MS after the last change", {}, false],
    ["taken in the tick of the last change", { seenAt: state.ctimeMs }, true],
    ["taken within RACY_MS of its ctime", { ctimeMs: state.seenAt - RACY_MS + 1 }, true],
    ["an mtime in the future (set by hand)", { mtimeMs: state.seenAt + 60_000 }, true],
  ])("%s: %s", (_what, change, racy) => {
    expect(isRacy({ ...state, ...change })).toBe(racy);
  });
});
