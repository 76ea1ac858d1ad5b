/**
 * The tasks a pattern served, from its decision log (pure): a record says
 * its task as `context.task` (track_decision's `task` is written there, so
 * the record keeps KSI's keys). select compares a new task with them
 * (select.ts, similar_tasks): a pattern that worked for tasks like this one
 * ranks higher, one that failed on them lower.
 *
 * Only outcomes count, read as the rest of the evidence reads them
 * (outcomeClass: success, failure, neither); a pending or partial record
 * says nothing yet. Tasks alike by text are one entry with their counts,
 * tokenized once when first seen, so a select never tokenizes a log.
 */
import { outcomeClass } from "./decisions.js";
import { tokenize } from "./text.js";

/** A distinct task of a log, with how it went each time it was recorded with an outcome. */
export interface PastTask {
  /** As recorded, cut to MAX_TASK_TEXT (it is shown in reasons). */
  text: string;
  /** Distinct terms (text.ts), what similarity compares. */
  terms: string[];
  successes: number;
  failures: number;
}

/** The longest task text kept: a reason quotes it, and a task is a sentence or two. */
const MAX_TASK_TEXT = 200;
/** Distinct tasks kept per log: the rest are counted in the first ones alike, never grown past this (a log of generated tasks cannot fill memory). */
const MAX_TASKS = 2_000;

/** The task a record's context names, if any: `context.task`, a non-empty string. */
export function taskOf(context: unknown): string | undefined {
  if (typeof context !== "object" || context === null || Array.isArray(context)) return undefined;
  const task = (context as Record<string, unknown>).task;
  return typeof task === "string" && task.trim() !== "" ? task : undefined;
}

export class PastTasks {
  private readonly byText = new Map<string, PastTask>();
  private listed: PastTask[] | null = null;

  /** Counts a record: its task (from its context) and the kind of its outcome. */
  add(context: unknown, outcome: string | null): void {
    const task = taskOf(context);
    if (task === undefined) return;
    const kind = outcomeClass(outcome);
    if (kind === "other") return;
    const text = task.length > MAX_TASK_TEXT ? task.slice(0, MAX_TASK_TEXT) : task;
    let past = this.byText.get(text);
    if (past === undefined) {
      const terms = [...new Set(tokenize(text))];
      if (terms.length === 0 || this.byText.size >= MAX_TASKS) return;
      // A copy: the text may be a slice of a whole log's text (see decision-index.ts detached()).
      past = { text: JSON.parse(JSON.stringify(text)) as string, terms, successes: 0, failures: 0 };
      this.byText.set(past.text, past);
    }
    if (kind === "success") past.successes++;
    else past.failures++;
    this.listed = null;
  }

  /** Every task with an outcome, in the order first recorded. */
  list(): PastTask[] {
    this.listed ??= [...this.byText.values()].map((past) => ({ ...past }));
    return this.listed;
  }
}

/** Below this similarity a past task is not "like" the new one: sharing one common word of several is chance. */
export const SIMILAR_MIN = 0.3;
/** Outcomes worth of doubt: one similar success is not proof (1 success → 0.5, 4 → 0.8). */
const SIMILAR_PRIOR = 1;

/** What a pattern's past tasks say of a new task: a net vote in −1..1, and what it is made of (for reasons). */
export interface Similarity {
  /** (s − f) / (s + f + SIMILAR_PRIOR), s and f the successes and failures of similar tasks weighted by similarity; 0 when none is similar. */
  value: number;
  similar: number;
  successes: number;
  failures: number;
  /** The most similar past task and its similarity. */
  closest?: { text: string; similarity: number };
}

/**
 * How past tasks like `terms` (a new task's distinct terms) went. Similarity
 * is the cosine of the two term sets, |Q ∩ T| / √(|Q|·|T|): 1 for the same
 * words, regardless of order and form ("rank drafts" = "ranking the draft").
 */
export function similarTasks(terms: ReadonlySet<string>, tasks: readonly PastTask[]): Similarity {
  let weightedSuccesses = 0;
  let weightedFailures = 0;
  const found: Similarity = { value: 0, similar: 0, successes: 0, failures: 0 };
  for (const past of tasks) {
    let shared = 0;
    for (const term of past.terms) if (terms.has(term)) shared++;
    if (shared === 0) continue;
    const similarity = shared / Math.sqrt(terms.size * past.terms.length);
    if (similarity < SIMILAR_MIN) continue;
    found.similar++;
    found.successes += past.successes;
    found.failures += past.failures;
    weightedSuccesses += similarity * past.successes;
    weightedFailures += similarity * past.failures;
    if (found.closest === undefined || similarity > found.closest.similarity) found.closest = { text: past.text, similarity };
  }
  found.value = (weightedSuccesses - weightedFailures) / (weightedSuccesses + weightedFailures + SIMILAR_PRIOR);
  return found;
}
