/**
 * `pat ls` over a store of any size: composition:list answers a page at a
 * time (next_cursor), and each page is printed as it comes, so memory and
 * the time to the first line do not grow with the store. Every format
 * stays one document: JSON and YAML print what one reply holding every
 * entry would (`{compositions: [...], total}`, total the entries printed),
 * and a table keeps the column widths of its first page.
 */
import type { OutputFormat } from "./args.js";
import { serialize } from "./output.js";
import { PATTERN_COLUMNS, patternRows, type PatternSummary } from "./render.js";
import { columnWidths, table, tableRows, type Layout } from "./table.js";

/**
 * The text of a list printed page by page (pure): what to write for each
 * page and at the end, newlines included; written one after the other
 * they make one document.
 */
export class PatternListPrinter {
  private count = 0;
  private widths: number[] | undefined;

  constructor(
    private readonly format: OutputFormat,
    private readonly layout: Layout = {},
  ) {}

  page(patterns: readonly PatternSummary[]): string {
    if (patterns.length === 0) return "";
    const first = this.count === 0;
    this.count += patterns.length;
    if (this.format === "json") {
      // What JSON.stringify(whole, null, 2) writes for these entries, at their depth; the closing brackets come at the end.
      const items = patterns.map((entry) => indent(JSON.stringify(entry, null, 2), "    ")).join(",\n");
      return first ? `{\n  "compositions": [\n${items}` : `,\n${items}`;
    }
    if (this.format === "yaml") {
      const items = indent(serialize(patterns, "yaml"), "  ") + "\n";
      return first ? `compositions:\n${items}` : items;
    }
    const rows = patternRows(patterns);
    if (this.widths !== undefined) return tableRows(rows, this.widths, this.layout) + "\n";
    this.widths = columnWidths(PATTERN_COLUMNS, rows);
    return table(PATTERN_COLUMNS, rows, this.layout, this.widths) + "\n";
  }

  end(): string {
    const empty = this.count === 0;
    if (this.format === "json") return empty ? `{\n  "compositions": [],\n  "total": 0\n}\n` : `\n  ],\n  "total": ${this.count}\n}\n`;
    if (this.format === "yaml") return empty ? "compositions: []\ntotal: 0\n" : `total: ${this.count}\n`;
    return empty ? "(no patterns)\n" : "";
  }
}

/** Each line moved right (empty lines stay empty, as a serializer writes them). */
function indent(text: string, by: string): string {
  return text
    .split("\n")
    .map((line) => (line === "" ? line : by + line))
    .join("\n");
}
