/**
 * Ranks patterns for a task (SPEC §4.5 composition:select) from an index
 * that upsert and remove keep current, so a query over 10 000 patterns
 * reads posting lists instead of documents (pure).
 *
 * score = relevance + evidence + similar_tasks + requirements, the parts of `breakdown`:
 * - relevance: BM25F over text.ts's FIELDS, scaled so the most relevant
 *   candidate has 1. Statistics are per type and exact integers, so the
 *   ranking never depends on the order patterns were added. Only a match
 *   outside the strategy makes a pattern a candidate: strategy pseudo-code
 *   shares words ("state", "round", "emit") with nearly every pattern. No
 *   candidate means `selected: null`, never a fallback.
 * - evidence: EVIDENCE_WEIGHT × the mean of a Beta posterior of "this
 *   pattern works": a prior worth PRIOR_WEIGHT observations at PRIOR_MEAN,
 *   plus each performance run the file records (recorded-performance.ts:
 *   `performance` or KSI's `metadata.performance`, valued at the mean of
 *   success_rate and avg_score) and each success or failure in the
 *   decision log (pending and partial records are not outcomes). Two lucky runs move 0.5 to 0.58,
 *   fifty good ones reach 0.92. The weight is small on purpose: evidence
 *   orders patterns of similar relevance; it cannot make one relevant.
 * - similar_tasks: SIMILAR_WEIGHT × how the pattern went on past tasks like
 *   this one (past-tasks.ts: the tasks its decision records name, weighted
 *   by similarity and outcome, smoothed), −SIMILAR_WEIGHT..SIMILAR_WEIGHT,
 *   0 without similar past tasks. Learning from use: a pattern that worked
 *   for tasks phrased like this ranks higher. It is larger than evidence,
 *   being about this kind of task and not the pattern in general, and
 *   still below relevance: it reorders the relevant, it does not make a
 *   pattern a candidate.
 * - requirements: −(1 + EVIDENCE_WEIGHT + SIMILAR_WEIGHT) per unmet
 *   requirement, more than relevance, evidence and similar tasks together
 *   can give, so meeting every requirement
 *   always ranks first and missing fewer ranks above missing more (rules in
 *   requirements.ts).
 *
 * Ties are broken by name.
 */
import { DaemonError } from "../../../core/errors.js";
import { recordedPerformance, type RecordedPerformance } from "./recorded-performance.js";
import { evidenceReason, posterior, similarReason, type DecisionEvidence } from "./select-evidence.js";
import { compileRequirement, criteriaOf, declaredItems, type Declared, type Requirement } from "./requirements.js";
import { Meanings, type MeaningMatch } from "./meanings.js";
import { similarTasks, type Similarity } from "./past-tasks.js";
import { PostingList } from "./postings.js";
import { analyze, FIELDS, fieldTexts, tokenize } from "./text.js";

export interface SelectDoc {
  name: string;
  version: string;
  type: string;
  data: Record<string, unknown>;
}

export type { DecisionEvidence };

export interface SelectQuery {
  task: string;
  requirements?: Record<string, unknown>;
  /** Default "orchestration". */
  type?: string;
  /** Default 5. */
  limit?: number;
}

export interface Breakdown {
  relevance: number;
  evidence: number;
  similar_tasks: number;
  requirements: number;
}

export interface Candidate {
  name: string;
  version: string;
  /** relevance + evidence + similar_tasks + requirements. */
  score: number;
  breakdown: Breakdown;
  reasons: string[];
  requirements_met: boolean;
  /** Only when requirements_met is false. */
  unmet?: Array<{ requirement: string; reason: string }>;
}

export interface SelectResult {
  selected: string | null;
  explanation?: string;
  candidates: Candidate[];
}

const K1 = 1.2;
/**
 * A posting holds a term's count in each field, 3 bits each, in one 32-bit
 * number: 10 000 patterns' index stays small and is read with bit shifts.
 * Counts stop at 7; after BM25's saturation more repeats add little (a
 * term 7 times in a field already has 85 % of what 15 times gives), and 3
 * bits leave room for nine fields.
 */
const TF_BITS = 3;
const TF_MAX = 7;
const STRATEGY = FIELDS.findIndex((field) => field.label === "strategy");
const LOGIC = FIELDS.findIndex((field) => field.label === "logic");
/** Strategy is the last field, so these bits are every match outside it. */
const BEFORE_STRATEGY = 2 ** (TF_BITS * STRATEGY) - 1;
/** Every match in orchestration_logic (its description and strategy), where requirements also look. */
const LOGIC_BITS = (TF_MAX << (TF_BITS * LOGIC)) | ((TF_MAX << (TF_BITS * STRATEGY)) >>> 0);
/**
 * What a term the task only means (meanings.ts: "knock-out" ≈ tournament)
 * counts for against a term it says: a paraphrase is weaker evidence than
 * the word itself, so a pattern matching the task's own words stays ahead.
 */
const MEANING_WEIGHT = 0.5;
const EVIDENCE_WEIGHT = 0.25;
const SIMILAR_WEIGHT = 0.4;
const REQUIREMENT_PENALTY = 1 + EVIDENCE_WEIGHT + SIMILAR_WEIGHT;

interface Entry {
  id: number;
  name: string;
  version: string;
  type: string;
  lengths: number[];
  /** The terms it has postings for, as ids into the index's vocabulary (4 bytes a term, no array of strings per pattern). */
  terms: Int32Array;
  /** Items declared false first, so the first item that matches a concept decides. Items alike are one object, shared. */
  declared: Declared[];
  declaredTerms: Int32Array;
  criteriaKeys: string[];
  performance: RecordedPerformance | undefined;
}

/**
 * The patterns of one type. Postings are keyed by entry id, and a query
 * reads per-field weights from one array by id, not from the entries: at
 * 10 000 patterns, following a pointer per posting costs more than the
 * arithmetic.
 */
interface Partition {
  entries: Set<Entry>;
  postings: Map<string, PostingList>;
  /** term → ids with a declared item holding it (value 1): most requirements are settled without reading an entry. */
  declaredIn: Map<string, PostingList>;
  /** criteria or metadata key → id → value. */
  criteria: Map<string, Map<number, unknown>>;
  lengthSums: number[];
  /** Changes with every upsert and remove; `weights` is valid for `weightsAt`. */
  generation: number;
  /** Field weight over BM25 length normalisation, at `id * FIELDS.length + field`. */
  weights: Float64Array;
  weightsAt: number;
}

/** A term a query searches for: one of the task's own (weight 1, no `meant`) or one a phrase of it means. */
interface QueryTerm {
  term: string;
  weight: number;
  meant?: MeaningMatch;
}

interface Scored {
  entry: Entry;
  breakdown: Breakdown;
  score: number;
  decisions: DecisionEvidence | undefined;
  similar: Similarity | undefined;
}

/**
 * The index as plain data a structured clone (v8.serialize) keeps exactly,
 * to be saved and read back instead of analysing every pattern again (at
 * 100 000 patterns an analysis takes tens of seconds): typed arrays are
 * copied as bytes, and objects shared (declared items) stay shared.
 */
export interface SelectIndexState {
  analyzer: string;
  nextId: number;
  freeIds: number[];
  vocabulary: string[];
  entries: Entry[];
  partitions: {
    type: string;
    lengthSums: number[];
    postings: [string, Int32Array, Uint32Array][];
    declaredIn: [string, Int32Array, Uint32Array][];
    criteria: Map<string, Map<number, unknown>>;
  }[];
}

/**
 * What a saved index's analysis depended on: the fields with their weights,
 * the count packing, and what the tokenizer makes of words of every kind it
 * treats apart. A saved index made by other code says another analyzer and
 * is not used, so a change to any of these can never serve a stale ranking.
 */
export const ANALYZER = JSON.stringify([
  FIELDS,
  TF_BITS,
  tokenize("Agents' effectiveness: voted, voting, votes; studies studied; the critic's re-reviews, X-rays & 3 judges. Émile naïvement équipes_2 camelCaseWords"),
]);

export class SelectIndex {
  /** `meanings`: the everyday phrasings a task is also searched by (none: only its own words). They act at query time only, so a saved index does not depend on them. */
  constructor(private readonly meanings: Meanings = Meanings.none) {}

  private readonly partitions = new Map<string, Partition>();
  private readonly byName = new Map<string, Entry>();
  /** Entries by id: a query gathers the patterns it matched as it reads the postings, instead of filtering every entry of the type. */
  private readonly byId: (Entry | undefined)[] = [];
  private readonly freeIds: number[] = [];
  private nextId = 0;
  /** Every term ever indexed, by id, and the id of each (it only grows: a store's vocabulary is bounded by its language). */
  private readonly vocabulary: string[] = [];
  private readonly termIds = new Map<string, number>();
  /** Declared items by content: the same tag or capability on 100 000 patterns is one object. */
  private readonly declaredAlike = new Map<string, Declared>();

  state(): SelectIndexState {
    const lists = (index: Map<string, PostingList>): [string, Int32Array, Uint32Array][] =>
      [...index].map(([term, list]) => {
        const { ids, values } = list.arrays();
        return [term, ids, values];
      });
    return {
      analyzer: ANALYZER,
      nextId: this.nextId,
      freeIds: [...this.freeIds],
      vocabulary: this.vocabulary,
      entries: [...this.byName.values()],
      partitions: [...this.partitions].map(([type, p]) => ({ type, lengthSums: p.lengthSums, postings: lists(p.postings), declaredIn: lists(p.declaredIn), criteria: p.criteria })),
    };
  }

  /** The index a state() describes; null when it was made by another analyzer or does not hold together. */
  static fromState(state: SelectIndexState, meanings: Meanings = Meanings.none): SelectIndex | null {
    if (state.analyzer !== ANALYZER) return null;
    const index = new SelectIndex(meanings);
    index.nextId = state.nextId;
    index.freeIds.push(...state.freeIds);
    state.vocabulary.forEach((term, id) => index.termIds.set(index.vocabulary[id] = term, id));
    const known = (ids: Int32Array) => ids.every((id) => id >= 0 && id < state.vocabulary.length);
    const items = new Set<Declared>();
    for (const entry of state.entries) {
      if (!(entry.id >= 0 && entry.id < state.nextId) || index.byId[entry.id] !== undefined || index.byName.has(entry.name) || !known(entry.terms) || !known(entry.declaredTerms)) return null;
      index.byName.set(entry.name, entry);
      index.byId[entry.id] = entry;
      index.partition(entry.type).entries.add(entry);
      for (const item of entry.declared) items.add(item);
    }
    // Items alike were saved as one object each, so each is keyed once.
    for (const item of items) index.declaredAlike.set(declaredKey(item), item);
    for (const stored of state.partitions) {
      const partition = index.partition(stored.type);
      partition.lengthSums = stored.lengthSums;
      partition.criteria = stored.criteria;
      for (const [lists, into] of [[stored.postings, partition.postings], [stored.declaredIn, partition.declaredIn]] as const) {
        for (const [term, ids, values] of lists) {
          for (const id of ids) if (index.byId[id]?.type !== stored.type) return null;
          into.set(term, PostingList.of(ids, values));
        }
      }
    }
    return index;
  }

  /** Adds or replaces the pattern called `doc.name`, whatever its type was before. */
  upsert(doc: SelectDoc): void {
    this.remove(doc.name);
    const counts = new Map<string, number>();
    const lengths = fieldTexts(doc.name, doc.data).map((text, f) => {
      const terms = tokenize(text);
      for (const term of terms) {
        const packed = counts.get(term) ?? 0;
        if (fieldCount(packed, f) < TF_MAX) counts.set(term, packed + 2 ** (TF_BITS * f));
      }
      return terms.length;
    });
    const declared = declaredItems(doc.data).map((item) => this.alike(item));
    const declaredTerms = [...new Set(declared.flatMap((item) => item.terms))];
    const criteria = criteriaOf(doc.data);
    const entry: Entry = {
      id: this.freeIds.pop() ?? this.nextId++,
      name: doc.name,
      version: doc.version,
      type: doc.type,
      lengths,
      terms: Int32Array.from(counts.keys(), (term) => this.termId(term)),
      declared,
      declaredTerms: Int32Array.from(declaredTerms, (term) => this.termId(term)),
      criteriaKeys: [...criteria.keys()],
      performance: recordedPerformance(doc.data),
    };
    const partition = this.partition(doc.type);
    for (const [term, packed] of counts) post(partition.postings, term, entry.id, packed);
    for (const term of declaredTerms) post(partition.declaredIn, term, entry.id, 1);
    for (const [key, value] of criteria) put(partition.criteria, key, entry.id, value);
    lengths.forEach((length, f) => (partition.lengthSums[f]! += length));
    partition.entries.add(entry);
    partition.generation++;
    this.byName.set(doc.name, entry);
    this.byId[entry.id] = entry;
  }

  remove(name: string): void {
    const entry = this.byName.get(name);
    if (entry === undefined) return;
    const partition = this.partitions.get(entry.type)!;
    for (const term of entry.terms) drop(partition.postings, this.vocabulary[term]!, entry.id);
    for (const term of entry.declaredTerms) drop(partition.declaredIn, this.vocabulary[term]!, entry.id);
    for (const key of entry.criteriaKeys) drop(partition.criteria, key, entry.id);
    entry.lengths.forEach((length, f) => (partition.lengthSums[f]! -= length));
    partition.entries.delete(entry);
    partition.generation++;
    this.byName.delete(name);
    this.byId[entry.id] = undefined;
    this.freeIds.push(entry.id);
  }

  /**
   * Candidates for `query.task`, best first. `evidence(name)` gives a
   * pattern's decision-log outcomes (undefined: none); it is asked only
   * for patterns that can still reach the result. Throws invalid_params
   * for a task without a word to search for, or a limit below 1.
   */
  query(query: SelectQuery, evidence: (name: string) => DecisionEvidence | undefined): SelectResult {
    const type = query.type ?? "orchestration";
    const limit = query.limit ?? 5;
    if (!Number.isInteger(limit) || limit < 1) invalid("limit", `limit must be a positive integer, not ${String(limit)}`);
    const words = taskWords(query.task);
    const partition = this.partitions.get(type);
    if (partition === undefined || partition.entries.size === 0) {
      return { selected: null, explanation: `there are no patterns of type "${type}" to select from`, candidates: [] };
    }
    const terms = queryTerms(words, this.meanings.match(query.task));
    const { entries, scores } = this.relevance(partition, terms);
    if (entries.length === 0) {
      const looked = [...words.values()].join(", ");
      return { selected: null, explanation: `no ${type} pattern mentions any word of the task (${looked}) outside its strategy`, candidates: [] };
    }
    const requirements = Object.entries(query.requirements ?? {}).map(([key, want]) => compileRequirement(key, want, partition, this.nextId, LOGIC_BITS));
    let top = 0;
    for (const entry of entries) top = Math.max(top, scores[entry.id]!);
    const penalties = new Float64Array(entries.length);
    const bases = new Float64Array(entries.length);
    entries.forEach((entry, i) => {
      let failed = 0;
      for (const requirement of requirements) if (!requirement.met(entry)) failed++;
      const penalty = failed === 0 ? 0 : -REQUIREMENT_PENALTY * failed;
      penalties[i] = penalty;
      bases[i] = scores[entry.id]! / top + penalty;
    });
    // Evidence and similar tasks add less than EVIDENCE_WEIGHT + SIMILAR_WEIGHT, so a base that far below the
    // limit-th best cannot reach the result: its evidence is not asked for.
    const floor = kthLargest(bases, limit) - EVIDENCE_WEIGHT - SIMILAR_WEIGHT;
    const asked = new Set(words.keys());
    const best: Scored[] = [];
    entries.forEach((entry, i) => {
      if (bases[i]! < floor) return;
      const decisions = evidence(entry.name);
      const similar = decisions?.tasks === undefined ? undefined : similarTasks(asked, decisions.tasks);
      const breakdown = {
        relevance: scores[entry.id]! / top,
        evidence: EVIDENCE_WEIGHT * posterior(entry.performance, decisions),
        similar_tasks: SIMILAR_WEIGHT * (similar?.value ?? 0),
        requirements: penalties[i]!,
      };
      const score = breakdown.relevance + breakdown.evidence + breakdown.similar_tasks + breakdown.requirements;
      keepBest(best, { entry, breakdown, score, decisions, similar }, limit);
    });
    const meetsAll = penalties.includes(0);
    const candidates = best.map((scored) => candidate(partition, scored, words, terms, requirements));
    const first = candidates[0]!;
    if (!meetsAll) {
      const unmet = [...new Set(candidates.flatMap((c) => (c.unmet ?? []).map((u) => u.requirement)))].join(", ");
      const explanation = `${entries.length} ${type} pattern(s) match the task but none meets every requirement (unmet: ${unmet}); the closest are listed with what they lack`;
      return { selected: null, explanation, candidates };
    }
    const met = requirements.length === 0 ? "" : ` and meets every requirement`;
    const explanation = `${first.name} is the best of ${entries.length} matching ${type} pattern(s)${met}: ${first.reasons[0]!}`;
    return { selected: first.name, explanation, candidates };
  }

  private termId(term: string): number {
    let id = this.termIds.get(term);
    if (id === undefined) {
      id = this.vocabulary.push(term) - 1;
      this.termIds.set(term, id);
    }
    return id;
  }

  private alike(item: Declared): Declared {
    const key = declaredKey(item);
    const known = this.declaredAlike.get(key);
    if (known !== undefined) return known;
    this.declaredAlike.set(key, item);
    return item;
  }

  private partition(type: string): Partition {
    let partition = this.partitions.get(type);
    if (partition === undefined) {
      partition = {
        entries: new Set(),
        postings: new Map(),
        declaredIn: new Map(),
        criteria: new Map(),
        lengthSums: FIELDS.map(() => 0),
        generation: 0,
        weights: new Float64Array(0),
        weightsAt: -1,
      };
      this.partitions.set(type, partition);
    }
    return partition;
  }

  /** BM25F: one saturation over the weighted, length-normalised counts of all fields. Scores are indexed by entry id. */
  private relevance(partition: Partition, terms: QueryTerm[]): { entries: Entry[]; scores: Float64Array } {
    const n = partition.entries.size;
    const weights = this.weights(partition);
    const scores = new Float64Array(this.nextId);
    // Matched outside the strategy: gathered once each, as the postings are read.
    const outside = new Uint8Array(this.nextId);
    const entries: Entry[] = [];
    for (const { term, weight } of terms) {
      const postings = partition.postings.get(term);
      if (postings === undefined) continue;
      const idf = weight * Math.log(1 + (n - postings.size + 0.5) / (postings.size + 0.5));
      postings.forEach((packed, id) => {
        let tf = 0;
        for (let at = id * FIELDS.length, rest = packed; rest !== 0; at++, rest >>>= TF_BITS) tf += (rest & TF_MAX) * weights[at]!;
        if ((packed & BEFORE_STRATEGY) !== 0 && outside[id] === 0) {
          outside[id] = 1;
          entries.push(this.byId[id]!);
        }
        scores[id]! += (idf * tf) / (K1 + tf);
      });
    }
    return { entries, scores };
  }

  private weights(partition: Partition): Float64Array {
    if (partition.weightsAt === partition.generation) return partition.weights;
    const averages = partition.lengthSums.map((sum) => sum / partition.entries.size);
    partition.weights = new Float64Array(this.nextId * FIELDS.length);
    for (const entry of partition.entries) {
      FIELDS.forEach((field, f) => {
        const average = averages[f]!;
        const norm = average === 0 ? 1 : 1 - field.b + (field.b * entry.lengths[f]!) / average;
        partition.weights[entry.id * FIELDS.length + f] = field.weight / norm;
      });
    }
    partition.weightsAt = partition.generation;
    return partition.weights;
  }
}

function declaredKey(item: Declared): string {
  return JSON.stringify([item.label, item.terms, item.negative, item.tag]);
}

function post(index: Map<string, PostingList>, term: string, id: number, value: number): void {
  let list = index.get(term);
  if (list === undefined) index.set(term, (list = new PostingList()));
  list.add(id, value);
}

function put<V>(index: Map<string, Map<number, V>>, key: string, id: number, value: V): void {
  let ids = index.get(key);
  if (ids === undefined) index.set(key, (ids = new Map<number, V>()));
  ids.set(id, value);
}

function drop(index: Map<string, { delete(id: number): void; size: number }>, key: string, id: number): void {
  const ids = index.get(key);
  ids?.delete(id);
  if (ids?.size === 0) index.delete(key);
}

function kthLargest(values: Float64Array, k: number): number {
  const top: number[] = [];
  for (const value of values) {
    if (top.length === k && value <= top[k - 1]!) continue;
    let at = top.length;
    while (at > 0 && value > top[at - 1]!) at--;
    top.splice(at, 0, value);
    if (top.length > k) top.pop();
  }
  return top.length < k ? -Infinity : top[k - 1]!;
}

/** Keeps `best` sorted (score down, then name) and at most `limit` long. */
function keepBest(best: Scored[], scored: Scored, limit: number): void {
  const before = (a: Scored, b: Scored) => a.score > b.score || (a.score === b.score && a.entry.name < b.entry.name);
  let at = best.length;
  while (at > 0 && before(scored, best[at - 1]!)) at--;
  if (at >= limit) return;
  best.splice(at, 0, scored);
  if (best.length > limit) best.pop();
}

function candidate(partition: Partition, scored: Scored, words: Map<string, string>, terms: QueryTerm[], requirements: Requirement[]): Candidate {
  const { entry, breakdown } = scored;
  const reasons = [matchReason(partition, entry, words, terms, breakdown.relevance)];
  for (const r of requirements) reasons.push(`requirement ${r.key} ${r.met(entry) ? "met" : "not met"}: ${r.why(entry)}`);
  reasons.push(evidenceReason(entry.performance, scored.decisions));
  if (scored.similar !== undefined && scored.similar.similar > 0) reasons.push(similarReason(scored.similar, breakdown.similar_tasks));
  const unmet = requirements.filter((r) => !r.met(entry)).map((r) => ({ requirement: r.key, reason: r.why(entry) }));
  const result: Candidate = { name: entry.name, version: entry.version, score: scored.score, breakdown, reasons, requirements_met: unmet.length === 0 };
  if (unmet.length > 0) result.unmet = unmet;
  return result;
}

/** Distinct terms of the task, each with the first word that produced it. */
function taskWords(task: unknown): Map<string, string> {
  const words = new Map<string, string>();
  if (typeof task === "string") for (const token of analyze(task)) if (!words.has(token.term)) words.set(token.term, token.word);
  if (words.size === 0) invalid("task", 'task needs at least one word that is not a stop word, e.g. "rank 12 drafts by quality"');
  return words;
}

/**
 * The task's own terms at weight 1, then the terms its phrases mean at
 * MEANING_WEIGHT, each once: a term the task says itself is not counted
 * again as meant, and a term two phrases mean is searched once.
 */
function queryTerms(words: Map<string, string>, meant: MeaningMatch[]): QueryTerm[] {
  const terms: QueryTerm[] = [...words.keys()].map((term) => ({ term, weight: 1 }));
  const seen = new Set(words.keys());
  for (const match of meant) {
    for (const term of match.terms) {
      if (seen.has(term)) continue;
      seen.add(term);
      terms.push({ term, weight: MEANING_WEIGHT, meant: match });
    }
  }
  return terms;
}

function invalid(path: string, message: string): never {
  throw new DaemonError("invalid_params", message, { issues: [{ path, message }] });
}

function fieldCount(packed: number | undefined, f: number): number {
  return packed === undefined ? 0 : (packed >>> (TF_BITS * f)) & TF_MAX;
}

function matchReason(partition: Partition, entry: Entry, words: Map<string, string>, terms: QueryTerm[], relevance: number): string {
  const where: string[] = [];
  const matched = new Set<string>();
  FIELDS.forEach((field, f) => {
    const found = [...words].filter(([term]) => fieldCount(partition.postings.get(term)?.get(entry.id), f) > 0);
    for (const [term] of found) matched.add(term);
    if (found.length > 0) where.push(`${field.label}: ${found.map(([, word]) => word).join(", ")}`);
  });
  // The meanings that reached this pattern: a meant term it holds anywhere.
  const meant = new Set<MeaningMatch>();
  for (const { term, meant: match } of terms) if (match !== undefined && partition.postings.get(term)?.get(entry.id) !== undefined) meant.add(match);
  const meanings = meant.size === 0 ? "" : `; by meaning: ${[...meant].map((m) => `'${m.written}' ≈ ${m.concept}`).join(", ")}`;
  const said = where.length === 0 ? "none of the task's own words" : `${matched.size} of ${words.size} task words matched (${where.join("; ")})`;
  return `relevance ${relevance.toFixed(2)}, ${said}${meanings}`;
}
