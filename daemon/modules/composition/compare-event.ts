/**
 * composition:compare (issue 17): two variants of a pattern judged by
 * their decision logs and the performance their files record. A thin
 * handler: each ref is resolved as every ref-taking event resolves it
 * (name@label included; a split refused as get refuses it), its records
 * read through the decision reader (the log beside the pattern's current
 * file; one log when both arms are versions of one pattern, told apart by
 * pattern_version), and the thinking is model/compare.ts's.
 */
import { DaemonError } from "../../core/errors.js";
import { defineEvent, type EventDef } from "../../core/event.js";
import { compareParams, compareResult, compareVariants, recordsOfVariant, type CompareArm } from "./model/compare.js";
import { parseRef } from "./model/ref.js";
import { recordedPerformance } from "./model/recorded-performance.js";
import { DecisionLogs } from "./store/decision-log.js";
import type { PatternStore } from "./store/pattern-store.js";

export function compareEvent(store: PatternStore, decisions: DecisionLogs): EventDef {
  /** The variant a ref names: its exact version, its records in its pattern's log, and the performance its document records. */
  async function arm(text: string): Promise<CompareArm & { name: string; version: string }> {
    const found = await store.read(store.exact(parseRef(text)));
    // The log lives beside the pattern's current file; a version's file may have been elsewhere then (a pattern moved since).
    const log = DecisionLogs.pathFor(store.catalog.get(found.name)?.path ?? found.path);
    const { decisions: records } = await decisions.query(log, {});
    return {
      name: found.name,
      version: found.version,
      ref: `${found.name}@${found.version}`,
      records: recordsOfVariant(records, found),
      performance: recordedPerformance(found.data),
    };
  }

  return defineEvent({
    name: "composition:compare",
    effect: "read",
    summary: "Compare two variants (a in place, b on trial) by their decision logs and recorded performance: rates with 95 % intervals, P(b better), and what to do",
    description:
      "a and b: name@version, name@label (a split label names no one version: pick an arm) or name (the current version). " +
      "They may be versions of one pattern (its log, records told apart by pattern_version) or different patterns (a fork against its parent). " +
      "A record whose outcome reads as success or failure is decided; any other (partial, pending, none) is a run but undecided, outside the rate. " +
      "The performance a version's file records counts as runs at its rate, unless both files record the same figures (a fork's copy) or since is given. " +
      "p_b_better is exact (Beta(1 + successes, 1 + failures) posteriors). recommendation: promote b (p ≥ 0.95), keep a (p ≤ 0.05), " +
      "or need N more runs per arm (fewer than 30 decided runs in an arm, or p between).",
    params: compareParams,
    result: compareResult,
    example: { a: "tournament@production", b: "tournament_swiss@0.1.0", since: "2026-11-01" },
    handler: async (data) => {
      const [a, b] = await Promise.all([arm(data.a), arm(data.b)]);
      if (a.ref === b.ref) {
        throw new DaemonError("invalid_params", `a and b are the same variant, ${a.ref}: compare two versions, e.g. a: "${a.name}@production", b: "${a.name}@1.2.0"`, {
          issues: [{ path: "b", message: `${data.b} is ${b.ref}, as a is` }],
        });
      }
      return compareVariants({ a, b, since: data.since });
    },
  });
}
