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

export function table(header: readonly string[], rows: readonly (readonly string[])[], layout: Layout = {}, widths = columnWidths(header, rows)): string {
  const paint = layout.paint ?? PLAIN;
  return [paint.bold(lineOf(header, widths, layout)), ...rows.map((row) => lineOf(row, widths, layout))].join("\n");
}

/** Each column's width: its widest cell, header included. */
export function columnWidths(header: readonly string[], rows: readonly (readonly string[])[]): number[] {
  return header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
}

/**
 * More rows of a table already printed, in its columns: a table printed a
 * page at a time keeps the widths of its first page (a wider cell later
 * pushes the rest of its own line only), so no page waits for the last.
 */
export function tableRows(rows: readonly (readonly string[])[], widths: readonly number[], layout: Layout = {}): string {
  return rows.map((row) => lineOf(row, widths, layout)).join("\n");
}

function lineOf(cells: readonly string[], widths: readonly number[], layout: Layout): string {
  const last = widths.length - 1;
  const lead = cells.slice(0, last).map((cell, column) => cell.padEnd(widths[column]!) + "  ").join("");
  const tail = cells[last] ?? "";
  const room = layout.width === undefined ? Infinity : Math.max(MIN_LAST_COLUMN, layout.width - lead.length);
  return (lead + (tail.length > room ? `${tail.slice(0, room - 1)}…` : tail)).trimEnd();
}
