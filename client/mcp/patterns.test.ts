import { describe, expect, it } from "vitest";
import { argumentValue, offsetOfCursor, refOfUri } from "./patterns.js";

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

describe("argumentValue (a prompt argument's text as its variable's value)", () => {
  it.each([
    [{ type: "integer", default: 5 }, "4", 4],
    [{ type: "integer" }, " -2 ", -2],
    [{ type: "number", default: 0.7 }, "0.75", 0.75],
    [{ type: "boolean" }, "false", false],
    [{ type: "list", default: [] }, '["a","b"]', ["a", "b"]],
    [{ type: "object" }, '{"k":1}', { k: 1 }],
    [{ type: "string", default: "x" }, "4", "4"],
    [{ default: 3 }, "7", 7],
    [{ default: "adaptive" }, "random", "random"],
    [{}, "anything at all", "anything at all"],
    [{ type: "matrix" }, "[[1]]", [[1]]],
    [{ type: "matrix" }, "not json", "not json"],
  ])("%j takes %j as %j", (variable, text, value) => {
    expect(argumentValue("v", variable, text)).toEqual(value);
  });

  it.each([
    [{ type: "integer", default: 5 }, "many", /^rounds is a whole number, e\.g\. 3 \(default 5\); got "many"$/],
    [{ type: "integer" }, "2.5", /whole number/],
    [{ type: "number" }, "", /a number/],
    [{ type: "boolean" }, "yes", /true or false/],
    [{ type: "list" }, "a, b", /a JSON list/],
    [{ default: { k: 1 } }, "[1]", /a JSON object/],
  ])("%j refuses %j, saying the form it takes", (variable, text, message) => {
    expect(() => argumentValue("rounds", variable, text)).toThrow(message);
  });
});
