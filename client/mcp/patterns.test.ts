import { describe, expect, it } from "vitest";
import { offsetOfCursor, refOfUri } from "./patterns.js";

describe("refOfUri", () => {
  it.each([
    ["pattern://tournament", "tournament"],
    ["pattern://tournament@2.0.0", "tournament@2.0.0"],
    ["pattern://my%2Dpattern", "my-pattern"],
    ["pattern://", undefined],
    ["pattern://a/b", undefined],
    ["file:///etc/passwd", undefined],
    ["pattern://tournament?x=1", undefined],
  ])("%s → %s", (uri, ref) => {
    expect(refOfUri(uri)).toBe(ref);
  });
});

describe("offsetOfCursor", () => {
  it("reads the cursors the lists give, and nothing else", () => {
    expect(offsetOfCursor(undefined)).toBe(0);
    expect(offsetOfCursor("500")).toBe(500);
    expect(offsetOfCursor("-1")).toBeUndefined();
    expect(offsetOfCursor("abc")).toBeUndefined();
    expect(offsetOfCursor("1e3")).toBeUndefined();
  });
});
