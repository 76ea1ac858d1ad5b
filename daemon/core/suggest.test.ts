import { describe, expect, it } from "vitest";
import { editDistance, suggest } from "./suggest.js";

const events = ["system:health", "system:hello", "system:help", "system:discover", "monitor:subscribe", "monitor:unsubscribe"];

describe("editDistance", () => {
  it.each([
    ["", "", 0],
    ["abc", "abc", 0],
    ["abc", "abd", 1],
    ["kitten", "sitting", 3],
    ["", "abc", 3],
  ])("%s ~ %s = %i", (a, b, d) => expect(editDistance(a, b)).toBe(d));
});

describe("suggest", () => {
  it("finds a typo", () => expect(suggest("system:helth", events)[0]).toBe("system:health"));
  it("orders by closeness", () => expect(suggest("system:hell", events)).toEqual(["system:hello", "system:help", "system:health"]));
  it("matches a shortened leaf in the same namespace", () => expect(suggest("monitor:sub", events)).toContain("monitor:subscribe"));
  it("returns nothing for something unrelated", () => expect(suggest("weather:forecast", events)).toEqual([]));
});
