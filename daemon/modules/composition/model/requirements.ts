/**
 * Whether a pattern meets a composition:select requirement, and why (SPEC
 * §4.5; pure). A miss outweighs all relevance and evidence (select.ts), so
 * only what a pattern says of itself counts: a criterion or metadata key of
 * that name first, and an item declared false or "no" over any mention.
 * Otherwise all the requirement's words, less generic ones ("handling",
 * "support") that any requirement could carry, must be in one declared item
 * or in orchestration_logic: "web" in one tag and "search" in another is
 * not web_search, and "high" alone somewhere says nothing. A count must lie
 * in a declared range. compileRequirement has the rule for each kind of value.
 */
import type { PostingList } from "./postings.js";
import { analyze, plainText, stem, tokenize, type Token } from "./text.js";

/** What requirements read of select.ts's Partition: the indexes of one type's patterns. */
interface Partition {
  /** term → id → the term's count in each field, packed as select.ts describes. */
  postings: Map<string, PostingList>;
  /** term → ids with a declared item holding it (value 1). */
  declaredIn: Map<string, PostingList>;
  /** criteria or metadata key → id → value. */
  criteria: Map<string, Map<number, unknown>>;
}

/** What requirements read of select.ts's Entry: one pattern. */
interface Entry {
  id: number;
  /** declaredItems of the pattern: those declared false first, so the first that matches a concept decides. */
  declared: Declared[];
}

export interface Declared {
  label: string;
  terms: string[];
  negative: boolean;
  tag: boolean;
}

/** A requirement compiled for one query; `why` is only worked out for the candidates shown. */
export interface Requirement {
  key: string;
  met(entry: Entry): boolean;
  why(entry: Entry): string;
}

const GENERIC = new Set(
  "handling handle handler support supported required require requirement need needed enabled enable allow allowed aware capable feature ability built"
    .split(" ")
    .map(stem),
);
const SYNONYMS = new Map<string, string>([
  [stem("timeout"), stem("deadline")],
  [stem("deadline"), stem("timeout")],
  [stem("parallel"), stem("concurrent")],
  [stem("concurrent"), stem("parallel")],
]);
const CEILINGS = new Set(["cost", "latency"]);
const SCALE = ["low", "medium", "high"];
const IN_LOGIC: Declared = { label: "orchestration_logic", terms: [], negative: false, tag: false };

/**
 * What meets `key: want` (keys compared lower-case, "-" and spaces read as "_"):
 * - null: nothing is asked.
 * - true: a selection_criteria or metadata key `key` with a truthy value;
 *   without one, the key's words less generic ones ("handling", "support",
 *   "required": timeout_handling asks for "timeout", and a deadline counts
 *   as a timeout) all found in one declared item — a tag, a capability, a
 *   criteria or metadata key with its text value, a mixin, the extended
 *   pattern, a variable name — or in orchestration_logic (its description
 *   or strategy). A matching key declared false or "no" fails it.
 * - false: met unless `key` is declared truthy.
 * - a number: a count the task will have (`participants: 15`,
 *   `max_participants: 20`). It must lie in the pattern's range for that
 *   quantity, from `q: {min, max}`, `q: n`, `min_q` / `max_q` or `q_min` /
 *   `q_max`; no declared range fails it. `{min, max}` must lie inside it.
 * - text: the words of criterion `key` include the value's (`output:
 *   ranking`); for cost and latency low < medium < high and the value is a
 *   ceiling. Without such a criterion, the key's and the value's words are
 *   looked for together as for true (`pairing: swiss`), or the value's in a
 *   tag (`domain: security`); "high" alone somewhere says nothing.
 * - a list: every item is looked for as for true (`capabilities: [web_search]`).
 *
 * Compiled once per query over the partition's indexes into arrays by entry
 * id (`ids` bounds them), so checking a candidate reads arrays instead of
 * looking ids up in large maps, which at 10 000 patterns dominated the cost.
 * `logicBits` masks a posting's orchestration_logic counts (select.ts packs them).
 */
export function compileRequirement(key: string, want: unknown, partition: Partition, ids: number, logicBits: number): Requirement {
  const name = normalKey(key);
  let values: unknown[] | undefined;
  const declared = (entry: Entry) => {
    if (values === undefined) {
      values = new Array<unknown>(ids);
      partition.criteria.get(name)?.forEach((value, id) => (values![id] = value));
    }
    return values[entry.id];
  };
  const rule = (met: (entry: Entry) => boolean, why: (entry: Entry) => string): Requirement => ({ key, met, why });
  if (want === null || want === undefined) return rule(() => true, () => "nothing asked (null)");
  if (typeof want === "boolean") {
    const concept = compileConcept(conceptOf(name), partition, ids, logicBits);
    return rule(
      (entry) => {
        const value = declared(entry);
        return value === undefined ? !want || concept.met(entry) : truthy(value) === want;
      },
      (entry) => {
        if (declared(entry) !== undefined) return `declares ${name}: ${show(declared(entry))}`;
        return want ? concept.why(entry) : `does not declare ${name}`;
      },
    );
  }
  if (typeof want === "number") return compileRange(key, name, want, want, partition, ids);
  if (isMap(want)) {
    const [min, max] = [number(want.min), number(want.max)];
    if (min === undefined && max === undefined) return rule(() => false, () => "only {min, max} can be checked inside a requirement");
    return compileRange(key, name, min ?? max!, max ?? min!, partition, ids);
  }
  if (Array.isArray(want)) {
    const items = want.map((item) => ({ text: show(item), concept: compileConcept(analyze(show(item)), partition, ids, logicBits) }));
    return rule(
      (entry) => items.every((item) => item.concept.met(entry)),
      (entry) => {
        const missing = items.filter((item) => !item.concept.met(entry)).map((item) => item.text);
        if (missing.length > 0) return `lacks ${missing.join(", ")}`;
        return `has ${items.map((item) => `${item.text} (${item.concept.why(entry)})`).join(", ")}`;
      },
    );
  }
  const text = show(want);
  const wanted = tokenize(text);
  const together = compileConcept([...conceptOf(name), ...analyze(text)], partition, ids, logicBits);
  const tagged = compileConcept(analyze(text), partition, ids, logicBits, true);
  const concept = { met: (e: Entry) => together.met(e) || tagged.met(e), why: (e: Entry) => (together.met(e) || !tagged.met(e) ? together.why(e) : tagged.why(e)) };
  const asked = CEILINGS.has(name) ? SCALE.indexOf(text.toLowerCase()) : -1;
  const rank = (value: unknown) => (asked >= 0 ? SCALE.indexOf(show(value).toLowerCase()) : -1);
  // Declared values repeat ("low", "high"), so each distinct one is judged once per query.
  const judged = new Map<unknown, boolean>();
  const judge = (value: unknown) => {
    let verdict = judged.get(value);
    if (verdict === undefined) {
      const has = rank(value);
      verdict = has >= 0 ? has <= asked : (Array.isArray(value) ? value : [value]).some((v) => wanted.every((term) => tokenize(show(v)).includes(term)));
      if (typeof value !== "object") judged.set(value, verdict);
    }
    return verdict;
  };
  return rule(
    (entry) => {
      const value = declared(entry);
      return value === undefined || isMap(value) ? concept.met(entry) : judge(value);
    },
    (entry) => {
      const value = declared(entry);
      if (value === undefined || isMap(value)) return concept.why(entry);
      return `declares ${name}: ${show(value)}${rank(value) >= 0 ? `, asked for ${text} at most` : ""}`;
    },
  );
}

function compileRange(key: string, name: string, low: number, high: number, partition: Partition, ids: number): Requirement {
  const quantity = name.replace(/^(min|max)_|_(min|max)$/g, "");
  // Bounds by entry id, NaN where undeclared: from `q: n` or `q: {min, max}`, else the first of the separate keys.
  const [min, max] = [new Float64Array(ids).fill(Number.NaN), new Float64Array(ids).fill(Number.NaN)];
  const take = (bounds: Float64Array, criterion: string, read: (value: unknown) => number | undefined) =>
    partition.criteria.get(criterion)?.forEach((value, id) => {
      const found = read(value);
      if (found !== undefined && Number.isNaN(bounds[id])) bounds[id] = found;
    });
  take(min, quantity, (value) => number(value) ?? (isMap(value) ? number(value.min) : undefined));
  take(max, quantity, (value) => number(value) ?? (isMap(value) ? number(value.max) : undefined));
  for (const criterion of [`min_${quantity}`, `${quantity}_min`]) take(min, criterion, number);
  for (const criterion of [`max_${quantity}`, `${quantity}_max`]) take(max, criterion, number);
  const met = (entry: Entry) => {
    const [lo, hi] = [min[entry.id]!, max[entry.id]!];
    return !(Number.isNaN(lo) && Number.isNaN(hi)) && !(lo > low) && !(high > hi);
  };
  const asked = low === high ? String(low) : `${low}–${high}`;
  const why = (entry: Entry) => {
    const [lo, hi] = [min[entry.id]!, max[entry.id]!].map((bound) => (Number.isNaN(bound) ? "…" : String(bound)));
    if (lo === "…" && hi === "…") return `declares no ${quantity} range`;
    return `${quantity} ${lo}–${hi} ${met(entry) ? "allows" : "excludes"} ${asked}`;
  };
  return { key, met, why };
}

/**
 * All `concept` words (or a synonym of each) in one declared item, or in
 * orchestration_logic; a matching item declared false wins. With `tagsOnly`,
 * only a tag counts.
 */
function compileConcept(concept: Token[], partition: Partition, ids: number, logicBits: number, tagsOnly = false): Omit<Requirement, "key"> {
  const words = concept.map((token) => token.word).join(" ");
  const options = concept.map((token) => [token.term, ...(SYNONYMS.has(token.term) ? [SYNONYMS.get(token.term)!] : [])]);
  // Per word, a flag by entry id (see compileRequirement).
  const flags = (index: Map<string, PostingList>, bits: number) =>
    options.map((alternatives) => {
      const marked = new Uint8Array(ids);
      for (const term of alternatives) index.get(term)?.forEach((value, id) => (marked[id]! |= (value & bits) === 0 ? 0 : 1));
      return marked;
    });
  // Built on first use: a requirement settled by a declared criterion never needs them.
  let declaredIn: Uint8Array[] | undefined;
  let logic: Uint8Array[] | undefined;
  const indexed = (marks: Uint8Array[], id: number) => {
    for (const marked of marks) if (marked[id] === 0) return false;
    return true;
  };
  const covers = (terms: readonly string[]) => {
    for (const alternatives of options) {
      let found = false;
      for (const term of alternatives) found ||= terms.includes(term);
      if (!found) return false;
    }
    return true;
  };
  const locate = (entry: Entry): Declared | undefined => {
    if (concept.length === 0) return undefined;
    if (indexed((declaredIn ??= flags(partition.declaredIn, 1)), entry.id)) {
      for (const item of entry.declared) if ((!tagsOnly || item.tag) && covers(item.terms)) return item;
    }
    return !tagsOnly && indexed((logic ??= flags(partition.postings, logicBits)), entry.id) ? IN_LOGIC : undefined;
  };
  return {
    met: (entry) => locate(entry)?.negative === false,
    why: (entry) => {
      const found = locate(entry);
      if (concept.length === 0) return "the requirement has no word to look for";
      if (found === undefined) return `no tag, capability, criterion, mixin, variable or orchestration_logic mentions ${words}`;
      if (found === IN_LOGIC) return `orchestration_logic mentions ${words}`;
      return found.negative ? `declares ${found.label}` : found.label;
    },
  };
}

function conceptOf(key: string): Token[] {
  const tokens = analyze(key);
  const specific = tokens.filter((token) => !GENERIC.has(token.term));
  return specific.length > 0 ? specific : tokens;
}

export function declaredItems(data: Record<string, unknown>): Declared[] {
  const metadata = asMap(data.metadata);
  const items: Declared[] = [];
  const add = (label: string, text: string, negative = false, tag = false) => {
    const terms = [...new Set(tokenize(text))];
    if (terms.length > 0) items.push({ label, terms, negative, tag });
  };
  for (const tag of list(metadata.tags)) add(`tag ${tag}`, tag, false, true);
  for (const capability of list(metadata.capabilities_required)) add(`capability ${capability}`, capability);
  for (const [key, value] of criteriaOf(data)) {
    if (value === null || value === undefined) continue;
    if (truthy(value)) add(`${key}: ${show(value)}`, `${key} ${plainText(value, true)}`);
    else add(`${key}: ${show(value)}`, key, true);
  }
  for (const mixin of list(data.mixins)) add(`mixin ${mixin}`, mixin.split("@")[0]!);
  if (typeof data.extends === "string") add(`extends ${data.extends}`, data.extends.split("@")[0]!);
  for (const variable of Object.keys(asMap(data.variables))) add(`variable ${variable}`, variable);
  return [...items.filter((item) => item.negative), ...items.filter((item) => !item.negative)];
}

const LISTED = new Set(["tags", "use_cases", "example_tasks", "capabilities_required", "selection_criteria"]);

/** selection_criteria over the other metadata keys: where requirements look a key up. */
export function criteriaOf(data: Record<string, unknown>): Map<string, unknown> {
  const metadata = asMap(data.metadata);
  const criteria = new Map<string, unknown>();
  for (const [key, value] of Object.entries(metadata)) if (!LISTED.has(key)) criteria.set(normalKey(key), value);
  for (const [key, value] of Object.entries(asMap(metadata.selection_criteria))) criteria.set(normalKey(key), value);
  return criteria;
}

function truthy(value: unknown): boolean {
  if (typeof value === "string") return !/^(|no|none|false|off|0)$/i.test(value.trim());
  if (Array.isArray(value)) return value.length > 0;
  return value !== false && value !== 0 && value !== null && value !== undefined;
}

function normalKey(key: string): string {
  return key.trim().toLowerCase().replace(/[\s-]+/g, "_");
}

function number(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function list(value: unknown): string[] {
  if (typeof value === "string") return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

function show(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(show).join(", ");
  return JSON.stringify(value) ?? String(value);
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asMap(value: unknown): Record<string, unknown> {
  return isMap(value) ? value : {};
}
