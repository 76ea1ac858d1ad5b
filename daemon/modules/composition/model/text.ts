/**
 * Words for ranking (SPEC §4.5 select): which text of a pattern is
 * searched and how much each field counts (FIELDS below), and how text
 * becomes comparable terms (pure).
 *
 * A task and a pattern rarely use the same word form ("evaluate 15 prompts
 * competitively" against "evaluation", "pick the best of many prompts",
 * "competition"), so both sides go through the same steps: split on
 * anything that is not a letter or digit and at camelCase humps (so
 * snake_case, kebab-case and `round_timeout_s` become words), lower-case,
 * drop English stop words and single letters, then fold each word to a stem.
 * Numbers and letter-digit mixes (`15`, `log2`) are kept as they are. The
 * stop words include negations ("no", "without"): a bag of words cannot use
 * them anyway, and a task says "no ground truth" through requirements.
 *
 * The stemmer is our own suffix stripper, in three steps: inflection
 * (plural, -ing, -ed, -ly), then up to two derivational suffixes (-ation,
 * -ition, -itive, -ive, -ate, -ator, -er, -ion, -ment, ...) each leaving at
 * least four letters, then tidying (a final -e, a doubled last consonant). So
 * compete / competing / competitive / competitively / competition /
 * competitor all become "compet", and evaluate / evaluating / evaluation /
 * evaluator "evalu". Porter and Snowball, the usual choices, stop at
 * "competit" for competitive and competition but give "compet" for compete,
 * so the words a task most often varies on would not meet; a dependency
 * that still needs a fix-up layer is not worth ~60 lines. Like every
 * stripper it conflates a few unrelated words (position / positive,
 * important / import), misses irregular ones (use / used) and keeps British
 * and American spellings apart (localise / localize); ranking tolerates
 * that, and stems are never shown to people.
 */

const STOP_WORDS = new Set(
  (
    "a about above across after again against all almost also am among an and any anyone anything are around as at be because been " +
    "before being below between both but by can cannot cant could did didnt do does doesnt doing done dont down during each eg either " +
    "else etc even ever every few for from further get gets got had has have having he her here hers herself him himself his how however " +
    "i ie if in into is isnt it its itself just least less let lets like may me might more most much must my myself neither no nor not " +
    "nothing now of off often on once one only onto or other others otherwise our ours ourselves out over own per please rather really " +
    "same shall she should since so some someone something somehow such than that thats the their theirs them themselves then there " +
    "these they this those though through thus to too under until up upon us very via want wants was we well were what whatever when " +
    "where whether which while who whom whose why will with within without would yet you your yours yourself yourselves"
  ).split(" "),
);

/** Singulars that end like plurals. */
const INVARIANT = new Set(["bias", "alias", "atlas", "canvas", "chaos", "lens", "news", "series", "species", "always", "perhaps"]);

/**
 * Suffix → replacement, longest first so -ation wins over -ion. One applies
 * only when at least four letters stay before it. -ize / -ise are not
 * stripped (supervise must stay with supervision), so -ization keeps its -iz.
 */
const DERIVATIONAL: ReadonlyArray<readonly [string, string]> = [
  ["ization", "iz"], ["isation", "is"], ["ability", ""], ["ibility", ""], ["ational", ""], ["itional", ""], ["ation", ""],
  ["ition", ""], ["itive", ""], ["ative", ""], ["ional", ""], ["ment", ""], ["ness", ""], ["able", ""], ["ible", ""],
  ["ator", ""], ["itor", ""], ["ance", ""], ["ence", ""], ["ison", ""], ["ive", ""], ["ate", ""], ["ity", ""], ["ion", ""],
  ["ist", ""], ["ism", ""], ["ant", ""], ["ent", ""], ["er", ""], ["or", ""],
];

export interface Token {
  /** The word as written, lower-cased. */
  word: string;
  /** What ranking compares. */
  term: string;
}

/** Terms of `text` in order, repeats kept (term frequency matters). */
export function tokenize(text: string): string[] {
  return words(text).map(cachedStem);
}

/** Like tokenize, keeping each term's written word for explanations. */
export function analyze(text: string): Token[] {
  return words(text).map((word) => ({ word, term: cachedStem(word) }));
}

/**
 * Every word of `text` in order, stop words included, each with its stem:
 * what phrases are matched on ("on the same page", "most voters" are
 * phrases by their stop words as much as by the rest).
 */
export function phraseTokens(text: string): Token[] {
  return words(text, true).map((word) => ({ word, term: cachedStem(word) }));
}

const enum Kind {
  Other,
  Lower,
  Upper,
  Digit,
}

/**
 * Lower-cased words without single letters, and without stop words unless
 * asked to keep them. A hand-written
 * scanner: a library of 10 000 patterns is ~30 MB of text, and a chain of
 * regular-expression passes took five times as long.
 */
function words(text: string, keepStopWords = false): string[] {
  const out: string[] = [];
  let word = "";
  let start = -1;
  const end = (at: number) => {
    if (start !== -1) word += text.slice(start, at);
    start = -1;
    if (word !== "") {
      const lower = word.toLowerCase();
      if ((keepStopWords || !STOP_WORDS.has(lower)) && !(lower.length === 1 && kindOf(lower.charCodeAt(0)) !== Kind.Digit)) out.push(lower);
    }
    word = "";
  };
  for (let i = 0; i < text.length; i++) {
    const kind = kindOf(text.charCodeAt(i));
    if (kind === Kind.Other) {
      const code = text.charCodeAt(i);
      const inWord = start !== -1 && isLetter(text.charCodeAt(i + 1));
      if (inWord && (code === 0x27 || code === 0x2019)) {
        // agent's → agents, don't → dont: the apostrophe is not a break.
        word += text.slice(start, i);
        start = i + 1;
        i++;
      } else if (inWord && code === 0x2f && i - start === 1 && word === "" && kindOf(text.charCodeAt(i + 2)) === Kind.Other) {
        // "A/B", "I/O": one word, not two dropped letters.
        word = text.slice(start, i);
        start = i + 1;
        i++;
      } else {
        end(i);
      }
      continue;
    }
    if (start === -1) {
      start = i;
    } else if (kind === Kind.Upper) {
      // camelCase and HTTPServer humps start a new word.
      const previous = kindOf(text.charCodeAt(i - 1));
      const next = kindOf(text.charCodeAt(i + 1));
      if (previous === Kind.Lower || previous === Kind.Digit || (previous === Kind.Upper && next === Kind.Lower)) {
        end(i);
        start = i;
      }
    }
  }
  end(text.length);
  return out;
}

function kindOf(code: number): Kind {
  if (code >= 97 && code <= 122) return Kind.Lower;
  if (code >= 65 && code <= 90) return Kind.Upper;
  if (code >= 48 && code <= 57) return Kind.Digit;
  if (code < 128 || Number.isNaN(code)) return Kind.Other;
  const char = String.fromCharCode(code);
  if (!/[\p{L}\p{N}\p{M}]/u.test(char)) return Kind.Other;
  if (/\p{N}/u.test(char)) return Kind.Digit;
  return char !== char.toLowerCase() ? Kind.Upper : Kind.Lower;
}

function isLetter(code: number): boolean {
  const kind = kindOf(code);
  return kind === Kind.Lower || kind === Kind.Upper;
}

/**
 * A library's vocabulary is small (a few thousand words), so stems are
 * remembered; the cache is bounded so odd input cannot grow it forever.
 */
const STEMS = new Map<string, string>();
const STEM_CACHE_LIMIT = 50_000;

function cachedStem(word: string): string {
  let stemmed = STEMS.get(word);
  if (stemmed === undefined) {
    if (STEMS.size >= STEM_CACHE_LIMIT) STEMS.clear();
    stemmed = stem(word);
    STEMS.set(word, stemmed);
  }
  return stemmed;
}

/** The stem of one lower-case word; words of three letters or fewer and anything not plain a-z are returned as they are. */
export function stem(word: string): string {
  if (word.length <= 3 || INVARIANT.has(word) || !/^[a-z]+$/.test(word)) return word;
  const inflected = inflection(word);
  // Twice, for stacked suffixes: effectiveness → effective → effect.
  const derived = derivation(derivation(inflected));
  return tidy(derived, derived !== word);
}

function inflection(word: string): string {
  let w = word;
  if (w.endsWith("ies") && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith("s") && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);

  if (w.endsWith("ing") && hasVowel(w.slice(0, -3)) && w.length > 5) return restoreE(w.slice(0, -3));
  if (w.endsWith("ied") && w.length > 4) return `${w.slice(0, -3)}y`;
  // "-eed" is mostly part of the word (need, speed, proceed).
  if (w.endsWith("ed") && !w.endsWith("eed") && hasVowel(w.slice(0, -2)) && w.length > 4) return restoreE(w.slice(0, -2));
  if (w.endsWith("ily") && w.length > 5) return `${w.slice(0, -3)}y`;
  if (/[ai]bly$/.test(w)) return `${w.slice(0, -1)}e`;
  // apply, reply, supply are not adverbs.
  if (w.endsWith("ly") && !w.endsWith("ply") && w.length > 5) return w.slice(0, -2);
  return w;
}

/** evaluat(ing) → evaluate, enabl(ed) → enable, summariz(ing) → summarize: the form the derivational step expects. */
function restoreE(stemmed: string): string {
  return /(at|bl|iz|is)$/.test(stemmed) ? `${stemmed}e` : stemmed;
}

function derivation(word: string): string {
  for (const [suffix, replacement] of DERIVATIONAL) {
    if (word.endsWith(suffix) && word.length - suffix.length >= 4) return word.slice(0, -suffix.length) + replacement;
  }
  return word;
}

function tidy(word: string, stripped: boolean): string {
  if (word.endsWith("e") && word.length > 3) return word.slice(0, -1);
  // plann(er|ing) → plan; but pass, call, buzz keep their pair.
  if (stripped && /([b-df-hj-kmnp-rtv-y])\1$/.test(word)) return word.slice(0, -1);
  return word;
}

function hasVowel(text: string): boolean {
  return /[aeiouy]/.test(text);
}

// ---------------------------------------------------------------- the searched fields of a pattern

export interface Field {
  label: string;
  weight: number;
  /** BM25 length normalisation, 0..1. */
  b: number;
}

/**
 * What select searches, weighted by how deliberately a word there says what
 * the pattern is for: tags are keywords chosen to be searched; a name is a
 * few hand-picked words (a little below tags: names are compounds and
 * sometimes whimsical); use cases are written as tasks, the phrasing
 * closest to a query, and example tasks are how people ask for the pattern
 * in their own words (a little below use cases: they are deliberately
 * everyday, so their words are less specific); the description is prose with incidental words;
 * selection criteria and the logic summary describe mechanics more than
 * purpose; learnings say how it behaves; the strategy is long pseudo-code,
 * so a word there breaks ties and no more. `b` is light for short curated
 * fields (a pattern with more tags is not less about each) and the usual
 * 0.75 for prose. Capabilities are not searched: they say what a pattern
 * needs from the daemon, not what it is for (requirements read them).
 */
export const FIELDS: readonly Field[] = [
  { label: "name", weight: 2.5, b: 0.3 },
  { label: "tags", weight: 3, b: 0.3 },
  { label: "use_cases", weight: 2, b: 0.5 },
  { label: "example_tasks", weight: 1.5, b: 0.5 },
  { label: "description", weight: 1.5, b: 0.75 },
  { label: "selection_criteria", weight: 1, b: 0.5 },
  { label: "logic", weight: 1, b: 0.75 },
  { label: "learnings", weight: 0.5, b: 0.75 },
  { label: "strategy", weight: 0.3, b: 0.75 },
];

/** The text of each of FIELDS, in order, from a parsed pattern of any shape. */
export function fieldTexts(name: string, data: Record<string, unknown>): string[] {
  const metadata = asMap(data.metadata);
  const logic = asMap(data.orchestration_logic);
  const learnings: unknown[] = Array.isArray(data.learnings) ? (data.learnings as unknown[]).map((item) => (isMap(item) ? item.insight : item)) : [];
  return [
    name,
    plainText(metadata.tags),
    plainText(metadata.use_cases),
    plainText(metadata.example_tasks),
    plainText(data.description),
    plainText(metadata.selection_criteria, true),
    plainText(logic.description),
    plainText(learnings),
    // KSI's orchestration_logic is often a text block (its DSL): that text is the strategy.
    typeof data.orchestration_logic === "string" ? data.orchestration_logic : plainText(logic.strategy),
  ];
}

/** Every string in a value (and with `keys`, every map key), lists and maps flattened; numbers and booleans carry no words worth matching. */
export function plainText(value: unknown, keys = false): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map((item) => plainText(item, keys)).join("\n");
  if (keys && isMap(value)) return Object.entries(value).map(([key, inner]) => `${key} ${plainText(inner, keys)}`).join("\n");
  return "";
}

function asMap(value: unknown): Record<string, unknown> {
  return isMap(value) ? value : {};
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
