import { describe, expect, it } from "vitest";
import { COLOURED } from "./paint.js";
import { table } from "./table.js";

const rows = [
  ["tournament", "orchestration", "Ranks many candidate outputs by pairwise matches judged blind."],
  ["ab", "mixin", "Compares two."],
];

describe("table", () => {
  it("a header row, columns padded to the widest cell, the last column not padded", () => {
    expect(table(["NAME", "TYPE", "DESCRIPTION"], rows).split("\n")).toEqual([
      "NAME        TYPE           DESCRIPTION",
      "tournament  orchestration  Ranks many candidate outputs by pairwise matches judged blind.",
      "ab          mixin          Compares two.",
    ]);
  });

  it.each([41, 60, 80])("within %i columns: the last column cut with …, short rows whole", (width) => {
    const lines = table(["NAME", "TYPE", "DESCRIPTION"], rows, { width }).split("\n");
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(width);
    expect(lines[1]!.endsWith("…")).toBe(true);
    expect(lines[2]).toBe("ab          mixin          Compares two.");
  });

  it("without a width (not a terminal) nothing is cut", () => {
    expect(table(["NAME", "TYPE", "DESCRIPTION"], rows, { width: undefined }).split("\n")[1]).toContain("judged blind.");
  });

  it("a terminal too narrow for the other columns still shows the start of the last one", () => {
    const line = table(["NAME", "TYPE", "DESCRIPTION"], rows, { width: 10 }).split("\n")[1]!;
    expect(line).toBe("tournament  orchestration  Ran…");
  });

  it("the header is bold when coloured; the rows are plain", () => {
    const lines = table(["A", "B"], [["x", "y"]], { paint: COLOURED }).split("\n");
    expect(lines).toEqual(["\u001b[1mA  B\u001b[22m", "x  y"]);
  });

  it("no trailing spaces when the last cell is empty", () => {
    expect(table(["A", "B"], [["x", ""]]).split("\n")[1]).toBe("x");
  });
});
