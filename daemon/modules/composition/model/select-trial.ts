/**
 * composition:select with explore (issue 17, pure): a candidate whose
 * version is an arm of a split label is a variant under trial, and the
 * selection takes part in the trial. When the best candidate is under
 * trial, the arm the caller's key picks (pickArm, as composition:resolve
 * picks it: the same key, the same arm) is what is selected, though it may
 * be another pattern (a fork trialled against its parent) or another
 * version than the current one; `trial` says which, and every candidate
 * under trial says so in its reasons. Without explore select never comes
 * here, and stays as deterministic as it was.
 */
import type { LabelBook } from "./labels.js";
import { pickArm } from "./label-split.js";
import type { Candidate, SelectResult } from "./select.js";

export interface TrialPick {
  /** The split label, as name@label. */
  label: string;
  /** The arm the key gets, as name@version. */
  arm: string;
  name: string;
  version: string;
  /** The key that picked it (the run id, else the agent id). */
  key: string;
  split: Record<string, number>;
}

export type ExploredResult = SelectResult & { trial?: TrialPick };

/** The result with the trial taken part in: candidates under trial say so, and the best one's trial picks what is selected. */
export function exploreTrials(result: SelectResult, labels: LabelBook, key: string): ExploredResult {
  const splits = labels.flatMap((label) => (typeof label.target === "string" ? [] : [{ ref: `${label.name}@${label.label}`, split: label.target.split }]));
  if (splits.length === 0) return result;
  let trial: TrialPick | undefined;
  let reason: string | undefined;
  const candidates = result.candidates.map((candidate, rank): Candidate => {
    const ref = `${candidate.name}@${candidate.version}`;
    const found = splits.find((trialled) => Object.hasOwn(trialled.split, ref));
    if (found === undefined) return candidate;
    const arm = pickArm(found.split, found.ref, key);
    const said = `under trial: ${found.ref} splits ${shares(found.split)} between ${listed(Object.keys(found.split))}; key ${key} gets ${arm}`;
    if (rank === 0 && result.selected !== null) {
      const at = arm.lastIndexOf("@");
      trial = { label: found.ref, arm, name: arm.slice(0, at), version: arm.slice(at + 1), key, split: found.split };
      reason = said;
    }
    return { ...candidate, reasons: [...candidate.reasons, said] };
  });
  if (trial === undefined) return { ...result, candidates };
  const explanation = `${reason!} (the best match, ${result.selected}, is an arm of it)${result.explanation === undefined ? "" : `; ${result.explanation}`}`;
  return { selected: trial.name, explanation, candidates, trial };
}

/** Weights as whole percents, `50/50`. */
function shares(split: Record<string, number>): string {
  const total = Object.values(split).reduce((sum, weight) => sum + weight, 0);
  return Object.values(split)
    .map((weight) => String(Math.round((weight / total) * 100)))
    .join("/");
}

function listed(items: readonly string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]!}`;
}
