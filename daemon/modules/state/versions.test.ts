import { describe, expect, it } from "vitest";
import { expectationConflict, isVersionExpectation, nextVersion, versionExpectationProblem, type Versioned } from "./versions.js";

describe("nextVersion", () => {
  it.each<[string, Versioned | undefined, number, number]>([
    ["a new key in a fresh state", undefined, 0, 1],
    ["a new key after deletes starts above them", undefined, 7, 8],
    ["an existing key goes up by one", { value: 1, version: 4 }, 0, 5],
    ["an existing key ignores deleted versions", { value: 1, version: 4 }, 9, 5],
  ])("%s", (_, current, highestDeleted, expected) => {
    expect(nextVersion(current, highestDeleted)).toBe(expected);
  });
});

describe("isVersionExpectation / versionExpectationProblem", () => {
  it.each<[unknown, boolean, RegExp | null]>([
    [{ version: 3 }, true, null],
    [{ version: 0 }, true, null],
    [{ version: -1 }, true, /whole number ≥ 0/],
    [{ version: 1.5 }, true, /whole number ≥ 0/],
    [{ version: "3" }, true, /not "3"/],
    [{ version: 3, other: 1 }, false, null],
    [{}, false, null],
    [[{ version: 3 }], false, null],
    [null, false, null],
    [3, false, null],
    ["version", false, null],
  ])("%j → version form %s", (expect_, isVersion, problem) => {
    expect(isVersionExpectation(expect_)).toBe(isVersion);
    const found = versionExpectationProblem(expect_);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toMatch(problem);
  });
});

describe("expectationConflict", () => {
  const at7: Versioned = { value: { n: 1, tags: ["a"] }, version: 7 };
  it.each<[string, unknown, Versioned | undefined, RegExp | null]>([
    ["the current version", { version: 7 }, at7, null],
    ["the current value, deep-equal, in any key order", { tags: ["a"], n: 1 }, at7, null],
    ["an absent key expected absent", { version: 0 }, undefined, null],
    ["an older version", { version: 6 }, at7, /is at version 7, not 6: it changed since it was read; build on details.value and retry with expect \{version: 7\}/],
    ["a newer version", { version: 8 }, at7, /is at version 7, not 8/],
    ["another value", { n: 2, tags: ["a"] }, at7, /\(version 7\) does not hold the expected value; build on details.value and retry with expect \{version: 7\}/],
    ["absent expected on an existing key", { version: 0 }, at7, /already exists \(version 7\); expect \{version: 0\} only creates an absent key/],
    ["a version on an absent key", { version: 3 }, undefined, /does not exist \(version 0\), not version 3; to create it only while it is absent, expect \{version: 0\}/],
    ["a value on an absent key", null, undefined, /does not exist, so it does not hold the expected value; to create it only while it is absent, expect \{version: 0\}/],
    ["null is a value, not absence", null, { value: 0, version: 1 }, /does not hold the expected value/],
  ])("%s", (_, expectation, current, message) => {
    const conflict = expectationConflict("run.n", expectation, current);
    if (message === null) {
      expect(conflict).toBeNull();
      return;
    }
    expect(conflict?.code).toBe("conflict");
    expect(conflict?.message).toMatch(message);
    expect(conflict?.message).toContain("state key run.n");
  });

  it("details carry the current version and value, and what was expected", () => {
    expect(expectationConflict("k", { version: 1 }, { value: "now", version: 2 })?.details).toEqual({ key: "k", version: 2, value: "now", expected: { version: 1 } });
  });

  it("details of an absent key have version 0 and no value", () => {
    expect(expectationConflict("k", "x", undefined)?.details).toEqual({ key: "k", version: 0, expected: "x" });
  });
});
