/**
 * The demo's trial step (issue 17): the fork against its parent, as an
 * orchestrator runs one. Production is the parent; a split label sends half
 * the runs to each; each run resolves the label by its run id (the same run
 * always gets the same arm) and records its decision against the version it
 * ran; compare weighs the two arms; the winner is promoted, one commit of
 * labels.yaml. Outcomes are seeded, so the demo tells the same story every
 * time, and fast: 200 runs are 400 requests on a local socket.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { seededRandom } from "../bench/random.js";
import type { Client } from "../client/index.js";

export interface TrialCtx {
  client: Client;
  home: string;
  out: (line: string) => void;
}

export interface TrialResult {
  /** The split label and its arms. */
  label: string;
  arms: string[];
  /** Runs per arm as resolved by run id. */
  runs: Record<string, number>;
  compare: { a: string; b: string; p_b_better: number; action: string; text: string; rates: [number | null, number | null] };
  promoted: { label: string; target: string; commit: string };
  /** `git log --format="%h %s" -- labels.yaml`, newest first. */
  labelLog: string;
}

const RUNS = 200;
/** The chance a run succeeds, by pattern: the fork's Swiss pairing settles first place more often (what the seeded outcomes act out). */
const SUCCESS_RATE: Record<string, number> = { parent: 0.55, fork: 0.78 };

export async function stepTrial(ctx: TrialCtx, parent: string, fork: { name: string; version: string }): Promise<TrialResult> {
  const { client, out } = ctx;
  const parentVersion = (await client.request<{ version: string }>("composition:get", { name: parent })).version;
  const parentRef = `${parent}@${parentVersion}`;
  const forkRef = `${fork.name}@${fork.version}`;
  await client.request("composition:label", { name: parent, label: "production", version: parentVersion, reason: "the version in use before the trial" });
  out(`  → composition:label ${parent}@production = ${parentVersion}; ${parent}@trial = split 50/50 ${parentRef} / ${forkRef}`);
  await client.request("composition:label", { name: parent, label: "trial", split: { [parentRef]: 50, [forkRef]: 50 }, reason: "Swiss pairing against round robin" });

  const random = seededRandom(17);
  const runs: Record<string, number> = { [parentRef]: 0, [forkRef]: 0 };
  for (let run = 1; run <= RUNS; run++) {
    const runId = `run-${String(run).padStart(3, "0")}`;
    const arm = await client.request<{ name: string; version: string; arm: string }>("composition:resolve", { ref: `${parent}@trial`, key: runId });
    const won = random() < SUCCESS_RATE[arm.name === parent ? "parent" : "fork"]!;
    runs[arm.arm] = (runs[arm.arm] ?? 0) + 1;
    await client.request("composition:track_decision", {
      pattern: arm.name,
      version: arm.version,
      decision: `${runId}: played the tournament with ${arm.arm}`,
      outcome: won ? "success: first place settled" : "failure: tie for first place after the last round",
      confidence: won ? 0.9 : 0.6,
      context: { run: runId },
    });
  }
  out(`  → ${RUNS} runs: composition:resolve {ref: "${parent}@trial", key: RUN_ID}, then composition:track_decision {pattern, version} of the arm it gave`);
  out(`  ← runs per arm: ${Object.entries(runs).map(([ref, n]) => `${ref} ${n}`).join(", ")} (each run id sticks to its arm)`);

  type Arm = { ref: string; successes: number; failures: number; success_rate: number | null; interval: { low: number; high: number } };
  type Compared = { a: Arm; b: Arm; p_b_better: number; recommendation: { action: string; text: string; reason: string } };
  out(`  → composition:compare {a: "${parent}@production", b: "${forkRef}"}`);
  const compared = await client.request<Compared>("composition:compare", { a: `${parent}@production`, b: forkRef });
  for (const [side, arm] of [["a", compared.a], ["b", compared.b]] as const) {
    out(`  ← ${side} ${arm.ref}: ${arm.successes}/${arm.successes + arm.failures} succeeded, rate ${arm.success_rate?.toFixed(3) ?? "-"} (95 % ${arm.interval.low.toFixed(3)}..${arm.interval.high.toFixed(3)})`);
  }
  out(`  ← p(b better) ${probability(compared.p_b_better)}: ${compared.recommendation.text}`);
  if (compared.recommendation.action !== "promote_b") throw new Error(`the trial did not favour the fork: ${compared.recommendation.reason}`);

  // What `pat promote ${forkRef} --to production --over ${parent}@production --yes` does after showing the same comparison.
  const reason = `promoted over ${compared.a.ref}: ${compared.recommendation.text}, p(b better) ${probability(compared.p_b_better)}`;
  out(`  → composition:label {name: "${fork.name}", label: "production", version: "${fork.version}"}   (pat promote ${forkRef} --to production --over ${parent}@production)`);
  const promoted = await client.request<{ commit: string }>("composition:label", { name: fork.name, label: "production", version: fork.version, reason });
  out(`  ← ${fork.name}@production = ${fork.version}, commit ${promoted.commit.slice(0, 7)}`);

  const labelLog = await gitLogOfLabels(ctx.home);
  out(`  $ git log --format="%h %s" -- labels.yaml`);
  for (const line of labelLog.trimEnd().split("\n")) out(`  ${line}`);
  out("  Why: every label move is a commit (git log -- labels.yaml is the release history); the decisions of each arm are in its own log.");
  return {
    label: `${parent}@trial`,
    arms: [parentRef, forkRef],
    runs,
    compare: { a: compared.a.ref, b: compared.b.ref, p_b_better: compared.p_b_better, action: compared.recommendation.action, text: compared.recommendation.text, rates: [compared.a.success_rate, compared.b.success_rate] },
    promoted: { label: `${fork.name}@production`, target: fork.version, commit: promoted.commit },
    labelLog,
  };
}

async function gitLogOfLabels(home: string): Promise<string> {
  const store = join(home, "var", "lib", "compositions");
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1", LC_ALL: "C" };
  const { stdout } = await promisify(execFile)("git", ["-C", store, "log", "--format=%h %s", "--", "labels.yaml"], { env, encoding: "utf8" });
  return stdout;
}

/** As composition:compare's reasons write it: three decimals, never a certainty the counts cannot give (> 0.999, not 1.000). */
function probability(p: number): string {
  return p > 0.999 ? "> 0.999" : p < 0.001 ? "< 0.001" : p.toFixed(3);
}
