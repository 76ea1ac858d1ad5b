/**
 * How well composition:select ranks: the bundled compositions plus the
 * patterns in select-eval/patterns (some written as near misses of bundled
 * ones), queried with the labelled tasks of select-eval/cases.json. Reports
 * top-1 (the selected pattern is the expected one) and the mean reciprocal
 * rank of the expected pattern within the first RANKED candidates.
 *
 * The cases were labelled before any figure was looked at, and the ranking's
 * weights are chosen on principle (model/select.ts, model/text.ts), not
 * fitted to these cases: the figures are a check, not a training set.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parse } from "yaml";
import { SelectIndex, type DecisionEvidence } from "../daemon/modules/composition/model/select.js";

export interface SelectEvalCase {
  task: string;
  requirements?: Record<string, unknown>;
  expected: string;
}

export interface SelectEvalResult {
  cases: number;
  top1: number;
  mrr: number;
  misses: Array<{ task: string; expected: string; got: string | null }>;
}

const RANKED = 10;

export function runSelectEval(): SelectEvalResult {
  const root = projectRoot();
  const index = new SelectIndex();
  const decisions = new Map<string, DecisionEvidence>();
  for (const dir of [join(root, "compositions"), join(root, "bench", "select-eval", "patterns")]) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort()) {
      const parsed: unknown = parse(readFileSync(join(dir, file), "utf8"));
      if (file.endsWith("_decisions.yaml")) decisions.set(file.slice(0, -"_decisions.yaml".length), decisionStats(parsed));
      else if (isMap(parsed)) index.upsert({ name: String(parsed.name), version: String(parsed.version), type: String(parsed.type), data: parsed });
    }
  }
  const cases = JSON.parse(readFileSync(join(root, "bench", "select-eval", "cases.json"), "utf8")) as SelectEvalCase[];
  let hits = 0;
  let reciprocal = 0;
  const misses: SelectEvalResult["misses"] = [];
  for (const { task, requirements, expected } of cases) {
    const result = index.query({ task, ...(requirements === undefined ? {} : { requirements }), limit: RANKED }, (name) => decisions.get(name));
    const rank = result.candidates.findIndex((candidate) => candidate.name === expected);
    if (rank !== -1) reciprocal += 1 / (rank + 1);
    if (result.selected === expected) hits++;
    else misses.push({ task, expected, got: result.selected });
  }
  return { cases: cases.length, top1: hits / cases.length, mrr: reciprocal / cases.length, misses };
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
function projectRoot(): string {
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
  const result = runSelectEval();
  console.log(`select-eval: ${result.cases} cases, top-1 ${result.top1.toFixed(3)}, MRR@${RANKED} ${result.mrr.toFixed(3)}`);
  for (const miss of result.misses) console.log(`  miss: ${JSON.stringify(miss.task)} expected ${miss.expected}, got ${miss.got ?? "null"}`);
}
