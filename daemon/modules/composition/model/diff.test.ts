import { describe, expect, it } from "vitest";
import { diffDocuments, formatPath, namedItems, unifiedDiff, type Change } from "./diff.js";

describe("diffDocuments", () => {
  it.each<[string, unknown, unknown, Change[]]>([
    ["equal documents", { a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 2] } }, []],
    ["a changed scalar", { a: 1 }, { a: 2 }, [{ op: "replace", path: "a", from: 1, to: 2 }]],
    ["an added key", { a: 1 }, { a: 1, b: { c: 2 } }, [{ op: "add", path: "b", to: { c: 2 } }]],
    ["a removed key", { a: 1, b: 2 }, { a: 1 }, [{ op: "remove", path: "b", from: 2 }]],
    ["a nested change", { o: { strategy: "x", d: "y" } }, { o: { strategy: "z", d: "y" } }, [{ op: "replace", path: "o.strategy", from: "x", to: "z" }]],
    ["null is a value, not absence", { a: null }, { a: 0 }, [{ op: "replace", path: "a", from: null, to: 0 }]],
    ["a map becoming a scalar", { a: { b: 1 } }, { a: "b" }, [{ op: "replace", path: "a", from: { b: 1 }, to: "b" }]],
    ["unnamed lists are whole values", { tags: ["a", "b"] }, { tags: ["b", "a"] }, [{ op: "replace", path: "tags", from: ["a", "b"], to: ["b", "a"] }]],
    [
      "lists of maps without names are whole values",
      { learnings: [{ insight: "a" }] },
      { learnings: [{ insight: "b" }] },
      [{ op: "replace", path: "learnings", from: [{ insight: "a" }], to: [{ insight: "b" }] }],
    ],
    ["whole documents of different kinds", [1], { a: 1 }, [{ op: "replace", path: "", from: [1], to: { a: 1 } }]],
    ["a key holding a dot is bracketed", { m: { "a.b": 1 } }, { m: { "a.b": 2 } }, [{ op: "replace", path: 'm["a.b"]', from: 1, to: 2 }]],
  ])("%s", (_label, left, right, expected) => {
    expect(diffDocuments(left, right)).toEqual(expected);
  });

  const judge = { name: "judge", prompt: "Score it.", model: "big" };
  const writer = { name: "writer", prompt: "Write it." };

  it("matches components by name: reordering them is no change", () => {
    expect(diffDocuments({ components: [judge, writer] }, { components: [writer, judge] })).toEqual([]);
  });

  it("reports a changed component field under the component's name", () => {
    const changed = { ...judge, prompt: "Score it twice." };
    expect(diffDocuments({ components: [judge, writer] }, { components: [writer, changed] })).toEqual([
      { op: "replace", path: "components.judge.prompt", from: "Score it.", to: "Score it twice." },
    ]);
  });

  it("adds and removes components by name", () => {
    const critic = { name: "critic", prompt: "Find faults." };
    expect(diffDocuments({ components: [judge, writer] }, { components: [critic, judge] })).toEqual([
      { op: "add", path: "components.critic", to: critic },
      { op: "remove", path: "components.writer", from: writer },
    ]);
  });

  it("an empty list matches a named one item by item", () => {
    expect(diffDocuments({ components: [] }, { components: [judge] })).toEqual([{ op: "add", path: "components.judge", to: judge }]);
  });

  it("reports changes in document order: removed keys where the left had them, added ones where the right has them", () => {
    const left = { name: "x", description: "d", agents: { a: 1 }, routing: { r: 1 } };
    const right = { name: "x", version: "1.0.0", description: "e", routing: { r: 2 }, extra: true };
    expect(diffDocuments(left, right).map((c) => `${c.op} ${c.path}`)).toEqual([
      "add version",
      "replace description",
      "remove agents",
      "replace routing.r",
      "add extra",
    ]);
  });

  it("does not take inherited properties for keys", () => {
    expect(diffDocuments({}, { constructor: 1 })).toEqual([{ op: "add", path: "constructor", to: 1 }]);
    expect(diffDocuments({ toString: "x" }, {})).toEqual([{ op: "remove", path: "toString", from: "x" }]);
  });

  it("is deterministic", () => {
    const left = { b: 1, a: { y: 1, x: 2 }, components: [judge, writer] };
    const right = { a: { x: 3, z: 1 }, c: 1, components: [{ ...writer, prompt: "W" }] };
    expect(diffDocuments(left, right)).toEqual(diffDocuments(structuredClone(left), structuredClone(right)));
  });
});

describe("formatPath", () => {
  it.each([
    [[], ""],
    [["a"], "a"],
    [["components", "judge", "prompt"], "components.judge.prompt"],
    [["m", "a.b", "c"], 'm["a.b"].c'],
    [["", "x"], '[""].x'],
    [["with space"], "with space"],
  ])("%j → %s", (segments, expected) => {
    expect(formatPath(segments)).toBe(expected);
  });
});

describe("namedItems", () => {
  it.each<[string, unknown, string[] | null]>([
    ["a named list", [{ name: "a" }, { name: "b" }], ["a", "b"]],
    ["an empty list", [], []],
    ["a repeated name", [{ name: "a" }, { name: "a" }], null],
    ["an item without a name", [{ name: "a" }, { insight: "b" }], null],
    ["a name that is not text", [{ name: 1 }], null],
    ["scalars", ["a"], null],
    ["not a list", { name: "a" }, null],
  ])("%s", (_label, value, names) => {
    const items = namedItems(value);
    expect(items === null ? null : [...items.keys()]).toEqual(names);
  });
});

/**
 * Applies a unified diff the strict way `git apply` does with no fuzz: each
 * hunk's numbers must place its context and removed lines exactly there.
 */
function applyPatch(left: string, patch: string): string {
  const source = left === "" ? [] : left.replace(/\n$/, "").split("\n");
  const lines = patch.split("\n");
  expect(lines[0]).toMatch(/^--- /);
  expect(lines[1]).toMatch(/^\+\+\+ /);
  expect(lines.pop()).toBe("");
  const out: string[] = [];
  let next = 0;
  let noNewlineAtEnd = !left.endsWith("\n") && left !== "";
  let i = 2;
  while (i < lines.length) {
    const header = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$/.exec(lines[i++]!);
    expect(header).not.toBeNull();
    const [oldStart, oldCount, newStart, newCount] = [header![1], header![2] ?? "1", header![3], header![4] ?? "1"].map(Number) as [number, number, number, number];
    const at = oldCount === 0 ? oldStart : oldStart - 1;
    expect(at).toBeGreaterThanOrEqual(next);
    out.push(...source.slice(next, at));
    expect(newCount === 0 ? newStart : newStart - 1).toBe(out.length);
    next = at;
    let seenOld = 0;
    let seenNew = 0;
    while (i < lines.length && !lines[i]!.startsWith("@@")) {
      const line = lines[i++]!;
      const text = line.slice(1);
      const lastOfItsSide = lines[i] === "\\ No newline at end of file";
      if (lastOfItsSide) i++;
      if (line[0] === " " || line[0] === "-") {
        expect(source[next++]).toBe(text);
        seenOld++;
        if (line[0] === "-" && lastOfItsSide) noNewlineAtEnd = false;
      }
      if (line[0] === " " || line[0] === "+") {
        out.push(text);
        seenNew++;
        if (lastOfItsSide) noNewlineAtEnd = true;
      }
    }
    expect([seenOld, seenNew]).toEqual([oldCount, newCount]);
  }
  out.push(...source.slice(next));
  if (out.length === 0) return "";
  return out.join("\n") + (noNewlineAtEnd ? "" : "\n");
}

describe("unifiedDiff", () => {
  const ten = Array.from({ length: 10 }, (_, i) => `line ${i + 1}`);
  const text = (lines: string[]) => lines.map((l) => `${l}\n`).join("");

  it("is empty for identical texts", () => {
    expect(unifiedDiff("a\nb\n", "a\nb\n", "a/x.yaml", "b/x.yaml")).toBe("");
    expect(unifiedDiff("", "", "a", "b")).toBe("");
  });

  it("writes one changed line with three lines of context", () => {
    const right = ten.map((l) => (l === "line 5" ? "line five" : l));
    expect(unifiedDiff(text(ten), text(right), "a/x.yaml", "b/x.yaml")).toBe(
      ["--- a/x.yaml", "+++ b/x.yaml", "@@ -2,7 +2,7 @@", " line 2", " line 3", " line 4", "-line 5", "+line five", " line 6", " line 7", " line 8", ""].join("\n"),
    );
  });

  it("numbers insertions and deletions on each side", () => {
    // Line 2 removed, a line added after line 9: the second hunk starts at old line 7, new line 6.
    const right = [...ten.slice(0, 1), ...ten.slice(2, 9), "new", ...ten.slice(9)];
    expect(unifiedDiff(text(ten), text(right), "a", "b", 1)).toBe(
      ["--- a", "+++ b", "@@ -1,3 +1,2 @@", " line 1", "-line 2", " line 3", "@@ -9,2 +8,3 @@", " line 9", "+new", " line 10", ""].join("\n"),
    );
  });

  it("joins changes closer than twice the context into one hunk", () => {
    const right = ten.map((l) => (l === "line 3" || l === "line 8" ? `${l}!` : l));
    const diff = unifiedDiff(text(ten), text(right), "a", "b");
    expect(diff.split("\n").filter((l) => l.startsWith("@@"))).toEqual(["@@ -1,10 +1,10 @@"]);
    expect(unifiedDiff(text(ten), text(right), "a", "b", 2).split("\n").filter((l) => l.startsWith("@@"))).toEqual(["@@ -1,10 +1,10 @@"]);
    expect(unifiedDiff(text(ten), text(right), "a", "b", 1).split("\n").filter((l) => l.startsWith("@@"))).toEqual(["@@ -2,3 +2,3 @@", "@@ -7,3 +7,3 @@"]);
  });

  it("leaves out a count of one and names the line before an empty range", () => {
    expect(unifiedDiff("a\n", "b\n", "l", "r")).toBe("--- l\n+++ r\n@@ -1 +1 @@\n-a\n+b\n");
    expect(unifiedDiff("", "a\nb\n", "l", "r")).toBe("--- l\n+++ r\n@@ -0,0 +1,2 @@\n+a\n+b\n");
    expect(unifiedDiff("a\nb\n", "", "l", "r")).toBe("--- l\n+++ r\n@@ -1,2 +0,0 @@\n-a\n-b\n");
    expect(unifiedDiff("a\nc\n", "a\nb\nc\n", "l", "r", 0)).toBe("--- l\n+++ r\n@@ -1,0 +2 @@\n+b\n");
  });

  it("marks a last line without a newline", () => {
    expect(unifiedDiff("a\nb", "a\nb\n", "l", "r")).toBe("--- l\n+++ r\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n");
    expect(unifiedDiff("a\n", "a\nb", "l", "r")).toBe("--- l\n+++ r\n@@ -1 +1,2 @@\n a\n+b\n\\ No newline at end of file\n");
  });

  it("applies back to the right text, hunk numbers checked, over many random edits", () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let round = 0; round < 300; round++) {
      const left = Array.from({ length: Math.floor(next() * 30) }, () => `l${Math.floor(next() * 8)}`);
      const right = left.flatMap((line) => {
        const r = next();
        if (r < 0.1) return [];
        if (r < 0.2) return [line, `n${Math.floor(next() * 8)}`];
        if (r < 0.3) return [`c${Math.floor(next() * 8)}`];
        return [line];
      });
      const leftText = text(left) + (next() < 0.2 ? "tail" : "");
      const rightText = text(right) + (next() < 0.2 ? "tail" : "");
      const context = Math.floor(next() * 4);
      const patch = unifiedDiff(leftText, rightText, "a", "b", context);
      if (leftText === rightText) expect(patch).toBe("");
      else expect(applyPatch(leftText, patch)).toBe(rightText);
    }
  });
});
