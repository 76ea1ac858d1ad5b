import { describe, expect, it } from "vitest";
import { YamlDocument } from "./document.js";
import { describeTarget, labelNameSchema, normaliseSplit, parseLabelsFile, withMove, type Target } from "./labels.js";

describe("labelNameSchema", () => {
  it.each(["production", "staging", "a", "canary-2", "trial_swiss"])("accepts %j", (label) => {
    expect(labelNameSchema.safeParse(label).success).toBe(true);
  });
  it.each([
    ["latest (implicit)", "latest", /latest is implicit/],
    ["a digit first (a version)", "1prod", /a lower-case letter/],
    ["upper case", "Production", /a lower-case letter/],
    ["a dot", "prod.1", /a lower-case letter/],
    ["65 characters", `a${"b".repeat(64)}`, /1-64 characters/],
  ])("refuses %s", (_what, label, message) => {
    const result = labelNameSchema.safeParse(label);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(message);
  });
});

describe("parseLabelsFile", () => {
  it.each([
    ["no file", undefined, []],
    ["only comments", "# nothing yet\n\n", []],
    ["the short form", "tournament:\n  production: 1.2.0\n", [{ name: "tournament", label: "production", target: "1.2.0", protected: false }]],
    [
      "the long form, protected",
      "tournament:\n  production: {version: 1.2.0, protected: true}\n",
      [{ name: "tournament", label: "production", target: "1.2.0", protected: true }],
    ],
    [
      "a split",
      'tournament:\n  trial:\n    split: {"tournament@1.2.0": 90, "tournament_swiss@0.1.0": 10}\n',
      [{ name: "tournament", label: "trial", target: { split: { "tournament@1.2.0": 90, "tournament_swiss@0.1.0": 10 } }, protected: false }],
    ],
    ["a pattern with no labels", "tournament:\n", []],
  ])("reads %s", (_what, text, labels) => {
    const read = parseLabelsFile(text);
    expect(read.ok && read.labels).toEqual(labels);
  });

  it.each([
    ["YAML that does not parse", "tournament: [\n", "", /./],
    ["a top-level list", "- a\n", "", /mapping/],
    ["latest stored", "tournament:\n  latest: 1.0.0\n", "tournament.latest", /latest is implicit/],
    ["a bad label name", "tournament:\n  Prod: 1.0.0\n", "tournament.Prod", /a lower-case letter/],
    ["not a version", "tournament:\n  production: soon\n", "tournament.production", /version like 1.2.0|a version \(1.2.0\)/],
    ["a one-arm split", "t:\n  trial:\n    split: {t@1.0.0: 1}\n", "t.trial.split", /at least two arms/],
    ["a zero weight", "t:\n  trial:\n    split: {t@1.0.0: 1, t@1.1.0: 0}\n", "t.trial.split.t@1.1.0", /positive/],
    ["an arm that is a label", "t:\n  trial:\n    split: {t@production: 1, t@1.1.0: 1}\n", "t.trial.split.t@production", /exact name@version/],
    ["an unknown key", "t:\n  production: {version: 1.0.0, owner: me}\n", "t.production", /./],
    ["labels not a map", "t: 1.0.0\n", "t", /maps its labels/],
  ])("refuses %s, naming where", (_what, text, path, message) => {
    const read = parseLabelsFile(text);
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.issues[0]!.path).toBe(path);
    expect(read.issues[0]!.message).toMatch(message);
  });
});

describe("withMove", () => {
  const move = (text: string | undefined, name: string, label: string, target: Target, protect?: boolean) => {
    const read = parseLabelsFile(text);
    if (!read.ok) throw new Error("test file does not parse");
    return withMove({ document: read.document, text }, name, label, target, protect);
  };

  it("starts a new file with a header saying how to edit it", () => {
    const text = move(undefined, "tournament", "production", "1.0.0");
    expect(text).toMatch(/^# Labels of this store's patterns/);
    expect(parseLabelsFile(text)).toMatchObject({ ok: true, labels: [{ name: "tournament", label: "production", target: "1.0.0" }] });
  });

  it("keeps comments, order and the other labels (a lossless edit)", () => {
    const text = "# ours\ntournament:   # the main one\n  staging: 1.1.0  # being tried\n  production: 1.0.0 # live\nother:\n  production: 2.0.0\n";
    expect(move(text, "tournament", "production", "1.1.0")).toBe(text.replace("production: 1.0.0 # live", "production: 1.1.0 # live"));
  });

  it.each([
    ["a protected label keeps its long form", "t:\n  production: {version: 1.0.0, protected: true}\n", "1.1.0", undefined, { version: "1.1.0", protected: true }],
    ["protecting turns the short form long", "t:\n  production: 1.0.0\n", "1.0.0", true, { version: "1.0.0", protected: true }],
    ["a split is written in the long form", "t:\n  trial: 1.0.0\n", { split: { "t@1.0.0": 0.5, "t@1.1.0": 0.5 } }, undefined, { split: { "t@1.0.0": 0.5, "t@1.1.0": 0.5 } }],
    ["a split back to a version", "t:\n  trial: {split: {t@1.0.0: 0.5, t@1.1.0: 0.5}}\n", "1.1.0", undefined, "1.1.0"],
    ["unprotecting goes back to the short form", "t:\n  production: {version: 1.0.0, protected: true}\n", "1.0.0", false, "1.0.0"],
  ])("%s", (_what, text, target, protect, entry) => {
    const label = Object.keys((YamlDocument.parse(text) as { document: YamlDocument }).document.data.t as object)[0]!;
    const after = YamlDocument.parse(move(text, "t", label, target, protect));
    expect(after.ok && (after.document.data.t as Record<string, unknown>)[label]).toEqual(entry);
  });
});

describe("normaliseSplit and describeTarget", () => {
  it.each([
    [{ a: 1, b: 1 }, { a: 0.5, b: 0.5 }],
    [{ a: 90, b: 10 }, { a: 0.9, b: 0.1 }],
    [{ a: 1, b: 1, c: 1 }, { a: 0.333333, b: 0.333333, c: 0.333333 }],
    [{ a: 1, b: 1e-9 }, null],
  ])("normaliseSplit(%j)", (split, normalised) => {
    expect(normaliseSplit(split)).toEqual(normalised);
  });
  it.each([
    [null, "none"],
    ["1.2.0", "1.2.0"],
    [{ split: { "t@1.0.0": 0.5, "u@0.1.0": 0.5 } }, "split t@1.0.0=0.5 u@0.1.0=0.5"],
  ])("describeTarget(%j)", (target, text) => {
    expect(describeTarget(target as Target | null)).toBe(text);
  });
});
