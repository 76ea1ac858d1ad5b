/**
 * Everyday phrasings of the orchestration vocabulary (pure): people ask for
 * "knock-out rounds between drafts" or "the answer most voters give" where a
 * pattern says tournament or majority vote. The equivalences are data
 * (compositions/meanings/meanings.yaml, read once by store/meanings-file.ts),
 * each entry a concept in the library's words and the phrases that mean it.
 *
 * A phrase matches a run of the task's words, stop words included, compared
 * by stem (text.ts), so "knocked out", "knock-out" and "knocking out" are one
 * phrase, and "most voters" does not match "most of the voters". What a
 * match adds to a query is the concept's terms, which select weighs below the
 * task's own words (select.ts MEANING_WEIGHT) and names in `reasons`
 * ("'knock-out' ≈ tournament").
 */
import { phraseTokens, tokenize } from "./text.js";

export interface MeaningEntry {
  /** The concept in the library's vocabulary, e.g. "majority vote". */
  concept: string;
  /** Everyday phrasings of it, e.g. "most voters", "popular answer". */
  phrases: string[];
}

/** One phrase of the task that means a concept. */
export interface MeaningMatch {
  /** The task's words that matched, as written (lower-cased). */
  written: string;
  concept: string;
  /** The concept's terms (stems), what the query adds. */
  terms: string[];
}

interface CompiledPhrase {
  stems: string[];
  concept: string;
  terms: string[];
}

export class Meanings {
  /** Phrases by their first stem; longest first, so "head to head" is tried before "head". */
  private readonly byFirst = new Map<string, CompiledPhrase[]>();
  /** What a saved index or a fingerprint can compare: the entries as given. */
  readonly fingerprint: string;

  constructor(entries: readonly MeaningEntry[]) {
    for (const { concept, phrases } of entries) {
      const terms = [...new Set(tokenize(concept))];
      for (const phrase of phrases) {
        const stems = phraseTokens(phrase).map((token) => token.term);
        if (stems.length === 0 || terms.length === 0) continue;
        let list = this.byFirst.get(stems[0]!);
        if (list === undefined) this.byFirst.set(stems[0]!, (list = []));
        list.push({ stems, concept, terms });
      }
    }
    for (const list of this.byFirst.values()) list.sort((a, b) => b.stems.length - a.stems.length);
    this.fingerprint = JSON.stringify(entries);
  }

  static readonly none = new Meanings([]);

  /**
   * The meanings `task` names, in the order they occur; where phrases
   * overlap, the longest from the earliest word wins and the words it took
   * are not matched again. A concept named twice is listed once.
   */
  match(task: string): MeaningMatch[] {
    const tokens = phraseTokens(task);
    const found: MeaningMatch[] = [];
    const concepts = new Set<string>();
    for (let i = 0; i < tokens.length; ) {
      const phrase = this.byFirst.get(tokens[i]!.term)?.find((p) => p.stems.every((stem, k) => tokens[i + k]?.term === stem));
      if (phrase === undefined) {
        i++;
        continue;
      }
      if (!concepts.has(phrase.concept)) {
        concepts.add(phrase.concept);
        const written = tokens.slice(i, i + phrase.stems.length).map((token) => token.word).join(" ");
        found.push({ written, concept: phrase.concept, terms: phrase.terms });
      }
      i += phrase.stems.length;
    }
    return found;
  }
}

/**
 * The entries of a meanings file's parsed YAML: `meanings:` a list of
 * `{concept, phrases}`. Throws naming the first bad item: the file ships
 * with the daemon, so a bad one is a packaging error, not a request's.
 */
export function parseMeanings(data: unknown, source: string): MeaningEntry[] {
  const list = isMap(data) ? data.meanings : undefined;
  if (!Array.isArray(list)) bad(source, "meanings", 'needs a top-level list `meanings:` of {concept: "majority vote", phrases: ["most voters", ...]}');
  return list.map((item: unknown, i) => {
    const concept = isMap(item) ? item.concept : undefined;
    const phrases = isMap(item) ? item.phrases : undefined;
    if (typeof concept !== "string" || tokenize(concept).length === 0) bad(source, `meanings.${i}.concept`, 'needs a concept in the library\'s words, e.g. "majority vote"');
    if (!Array.isArray(phrases) || phrases.length === 0 || !phrases.every((p) => typeof p === "string" && phraseTokens(p).length > 0)) {
      bad(source, `meanings.${i}.phrases`, 'needs a list of everyday phrasings, e.g. ["most voters", "popular answer"]');
    }
    return { concept, phrases: phrases as string[] };
  });
}

function bad(source: string, path: string, message: string): never {
  throw new Error(`${source}: ${path} ${message}`);
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
