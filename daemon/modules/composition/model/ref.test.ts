import { describe, expect, it } from "vitest";
import { formatRef, labelledRefSchema, nameSchema, parseRef, refSchema } from "./ref.js";

const sixtyFour = `a${"b".repeat(63)}`;
const longest = `a${"b".repeat(127)}`;

describe("nameSchema", () => {
  it.each(["a", "0", "tournament", "tournament_swiss", "red-team-2", "0day", sixtyFour, `${sixtyFour}_${"c".repeat(5)}`, longest, "decisions", "x_decisions_v2", "decisions_x"])("accepts %j", (name) => {
    expect(nameSchema.safeParse(name).success).toBe(true);
  });

  it.each([
    ["empty", "", /1-128 characters/],
    ["a slash", "a/b", /1-128 characters/],
    ["a parent directory", "..", /1-128 characters/],
    ["a path climbing out", "../etc", /1-128 characters/],
    ["a leading dot", ".hidden", /1-128 characters/],
    ["upper case", "Tournament", /lower-case/],
    ["a space", "my pattern", /1-128 characters/],
    ["a leading underscore", "_x", /starting with a letter or digit/],
    ["a leading dash", "-x", /starting with a letter or digit/],
    ["a dot", "a.yaml", /1-128 characters/],
    ["an at sign", "a@1.0.0", /1-128 characters/],
    ["non-ASCII", "décision", /1-128 characters/],
    ["129 characters", `${longest}c`, /1-128 characters/],
    ["the decision-log suffix", "tournament_decisions", /reserved for decision logs/],
    ["a newline", "a\nb", /1-128 characters/],
  ])("refuses %s", (_label, name, message) => {
    const result = nameSchema.safeParse(name);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(message);
  });
});

describe("refs", () => {
  it.each([
    ["tournament", { name: "tournament" }],
    ["tournament@2.0.0", { name: "tournament", version: "2.0.0" }],
    ["x@1.0.0-rc.1", { name: "x", version: "1.0.0-rc.1" }],
    ["x@", { name: "x", version: "" }],
  ])("parseRef(%j)", (text, ref) => {
    expect(parseRef(text)).toEqual(ref);
    expect(formatRef(parseRef(text))).toBe(text);
  });

  it.each(["tournament", "tournament@2.0.0", "a@0.0.1", "x@1.0.0-rc.1", "x@1.0.0+build.7", `${sixtyFour}@10.20.30`, `${longest}@10.20.30`])("refSchema accepts %j", (text) => {
    expect(refSchema.safeParse(text).success).toBe(true);
  });

  it.each([
    ["a bare major", "tournament@2", /"2" is not a version/],
    ["two parts", "tournament@2.0", /"2.0" is not a version/],
    ["a v prefix", "tournament@v2.0.0", /not a version/],
    ["an empty version", "tournament@", /"" is not a version/],
    ["a word", "tournament@latest", /not a version/],
    ["two at signs", "tournament@1.0.0@2.0.0", /not a version/],
    ["a bad name", "Tournament@1.0.0", /lower-case/],
    ["no name", "@1.0.0", /1-128 characters/],
    ["a path", "../x@1.0.0", /1-128 characters/],
    ["a decision log", "tournament_decisions", /reserved/],
    ["over 193 characters", `${longest}@1.0.0-${"a".repeat(60)}`, /193/],
  ])("refSchema refuses %s", (_label, text, message) => {
    const result = refSchema.safeParse(text);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(message);
  });
});

describe("labelled refs (issue 17)", () => {
  it.each([
    ["tournament@production", { name: "tournament", label: "production" }],
    ["tournament@latest", { name: "tournament", label: "latest" }],
    ["tournament@canary-2", { name: "tournament", label: "canary-2" }],
  ])("parseRef(%j) reads a label (it starts with a letter; a version with a digit)", (text, ref) => {
    expect(parseRef(text)).toEqual(ref);
    expect(formatRef(parseRef(text))).toBe(text);
  });

  it.each(["tournament", "tournament@1.2.0", "tournament@production", "tournament@latest"])("labelledRefSchema accepts %j", (text) => {
    expect(labelledRefSchema.safeParse(text).success).toBe(true);
  });

  it.each([
    ["two parts", "tournament@2.0", /neither a version like 1.2.0 nor a label/],
    ["upper case", "tournament@Prod", /neither a version/],
    ["a bad name", "Tournament@production", /lower-case/],
  ])("labelledRefSchema refuses %s", (_label, text, message) => {
    const result = labelledRefSchema.safeParse(text);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(message);
  });

  it("refSchema (documents: extends, mixins) still takes exact versions only", () => {
    expect(refSchema.safeParse("tournament@production").error?.issues[0]?.message).toMatch(/a label is not allowed here/);
  });
});
