/**
 * `npm run demo` (scripts/demo.ts) plays an orchestrator through the whole
 * loop against a real daemon; this checks the story it tells — what was
 * selected, which watchdog fired, what the merge made, what git recorded —
 * rather than its wording.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEMO_STEPS, runDemo } from "../scripts/demo.js";
import { cleanup, makeHome } from "./harness.js";

afterAll(cleanup);

function semver(version: string): [number, number, number] {
  const [major, minor, patch] = version.split(".").map(Number);
  return [major!, minor!, patch!];
}

describe("npm run demo", () => {
  it("plays the loop from hello to git log, in a home the caller gives it", async () => {
    const home = await makeHome();
    const lines: string[] = [];
    const result = await runDemo({ out: (line) => lines.push(line), home });
    const output = lines.join("\n");

    // Every step has its heading, in order.
    const positions = DEMO_STEPS.map((title, i) => output.indexOf(`[${i + 1}/${DEMO_STEPS.length}] ${title}`));
    expect(positions.every((p) => p >= 0), output).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(DEMO_STEPS).toHaveLength(13);

    expect(result.server).toBe("patternd");
    expect(result.discovered).toContain("tournament");
    expect(result.selected).toBe("tournament");
    expect(result.top[0]?.name).toBe("tournament");
    expect(result.top).toHaveLength(3);
    expect(result.decisions.tracked).toHaveLength(3);
    expect(result.decisions.total).toBeGreaterThanOrEqual(3);

    // Both competing scorers answered the collect; highest:score picked the higher one, and the decision is in the log.
    const { scoring } = result;
    expect(scoring.scorers).toHaveLength(2);
    expect(scoring.responses.map((r) => r.handler_id).sort()).toEqual(scoring.scorers.map((s) => s.handler_id).sort());
    expect(scoring.responses.every((r) => r.ok)).toBe(true);
    expect(scoring.missing).toEqual([]);
    const scores = scoring.responses.map((r) => r.score!);
    expect(new Set(scores).size).toBe(2);
    const best = scoring.responses.find((r) => r.score === Math.max(...scores))!;
    expect(scoring.reduced).toEqual({ handler_id: best.handler_id, value: best.score, winner: best.winner });
    expect(scoring.decision.confidence).toBe(best.score);
    expect(scoring.decision.decision).toContain(`${best.winner} beats`);
    const decisionLog = await readFile(join(home, "var", "lib", "compositions", "orchestrations", "tournament_decisions.yaml"), "utf8");
    const entry = decisionLog.slice(decisionLog.indexOf(`id: ${scoring.decision.id}`));
    expect(entry.length, decisionLog).toBeLessThan(decisionLog.length);
    expect(entry).toContain(scoring.decision.decision);
    expect(entry).toMatch(/reduce: highest:score/);
    expect(output).toMatch(/\[scorer_rubric\] +← push handler:call/);
    expect(output).toMatch(/\[scorer_pairwise\] +← push handler:call/);

    // The watchdog whose run was still running fired; the other one's condition was false at fire time.
    expect(result.watchdog).toEqual({ fired: ["run_a"], notFired: ["run_b"] });

    expect(result.fork).toMatchObject({ name: "tournament_swiss", version: "0.1.0", parent: "tournament@2.0.0" });
    // The trial: 50/50 by run id, each arm's decisions recorded, the fork promoted on the evidence, every move a commit of labels.yaml.
    const { trial } = result;
    expect(trial.arms).toEqual(["tournament@2.0.0", "tournament_swiss@0.1.0"]);
    expect(Object.values(trial.runs).reduce((a, b) => a + b, 0)).toBe(200);
    for (const n of Object.values(trial.runs)) expect(n).toBeGreaterThan(70);
    expect(trial.compare).toMatchObject({ a: "tournament@2.0.0", b: "tournament_swiss@0.1.0", action: "promote_b", text: "promote b" });
    expect(trial.compare.p_b_better).toBeGreaterThan(0.95);
    expect(trial.promoted).toMatchObject({ label: "tournament_swiss@production", target: "0.1.0" });
    expect(trial.labelLog.trimEnd().split("\n").map((line) => line.slice(line.indexOf(" ") + 1))).toEqual([
      "label: tournament_swiss@production -> 0.1.0",
      "label: tournament@trial -> split tournament@2.0.0=0.5 tournament_swiss@0.1.0=0.5",
      "label: tournament@production -> 2.0.0",
    ]);
    expect(output).toContain("p(b better)");

    expect(result.diffPaths).toEqual(expect.arrayContaining(["orchestration_logic.strategy", "metadata.selection_criteria.latency"]));

    // The merge bumped the parent's minor version and kept both sides' strategy edits.
    const [major, minor] = semver(result.merge.before);
    expect(semver(result.merge.version)).toEqual([major, minor + 1, 0]);
    expect(result.edits.forkLine).toContain("Swiss");
    expect(result.edits.parentLine).toContain("got <n>");
    expect(result.merge.strategy).toContain(result.edits.forkLine);
    expect(result.merge.strategy).toContain(result.edits.parentLine);
    expect(result.merge.paths).toEqual(expect.arrayContaining(["orchestration_logic.strategy", "metadata.selection_criteria.latency"]));
    const onDisk = await readFile(join(home, "var", "lib", "compositions", "orchestrations", "tournament.yaml"), "utf8");
    expect(onDisk).toContain(result.edits.forkLine.trim());
    expect(onDisk).toContain(result.edits.parentLine.trim());
    expect(onDisk).toMatch(/latency: medium/);

    expect(result.lineageTree).toMatch(/tournament@2\.1\.0[\s\S]*tournament_swiss@0\.1\.0/);

    // git recorded the fork and the merge as commits with their tags, newest first.
    const log = result.gitLog;
    const fork = log.search(/\(tag: tournament_swiss@0\.1\.0\) fork: tournament -> tournament_swiss/);
    // The merge is HEAD, or just below it when the trial's last decisions were committed after it (batches commit within ~1 s).
    const merge = log.search(new RegExp(`\\((HEAD -> \\w+, )?tag: tournament@${result.merge.version.replace(/\./g, "\\.")}\\) merge: `));
    expect(fork, log).toBeGreaterThanOrEqual(0);
    expect(merge, log).toBeGreaterThanOrEqual(0);
    expect(merge).toBeLessThan(fork);
    expect(log).toContain(`tag: tournament@${result.merge.before}`);
    expect(output).toContain("fork: tournament -> tournament_swiss");

    // The daemon was stopped; a home given by the caller stays.
    expect(existsSync(join(home, "var", "run", "patternd.sock"))).toBe(false);
    expect(existsSync(join(home, "var", "run", "patternd.pid"))).toBe(false);
    expect(result.kept).toBe(true);
  });

  it("without a home, makes a temporary one and removes it afterwards", async () => {
    const lines: string[] = [];
    const result = await runDemo({ out: (line) => lines.push(line) });
    expect(result.selected).toBe("tournament");
    expect(result.kept).toBe(false);
    expect(existsSync(result.home)).toBe(false);
    expect(lines.at(-1)).toMatch(/removed/);
  });
});
