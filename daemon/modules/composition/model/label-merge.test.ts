import { describe, expect, it } from "vitest";
import { mergeLabels } from "./label-merge.js";
import type { Label, LabelBook } from "./labels.js";

const l = (label: string, target: Label["target"], isProtected = false, name = "t"): Label => ({ name, label, target, protected: isProtected });
const prod = (version: string, isProtected = false) => l("production", version, isProtected);

describe("mergeLabels", () => {
  it.each<[string, LabelBook, LabelBook, LabelBook, LabelBook, string[]]>([
    ["nobody moved anything", [prod("1.0.0")], [prod("1.0.0")], [prod("1.0.0")], [prod("1.0.0")], []],
    ["only ours moved", [prod("1.0.0")], [prod("1.1.0")], [prod("1.0.0")], [prod("1.1.0")], []],
    ["only theirs moved", [prod("1.0.0")], [prod("1.0.0")], [prod("1.2.0")], [prod("1.2.0")], []],
    ["both moved it the same way", [prod("1.0.0")], [prod("1.2.0")], [prod("1.2.0")], [prod("1.2.0")], []],
    ["both moved it differently", [prod("1.0.0")], [prod("1.1.0")], [prod("1.2.0")], [prod("1.1.0")], ["t@production"]],
    ["each moved another label", [prod("1.0.0"), l("staging", "1.0.0")], [prod("1.1.0"), l("staging", "1.0.0")], [prod("1.0.0"), l("staging", "1.2.0")], [prod("1.1.0"), l("staging", "1.2.0")], []],
    ["theirs added a label", [], [prod("1.0.0")], [prod("1.0.0"), l("staging", "1.1.0")], [prod("1.0.0"), l("staging", "1.1.0")], []],
    ["both added the same label differently", [], [prod("1.0.0")], [prod("1.1.0")], [prod("1.0.0")], ["t@production"]],
    ["theirs removed a label ours kept", [prod("1.0.0")], [prod("1.0.0")], [], [], []],
    ["theirs removed a label ours moved", [prod("1.0.0")], [prod("1.1.0")], [], [prod("1.1.0")], ["t@production"]],
    ["theirs protected it", [prod("1.0.0")], [prod("1.0.0")], [prod("1.0.0", true)], [prod("1.0.0", true)], []],
    ["ours protected it, theirs moved it", [prod("1.0.0")], [prod("1.0.0", true)], [prod("1.1.0")], [prod("1.0.0", true)], ["t@production"]],
    [
      "the same label of two patterns",
      [prod("1.0.0"), l("production", "2.0.0", false, "u")],
      [prod("1.1.0"), l("production", "2.0.0", false, "u")],
      [prod("1.0.0"), l("production", "2.1.0", false, "u")],
      [prod("1.1.0"), l("production", "2.1.0", false, "u")],
      [],
    ],
    [
      "a split moved on both sides",
      [l("trial", { split: { "t@1.0.0": 0.5, "f@0.1.0": 0.5 } })],
      [l("trial", { split: { "t@1.0.0": 0.9, "f@0.1.0": 0.1 } })],
      [l("trial", { split: { "t@1.0.0": 0.1, "f@0.1.0": 0.9 } })],
      [l("trial", { split: { "t@1.0.0": 0.9, "f@0.1.0": 0.1 } })],
      ["t@trial"],
    ],
  ])("%s", (_what, base, ours, theirs, merged, conflicts) => {
    const result = mergeLabels(base, ours, theirs);
    expect(result.merged).toEqual(merged);
    expect(result.conflicts.map((c) => `${c.name}@${c.label}`)).toEqual(conflicts);
  });

  it("names each side of a conflict (null where a side has none)", () => {
    const { conflicts } = mergeLabels([prod("1.0.0")], [prod("1.1.0")], []);
    expect(conflicts).toEqual([{ name: "t", label: "production", base: prod("1.0.0"), ours: prod("1.1.0"), theirs: null }]);
  });
});
