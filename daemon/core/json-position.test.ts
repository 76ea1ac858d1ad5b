import { describe, expect, it } from "vitest";
import { jsonErrorPosition } from "./json-position.js";

describe("jsonErrorPosition", () => {
  it.each([
    ["not json", 0],
    ['{"event": tru}', 10],
    ['{"a":1,}', 7],
    ['{"a" 1}', 5],
    ["[1,2", 4],
    ['{"a":"b', 7],
    ['{"a":"\\x"}', 6],
    ["[1] 2", 4],
    ["", 0],
    ['{"a":[1,{"b":nul}]}', 13],
    ['  {"a":01}', 8],
    ['{"a":"\\u12G4"}', 6],
    ["{'a':1}", 1],
  ])("%s fails at %i", (text, position) => {
    expect(() => JSON.parse(text) as unknown).toThrow();
    expect(jsonErrorPosition(text)).toBe(position);
  });

  it.each(['{"a":[1,2,{"b":null}],"c":"\\u00e9\\n","d":-1.5e3}', "[]", "{}", '"x"', "  [ ]  "])("finds nothing wrong in %s", (text) => {
    expect(() => JSON.parse(text) as unknown).not.toThrow();
    expect(jsonErrorPosition(text)).toBeNull();
  });

  it("copes with hostile nesting", () => {
    expect(jsonErrorPosition("[".repeat(200_000))).toBe(200_000);
  });
});
