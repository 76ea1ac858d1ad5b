/**
 * Columns of text under a header row (pure). On a terminal the last column
 * (a description, a message) is cut with … to fit the width; with no width
 * (stdout is a pipe or a file) nothing is cut, so `pat ls | grep` sees
 * whole lines.
 */
import { PLAIN, type Paint } from "./paint.js";

export interface Layout {
  /** The terminal's width in columns; undefined: do not cut. */
  width?: number | undefined;
  paint?: Paint;
}

/** The least of the last column kept when the other columns leave less room: the line is then wider than the terminal. */
const MIN_LAST_COLUMN = 4;

export function table(header: readonly string[], rows: readonly (readonly string[])[], layout: Layout = {}): string {
  const paint = layout.paint ?? PLAIN;
  const last = header.length - 1;
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]) => {
    const lead = cells.slice(0, last).map((cell, column) => cell.padEnd(widths[column]!) + "  ").join("");
    return { lead, tail: cells[last] ?? "" };
  };
  const fit = ({ lead, tail }: { lead: string; tail: string }) => {
    const room = layout.width === undefined ? Infinity : Math.max(MIN_LAST_COLUMN, layout.width - lead.length);
    return (lead + (tail.length > room ? `${tail.slice(0, room - 1)}…` : tail)).trimEnd();
  };
  return [paint.bold(fit(line(header))), ...rows.map((row) => fit(line(row)))].join("\n");
}
