import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import type { TreeEntry } from "./git-objects.js";
import { adler32, combineAdler, compareKeys, TreeFolder } from "./tree-folder.js";

// git is the reference: `git mktree --missing` gives the id git computes for the same entries.
const repo = mkdtempSync(join(tmpdir(), "patternd-tree-folder-"));
const git = (args: string[], input?: string) =>
  execFileSync("git", args, { cwd: repo, input, encoding: "utf8", env: { PATH: process.env.PATH, HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1" } });
git(["init", "-q"]);
afterAll(() => rmSync(repo, { recursive: true, force: true }));

function mktree(entries: Iterable<[string, TreeEntry]>): string {
  const lines = [...entries].map(([name, e]) => `${e.mode === "40000" ? "040000 tree" : `${e.mode} blob`} ${e.id}\t${name}\n`);
  return git(["mktree", "--missing"], lines.join("")).trim();
}

/** A deterministic pseudo-random generator (the same cases every run). */
function random(seed: number): () => number {
  let state = seed;
  return () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
}

const id = (text: string) => createHash("sha1").update(text).digest("hex");
const NAMES = ["a", "a-b", "a.yaml", "b", "ü", "z\u{1F600}", "z\uE000", "Z", "x_y"];

function entry(next: () => number): TreeEntry {
  const pick = next();
  return { mode: pick < 0.1 ? "40000" : pick < 0.2 ? "100755" : "100644", id: id(String(next())) };
}

/** The object's bytes inflate to `tree <size>\0<body>` and hash to its id. */
function checkObject(folder: TreeFolder): string {
  const object = folder.object("sha1");
  const whole = inflateSync(Buffer.concat(object.deflated));
  expect(createHash("sha1").update(whole).digest("hex")).toBe(object.id);
  expect(whole.toString("latin1", 0, 5)).toBe("tree ");
  return object.id;
}

describe("TreeFolder", () => {
  it("orders entries as git does (a folder as if its name ended in /, names as UTF-8 bytes) and gives git's id", () => {
    const entries: [string, TreeEntry][] = [
      ["b.yaml", { mode: "100644", id: id("b") }],
      ["a", { mode: "40000", id: id("tree") }],
      ["a.yaml", { mode: "100644", id: id("a") }],
      ["a-b", { mode: "100755", id: id("x") }],
      ["ü.yaml", { mode: "100644", id: id("u") }],
      ["z\u{1F600}", { mode: "100644", id: id("astral") }],
      ["z\uE000", { mode: "100644", id: id("private use") }],
    ];
    const folder = TreeFolder.of(entries);
    expect(checkObject(folder)).toBe(mktree(entries));
    expect(folder.get("a")?.mode).toBe("40000");
    expect(folder.get("a.yaml")?.id).toBe(id("a"));
    expect(folder.get("nothing")).toBeUndefined();
  });

  it("gives git's id for an empty folder", () => {
    expect(checkObject(TreeFolder.empty())).toBe(mktree([]));
  });

  it("stays git's tree through 40 rounds of random changes to a folder of 3 000 entries (chunks split, emptied and dropped)", () => {
    const next = random(7);
    const truth = new Map<string, TreeEntry>();
    for (let i = 0; i < 3000; i++) truth.set(`pattern-${String(i).padStart(5, "0")}.yaml`, entry(next));
    let folder = TreeFolder.of(truth);
    expect(checkObject(folder)).toBe(mktree(truth));
    for (let round = 0; round < 40; round++) {
      const changes = new Map<string, TreeEntry | null>();
      const count = 1 + Math.floor(next() * (round % 10 === 9 ? 1500 : 20));
      for (let k = 0; k < count; k++) {
        const pick = next();
        const name = pick < 0.5 ? `pattern-${String(Math.floor(next() * 4000)).padStart(5, "0")}.yaml` : `${NAMES[Math.floor(next() * NAMES.length)]!}${Math.floor(next() * 50)}`;
        changes.set(name, next() < 0.3 ? null : entry(next));
      }
      const before = folder;
      const beforeId = before.object("sha1").id;
      folder = folder.with(changes);
      for (const [name, change] of changes) {
        if (change === null) truth.delete(name);
        else truth.set(name, change);
      }
      expect(folder.size).toBe(truth.size);
      expect(checkObject(folder)).toBe(mktree(truth));
      // The folder it came from is unchanged.
      expect(before.object("sha1").id).toBe(beforeId);
      for (const [name, change] of changes) expect(folder.get(name)).toEqual(change ?? undefined);
    }
    expect([...folder.entries()].map(([name]) => name)).toEqual([...TreeFolder.of(truth).entries()].map(([name]) => name));
  });

  it("compares keys as UTF-8 bytes", () => {
    const keys = ["b", "a/", "a.yaml", "ü", "z\u{1F600}", "z\uE000", "Z", ""];
    const bytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...keys].sort(compareKeys)).toEqual(bytes);
  });
});

describe("Adler-32", () => {
  it("combines the checksums of two parts into the checksum of the whole", () => {
    const next = random(3);
    for (const [x, y] of [[0, 0], [1, 70_000], [6000, 5553], [100_000, 1]]) {
      const a = Buffer.from(Array.from({ length: x! }, () => Math.floor(next() * 256)));
      const b = Buffer.from(Array.from({ length: y! }, () => Math.floor(next() * 256)));
      expect(combineAdler(adler32(a), adler32(b), b.length)).toBe(adler32(Buffer.concat([a, b])));
    }
    // The zlib checksum of a known input.
    expect(adler32(Buffer.from("Wikipedia"))).toBe(0x11e60398);
  });
});
