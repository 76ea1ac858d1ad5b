import { describe, expect, it } from "vitest";
import { lintPattern } from "./pattern-lint.js";

const base = { name: "knockout", type: "orchestration", version: "1.0.0", description: "Knock-out rounds." };

describe("lintPattern", () => {
  const cases: Array<{ name: string; data: unknown; paths: string[] }> = [
    { name: "an orchestration with example tasks", data: { ...base, metadata: { example_tasks: ["knock-out rounds between drafts"] } }, paths: [] },
    { name: "an orchestration without them", data: base, paths: ["metadata.example_tasks"] },
    { name: "an empty list", data: { ...base, metadata: { example_tasks: [] } }, paths: ["metadata.example_tasks"] },
    { name: "blank items only", data: { ...base, metadata: { example_tasks: [" "] } }, paths: ["metadata.example_tasks"] },
    { name: "a mixin without them", data: { ...base, type: "mixin" }, paths: ["metadata.example_tasks"] },
    { name: "a profile needs none", data: { ...base, type: "profile" }, paths: [] },
    { name: "an invalid file: its issues first", data: { ...base, version: "one" }, paths: ["version"] },
  ];
  for (const { name, data, paths } of cases) {
    it(name, () => expect(lintPattern(data).map((issue) => issue.path)).toEqual(paths));
  }

  it("says the right form", () => {
    expect(lintPattern(base)[0]!.message).toMatch(/^no example_tasks: select finds this pattern only by its own words; .*e\.g\. example_tasks: \["knock-out rounds/);
  });
});
