import { describe, expect, it } from "vitest";
import { fileWarnings, missingParents } from "./pattern-warnings.js";

describe("fileWarnings", () => {
  it.each([
    ["a file named for its pattern, described", "orchestrations/x.yaml", "x", { description: "d" }, []],
    ["a markdown file deep down", "components/agents/x.md", "x", { description: "d" }, []],
    ["a name other than the file name", "components/x.md", "x_agent", { description: "d" }, ["name"]],
    ["no description", "x.yml", "x", {}, ["description"]],
    ["an empty description", "x.yml", "x", { description: "" }, ["description"]],
    ["both", "a/y.md", "x", { description: null }, ["name", "description"]],
  ])("%s", (_label, path, name, data, paths) => {
    expect(fileWarnings(path, name, data).map((w) => w.path)).toEqual(paths);
  });
});

describe("missingParents", () => {
  const known = new Set(["base", "mixin_a"]);
  const exists = (name: string) => known.has(name);
  it.each([
    ["no parents", {}, []],
    ["a null extends", { extends: null, mixins: null }, []],
    ["parents that exist, with or without a version", { extends: "base@1.0.0", mixins: ["mixin_a"] }, []],
    ["a missing extends", { extends: "tournament_basic" }, ["extends"]],
    ["a missing mixin among others", { mixins: ["mixin_a", "gone", 3] }, ["mixins.1"]],
  ])("%s", (_label, data, paths) => {
    expect(missingParents(data, exists).map((w) => w.path)).toEqual(paths);
  });

  it("names the missing parent and what fails", () => {
    expect(missingParents({ extends: "tournament_basic" }, exists)).toEqual([{ path: "extends", message: "extends tournament_basic, which is not in the store: compose fails until it is" }]);
  });
});
