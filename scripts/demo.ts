/**
 * `npm run demo`: starts a daemon in a temporary home and plays an
 * orchestrator agent through the whole loop with the client library —
 * hello, discover, select, get and compose, decisions, two competing scorer
 * handlers answering one collect, watchdog emits with a delay and a
 * condition, fork, a trial of the fork against its parent (split label,
 * decisions per arm, compare, promote), diff, merge, lineage — printing a few
 * readable lines per step and ending with the store's `git log --graph`.
 *
 *   node dist/scripts/demo.js          run it; the temporary home is removed afterwards
 *   node dist/scripts/demo.js --keep   keep the home and say where it is
 *
 * runDemo() is also what test/demo.e2e.test.ts runs: it returns what each
 * step found so the test can check the story, not the wording.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { connect, type Client, type Push } from "../client/index.js";
import { stepTrial, type TrialResult } from "./demo-trial.js";

/** The step headings, in order; the output prints each as `[n/13] title`. */
export const DEMO_STEPS = [
  "Say hello (system:hello)",
  "Discover tournament patterns (composition:discover)",
  "Select a pattern for the task (composition:select)",
  "Read the pattern and compose the orchestrator profile (composition:get, composition:compose)",
  "Track decisions (composition:track_decision, composition:decisions)",
  "Competing scorers: collect and reduce (handler:register, event:emit collect, composition:track_decision)",
  "Watchdogs: delayed, conditional emits (event:emit)",
  "Fork with a modified strategy (composition:fork)",
  "Trial the fork against its parent: split 50/50, decisions per arm, compare, promote (composition:label, resolve, compare)",
  "Edit the parent too, then diff (composition:save, composition:diff)",
  "Merge the fork back (composition:merge)",
  "Lineage tree (composition:lineage)",
  "The store's git history (git log --graph --oneline --decorate)",
] as const;

export interface DemoOptions {
  /** Receives the output, one line at a time. */
  out: (line: string) => void;
  /** Run the daemon in this (empty or new) directory; it is left in place. Else a temporary home is made. */
  home?: string;
  /** Keep the temporary home instead of removing it (ignored when `home` is given: that one is always kept). */
  keep?: boolean;
}

export interface DemoResult {
  home: string;
  /** Whether the home is still on disk after the demo. */
  kept: boolean;
  server: string;
  version: string;
  discovered: string[];
  selected: string | null;
  top: { name: string; score: number; reason: string }[];
  decisions: { tracked: string[]; total: number };
  /** The evaluation:score collect: who answered what, the reducer's pick, and the decision recorded from it. */
  scoring: {
    scorers: { agent: string; handler_id: string }[];
    responses: { handler_id: string; ok: boolean; score?: number; winner?: string }[];
    missing: string[];
    reduced: { handler_id: string; value: number; winner: string };
    decision: { id: string; decision: string; confidence: number };
  };
  watchdog: { fired: string[]; notFired: string[] };
  fork: { name: string; version: string; parent: string; commit: string };
  trial: TrialResult;
  /** The fork's and the parent's edits of the strategy: the line each one wrote. */
  edits: { forkLine: string; parentLine: string };
  diffPaths: string[];
  /** The parent's version just before the merge, and what the merge made of it. */
  merge: { before: string; version: string; commit: string; paths: string[]; strategy: string };
  lineageTree: string;
  gitLog: string;
}

const AGENT = "orch_demo";
const TASK = "Evaluate 15 prompts competitively";
const FORK = "tournament_swiss";
const SOCKET = join("var", "run", "patternd.sock");
const HERE = dirname(fileURLToPath(import.meta.url));
/** From dist/scripts/demo.js or from scripts/demo.ts (vitest), the package root. */
const ROOT = basename(dirname(HERE)) === "dist" ? resolve(HERE, "..", "..") : resolve(HERE, "..");
const DAEMON_MAIN = join(ROOT, "dist", "daemon", "main.js");

interface Ctx {
  client: Client;
  home: string;
  out: (line: string) => void;
}

type Doc = { version: string; orchestration_logic: { strategy: string } & Record<string, unknown>; components?: unknown[] } & Record<string, unknown>;
type Change = { op: string; path: string; from?: unknown; to?: unknown };

// ---------------------------------------------------------------- the run

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { out } = options;
  const ownHome = options.home === undefined;
  const home = options.home ?? (await makeTempHome());
  const keep = !ownHome || options.keep === true;
  const started = Date.now();
  await mkdir(home, { recursive: true });
  const daemon = new DaemonChild(home);
  out(`patternd demo: a daemon in ${home} (pid ${daemon.pid}), played by agent ${AGENT} through the client library`);
  let step = 0;
  try {
    const client = await daemon.connect();
    const ctx: Ctx = { client, home, out };
    /** Prints the next step's heading, then runs it. */
    const next = <T>(run: () => Promise<T>): Promise<T> => {
      step++;
      out("");
      out(`[${step}/${DEMO_STEPS.length}] ${DEMO_STEPS[step - 1]}`);
      return run();
    };
    const hello = await next(() => stepHello(ctx));
    const discovered = await next(() => stepDiscover(ctx));
    const { selected, top } = await next(() => stepSelect(ctx));
    if (selected === null) throw new Error("composition:select chose nothing; the rest of the loop needs a pattern");
    await next(() => stepGetCompose(ctx, selected));
    const decisions = await next(() => stepDecisions(ctx, selected));
    const scoring = await next(() => stepScorers(ctx, selected));
    const watchdog = await next(() => stepWatchdogs(ctx));
    const { fork, forkLine } = await next(() => stepFork(ctx, selected));
    const trial = await next(() => stepTrial(ctx, selected, fork));
    const { before, parentLine, diffPaths } = await next(() => stepEditAndDiff(ctx, selected));
    const merge = await next(() => stepMerge(ctx, selected, forkLine, parentLine, before));
    const lineageTree = await next(() => stepLineage(ctx, selected));
    const gitLog = await next(async () => {
      await daemon.shutdown(client);
      out("  (daemon stopped first with system:shutdown: it commits any batched decision log before it exits)");
      return stepGitLog(ctx);
    });
    out("");
    out(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    const edits = { forkLine, parentLine };
    return { home, kept: keep, ...hello, discovered, selected, top, decisions, scoring, watchdog, fork, trial, edits, diffPaths, merge, lineageTree, gitLog };
  } catch (err) {
    const where = step === 0 ? "while starting the daemon" : `at step ${step} (${DEMO_STEPS[step - 1]})`;
    const stderr = daemon.hasExited ? `; the daemon exited, its stderr ends with:\n${daemon.stderr}` : "";
    throw new Error(`demo failed ${where}: ${err instanceof Error ? err.message : String(err)}${stderr}`, { cause: err });
  } finally {
    await daemon.stop();
    if (keep) {
      if (ownHome) out(`Home kept at ${home} — try: npx pat --home ${home} ls   (the daemon is stopped: npx pat --home ${home} start)`);
    } else {
      await rm(home, { recursive: true, force: true });
      out("Temporary home removed (run with --keep to look around in it).");
    }
  }
}

// ---------------------------------------------------------------- steps

async function stepHello(ctx: Ctx): Promise<{ server: string; version: string }> {
  const data = { agent_id: AGENT, client: "patternd-demo" };
  const hello = await call<{ server: string; version: string; protocol: number; capabilities: string[] }>(ctx, "system:hello", data);
  ctx.out(`  ← ${hello.server} ${hello.version}, protocol ${hello.protocol}; namespaces and features: ${hello.capabilities.join(", ")}`);
  ctx.out(`  Why: from now on every request on this connection is by ${AGENT} — git commits, decision records and schedules carry that name.`);
  return { server: hello.server, version: hello.version };
}

async function stepDiscover(ctx: Ctx): Promise<string[]> {
  type Found = { compositions: { name: string; version: string; description?: string }[]; total: number };
  const byTag = await call<Found>(ctx, "composition:discover", { type: "orchestration", tags: ["tournament"] });
  ctx.out(`  ← ${byTag.total} match: ${byTag.compositions.map((c) => `${c.name} ${c.version} — ${clip(c.description ?? "", 80)}`).join("; ")}`);
  const example = { type: "orchestration", metadata_filter: { tags: ["tournament"], "performance.avg_score": { ">": 0.7 } } };
  const shown = `${JSON.stringify(example)} + fields   (the example of pat help composition:discover)`;
  const filtered = await call<Found>(ctx, "composition:discover", { ...example, fields: ["name", "performance.avg_score"] }, shown);
  const scores = filtered.compositions.map((c) => `${c.name} (avg_score ${String(at(c, "performance.avg_score"))})`);
  ctx.out(`  ← ${filtered.total} match: ${scores.join(", ")}`);
  ctx.out("  Why: discover filters (tags must all be present; metadata_filter ops like > work on any dotted path); select, next, ranks.");
  return byTag.compositions.map((c) => c.name);
}

async function stepSelect(ctx: Ctx): Promise<{ selected: string | null; top: DemoResult["top"] }> {
  type Selected = { selected: string | null; explanation?: string; candidates: { name: string; version: string; score: number; reasons: string[] }[] };
  const result = await call<Selected>(ctx, "composition:select", { task: TASK, requirements: { timeout_handling: true } });
  ctx.out(`  ← selected: ${result.selected ?? "nothing"}${result.explanation === undefined ? "" : ` — ${clip(result.explanation, 90)}`}`);
  const top = result.candidates.slice(0, 3).map((c) => ({ name: c.name, score: c.score, reason: c.reasons[0] ?? "" }));
  top.forEach((c, i) => ctx.out(`     ${i + 1}. ${c.name.padEnd(18)} score ${c.score.toFixed(2).padStart(5)}  ${clip(c.reason, 80)}`));
  ctx.out("  Why: the score adds task-word relevance, evidence (performance and decision log) and requirements; each candidate says why.");
  return { selected: result.selected, top };
}

async function stepGetCompose(ctx: Ctx, name: string): Promise<void> {
  const got = await call<{ version: string; path: string; commit: string; composition: Doc }>(ctx, "composition:get", { name });
  const strategy = got.composition.orchestration_logic.strategy.split("\n");
  const pairing = strategy.find((line) => line.includes("sort entries by")) ?? strategy[0] ?? "";
  ctx.out(`  ← ${name} ${got.version} from ${got.path} at ${got.commit.slice(0, 7)}; its strategy is ${strategy.length} lines of plan for an LLM, e.g.`);
  ctx.out(`     "${pairing.trim()}"`);
  const variables = { agent_id: AGENT, run_id: "demo_run" };
  const composed = await call<{ composition: Doc; prompt?: string }>(ctx, "composition:compose", { name: "base_orchestrator", variables });
  const prompt = composed.prompt ?? "";
  const components = composed.composition.components?.length ?? 0;
  ctx.out(`  ← a system prompt of ${prompt.length} chars from ${components} components (extends base_multi_agent, variables filled in); it starts:`);
  ctx.out(`     "${clip(prompt.split("\n")[0] ?? "", 100)}"`);
}

async function stepDecisions(ctx: Ctx, pattern: string): Promise<DemoResult["decisions"]> {
  const records = [
    { decision: "run tournament for 15 prompts: adaptive pairing, 5 rounds", outcome: "pending", confidence: 0.7 },
    { decision: "3 judges per match, each with its own random A/B order", outcome: "success", confidence: 0.8 },
    { decision: "round 2 closed by its deadline with 6 of 7 matches", outcome: "partial", confidence: 0.55 },
  ];
  const tracked: string[] = [];
  for (const record of records) {
    const data = { pattern, ...record, context: { run: "demo_run", entries: 15 } };
    const reply = await call<{ tracked: { id: string; pattern_version: string } }>(ctx, "composition:track_decision", data, `"${record.decision}" → ${record.outcome}, confidence ${record.confidence}`);
    tracked.push(reply.tracked.id);
  }
  ctx.out(`  ← recorded as ${tracked.join(", ")} (appended to orchestrations/${pattern}_decisions.yaml, on disk before each reply)`);
  type Stats = { total: number; by_outcome: Record<string, number>; mean_confidence: number | null };
  const { stats } = await call<{ stats: Stats }>(ctx, "composition:decisions", { pattern, limit: 3 });
  const outcomes = Object.entries(stats.by_outcome).map(([k, v]) => `${k} ${v}`).join(", ");
  const starter = `${stats.total - tracked.length} came with the starter library`;
  ctx.out(`  ← ${stats.total} records (${starter}): ${outcomes}; mean confidence ${stats.mean_confidence?.toFixed(2) ?? "n/a"}`);
  ctx.out("  Why: select reads these outcomes as evidence next time, so the log is how a pattern earns (or loses) its rank.");
  return { tracked, total: stats.total };
}

/**
 * Stand-ins for two LLM judges of match 3 that disagree: each scorer
 * process answers evaluation:score with its winner and how sure it is.
 */
const SCORERS = [
  { agent: "scorer_rubric", verdict: { winner: "prompt_07", score: 0.82, basis: "rubric: 4 of 5 criteria met" } },
  { agent: "scorer_pairwise", verdict: { winner: "prompt_12", score: 0.64, basis: "pairwise: preferred in 2 of 3 orderings" } },
] as const;
const MATCH = { run: "demo_run", match: 3, a: "prompt_07", b: "prompt_12" };

async function stepScorers(ctx: Ctx, pattern: string): Promise<DemoResult["scoring"]> {
  const clients: Client[] = [];
  try {
    ctx.out("  two scorers join group \"scorers\" on their own connections (here, of this process; `pat handle evaluation:score --group scorers -- CMD` makes any script one):");
    const scorers: DemoResult["scoring"]["scorers"] = [];
    for (const { agent, verdict } of SCORERS) {
      const client = await connect({ socketPath: join(ctx.home, SOCKET), agentId: agent, timeoutMs: 10_000 });
      clients.push(client);
      const tag = `[${agent}]`.padEnd(18);
      const handler = await client.handle(
        "evaluation:score",
        (data, call) => {
          ctx.out(`  ${tag}← push handler:call ${call.callId} ${call.event} ${JSON.stringify(data)}`);
          ctx.out(`  ${tag}→ handler:reply {"call_id":"${call.callId}","ok":true,"data":${JSON.stringify(verdict)}}`);
          return verdict;
        },
        { mode: "group", group: "scorers", timeoutMs: 5_000 },
      );
      ctx.out(`  ${tag}→ handler:register {"events":["evaluation:score"],"mode":"group","group":"scorers","timeout_ms":5000}  ← ${handler.id}`);
      scorers.push({ agent, handler_id: handler.id });
    }

    type Collected = {
      responses: { handler_id: string; ok: boolean; data?: { winner?: string; score?: number }; ms: number }[];
      reduced?: { handler_id: string; data: { winner: string; score: number }; value: number };
      missing: string[];
    };
    const emit = { event: "evaluation:score", data: MATCH, collect: { wait_ms: 5_000, reduce: "highest:score" } };
    const collected = await call<Collected>(ctx, "event:emit", emit, JSON.stringify(emit));
    const agentOf = (id: string) => scorers.find((s) => s.handler_id === id)?.agent ?? id;
    const answers = collected.responses.map((r) => (r.ok ? `${agentOf(r.handler_id)} (${r.handler_id}) ${r.data?.winner} at ${r.data?.score} in ${r.ms.toFixed(1)} ms` : `${r.handler_id} failed`));
    ctx.out(`  ← ${collected.responses.length} responses: ${answers.join("; ")}; missing: ${collected.missing.length === 0 ? "none" : collected.missing.join(", ")}`);
    const pick = collected.reduced;
    if (pick === undefined) throw new Error(`the collect reduced to nothing: ${JSON.stringify(collected)}`);
    ctx.out(`  ← reduced (highest:score): ${agentOf(pick.handler_id)}'s verdict, ${pick.data.winner} at ${pick.value}`);

    const loser = pick.data.winner === MATCH.a ? MATCH.b : MATCH.a;
    const decision = `match ${MATCH.match}: ${pick.data.winner} beats ${loser} (highest score of ${collected.responses.length} competing scorers)`;
    const scores = Object.fromEntries(collected.responses.map((r) => [agentOf(r.handler_id), r.data ?? null]));
    const record = { pattern, decision, outcome: "success", confidence: pick.value, context: { ...MATCH, event: "evaluation:score", reduce: "highest:score", scores } };
    const tracked = await call<{ tracked: { id: string } }>(ctx, "composition:track_decision", record, `"${decision}" → success, confidence ${pick.value}`);
    ctx.out(`  ← recorded as ${tracked.tracked.id}, both verdicts kept in its context`);
    ctx.out("  Why: collect asks every handler of the event (not one group member) and the reducer turns their answers into one decision;");
    ctx.out("       the decision log keeps it, with the losing verdict, as evidence for the next select.");
    return {
      scorers,
      responses: collected.responses.map((r) => ({ handler_id: r.handler_id, ok: r.ok, ...(r.data?.score === undefined ? {} : { score: r.data.score }), ...(r.data?.winner === undefined ? {} : { winner: r.data.winner }) })),
      missing: collected.missing,
      reduced: { handler_id: pick.handler_id, value: pick.value, winner: pick.data.winner },
      decision: { id: tracked.tracked.id, decision, confidence: pick.value },
    };
  } finally {
    // Registrations end with their connections.
    await Promise.all(clients.map((client) => client.close()));
  }
}

async function stepWatchdogs(ctx: Ctx): Promise<DemoResult["watchdog"]> {
  const runs = ["run_a", "run_b"];
  const subscription = await ctx.client.subscribe(["demo:*"]);
  ctx.out(`  → monitor:subscribe {"patterns":["demo:*"]}  ← subscription ${subscription.id}: pushes arrive on this connection`);
  const pushes: Push[] = [];
  const reading = (async () => {
    for await (const push of subscription) pushes.push(push);
  })();
  for (const run of runs) await ctx.client.request("state:set", { key: `${run}.status`, value: "running" });
  ctx.out(`  → state:set run_a.status = "running", run_b.status = "running"`);
  const scheduleIds = new Map<string, string>();
  for (const run of runs) {
    const condition = { "!=": [{ var: `state.${run}.status` }, "done"] };
    const data = { event: "demo:timeout", data: { run }, delay: 1, condition, key: `${run}.timeout` };
    const shown = `demo:timeout {run: ${run}} in 1 s if state.${run}.status != "done", key ${run}.timeout`;
    const reply = await call<{ schedule_id: string; fire_at: string }>(ctx, "event:emit", data, shown);
    ctx.out(`     ← scheduled ${reply.schedule_id} (fire_at ${reply.fire_at.slice(11, 23)}), journaled before the reply`);
    scheduleIds.set(run, reply.schedule_id);
  }
  await ctx.client.request("state:set", { key: "run_b.status", value: "done" });
  ctx.out(`  → state:set run_b.status = "done"   (run_b finished in time; nothing is cancelled, the condition will decide)`);
  const skippedIds = await waitForWatchdogs(ctx, pushes, scheduleIds);
  subscription.close();
  await reading;
  const fired = runs.filter((run) => pushes.some((p) => p.event === "demo:timeout" && at(p.data, "run") === run));
  const notFired = runs.filter((run) => !fired.includes(run) && skippedIds.has(scheduleIds.get(run) ?? ""));
  for (const p of pushes) ctx.out(`  ← push ${p.event} ${JSON.stringify(p.data)} (seq ${p.seq}): run_a was still running at fire time`);
  for (const run of notFired) ctx.out(`  ← no push for ${run}: daemon.log says "schedule not emitted: condition false" for ${scheduleIds.get(run)}`);
  if (fired.join() !== "run_a" || notFired.join() !== "run_b") throw new Error(`expected only run_a's timeout to fire; fired: [${fired.join(", ")}], skipped: [${notFired.join(", ")}]`);
  return { fired, notFired };
}

async function stepFork(ctx: Ctx, parent: string): Promise<{ fork: DemoResult["fork"]; forkLine: string }> {
  const current = await ctx.client.request<{ composition: Doc }>("composition:get", { name: parent });
  const strategy = current.composition.orchestration_logic.strategy;
  const { text, line: forkLine } = replaceLine(strategy, "sort entries by (points, Buchholz)", (old) =>
    old.replace(/sort entries by \(points, Buchholz\);.*$/, "Swiss: group entries by points, pair the top half of each group against its bottom half;"),
  );
  const modifications = { "orchestration_logic.strategy": text, "metadata.selection_criteria.latency": "medium" };
  const data = { parent, name: FORK, reason: "Swiss pairing by score groups: fewer rounds settle first place", modifications };
  const shown = `${parent} → ${FORK}, modifications: the strategy's pairing line, selection_criteria.latency high → medium`;
  const fork = await call<DemoResult["fork"]>(ctx, "composition:fork", data, shown);
  const got = await ctx.client.request<{ composition: { lineage: { parent: string; parent_commit: string } } }>("composition:get", { name: FORK });
  const { lineage } = got.composition;
  ctx.out(`  ← ${fork.name} ${fork.version}, commit ${fork.commit.slice(0, 7)}; lineage: parent ${lineage.parent} at commit ${lineage.parent_commit.slice(0, 7)}`);
  ctx.out(`     the pairing line now reads: ${forkLine.trim()}`);
  ctx.out("  Why: the shared pattern stays as it is; the fork carries its parent and fork point, which merge will use as the base.");
  return { fork, forkLine };
}

async function stepEditAndDiff(ctx: Ctx, name: string): Promise<{ before: string; parentLine: string; diffPaths: string[] }> {
  const current = await ctx.client.request<{ composition: Doc }>("composition:get", { name });
  const doc = current.composition;
  const { text, line: parentLine } = replaceLine(doc.orchestration_logic.strategy, 'RETURN "a tournament needs at least two entries"', (old) =>
    old.replace('at least two entries"', 'at least two entries; got <n>"'),
  );
  const edited = { ...doc, orchestration_logic: { ...doc.orchestration_logic, strategy: text } };
  const data = { composition: edited, message: "tournament: say how many entries there were when refusing to start" };
  const saved = await call<{ version: string; commit: string }>(ctx, "composition:save", data, `${name} with its "n < 2" line reworded (same version sent)`);
  ctx.out(`  ← ${name} ${doc.version} → ${saved.version} (the daemon bumped the patch), commit ${saved.commit.slice(0, 7)}; the line now reads: ${parentLine.trim()}`);
  const diff = await call<{ changes: Change[] }>(ctx, "composition:diff", { left: name, right: FORK });
  const paths = diff.changes.map((c) => c.path);
  ctx.out(`  ← ${paths.length} changed paths: ${paths.join(", ")}`);
  const strategyChange = diff.changes.find((c) => c.path === "orchestration_logic.strategy");
  if (typeof strategyChange?.from === "string" && typeof strategyChange.to === "string") {
    const { removed, added } = lineChanges(strategyChange.from, strategyChange.to);
    ctx.out(`     orchestration_logic.strategy, line by line (- only in ${name}, + only in ${FORK}):`);
    for (const line of removed) ctx.out(`       - ${clip(line.trim(), 96)}`);
    for (const line of added) ctx.out(`       + ${clip(line.trim(), 96)}`);
  }
  ctx.out("  Why: a two-way diff shows both sides' edits mixed; the merge below uses the fork point to tell whose edit is whose.");
  return { before: saved.version, parentLine, diffPaths: paths };
}

async function stepMerge(ctx: Ctx, target: string, forkLine: string, parentLine: string, before: string): Promise<DemoResult["merge"]> {
  type Merged = { clean?: boolean; version: string; commit?: string; from: string; base: string; changes: Change[] };
  const dry = await call<Merged>(ctx, "composition:merge", { source: FORK, dry_run: true });
  ctx.out(`  ← dry run: ${dry.clean === false ? "conflicts" : "clean"}; would make ${target} ${dry.version} from ${dry.from} over base ${dry.base}, nothing written`);
  const merged = await call<Merged>(ctx, "composition:merge", { source: FORK });
  const paths = merged.changes.map((c) => c.path);
  ctx.out(`  ← merged: ${target} ${before} → ${merged.version}, commit ${(merged.commit ?? "").slice(0, 7)}; brought in: ${paths.join(", ")}`);
  const got = await ctx.client.request<{ composition: Doc }>("composition:get", { name: target });
  const strategy = got.composition.orchestration_logic.strategy;
  const both = strategy.includes(forkLine) && strategy.includes(parentLine);
  ctx.out(`  ← the merged strategy holds ${both ? "both edits" : "NOT both edits"}: the fork's pairing line and the parent's "n < 2" line`);
  if (!both) throw new Error("the merged strategy lost one side's edit");
  ctx.out("  Why: a 3-way merge keeps edits to different lines from both sides and bumps the target's minor version.");
  return { before, version: merged.version, commit: merged.commit ?? "", paths, strategy };
}

async function stepLineage(ctx: Ctx, name: string): Promise<string> {
  const lineage = await call<{ text: string }>(ctx, "composition:lineage", { name, format: "tree" });
  for (const line of lineage.text.trimEnd().split("\n")) ctx.out(`     ${line}`);
  ctx.out("  Why: lineage follows lineage.parent up and forks down; `--format mermaid|dot` draws the same graph.");
  return lineage.text;
}

async function stepGitLog(ctx: Ctx): Promise<string> {
  const store = join(ctx.home, "var", "lib", "compositions");
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1", LC_ALL: "C" };
  const args = ["-C", store, "log", "--graph", "--oneline", "--decorate", "--no-color"];
  const { stdout } = await promisify(execFile)("git", args, { env, encoding: "utf8" });
  ctx.out(`  $ git -C ${store} log --graph --oneline --decorate   (long tag lists shortened here)`);
  for (const line of stdout.trimEnd().split("\n").slice(-15)) ctx.out(`  ${shortenTags(line)}`);
  return stdout;
}

// ---------------------------------------------------------------- helpers

/** Sends a request, printing `→ event data` (or `shown`) first; a daemon error rejects. */
async function call<T>(ctx: Ctx, event: string, data: Record<string, unknown>, shown?: string): Promise<T> {
  ctx.out(`  → ${event} ${shown ?? clip(JSON.stringify(data), 110)}`);
  return ctx.client.request<T>(event, data);
}

/**
 * Waits (about a second) until run_a's push has arrived and both schedules
 * have left event:scheduled, and returns the schedule ids the daemon logged
 * as not emitted because their condition was false.
 */
async function waitForWatchdogs(ctx: Ctx, pushes: readonly Push[], scheduleIds: Map<string, string>): Promise<Set<string>> {
  const ids = new Set(scheduleIds.values());
  const deadline = Date.now() + 3_000;
  for (;;) {
    const pending = await ctx.client.request<{ schedules: { schedule_id: string }[] }>("event:scheduled", { event: "demo:*" });
    const skipped = await conditionFalseIds(ctx.home);
    const done = pending.schedules.every((s) => !ids.has(s.schedule_id)) && pushes.length > 0 && [...ids].some((id) => skipped.has(id));
    if (done || Date.now() > deadline) return skipped;
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
}

/** Schedule ids that var/log/daemon.log records as "schedule not emitted: condition false". */
async function conditionFalseIds(home: string): Promise<Set<string>> {
  const text = await readFile(join(home, "var", "log", "daemon.log"), "utf8").catch(() => "");
  const ids = new Set<string>();
  for (const line of text.split("\n")) {
    if (!line.includes("condition false")) continue;
    try {
      const record = JSON.parse(line) as { schedule_id?: unknown };
      if (typeof record.schedule_id === "string") ids.add(record.schedule_id);
    } catch {
      // a torn line: not ours to judge
    }
  }
  return ids;
}

/** Replaces the one line of `text` containing `marker`; returns the new text and the new line. */
function replaceLine(text: string, marker: string, edit: (line: string) => string): { text: string; line: string } {
  const lines = text.split("\n");
  const index = lines.findIndex((l) => l.includes(marker));
  if (index < 0) throw new Error(`the strategy has no line containing ${JSON.stringify(marker)}`);
  const line = edit(lines[index]!);
  lines[index] = line;
  return { text: lines.join("\n"), line };
}

/** Lines only in `from` and lines only in `to` (counted, so repeated lines pair up; order kept). */
function lineChanges(from: string, to: string): { removed: string[]; added: string[] } {
  const onlyIn = (a: string[], b: string[]): string[] => {
    const left = new Map<string, number>();
    for (const line of b) left.set(line, (left.get(line) ?? 0) + 1);
    return a.filter((line) => {
      const n = left.get(line) ?? 0;
      left.set(line, n - 1);
      return n <= 0;
    });
  };
  const [a, b] = [from.split("\n"), to.split("\n")];
  return { removed: onlyIn(a, b), added: onlyIn(b, a) };
}

/** `(tag: a, tag: b, ... 30 tags)` → the first three and a count. */
function shortenTags(line: string): string {
  return line.replace(/\(([^)]*)\)/, (whole, inner: string) => {
    const refs = inner.split(", ");
    return refs.length <= 4 ? whole : `(${refs.slice(0, 3).join(", ")}, … ${refs.length - 3} more tags)`;
  });
}

function at(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split(".")) current = typeof current === "object" && current !== null ? (current as Record<string, unknown>)[key] : undefined;
  return current;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A short temporary home: the socket path under it must stay within the ~107-byte Unix limit. */
async function makeTempHome(): Promise<string> {
  const base = Buffer.byteLength(join(tmpdir(), "patternd-demo-XXXXXX", SOCKET)) > 100 ? "/tmp" : tmpdir();
  return mkdtemp(join(base, "patternd-demo-"));
}

// ---------------------------------------------------------------- the daemon process

class DaemonChild {
  private readonly child: ChildProcess;
  private readonly exit: Promise<void>;
  hasExited = false;
  /** The last 4 000 characters the daemon wrote to stderr. */
  stderr = "";

  constructor(readonly home: string) {
    // A PATTERND_STORE or PATTERND_SOCKET in the caller's environment must not point the demo at a real store.
    const env = { ...process.env, PATTERND_HOME: "", PATTERND_SOCKET: "", PATTERND_STORE: "" };
    this.child = spawn(process.execPath, [DAEMON_MAIN, "--home", home], { cwd: home, env, stdio: ["ignore", "ignore", "pipe"] });
    this.child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (this.stderr = (this.stderr + chunk).slice(-4_000)));
    this.exit = new Promise((resolveExit) => {
      const exited = (): void => {
        this.hasExited = true;
        resolveExit();
      };
      this.child.once("close", exited).once("error", (err) => {
        this.stderr += `cannot start ${DAEMON_MAIN}: ${err.message}`;
        exited();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Connects once the daemon listens (it seeds the store first); fails fast if it exits. */
  async connect(): Promise<Client> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        return await connect({ socketPath: join(this.home, SOCKET), timeoutMs: 10_000 });
      } catch (err) {
        const hint = existsSync(DAEMON_MAIN) ? "" : ` (${DAEMON_MAIN} is missing: run \`npm run build\`)`;
        if (this.hasExited) throw new Error(`the daemon exited before it listened${hint}`, { cause: err });
        if (Date.now() > deadline) throw err;
        await new Promise((resolveWait) => setTimeout(resolveWait, 25));
      }
    }
  }

  /** system:shutdown, then waits for the process to exit. */
  async shutdown(client: Client): Promise<void> {
    await client.request("system:shutdown");
    await client.closed();
    await this.waitExit(10_000);
    if (!this.hasExited) throw new Error("the daemon did not exit within 10 s of system:shutdown");
  }

  /** Whatever state it is in: SIGTERM, and SIGKILL if that does not end it within 5 s. */
  async stop(): Promise<void> {
    if (this.hasExited) return;
    this.child.kill("SIGTERM");
    await this.waitExit(5_000);
    if (!this.hasExited) {
      this.child.kill("SIGKILL");
      await this.exit;
    }
  }

  private async waitExit(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exit, new Promise<void>((resolveWait) => (timer = setTimeout(resolveWait, ms)))]);
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------- CLI

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== "--keep");
  if (unknown.length > 0) {
    console.error(`usage: node dist/scripts/demo.js [--keep]   (unknown: ${unknown.join(" ")})`);
    process.exit(2);
  }
  await runDemo({ out: (line) => console.log(line), keep: args.includes("--keep") });
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
