/**
 * What select says of a pattern's record (pure; select.ts weighs it): the
 * Beta posterior of "this pattern works" from the runs its file records and
 * the outcomes in its decision log, and the reasons that explain evidence
 * and similar_tasks to the caller.
 */
import type { PastTask, Similarity } from "./past-tasks.js";
import { describePerformance, type RecordedPerformance } from "./recorded-performance.js";

/** Outcomes in a pattern's decision log (SPEC §4.6); `total` counts every record, pending ones included. */
export interface DecisionEvidence {
  successes: number;
  failures: number;
  total: number;
  mean_confidence?: number;
  /** The tasks its records name, with their outcomes (similar_tasks). */
  tasks?: readonly PastTask[];
}

const PRIOR_MEAN = 0.5;
const PRIOR_WEIGHT = 10;

export function posterior(performance: RecordedPerformance | undefined, decisions: DecisionEvidence | undefined): number {
  const won = count(decisions?.successes);
  const lost = count(decisions?.failures);
  const runs = performance?.runs ?? 0;
  return (PRIOR_MEAN * PRIOR_WEIGHT + (performance?.value ?? 0) * runs + won) / (PRIOR_WEIGHT + runs + won + lost);
}

export function evidenceReason(performance: RecordedPerformance | undefined, decisions: DecisionEvidence | undefined): string {
  const parts: string[] = [];
  if (performance !== undefined) parts.push(describePerformance(performance));
  const won = count(decisions?.successes);
  const lost = count(decisions?.failures);
  if (won + lost > 0) {
    const confidence = decisions?.mean_confidence;
    const mean = typeof confidence === "number" && Number.isFinite(confidence) ? `, mean confidence ${confidence.toFixed(2)}` : "";
    parts.push(`decision log: ${won} success(es), ${lost} failure(s) in ${count(decisions?.total)} record(s)${mean}`);
  }
  const from = parts.length === 0 ? "no recorded outcomes, so the prior alone" : parts.join("; ");
  return `evidence ${posterior(performance, decisions).toFixed(2)} from ${from} (prior ${PRIOR_MEAN} worth ${PRIOR_WEIGHT} outcomes)`;
}

export function similarReason(similar: Similarity, value: number): string {
  const { closest } = similar;
  const like = closest === undefined ? "" : `; closest: "${closest.text}" (${closest.similarity.toFixed(2)})`;
  return `similar tasks ${value >= 0 ? "+" : ""}${value.toFixed(2)}: ${similar.similar} past task(s) like this one, ${similar.successes} success(es), ${similar.failures} failure(s)${like}`;
}

function count(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : 0;
}
