/**
 * What composition:decisions and select need of a decision log, kept as the
 * log grows (pure; issue 22: a log of 30 000 records was read and parsed
 * whole per query, 358 ms). Per record it keeps only where its item is in
 * the file, its time, id and confidence, and its decision and outcome as
 * numbers into tables of the distinct texts, never its context; the whole
 * log's counts are kept up to date by each record added. A query filters
 * and ranks these, and the caller reads back only the records it returns.
 *
 * Everything a query answers is what queryDecisions (decisions.ts) gives for
 * the same records in file order: the same matching, the same newest-first
 * order (time, then id, then file order), the same sums in the same order.
 */
import {
  compareIds,
  decisionFilter,
  matchesDecision,
  matchesOutcome,
  outcomeClass,
  timeOf,
  topGroups,
  type DecisionRecord,
  type DecisionsQuery,
  type DecisionStats,
  type Evidence,
} from "./decisions.js";
import { PastTasks } from "./past-tasks.js";

/** Where a record's item is in its log, in bytes. */
export interface ItemPlace {
  offset: number;
  bytes: number;
}

interface Entry extends ItemPlace {
  time: number;
  /** "" for a record without one (KSI's): compareIds treats them alike. */
  id: string;
  decision: number;
  outcome: number;
  confidence: number | null;
}

const NO_OUTCOME = -1;

/**
 * The stats of a query but for first_seen and last_seen, which are given as
 * the records to read back for their timestamps (null: no dated record).
 */
export interface IndexAnswer {
  /** Records to return, newest first. */
  picks: number[];
  stats: Omit<DecisionStats, "first_seen" | "last_seen">;
  firstSeen: number | null;
  lastSeen: number | null;
}

export class DecisionIndex {
  /** In file order: a record's number is its place here. */
  private readonly entries: Entry[] = [];
  /** Record numbers, oldest first (time, id, file order); the newest is last, so an append usually goes at the end. */
  private readonly order: number[] = [];
  private readonly decisions = new Texts();
  private readonly outcomes = new Texts();
  /** Per outcome: how select reads it. */
  private readonly kinds: ("success" | "failure" | "other")[] = [];
  private readonly decisionCounts: number[] = [];
  private readonly outcomeCounts: number[] = [];
  private successes = 0;
  private failures = 0;
  private confidenceSum = 0;
  private confidences = 0;
  /** The tasks records name, with their outcomes: select's similar_tasks (only the task text is kept, never the rest of a context). */
  private readonly tasks = new PastTasks();
  /** The unfiltered stats, until the next record. */
  private allStats: IndexAnswer["stats"] | null = null;

  get size(): number {
    return this.entries.length;
  }

  place(record: number): ItemPlace {
    const { offset, bytes } = this.entries[record]!;
    return { offset, bytes };
  }

  /** Adds the next record of the log (file order), its item at `place`. */
  add(record: DecisionRecord, place: ItemPlace): void {
    const decision = this.decisions.number(record.decision);
    const outcome = record.outcome === null ? NO_OUTCOME : this.outcomes.number(record.outcome);
    if (decision === this.decisionCounts.length) this.decisionCounts.push(0);
    if (outcome === this.outcomeCounts.length) {
      this.outcomeCounts.push(0);
      this.kinds.push(outcomeClass(record.outcome));
    }
    const entry: Entry = {
      offset: place.offset,
      bytes: place.bytes,
      time: timeOf(record.timestamp),
      id: detached(record.id ?? ""),
      decision,
      outcome,
      confidence: record.confidence,
    };
    const number = this.entries.push(entry) - 1;
    this.decisionCounts[decision]!++;
    if (outcome !== NO_OUTCOME) this.outcomeCounts[outcome]!++;
    const kind = outcome === NO_OUTCOME ? "other" : this.kinds[outcome];
    if (kind === "success") this.successes++;
    else if (kind === "failure") this.failures++;
    if (entry.confidence !== null) {
      this.confidenceSum += entry.confidence;
      this.confidences++;
    }
    this.order.splice(this.orderPlace(number), 0, number);
    this.tasks.add(record.context, record.outcome);
    this.allStats = null;
  }

  /** What select weighs: evidenceOf over every record. */
  evidence(): Evidence {
    const evidence: Evidence = { successes: this.successes, failures: this.failures, total: this.entries.length, mean_confidence: this.confidences === 0 ? null : this.confidenceSum / this.confidences };
    const tasks = this.tasks.list();
    if (tasks.length > 0) evidence.tasks = tasks;
    return evidence;
  }

  /** queryDecisions over the records, but for the records themselves (see IndexAnswer). */
  query(query: DecisionsQuery): IndexAnswer {
    const filter = decisionFilter(query);
    const limit = query.limit ?? this.entries.length;
    if (filter.text === undefined && filter.outcome === undefined && filter.since === undefined) {
      this.allStats ??= this.stats(this.entries.length, this.decisionCounts, this.outcomeCounts, this.successes, this.failures, this.confidenceSum, this.confidences);
      return { picks: this.newest(limit, null), stats: this.allStats, ...this.seen(null) };
    }
    const decisionOk = this.decisions.values.map((text) => matchesDecision(filter, text));
    const outcomeOk = this.outcomes.values.map((text) => matchesOutcome(filter, text));
    const noOutcomeOk = matchesOutcome(filter, null);
    const matched = new Uint8Array(this.entries.length);
    const decisionCounts = new Array<number>(this.decisionCounts.length).fill(0);
    const outcomeCounts = new Array<number>(this.outcomeCounts.length).fill(0);
    let total = 0;
    let successes = 0;
    let failures = 0;
    let confidenceSum = 0;
    let confidences = 0;
    this.entries.forEach((entry, number) => {
      if (!decisionOk[entry.decision]! || !(entry.outcome === NO_OUTCOME ? noOutcomeOk : outcomeOk[entry.outcome]!)) return;
      if (filter.since !== undefined && !(entry.time >= filter.since)) return;
      matched[number] = 1;
      total++;
      decisionCounts[entry.decision]!++;
      if (entry.outcome !== NO_OUTCOME) {
        outcomeCounts[entry.outcome]!++;
        const kind = this.kinds[entry.outcome];
        if (kind === "success") successes++;
        else if (kind === "failure") failures++;
      }
      if (entry.confidence !== null) {
        confidenceSum += entry.confidence;
        confidences++;
      }
    });
    return { picks: this.newest(limit, matched), stats: this.stats(total, decisionCounts, outcomeCounts, successes, failures, confidenceSum, confidences), ...this.seen(matched) };
  }

  private stats(total: number, decisionCounts: number[], outcomeCounts: number[], successes: number, failures: number, sum: number, count: number): IndexAnswer["stats"] {
    return {
      total,
      by_decision: topGroups(counted(this.decisions.values, decisionCounts)),
      by_outcome: topGroups(counted(this.outcomes.values, outcomeCounts)),
      mean_confidence: count === 0 ? null : sum / count,
      successes,
      failures,
    };
  }

  /** Up to `limit` records, newest first, of those matched (null: all). */
  private newest(limit: number, matched: Uint8Array | null): number[] {
    const picks: number[] = [];
    for (let at = this.order.length - 1; at >= 0 && picks.length < limit; at--) {
      const number = this.order[at]!;
      if (matched === null || matched[number] === 1) picks.push(number);
    }
    return picks;
  }

  /** The oldest and the newest dated record matched (records without a time are the oldest in order). */
  private seen(matched: Uint8Array | null): { firstSeen: number | null; lastSeen: number | null } {
    const dated = (number: number) => (matched === null || matched[number] === 1) && this.entries[number]!.time !== -Infinity;
    let firstSeen: number | null = null;
    for (const number of this.order) {
      if (!dated(number)) continue;
      firstSeen = number;
      break;
    }
    let lastSeen: number | null = null;
    for (let at = this.order.length - 1; at >= 0; at--) {
      if (!dated(this.order[at]!)) continue;
      lastSeen = this.order[at]!;
      break;
    }
    return { firstSeen, lastSeen };
  }

  /** Where record `number` (the last added) goes in `order`: after every record that sorts before it. */
  private orderPlace(number: number): number {
    let low = 0;
    let high = this.order.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.before(this.order[mid]!, number)) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** True when record a is older than record b: the reverse of queryDecisions's newest-first order. */
  private before(a: number, b: number): boolean {
    const left = this.entries[a]!;
    const right = this.entries[b]!;
    // Two records without a time compare by id (their difference is NaN, as in queryDecisions).
    const byTime = left.time - right.time;
    if (byTime < 0) return true;
    if (byTime > 0) return false;
    return (compareIds(left.id, right.id) || a - b) < 0;
  }
}

/** Distinct texts, each numbered once. */
class Texts {
  readonly values: string[] = [];
  private readonly numbers = new Map<string, number>();

  number(text: string): number {
    let number = this.numbers.get(text);
    if (number === undefined) {
      number = this.values.push(detached(text)) - 1;
      this.numbers.set(this.values[number]!, number);
    }
    return number;
  }
}

function* counted(values: readonly string[], counts: readonly number[]): Generator<[string, number]> {
  for (let i = 0; i < values.length; i++) if (counts[i]! > 0) yield [values[i]!, counts[i]!];
}

/**
 * A copy of a string parsed out of a log's text: V8 may keep a short slice
 * of a long string as a view into it, and the index must not hold the
 * whole text of the log alive through one id.
 */
function detached(text: string): string {
  return text.length < 13 ? text : (JSON.parse(JSON.stringify(text)) as string);
}
