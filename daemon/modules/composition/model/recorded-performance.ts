/**
 * The performance a pattern's file records about itself, as select's
 * evidence (SPEC §4.5, pure): `performance` at the top level (patternd's
 * place) or `metadata.performance` (KSI's), whichever gives figures first.
 *
 * Figures: `success_rate` and `avg_score` from 0 to 1 (numbers, or strings
 * of them as KSI sometimes writes), valued at their mean, worth `runs`
 * observations. A rate without a run count is worth one run: it says the
 * pattern worked that well at least once, and no more. `runs: 0` is no
 * evidence. Anything else in the section (durations, notes) is not read.
 */

export interface RecordedPerformance {
  /** Observations the figures stand for. */
  runs: number;
  /** The mean of the rates given, 0..1. */
  value: number;
  /** The rates as written, for reasons: `success_rate 0.92, avg_score 0.8`. */
  figures: string;
  /** Where they were found. */
  source: "performance" | "metadata.performance";
  /** True when the file gave no run count (runs is then 1). */
  runsAssumed: boolean;
}

const RATES = ["success_rate", "avg_score"] as const;

export function recordedPerformance(data: Record<string, unknown>): RecordedPerformance | undefined {
  const metadata = data.metadata;
  return (
    fromSection(data.performance, "performance") ?? (isMap(metadata) ? fromSection(metadata.performance, "metadata.performance") : undefined)
  );
}

function fromSection(section: unknown, source: RecordedPerformance["source"]): RecordedPerformance | undefined {
  if (!isMap(section)) return undefined;
  const rates = RATES.flatMap((key) => {
    const rate = numberOf(section[key]);
    return rate !== undefined && rate >= 0 && rate <= 1 ? [{ key, rate }] : [];
  });
  if (rates.length === 0) return undefined;
  const given = numberOf(section.runs);
  const runsAssumed = given === undefined;
  const runs = given ?? 1;
  if (!(runs > 0)) return undefined;
  const value = rates.reduce((sum, r) => sum + r.rate, 0) / rates.length;
  return { runs, value, figures: rates.map((r) => `${r.key} ${r.rate}`).join(", "), source, runsAssumed };
}

/** How a reason names the figures: `5 run(s) at success_rate 0.92 (metadata.performance)`. */
export function describePerformance(performance: RecordedPerformance): string {
  const runs = performance.runsAssumed ? "no run count, taken as 1 run," : `${performance.runs} run(s)`;
  return `${runs} at ${performance.figures} (${performance.source})`;
}

/** A finite number, or a string that is one ('0.92'); undefined otherwise. */
function numberOf(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
