import { describe, expect, it } from "vitest";
import { renderReload } from "./render-reload.js";

describe("renderReload", () => {
  it("a clean store: one line", () => {
    expect(renderReload({ indexed: 12, invalid: [], ignored: [], warnings: [] })).toBe("12 indexed, 0 invalid, 0 not indexed, 0 warnings");
  });

  it("every file once: invalid with issues, the rest grouped by reason, then warnings", () => {
    const text = renderReload({
      indexed: 3,
      invalid: [{ path: "orchestrations/Bad.yaml", issues: [{ path: "name", message: "lower-case" }, { path: "", message: "whole file" }] }],
      ignored: [
        { path: "orchestrations/x_decisions.yaml", reason: "decision_log", message: "a decision log" },
        { path: "README.md", reason: "no_front_matter", message: "markdown without YAML front matter" },
        { path: "data/a.jsonl", reason: "other_file", message: "not a .yaml, .yml or .md file" },
        { path: "data/b.jsonl", reason: "other_file", message: "not a .yaml, .yml or .md file" },
        { path: "linked", reason: "unsafe_path", message: "linked is a symbolic link", target: "/elsewhere" },
      ],
      warnings: [{ path: "orchestrations/v2.yaml", message: "extends: extends basic, which is not in the store" }],
    });
    expect(text).toBe(
      [
        "3 indexed, 1 invalid, 5 not indexed, 1 warning",
        "",
        "invalid (the last good version, if any, keeps serving):",
        "  orchestrations/Bad.yaml at name: lower-case",
        "  orchestrations/Bad.yaml: whole file",
        "",
        "not indexed, decision_log (1): a decision log",
        "  orchestrations/x_decisions.yaml",
        "",
        "not indexed, no_front_matter (1): markdown without YAML front matter",
        "  README.md",
        "",
        "not indexed, other_file (2): not a .yaml, .yml or .md file",
        "  data/a.jsonl",
        "  data/b.jsonl",
        "",
        "not indexed, unsafe_path (1): a symbolic link, never followed",
        "  linked -> /elsewhere",
        "",
        "warnings (indexed and served):",
        "  orchestrations/v2.yaml: extends: extends basic, which is not in the store",
      ].join("\n"),
    );
  });
});
