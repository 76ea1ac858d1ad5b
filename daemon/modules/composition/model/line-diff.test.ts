import { describe, expect, it } from "vitest";
import { diffLines, type LineOp } from "./line-diff.js";
import { seededRandom } from "../../../../bench/random.js";

function lines(next: () => number, length: number, alphabet: number): string[] {
  return Array.from({ length }, () => `line ${Math.floor(next() * alphabet)}`);
}

/** Replays an edit script: what it says `b` is, checking it walks `a` and `b` in order, each line once. */
function replay(a: readonly string[], b: readonly string[], ops: LineOp[]): string[] {
  const out: string[] = [];
  let i = 0;
  let j = 0;
  for (const op of ops) {
    if (op.op === "equal") {
      expect([op.a, op.b]).toEqual([i, j]);
      expect(a[op.a]).toBe(b[op.b]);
      out.push(a[i++]!);
      j++;
    } else if (op.op === "delete") {
      expect(op.a).toBe(i++);
    } else {
      expect(op.b).toBe(j++);
      out.push(b[op.b]!);
    }
  }
  expect([i, j]).toEqual([a.length, b.length]);
  return out;
}

/** Length of a longest common subsequence, computed the plain way. */
function lcsLength(a: readonly string[], b: readonly string[]): number {
  let previous = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    const row = [0];
    for (let j = 0; j < b.length; j++) row.push(x === b[j] ? previous[j]! + 1 : Math.max(previous[j + 1]!, row[j]!));
    previous = row;
  }
  return previous[b.length]!;
}

const equalCount = (ops: LineOp[]) => ops.filter((op) => op.op === "equal").length;

describe("diffLines", () => {
  it.each([
    ["both empty", [], [], []],
    ["from empty", [], ["x", "y"], [{ op: "insert", b: 0 }, { op: "insert", b: 1 }]],
    ["to empty", ["x"], [], [{ op: "delete", a: 0 }]],
    ["identical", ["x", "y"], ["x", "y"], [{ op: "equal", a: 0, b: 0 }, { op: "equal", a: 1, b: 1 }]],
    [
      "one line changed between a common head and tail",
      ["h", "old", "t"],
      ["h", "new", "t"],
      [{ op: "equal", a: 0, b: 0 }, { op: "insert", b: 1 }, { op: "delete", a: 1 }, { op: "equal", a: 2, b: 2 }],
    ],
    ["a line added at the end", ["a", "b"], ["a", "b", "c"], [{ op: "equal", a: 0, b: 0 }, { op: "equal", a: 1, b: 1 }, { op: "insert", b: 2 }]],
    ["a line removed at the start", ["a", "b"], ["b"], [{ op: "delete", a: 0 }, { op: "equal", a: 1, b: 0 }]],
  ] as [string, string[], string[], LineOp[]][])("%s", (_label, a, b, expected) => {
    expect(diffLines(a, b)).toEqual(expected);
  });

  it("repeated lines in head and tail are not counted twice", () => {
    const a = ["x", "x", "x"];
    const b = ["x", "x"];
    const ops = diffLines(a, b)!;
    expect(replay(a, b, ops)).toEqual(b);
    expect(equalCount(ops)).toBe(2);
  });

  it("on seeded random inputs the script reproduces b from a with a longest common subsequence", () => {
    const next = seededRandom(0x5eed);
    for (let round = 0; round < 300; round++) {
      const a = lines(next, Math.floor(next() * 30), 1 + Math.floor(next() * 8));
      const b = next() < 0.5 ? lines(next, Math.floor(next() * 30), 1 + Math.floor(next() * 8)) : mutate(next, a);
      const ops = diffLines(a, b);
      expect(ops).not.toBeNull();
      expect(replay(a, b, ops!)).toEqual(b);
      expect(equalCount(ops!)).toBe(lcsLength(a, b));
    }
  });

  it("a long file with one change costs only the changed middle", () => {
    const a = Array.from({ length: 20_000 }, (_, i) => `line ${i}`);
    const b = [...a];
    b[10_000] = "changed";
    const ops = diffLines(a, b)!;
    expect(ops).toHaveLength(20_001);
    expect(ops.filter((op) => op.op !== "equal")).toEqual([{ op: "insert", b: 10_000 }, { op: "delete", a: 10_000 }]);
  });

  it("inputs whose differing middles are too large give null", () => {
    const a = Array.from({ length: 5_000 }, (_, i) => `a ${i}`);
    const b = Array.from({ length: 5_000 }, (_, i) => `b ${i}`);
    expect(diffLines(a, b)).toBeNull();
    // The same sizes with a common head and tail around a small middle are fine.
    expect(diffLines([...a, "x"], [...a, "y"])).not.toBeNull();
  });
});

/** b as a small edit of a: a few lines removed, changed or inserted. */
function mutate(next: () => number, a: readonly string[]): string[] {
  const b = [...a];
  const edits = 1 + Math.floor(next() * 4);
  for (let k = 0; k < edits; k++) {
    const at = Math.floor(next() * (b.length + 1));
    const kind = next();
    if (kind < 0.33 && at < b.length) b.splice(at, 1);
    else if (kind < 0.66 && at < b.length) b[at] = `edited ${k}`;
    else b.splice(at, 0, `inserted ${k}`);
  }
  return b;
}
