import { describe, expect, it } from "vitest";
import { decodeState, type StoredState } from "./state-document.js";

function stored(values: [string, unknown][], versions: [string, number][], highestDeletedVersion = 0): StoredState {
  return { values: new Map(values), versions: new Map(versions), highestDeletedVersion };
}

describe("decodeState", () => {
  it.each<[string, unknown, StoredState]>([
    ["an empty object", {}, stored([], [])],
    ["a file from before versions: every key at version 1", { "run_1.status": "done", n: [1, { a: null }] }, stored([["run_1.status", "done"], ["n", [1, { a: null }]]], [["run_1.status", 1], ["n", 1]])],
    ["versions and the highest deleted version", { a: 1, b: 2, $versions: { a: 4, b: 9 }, $highest_deleted_version: 12 }, stored([["a", 1], ["b", 2]], [["a", 4], ["b", 9]], 12)],
    ["a key without a version starts above deleted ones", { a: 1, b: 2, $versions: { a: 4 }, $highest_deleted_version: 12 }, stored([["a", 1], ["b", 2]], [["a", 4], ["b", 13]], 12)],
    ["a version whose key is gone counts as deleted", { a: 1, $versions: { a: 2, gone: 30 }, $highest_deleted_version: 12 }, stored([["a", 1]], [["a", 2]], 30)],
  ])("%s", (_, document, expected) => {
    expect(decodeState(document)).toEqual(expected);
  });

  it.each<[unknown, RegExp]>([
    [[], /does not hold a JSON object/],
    [[1, 2], /does not hold a JSON object/],
    [42, /does not hold a JSON object/],
    [null, /does not hold a JSON object/],
    ["text", /does not hold a JSON object/],
    [{ $versions: [] }, /\$versions is not an object/],
    [{ a: 1, $versions: { a: 0 } }, /gives "a" the version 0, not a whole number ≥ 1/],
    [{ a: 1, $versions: { a: "2" } }, /gives "a" the version "2"/],
    [{ $highest_deleted_version: -1 }, /\$highest_deleted_version is not a whole number ≥ 0: -1/],
    [{ $other: 1 }, /holds the key "\$other"/],
    [{ "x.$versions": 1 }, /holds the key "x\.\$versions"/],
  ])("%j is refused: %s", (document, message) => {
    expect(() => decodeState(document)).toThrow(message);
  });

  it.each([
    ['{"__proto__.polluted": 1}', "__proto__.polluted"],
    ['{"__proto__": {"polluted": 1}}', "__proto__"],
    ['{"a.constructor.prototype.polluted": 1}', "a.constructor.prototype.polluted"],
    ['{"bad key": 1}', "bad key"],
  ])("a key a client could not have set is refused: %s", (text, key) => {
    expect(() => decodeState(JSON.parse(text))).toThrow(key);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
