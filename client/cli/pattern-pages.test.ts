import { describe, expect, it } from "vitest";
import { serialize } from "./output.js";
import { PatternListPrinter } from "./pattern-pages.js";
import { renderPatterns, type PatternSummary } from "./render.js";

const pattern = (name: string, description = `The ${name} pattern.`): PatternSummary => ({ name, type: "orchestration", version: "1.0.0", description });
const all = [pattern("a"), pattern("bb", "Two lines:\n\nthe second after a blank one."), pattern("ccccccc"), pattern("d"), pattern("e")];

/** What the printer writes for `all` cut into pages of `size`. */
function printed(format: "json" | "yaml" | "text", size: number, patterns = all): string {
  const printer = new PatternListPrinter(format);
  let out = "";
  for (let at = 0; at < patterns.length; at += size) out += printer.page(patterns.slice(at, at + size));
  return out + printer.end();
}

describe("PatternListPrinter", () => {
  it.each(["json", "yaml"] as const)("%s page by page is the one document a whole reply would be", (format) => {
    const whole = `${serialize({ compositions: all, total: all.length }, format)}\n`;
    for (const size of [1, 2, 5, 10]) expect(printed(format, size)).toBe(whole);
    expect(printed(format, 2, [])).toBe(`${serialize({ compositions: [], total: 0 }, format)}\n`);
  });

  it("a table keeps its first page's columns and prints its header once", () => {
    expect(printed("text", 10)).toBe(`${renderPatterns(all)}\n`);
    const lines = printed("text", 2).trimEnd().split("\n");
    expect(lines.filter((line) => line.startsWith("NAME"))).toHaveLength(1);
    expect(lines).toHaveLength(all.length + 1);
    // ccccccc is wider than the first page's names: its own line is pushed, the columns stay.
    expect(lines[1]).toMatch(/^a {5}orchestration {2}1\.0\.0/);
    expect(lines[3]).toMatch(/^ccccccc {2}orchestration {2}1\.0\.0/);
    expect(lines[4]).toMatch(/^d {5}orchestration {2}1\.0\.0/);
    expect(printed("text", 2, [])).toBe("(no patterns)\n");
  });
});
