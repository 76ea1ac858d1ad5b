import { describe, expect, it } from "vitest";
import { classifyPath, isDecisionLogPath, isPatternPath, stemOf } from "./store-layout.js";

describe("classifyPath: every file has a kind, and every file left out a reason", () => {
  it.each([
    ["orchestrations/tournament.yaml", "pattern"],
    ["capabilities/agent_messaging.yaml", "pattern"],
    ["components/agents/deep/er/x.md", "pattern"],
    ["profiles/p.yml", "pattern"],
    ["top.yaml", "pattern"],
    ["README.md", "pattern"],
    ["orchestrations/tournament_decisions.yaml", "decision_log"],
    ["components/x_decisions.yaml", "decision_log"],
    ["labels.yaml", "labels"],
    [".gitignore", "hidden"],
    ["orchestrations/.x.yaml.123.tmp", "hidden"],
    [".github/workflows/ci.yml", "hidden"],
    ["data/runs.jsonl", "other_file"],
    ["scripts/run.py", "other_file"],
    ["compositions.json", "other_file"],
  ])("%s → %s", (path, kind) => {
    const found = classifyPath(path);
    expect(found.kind === "pattern" ? "pattern" : found.reason).toBe(kind);
    if (found.kind === "ignored") expect(found.message.length).toBeGreaterThan(10);
  });

  it("isPatternPath / isDecisionLogPath / stemOf", () => {
    expect(isPatternPath("a/b/c.md")).toBe(true);
    expect(isDecisionLogPath("a/b/c_decisions.yaml")).toBe(true);
    expect(isDecisionLogPath("a/b/c.yaml")).toBe(false);
    expect(stemOf("components/agents/x.md")).toBe("x");
    expect(stemOf("x.yml")).toBe("x");
    expect(stemOf("a/notes.txt")).toBe("notes.txt");
  });
});
