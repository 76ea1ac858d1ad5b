import { describe, expect, it } from "vitest";
import { bumpMinor, bumpPatch, compareVersions, parseVersion } from "./version.js";

describe("parseVersion", () => {
  it.each([
    ["1.2.3", { major: 1, minor: 2, patch: 3, prerelease: "" }],
    ["0.0.0", { major: 0, minor: 0, patch: 0, prerelease: "" }],
    ["10.20.30", { major: 10, minor: 20, patch: 30, prerelease: "" }],
    ["1.0.0-rc.1", { major: 1, minor: 0, patch: 0, prerelease: "rc.1" }],
    ["1.0.0-alpha-beta.x", { major: 1, minor: 0, patch: 0, prerelease: "alpha-beta.x" }],
    ["1.0.0+build.5", { major: 1, minor: 0, patch: 0, prerelease: "" }],
    ["1.0.0-rc.1+build.5", { major: 1, minor: 0, patch: 0, prerelease: "rc.1" }],
  ])("%s", (text, expected) => {
    expect(parseVersion(text)).toEqual(expected);
  });

  it.each(["", "1", "1.2", "1.2.3.4", "v1.2.3", "01.2.3", "1.02.3", "1.2.03", "1.2.3-", "1.2.3+", "1.2.3-a b", " 1.2.3", "1.2.3\n", "a.b.c", "-1.2.3"])(
    "%j is not a version",
    (text) => {
      expect(parseVersion(text)).toBeNull();
    },
  );
});

describe("compareVersions", () => {
  it.each([
    ["1.0.0", "1.0.0", 0],
    ["1.0.0", "2.0.0", -1],
    ["2.0.0", "1.9.9", 1],
    ["1.2.0", "1.10.0", -1],
    ["1.0.2", "1.0.10", -1],
    ["1.0.0-rc.1", "1.0.0", -1],
    ["1.0.0", "1.0.0-rc.1", 1],
    ["1.0.0-rc.1", "1.0.0-rc.1", 0],
    ["1.0.0-rc.1", "0.9.9", 1],
    // Build metadata does not order versions.
    ["1.0.0+a", "1.0.0+b", 0],
    ["1.0.0-alpha.2", "1.0.0-alpha.10", -1],
    ["1.0.0-alpha.10", "1.0.0-alpha.2", 1],
    ["1.0.0-2", "1.0.0-10", -1],
    ["1.0.0-1", "1.0.0-alpha", -1],
    ["1.0.0-alpha", "1.0.0-alpha.1", -1],
  ])("%s vs %s → %i", (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b))).toBe(sign);
    expect(Math.sign(compareVersions(b, a))).toBe(sign === 0 ? 0 : -sign);
  });

  it("orders the SemVer 2.0.0 precedence example", () => {
    const ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0"];
    const shuffled = [...ordered].reverse();
    shuffled.push(shuffled.splice(3, 1)[0]!);
    expect(shuffled.sort(compareVersions)).toEqual(ordered);
  });

  it("refuses something that is not a version, naming it", () => {
    expect(() => compareVersions("1.0.0", "latest")).toThrow(/latest/);
    expect(() => compareVersions("x", "1.0.0")).toThrow(/x/);
  });
});

describe("bumpPatch", () => {
  it.each([
    ["0.1.0", "0.1.1"],
    ["1.2.9", "1.2.10"],
    ["2.0.0", "2.0.1"],
    ["1.0.0-rc.1", "1.0.1"],
    ["1.0.0+build", "1.0.1"],
  ])("%s → %s", (from, to) => {
    expect(bumpPatch(from)).toBe(to);
    expect(compareVersions(bumpPatch(from), from)).toBeGreaterThan(0);
  });

  it("refuses something that is not a version", () => {
    expect(() => bumpPatch("1.0")).toThrow(/not a version/);
  });
});

describe("bumpMinor", () => {
  it.each([
    ["0.1.0", "0.2.0"],
    ["1.2.9", "1.3.0"],
    ["1.9.3", "1.10.0"],
    ["1.3.0-rc.1", "1.4.0"],
  ])("%s → %s", (from, to) => {
    expect(bumpMinor(from)).toBe(to);
    expect(compareVersions(bumpMinor(from), from)).toBeGreaterThan(0);
  });
});
