/**
 * How well composition:select ranks, on two labelled sets:
 * - the starter set (select-eval/cases.json): the bundled compositions plus
 *   the patterns in select-eval/patterns (some written as near misses of
 *   bundled ones), tasks partly in the library's own words;
 * - people's tasks (select-eval/people-tasks.json): the bundled library
 *   alone, tasks written the way people ask (terse, chatty, non-native,
 *   managerial, a developer's), naming the intent in everyday words and
 *   never a pattern's description or tags. Each case is `dev` (looked at
 *   while tuning) or `holdout` (scored only to check the tuning did not
 *   fit the dev cases).
 * Reports top-1 (the selected pattern is the expected one), top-3 and the
 * mean reciprocal rank of the expected pattern within the first RANKED
 * candidates.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parse } from "yaml";
import { SelectIndex, type DecisionEvidence } from "../daemon/modules/composition/model/select.js";
import { loadMeanings, meaningsPath } from "../daemon/modules/composition/store/meanings-file.js";

export interface SelectEvalCase {
  task: string;
  requirements?: Record<string, unknown>;
  /** The type searched (select's default: orchestration); mixins are asked for as `type: "mixin"`. */
  type?: string;
  expected: string;
  /** people-tasks.json only: who it is written like. */
  style?: string;
  /** people-tasks.json only. */
  split?: "dev" | "holdout";
}

export interface SelectEvalResult {
  cases: number;
  top1: number;
  top3: number;
  mrr: number;
  misses: Array<{ task: string; expected: string; got: string | null; rank: number | null }>;
}

export interface SelectEvalReport {
  starter: SelectEvalResult;
  dev: SelectEvalResult;
  holdout: SelectEvalResult;
  /** dev and holdout together: what the select test holds to top-1 ≥ 0.9. */
  people: SelectEvalResult;
}

const RANKED = 10;

/** The starter set's figures (bench/store.ts prints them beside the store's). */
export function runSelectEval(): SelectEvalResult {
  const root = projectRoot();
  const { index, decisions } = loadIndex([join(root, "compositions"), join(root, "bench", "select-eval", "patterns")]);
  return score(index, decisions, readCases(join(root, "bench", "select-eval", "cases.json")));
}

/** Every set: the starter set, and people's tasks as dev, holdout and both. */
export function runSelectEvals(): SelectEvalReport {
  const root = projectRoot();
  const bundled = loadIndex([join(root, "compositions")]);
  const people = readCases(join(root, "bench", "select-eval", "people-tasks.json"));
  return {
    starter: runSelectEval(),
    dev: score(bundled.index, bundled.decisions, people.filter((c) => c.split === "dev")),
    holdout: score(bundled.index, bundled.decisions, people.filter((c) => c.split === "holdout")),
    people: score(bundled.index, bundled.decisions, people),
  };
}

export function formatSelectEval(label: string, result: SelectEvalResult): string {
  return `${label}: ${result.cases} cases, top-1 ${result.top1.toFixed(3)}, top-3 ${result.top3.toFixed(3)}, MRR@${RANKED} ${result.mrr.toFixed(3)}`;
}

function loadIndex(dirs: string[]): { index: SelectIndex; decisions: Map<string, DecisionEvidence> } {
  const index = new SelectIndex(loadMeanings(meaningsPath(projectRoot())));
  const decisions = new Map<string, DecisionEvidence>();
  for (const dir of dirs) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort()) {
      const parsed: unknown = parse(readFileSync(join(dir, file), "utf8"));
      if (file.endsWith("_decisions.yaml")) decisions.set(file.slice(0, -"_decisions.yaml".length), decisionStats(parsed));
      else if (isMap(parsed) && typeof parsed.name === "string") index.upsert({ name: parsed.name, version: String(parsed.version), type: String(parsed.type), data: parsed });
    }
  }
  return { index, decisions };
}

function readCases(path: string): SelectEvalCase[] {
  return JSON.parse(readFileSync(path, "utf8")) as SelectEvalCase[];
}

function score(index: SelectIndex, decisions: Map<string, DecisionEvidence>, cases: SelectEvalCase[]): SelectEvalResult {
  let hits = 0;
  let top3 = 0;
  let reciprocal = 0;
  const misses: SelectEvalResult["misses"] = [];
  for (const { task, requirements, type, expected } of cases) {
    const result = index.query({ task, ...(requirements === undefined ? {} : { requirements }), ...(type === undefined ? {} : { type }), limit: RANKED }, (name) => decisions.get(name));
    const rank = result.candidates.findIndex((candidate) => candidate.name === expected);
    if (rank !== -1) reciprocal += 1 / (rank + 1);
    if (rank !== -1 && rank < 3) top3++;
    if (result.selected === expected) hits++;
    else misses.push({ task, expected, got: result.selected, rank: rank === -1 ? null : rank + 1 });
  }
  const n = Math.max(cases.length, 1);
  return { cases: cases.length, top1: hits / n, top3: top3 / n, mrr: reciprocal / n, misses };
}

/** Outcome counts the way the decision log's stats count them: success and failure are outcomes, anything else is not (yet). */
function decisionStats(records: unknown): DecisionEvidence {
  const list = Array.isArray(records) ? records.filter(isMap) : [];
  const confidences = list.map((r) => r.confidence).filter((c): c is number => typeof c === "number");
  const stats: DecisionEvidence = {
    successes: list.filter((r) => r.outcome === "success").length,
    failures: list.filter((r) => r.outcome === "failure").length,
    total: list.length,
  };
  if (confidences.length > 0) stats.mean_confidence = confidences.reduce((a, b) => a + b, 0) / confidences.length;
  return stats;
}

/** The checkout root, from bench/ when run from source and from dist/bench/ when built. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("select-eval: package.json not found above the bench directory");
    dir = parent;
  }
  return dir;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const report = runSelectEvals();
  // --holdout also lists the held-out misses; without it only their figures are shown.
  const showHoldout = process.argv.includes("--holdout");
  for (const [label, result] of Object.entries(report) as Array<[string, SelectEvalResult]>) {
    console.log(formatSelectEval(label, result));
    if (label === "people" || (label === "holdout" && !showHoldout)) continue;
    for (const miss of result.misses) console.log(`  miss: ${JSON.stringify(miss.task)} expected ${miss.expected} (rank ${miss.rank ?? "-"}), got ${miss.got ?? "null"}`);
  }
}
