import { describe, expect, it } from "vitest";
import { frameOf, joinPatternText, parsePatternText, patternExtension, readPatternData, splitPatternText } from "./front-matter.js";

const md = "---\nname: x\ntype: agent # the kind\n---\n# X\n\nYou are x.\n---\nnot front matter\n";

describe("splitPatternText", () => {
  it.each([
    ["a YAML file is all document", "orchestrations/x.yaml", "name: x\n", { yaml: "name: x\n", frame: { before: "", after: "" } }],
    ["a .yml file too", "x.yml", "---\nname: x\n", { yaml: "---\nname: x\n", frame: { before: "", after: "" } }],
    ["markdown: the front matter, then the body", "c/x.md", md, { yaml: "name: x\ntype: agent # the kind\n", frame: { before: "---\n", after: "---\n# X\n\nYou are x.\n---\nnot front matter\n" } }],
    ["markdown with CRLF lines", "x.md", "---\r\nname: x\r\n---\r\nbody", { yaml: "name: x\r\n", frame: { before: "---\r\n", after: "---\r\nbody" } }],
    ["markdown ending at its closing line", "x.md", "---\nname: x\n---", { yaml: "name: x\n", frame: { before: "---\n", after: "---" } }],
    ["empty front matter", "x.md", "---\n---\nbody", { yaml: "", frame: { before: "---\n", after: "---\nbody" } }],
  ])("%s", (_label, path, text, expected) => {
    const split = splitPatternText(path, text);
    expect(split).toEqual(expected);
    expect(joinPatternText(split!.frame, split!.yaml)).toBe(text);
  });

  it.each([
    ["no opening line", "# Title\n---\nname: x\n---\n"],
    ["no closing line", "---\nname: x\n"],
    ["an opening line with more on it", "--- name: x\n---\n"],
  ])("markdown with %s has no front matter (null)", (_label, text) => {
    expect(splitPatternText("x.md", text)).toBeNull();
  });
});

describe("an edit of a markdown pattern changes the front matter only", () => {
  it("keeps the body and the delimiters byte for byte, and the comments of the front matter", () => {
    const parsed = parsePatternText("c/x.md", md);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    parsed.document.set(["version"], "1.0.1");
    expect(joinPatternText(parsed.frame, parsed.document.toString())).toBe("---\nname: x\ntype: agent # the kind\nversion: 1.0.1\n---\n# X\n\nYou are x.\n---\nnot front matter\n");
  });

  it("puts the closing line on its own line even when the YAML has no final line break", () => {
    expect(joinPatternText({ before: "---\n", after: "---\nbody" }, "name: x")).toBe("---\nname: x\n---\nbody");
  });

  it("frameOf: a file's own frame; a new markdown file gets delimiters; a YAML file none", () => {
    expect(frameOf("x.md", md).after).toBe("---\n# X\n\nYou are x.\n---\nnot front matter\n");
    expect(frameOf("x.md", undefined)).toEqual({ before: "---\n", after: "---\n" });
    expect(frameOf("x.md", "just text\n")).toEqual({ before: "---\n", after: "---\njust text\n" });
    expect(frameOf("x.yaml", "name: x\n")).toEqual({ before: "", after: "" });
  });
});

describe("readPatternData", () => {
  it("reads a markdown file's front matter as its data", () => {
    expect(readPatternData("x.md", md)).toEqual({ ok: true, data: { name: "x", type: "agent" } });
  });

  it("says what a markdown pattern needs when it has no front matter", () => {
    expect(readPatternData("x.md", "# x\n")).toEqual({ ok: false, issues: [{ path: "", message: expect.stringMatching(/starts with YAML front matter/) }] });
  });
});

describe("patternExtension", () => {
  it.each([
    ["a.yaml", ".yaml"],
    ["a/b.yml", ".yml"],
    ["c/d.md", ".md"],
    ["e.json", undefined],
    [".yaml", undefined],
    ["a.yaml.tmp", undefined],
  ])("%s → %s", (path, ext) => {
    expect(patternExtension(path)).toBe(ext);
  });
});
