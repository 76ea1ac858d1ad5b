import { describe, expect, it } from "vitest";
import type { LabelBook } from "./labels.js";
import { pickArm } from "./label-split.js";
import type { Candidate, SelectResult } from "./select.js";
import { exploreTrials } from "./select-trial.js";

function candidate(name: string, version: string): Candidate {
  return { name, version, score: 1, breakdown: { relevance: 1, evidence: 0, similar_tasks: 0, requirements: 0 }, reasons: ["relevance 1.00"], requirements_met: true };
}

const RESULT: SelectResult = { selected: "tournament", explanation: "tournament is the best", candidates: [candidate("tournament", "1.0.0"), candidate("swiss", "0.1.0")] };
const SPLIT = { "tournament@1.0.0": 0.5, "swiss@0.1.0": 0.5 };

describe("exploreTrials", () => {
  const cases: { why: string; labels: LabelBook; result?: SelectResult; trial: boolean; tagged: string[] }[] = [
    { why: "no labels: the result as it was", labels: [], trial: false, tagged: [] },
    { why: "only version labels: as it was", labels: [{ name: "tournament", label: "production", target: "1.0.0", protected: false }], trial: false, tagged: [] },
    { why: "the best is an arm: the key's arm is selected", labels: [{ name: "tournament", label: "trial", target: { split: SPLIT }, protected: false }], trial: true, tagged: ["tournament", "swiss"] },
    {
      why: "another version is the arm: not under trial",
      labels: [{ name: "tournament", label: "trial", target: { split: { "tournament@0.9.0": 0.5, "swiss@0.1.0": 0.5 } }, protected: false }],
      trial: false,
      tagged: ["swiss"],
    },
    {
      why: "nothing selected: reasons only",
      labels: [{ name: "tournament", label: "trial", target: { split: SPLIT }, protected: false }],
      result: { ...RESULT, selected: null },
      trial: false,
      tagged: ["tournament", "swiss"],
    },
  ];
  for (const c of cases) {
    it(c.why, () => {
      const input = c.result ?? RESULT;
      const out = exploreTrials(input, c.labels, "run-1");
      expect(out.trial !== undefined).toBe(c.trial);
      expect(out.candidates.filter((x) => x.reasons.some((r) => r.startsWith("under trial: "))).map((x) => x.name)).toEqual(c.tagged);
      if (c.tagged.length === 0) expect(out).toBe(input);
    });
  }

  it("the key picks the arm as composition:resolve does, and says so", () => {
    const labels: LabelBook = [{ name: "tournament", label: "trial", target: { split: SPLIT }, protected: false }];
    for (const key of ["run-1", "run-2", "run-3", "run-4"]) {
      const out = exploreTrials(RESULT, labels, key);
      const arm = pickArm(SPLIT, "tournament@trial", key);
      expect(out.trial).toEqual({ label: "tournament@trial", arm, name: arm.split("@")[0], version: arm.split("@")[1], key, split: SPLIT });
      expect(out.selected).toBe(arm.split("@")[0]);
      expect(out.explanation).toContain(`under trial: tournament@trial splits 50/50 between tournament@1.0.0 and swiss@0.1.0; key ${key} gets ${arm}`);
      expect(exploreTrials(RESULT, labels, key)).toEqual(out);
    }
  });
});
