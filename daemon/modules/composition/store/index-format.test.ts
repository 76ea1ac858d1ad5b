import { describe, expect, it } from "vitest";
import { encodeIndex, fileEntry, invalidateCacheTree, linkExtension, parseIndex, readEwah, UnsupportedIndex, writeEwah } from "./index-format.js";

const stat = { ctimeNs: 1_700_000_000_123_456_789n, mtimeNs: 1_700_000_001_000_000_001n, dev: 2049n, ino: 5_000_000_123n, uid: 0n, gid: 0n, size: 42n };
const id = "ab".repeat(20);

describe("EWAH bitmaps", () => {
  it.each([[[]], [[0]], [[63, 64]], [[5, 200, 201, 4_000, 4_001, 64 * 1000 + 3]], [Array.from({ length: 300 }, (_, i) => i * 3)]])("%j survives a write and a read", (positions) => {
    const written = writeEwah(positions);
    const read = readEwah(written, 0);
    expect(read.bits).toEqual(positions);
    expect(read.end).toBe(written.length);
  });

  it("writes an empty bitmap as git does: no bits, one marker word", () => {
    expect(writeEwah([]).toString("hex")).toBe("00000000" + "00000001" + "0".repeat(16) + "00000000");
  });
});

describe("index files", () => {
  it("reads back what it writes: entries with their stat data, extensions, the link", () => {
    const entries = [fileEntry("a.yaml", stat, false, id), fileEntry("dir/b.yaml", stat, true, id)];
    const file = encodeIndex(entries, [linkExtension("cd".repeat(20), [3], [1, 7]), { signature: "REUC", data: Buffer.from("x") }], "sha1");
    const parsed = parseIndex(file, "sha1");
    expect(parsed.entries.map((e) => e.name)).toEqual(["a.yaml", "dir/b.yaml"]);
    expect(parsed.entries[1]!.fixed.readUInt32BE(24).toString(8)).toBe("100755");
    expect(parsed.link).toEqual({ shared: "cd".repeat(20), deleted: [3], replaced: [1, 7] });
    expect(parsed.extensions).toEqual([{ signature: "REUC", data: Buffer.from("x") }]);
    // Entries padded to multiples of 8: 62 + 6 bytes of name → 72.
    expect(file.length).toBeGreaterThan(12 + 72 + 80);
  });

  it("refuses a damaged file, another version, and an extension it must understand but does not", () => {
    const file = encodeIndex([fileEntry("a", stat, false, id)], [], "sha1");
    const damaged = Buffer.from(file);
    damaged.writeUInt8(damaged.readUInt8(20) ^ 1, 20);
    expect(() => parseIndex(damaged, "sha1")).toThrow(UnsupportedIndex);
    const v4 = Buffer.from(file);
    v4.writeUInt32BE(4, 4);
    expect(() => parseIndex(v4, "sha1")).toThrow(/checksum|version/);
    expect(() => parseIndex(encodeIndex([], [{ signature: "sdir", data: Buffer.alloc(0) }], "sha1"), "sha1")).toThrow(/sdir/);
  });
});

describe("invalidateCacheTree", () => {
  it("marks the folders on a changed path invalid and keeps the others with their ids", () => {
    const tid = Buffer.alloc(20, 7);
    // root (3 entries, 2 subtrees): a (1 entry), b (1 entry, 1 subtree): c (1 entry)
    const tree = Buffer.concat([
      Buffer.from("\u00003 2\n"), tid,
      Buffer.from("a\u00001 0\n"), tid,
      Buffer.from("b\u00001 1\n"), tid,
      Buffer.from("c\u00001 0\n"), tid,
    ]);
    const out = invalidateCacheTree(tree, ["b/c/x.yaml"], 20, false)!;
    expect(out).toEqual(Buffer.concat([Buffer.from("\u0000-1 2\n"), Buffer.from("a\u00001 0\n"), tid, Buffer.from("b\u0000-1 1\n"), Buffer.from("c\u0000-1 0\n")]));
    expect(invalidateCacheTree(tree, ["a/x.yaml"], 20, true)).toBeNull();
  });
});
