import { describe, expect, it } from "vitest";
import { compileGlob, compileGlobs } from "./glob.js";

describe("compileGlob", () => {
  it.each([
    ["composition:*", "composition:fork", true],
    ["composition:*", "composition:fork:extra", false],
    ["composition:*", "compositionx:fork", false],
    ["orchestration:**", "orchestration:run", true],
    ["orchestration:**", "orchestration:run:done", true],
    ["orchestration:**", "orchestration", true],
    ["orchestration:**", "orchestrations:run", false],
    ["**", "anything:at:all", true],
    ["system:health", "system:health", true],
    ["system:health", "system:healthz", false],
    ["composition:fo*", "composition:fork", true],
    ["composition:fo*", "composition:save", false],
    ["*:changed", "composition:changed", true],
    ["*:changed", "a:b:changed", false],
    ["**:changed", "a:b:changed", true],
    ["**:changed", "changed", true],
    ["a.b:*", "aXb:c", false],
  ])("%s matches %s: %s", (pattern, name, expected) => {
    expect(compileGlob(pattern)(name)).toBe(expected);
  });

  it("matches when any pattern of a list matches", () => {
    const match = compileGlobs(["system:*", "monitor:dropped"]);
    expect(match("system:health")).toBe(true);
    expect(match("monitor:dropped")).toBe(true);
    expect(match("monitor:subscribe")).toBe(false);
  });
});
