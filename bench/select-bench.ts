/**
 * The select bench (`npm run bench -- --only select`): how well select ranks
 * (select-eval.ts: the starter set, people's tasks as dev and holdout) and
 * how fast it ranks at --patterns synthetic patterns (default 10 000) beside
 * the bundled library, in this process: the index the daemon keeps, queried
 * with people's tasks in turn, a tenth of the patterns with past tasks in
 * their decision evidence (similar_tasks). The figure is the ranking alone;
 * the store bench measures a select through the daemon's socket.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parse } from "yaml";
import { SelectIndex, type DecisionEvidence } from "../daemon/modules/composition/model/select.js";
import { loadMeanings, meaningsPath } from "../daemon/modules/composition/store/meanings-file.js";
import { atLeast, atMost, percentile, round, thousands, type Target } from "./common.js";
import { patternYaml, syntheticName } from "./patterns.js";
import { formatSelectEval, projectRoot, runSelectEvals, type SelectEvalCase, type SelectEvalReport } from "./select-eval.js";

export interface SelectBenchOptions {
  patterns: number;
  queries: number;
  progress: (text: string) => void;
}

export interface SelectBenchResult {
  eval: SelectEvalReport;
  patterns: number;
  queries: number;
  index_ms: number;
  p50_ms: number;
  p99_ms: number;
  targets: Target[];
  clean: boolean;
}

export function runSelectBench(options: SelectBenchOptions): Promise<SelectBenchResult> {
  const report = runSelectEvals();
  const root = projectRoot();
  options.progress(`select: indexing ${thousands(options.patterns)} synthetic patterns and the bundled library`);
  const index = new SelectIndex(loadMeanings(meaningsPath(root)));
  const started = performance.now();
  for (const file of readdirSync(join(root, "compositions")).filter((f) => f.endsWith(".yaml") && !f.endsWith("_decisions.yaml"))) {
    const data = parse(readFileSync(join(root, "compositions", file), "utf8")) as Record<string, unknown>;
    index.upsert({ name: String(data.name), version: String(data.version), type: String(data.type), data });
  }
  for (let i = 0; i < options.patterns; i++) {
    const name = syntheticName(i);
    const data = parse(patternYaml(name, i)) as Record<string, unknown>;
    index.upsert({ name, version: String(data.version), type: "orchestration", data });
  }
  const indexMs = performance.now() - started;
  const cases = JSON.parse(readFileSync(join(root, "bench", "select-eval", "people-tasks.json"), "utf8")) as SelectEvalCase[];
  const evidence = pastTasks(options.patterns, cases);
  const times = new Float64Array(options.queries);
  for (let q = -Math.min(50, options.queries); q < options.queries; q++) {
    const { task, type } = cases[(q + cases.length) % cases.length]!;
    const at = performance.now();
    index.query({ task, ...(type === undefined ? {} : { type }) }, (name) => evidence.get(name));
    if (q >= 0) times[q] = performance.now() - at;
  }
  times.sort();
  const p50 = round(percentile(times, 0.5), 3);
  const p99 = round(percentile(times, 0.99), 3);
  const targets = [
    atLeast("people's tasks, top-1 (dev and holdout)", report.people.top1, 0.9),
    atMost(`select p50 on ${thousands(options.patterns)} patterns, ranking in process (ms)`, p50, 5),
  ];
  return Promise.resolve({ eval: report, patterns: options.patterns, queries: options.queries, index_ms: round(indexMs, 0), p50_ms: p50, p99_ms: p99, targets, clean: true });
}

/** Decision evidence with past tasks for every tenth synthetic pattern: five of people's tasks each, mostly successes. */
function pastTasks(patterns: number, cases: SelectEvalCase[]): Map<string, DecisionEvidence> {
  const evidence = new Map<string, DecisionEvidence>();
  for (let i = 0; i < patterns; i += 10) {
    const tasks = Array.from({ length: 5 }, (_, k) => {
      const text = cases[(i + k * 7) % cases.length]!.task;
      return { text, terms: [...new Set(text.toLowerCase().split(/\W+/).filter((w) => w.length > 3))], successes: 1 + (k % 3), failures: k % 2 };
    });
    evidence.set(syntheticName(i), { successes: 5, failures: 2, total: 7, tasks });
  }
  return evidence;
}

export function formatSelectBench(result: SelectBenchResult): string {
  const e = result.eval;
  return [
    "select: ranking quality on labelled tasks (bench/select-eval) and ranking time in process",
    formatSelectEval("starter set (bundled + select-eval/patterns)", e.starter),
    formatSelectEval("people's tasks, dev", e.dev),
    formatSelectEval("people's tasks, holdout", e.holdout),
    formatSelectEval("people's tasks, all", e.people),
    `${thousands(result.patterns)} synthetic patterns + the bundled library indexed in ${result.index_ms} ms; ` +
      `${thousands(result.queries)} selects of people's tasks in turn: p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms`,
    ...result.targets.map((t) => `  target ${t.met ? "met" : "MISSED"}: ${t.name} ${t.value} (${t.min === undefined ? `≤ ${t.max}` : `≥ ${t.min}`})`),
  ].join("\n");
}
