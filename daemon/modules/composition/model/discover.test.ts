import { describe, expect, it } from "vitest";
import { DaemonError } from "../../../core/errors.js";
import { compileRule, readPath } from "../../../core/json-logic.js";
import { compileDiscover, discover, discoverQuerySchema, firstInOrder, lookup, searchIndex, type DiscoverEntry, type DiscoverQuery } from "./discover.js";

function entry(data: Record<string, unknown>): DiscoverEntry {
  return { name: data.name as string, type: data.type as string, version: data.version as string, description: data.description as string, data };
}

const tournament = entry({
  name: "tournament",
  type: "orchestration",
  version: "2.0.0",
  description: "Pairwise tournaments judged by LLMs; the winner advances.",
  metadata: {
    tags: ["evaluation", "tournament", "llm-as-judge"],
    use_cases: ["pick the best of many drafts"],
    selection_criteria: { participants: { min: 4, max: 64 }, latency: "medium" },
  },
  performance: { runs: 6, avg_score: 0.78, success_rate: 0.83 },
  created: "2026-03-01",
});
/** Keeps performance in both places: metadata's wins. */
const swiss = entry({
  name: "tournament_swiss",
  type: "orchestration",
  version: "0.1.0",
  description: "Swiss pairing for 5-10 participants.",
  metadata: { tags: ["tournament", "swiss"], performance: { avg_score: 0.65 }, owner: null },
  performance: { avg_score: 0.9, runs: 2 },
  created: "2026-05-20",
});
const debate = entry({
  name: "debate_with_judge",
  type: "orchestration",
  version: "1.2.0",
  description: "Two debaters argue; a judge decides.",
  metadata: { tags: ["debate", "evaluation"], use_cases: ["settle contested claims"], selection_criteria: { latency: "high" } },
  performance: { runs: 40, avg_score: 0.7 },
});
const judge = entry({ name: "judge", type: "profile", version: "1.0.0", description: "Scores answers against a rubric.", components: [{ name: "rubric" }] });
/** Odd values where the others have numbers and lists. */
const odd = entry({
  name: "odd",
  type: "orchestration",
  version: "0.0.1",
  description: "Évaluation über Größe — ünïcode wörds, round_robin.",
  metadata: { tags: "evaluation", use_cases: [42, "  spaced   out  "] },
  performance: { avg_score: "0.95", runs: null },
});
const ALL = [tournament, swiss, debate, judge, odd];

function names(query: DiscoverQuery, entries: readonly DiscoverEntry[] = ALL): string[] {
  return discover(entries, query).compositions.map((c) => c.name as string);
}

function rejection(query: unknown): DaemonError {
  try {
    compileDiscover(query as DiscoverQuery);
  } catch (err) {
    if (err instanceof DaemonError) return err;
    throw err;
  }
  throw new Error("expected the query to be refused");
}

describe("compileDiscover refuses a bad query up front, naming the param path", () => {
  it.each<[string, unknown, string, RegExp]>([
    ["an unknown operator", { metadata_filter: { "performance.avg_score": { "~=": 1 } } }, "metadata_filter.performance.avg_score", /unknown operator "~="/],
    ["an unknown operator next to a good one", { metadata_filter: { runs: { ">": 1, between: [1, 2] } } }, "metadata_filter.runs", /unknown operator "between"/],
    ["an empty condition", { metadata_filter: { runs: {} } }, "metadata_filter.runs", /empty condition/],
    ["a comparison with a list", { metadata_filter: { runs: { ">": [1] } } }, "metadata_filter.runs", /compares with a number or a string, not a list/],
    ["a comparison with null", { metadata_filter: { runs: { "<=": null } } }, "metadata_filter.runs", /not null/],
    ["in without a list", { metadata_filter: { latency: { in: "low" } } }, "metadata_filter.latency", /"in" takes a list/],
    ["exists without a boolean", { metadata_filter: { owner: { exists: "yes" } } }, "metadata_filter.owner", /true or false/],
    ["a filter path reaching a prototype", { metadata_filter: { "__proto__.polluted": 1 } }, "metadata_filter.__proto__.polluted", /prototype/],
    ["a filter path through constructor", { metadata_filter: { "a.constructor.name": "Object" } }, "metadata_filter.a.constructor.name", /prototype/],
    ["a filter path with an empty segment", { metadata_filter: { "performance..runs": 1 } }, "metadata_filter.performance..runs", /empty segment/],
    ["an empty filter path", { metadata_filter: { "": 1 } }, "metadata_filter.", /not empty/],
    ["a filter key that is exactly __proto__", JSON.parse('{"metadata_filter": {"__proto__": {"~=": 1}}}'), "metadata_filter.__proto__", /prototype/],
    ["an operator not allowed in where", { where: { eval: ["x"] } }, "where", /operator "eval" is not allowed/],
    ["a where path reaching a prototype", { where: { var: "__proto__.x" } }, "where.var", /reaches an object's prototype/],
    ["a nested where path through constructor", { where: { and: [true, { var: "constructor.name" }] } }, "where.and.1.var", /prototype/],
    ["a where object with two operators", { where: { "==": [1, 1], "!=": [1, 2] } }, "where", /exactly one operator/],
    // Not a rule: each would match every pattern (or none) without a word.
    [
      "a where given as pat find --where text",
      { where: "performance.avg_score>0.7" },
      "where",
      /not text: write "performance\.avg_score>0\.7" as \{">":\[\{"var":"performance\.avg_score"\},0\.7\]\}; or, to look the path up under metadata and then at the top level, send metadata_filter \{"performance\.avg_score":\{">":0\.7\}\}, as pat find --where 'performance\.avg_score>0\.7' does$/,
    ],
    ["a where given as = text", { where: "tags=tournament" }, "where", /as \{"==":\[\{"var":"tags"\},"tournament"\]\}; .*metadata_filter \{"tags":"tournament"\}/],
    ["a where given as other text", { where: "tournament" }, "where", /such as \{">":\[\{"var":"performance\.avg_score"\},0\.7\]\}; got the text "tournament"$/],
    ["a where given as a number", { where: 1 }, "where", /got the number 1/],
    ["a where given as a list", { where: [{ "==": [1, 1] }] }, "where", /got a list/],
    ["a where given as null", { where: null }, "where", /got null/],
    ["a where with a misspelt operator", { where: { ">": [{ vra: "performance.avg_score" }, 0.7] } }, "where.>.0", /"vra" is not allowed; did you mean "var"/],
    ["a field reaching a prototype", { fields: ["name", "__proto__"] }, "fields.1", /prototype/],
    ["a field with an empty segment", { fields: ["performance."] }, "fields.0", /empty segment/],
    ["an empty field", { fields: [""] }, "fields.0", /not empty/],
    ["a sort with only a minus", { sort: "-" }, "sort", /not empty/],
    ["a descending sort through a prototype", { sort: "-prototype.x" }, "sort", /prototype/],
    ["a sort with an empty segment", { sort: "performance..runs" }, "sort", /empty segment/],
    ["a limit of 0", { limit: 0 }, "limit", /at least 1/],
    ["a limit over 1000", { limit: 1001 }, "limit", /at most 1000/],
    ["a fractional limit", { limit: 2.5 }, "limit", /whole number/],
    ["a negative offset", { offset: -1 }, "offset", /at least 0/],
    ["tags that are not a list", { tags: "tournament" }, "tags", /array/i],
    ["an unknown param", { typ: "orchestration" }, "", /typ/],
  ])("%s", (_label, query, path, message) => {
    const err = rejection(query);
    expect(err.code).toBe("invalid_params");
    const issues = err.details!.issues as { path: string; message: string }[];
    expect(issues[0]).toEqual({ path, message: expect.stringMatching(message) as string });
    expect(err.message).toContain(issues[0]!.message);
    if (path !== "") expect(err.message).toContain(`at "${path}"`);
  });

  it("reports every bad param at once, the first in the message", () => {
    const err = rejection({ limit: 5000, sort: "a..b", metadata_filter: { x: { "~=": 1 } } });
    const issues = err.details!.issues as { path: string }[];
    expect(issues.map((issue) => issue.path).sort()).toEqual(["limit", "metadata_filter.x", "sort"]);
    expect(err.message).toMatch(/\(and 2 more\)$/);
  });

  it("the schema alone (what the router runs) refuses the same queries", () => {
    const result = discoverQuerySchema.safeParse({ metadata_filter: { "performance.avg_score": { "~=": 1 } } });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.path).toEqual(["metadata_filter", "performance.avg_score"]);
  });

  it("fills in the defaults", () => {
    expect(discoverQuerySchema.parse({})).toEqual({ limit: 50, offset: 0 });
    expect(compileDiscover({})).toMatchObject({ limit: 50, offset: 0 });
  });
});

describe("discover: type, tags and text", () => {
  it.each<[string, DiscoverQuery, string[]]>([
    ["everything, by name", {}, ["debate_with_judge", "judge", "odd", "tournament", "tournament_swiss"]],
    ["a type", { type: "profile" }, ["judge"]],
    ["an unknown type", { type: "nope" }, []],
    ["one tag", { tags: ["tournament"] }, ["tournament", "tournament_swiss"]],
    ["all tags must be present", { tags: ["tournament", "evaluation"] }, ["tournament"]],
    // odd keeps a string where tags are a list: not a list, so no tag is in it.
    ["tags are a list to be in", { tags: ["evaluation"] }, ["debate_with_judge", "tournament"]],
    ["tags match exactly", { tags: ["Tournament"] }, []],
    ["no tags is no constraint", { tags: [] }, ["debate_with_judge", "judge", "odd", "tournament", "tournament_swiss"]],
    ["a word of the name", { text: "swiss" }, ["tournament_swiss"]],
    ["a word begins a longer one", { text: "tournament" }, ["tournament", "tournament_swiss"]],
    ["the start of a word in the description", { text: "pair" }, ["tournament", "tournament_swiss"]],
    ["not the middle of a word", { text: "ournament" }, []],
    ["any case", { text: "DEBATERS Argue" }, ["debate_with_judge"]],
    ["every word must match", { text: "judge swiss" }, []],
    ["words of a tag split on punctuation", { text: "as-judge" }, ["tournament"]],
    ["a use case", { text: "contested" }, ["debate_with_judge"]],
    ["a name split on _", { text: "robin" }, ["odd"]],
    ["letters beyond ASCII, any case", { text: "ÜBER grö" }, ["odd"]],
    ["a word after a non-ASCII letter is inside a word", { text: "rde" }, []],
    ["only string use cases count", { text: "42 spaced" }, []],
    ["words do not run across fields", { text: "judgescores" }, []],
    ["punctuation alone is no constraint", { text: " -- ", type: "profile" }, ["judge"]],
    ["text and type together", { text: "judge", type: "profile" }, ["judge"]],
    ["the second word only where the first is missing", { text: "swiss debaters" }, []],
    ["a word's start at a line's start in the joined index", { text: "tournament swiss" }, ["tournament_swiss"]],
  ])("%s (searching each document, and the caller's search index)", (_label, query, expected) => {
    expect(names(query)).toEqual(expected);
    const columns = {
      of: (segments: readonly string[]) => ALL.map((e) => lookup(e.data, segments)),
      exact: (segments: readonly string[]) => ALL.map((e) => readPath(e.data, segments)),
      texts: () => searchIndex(ALL),
    };
    expect(discover(ALL, query, columns).compositions.map((c) => c.name)).toEqual(expected);
  });

  it("searches a pattern's new text once the index replaced its data", () => {
    const before = entry({ name: "p", type: "orchestration", version: "1.0.0", description: "alpha" });
    expect(names({ text: "alpha" }, [before])).toEqual(["p"]);
    const after = entry({ name: "p", type: "orchestration", version: "1.0.1", description: "beta" });
    expect(names({ text: "alpha" }, [after])).toEqual([]);
    expect(names({ text: "beta" }, [after])).toEqual(["p"]);
  });
});

describe("discover: metadata_filter", () => {
  it.each<[string, NonNullable<DiscoverQuery["metadata_filter"]>, string[]]>([
    ["the seed example", { "tags": ["tournament"], "performance.avg_score": { ">": 0.7 } }, ["tournament"]],
    ["a scalar is equality", { "selection_criteria.latency": "high" }, ["debate_with_judge"]],
    ["a number is equality", { "selection_criteria.participants.min": 4 }, ["tournament"]],
    ["a scalar is membership in a list field", { tags: "swiss" }, ["tournament_swiss"]],
    ["a list must be contained whole", { tags: ["swiss", "tournament"] }, ["tournament_swiss"]],
    ["a list never matches a scalar field", { tags: ["evaluation"] }, ["debate_with_judge", "tournament"]],
    ["an empty list matches any list field", { tags: [] }, ["debate_with_judge", "tournament", "tournament_swiss"]],
    ["equality is strict: a string is not a number", { "performance.avg_score": 0.95 }, []],
    ["null is a value", { owner: null }, ["tournament_swiss"]],
    ["a map equals with ==", { "selection_criteria.participants": { "==": { min: 4, max: 64 } } }, ["tournament"]],
    [">", { "performance.avg_score": { ">": 0.7 } }, ["tournament"]],
    [">=", { "performance.avg_score": { ">=": 0.7 } }, ["debate_with_judge", "tournament"]],
    ["<", { "performance.avg_score": { "<": 0.7 } }, ["tournament_swiss"]],
    ["<=", { "performance.avg_score": { "<=": 0.7 } }, ["debate_with_judge", "tournament_swiss"]],
    ["a range in one object", { "performance.runs": { ">=": 5, "<": 40 } }, ["tournament"]],
    ["strings compare with strings (ISO dates)", { created: { ">=": "2026-04-01" } }, ["tournament_swiss"]],
    ["a string never compares with a number", { "performance.avg_score": { ">": "0.5" } }, ["odd"]],
    ["==", { "performance.runs": { "==": 40 } }, ["debate_with_judge"]],
    ["!= holds only for present values", { "performance.runs": { "!=": 40 } }, ["odd", "tournament", "tournament_swiss"]],
    ["in, on a scalar field", { "selection_criteria.latency": { in: ["low", "medium"] } }, ["tournament"]],
    ["in, on a list field: any item", { tags: { in: ["swiss", "debate"] } }, ["debate_with_judge", "tournament_swiss"]],
    ["contains, on a list", { tags: { contains: "llm-as-judge" } }, ["tournament"]],
    ["contains, on a string", { description: { contains: "judge" } }, ["debate_with_judge", "tournament"]],
    ["contains is case-sensitive", { description: { contains: "Judge" } }, []],
    ["contains, on a number", { "performance.runs": { contains: 4 } }, []],
    ["exists", { "selection_criteria.latency": { exists: true } }, ["debate_with_judge", "tournament"]],
    ["exists: false", { "performance.avg_score": { exists: false } }, ["judge"]],
    ["a null value exists", { "performance.runs": { exists: true } }, ["debate_with_judge", "odd", "tournament", "tournament_swiss"]],
    ["metadata wins over the top level", { "performance.avg_score": { ">": 0.8 } }, []],
    ["the top level when metadata lacks the path", { "performance.runs": { "<": 5 } }, ["tournament_swiss"]],
    ["a path through metadata by name", { "metadata.tags": { contains: "swiss" } }, ["tournament_swiss"]],
    ["top-level fields", { name: { in: ["judge", "odd"] } }, ["judge", "odd"]],
    ["a list is not addressed by position", { "components.0.name": "rubric" }, []],
    ["inherited properties are not fields", { toString: { exists: true } }, []],
    ["... nor through a value", { "tags.length": 3 }, []],
    ["comparisons with missing values are false", { "no.such.path": { ">": 0, "<": 0 } }, []],
    ["several filters all hold", { tags: "evaluation", "performance.runs": { ">": 10 } }, ["debate_with_judge"]],
  ])("%s", (_label, filter, expected) => {
    expect(names({ metadata_filter: filter })).toEqual(expected);
  });

  it("the seed query, type included", () => {
    expect(names({ type: "orchestration", metadata_filter: { tags: ["tournament"], "performance.avg_score": { ">": 0.7 } } })).toEqual(["tournament"]);
  });
});

describe("discover: where", () => {
  it.each<[string, unknown, string[]]>([
    ["sees the whole document", { "==": [{ var: "name" }, "judge"] }, ["judge"]],
    // JSON Logic's own comparison: odd's "0.95" is compared as a number.
    ["reads either place exactly", { ">": [{ var: "performance.avg_score" }, 0.8] }, ["odd", "tournament_swiss"]],
    ["reads metadata by its own path", { "==": [{ var: "metadata.performance.avg_score" }, 0.65] }, ["tournament_swiss"]],
    ["reads list items", { "==": [{ var: "components.0.name" }, "rubric"] }, ["judge"]],
    ["JSON Logic truthiness: an empty list is false", { var: "metadata.use_cases" }, ["debate_with_judge", "odd", "tournament"]],
    ["in over a list", { in: ["swiss", { var: "metadata.tags" }] }, ["tournament_swiss"]],
    // A path computed at run time that reaches a prototype fails; failing is false, never a throw.
    ["a rule failing at run time matches nothing", { var: { cat: ["__pro", "to__"] } }, []],
  ])("%s", (_label, where, expected) => {
    expect(names({ where })).toEqual(expected);
  });

  it("runs with the other filters", () => {
    expect(names({ type: "orchestration", tags: ["evaluation"], where: { ">": [{ var: "performance.runs" }, 10] } })).toEqual(["debate_with_judge"]);
  });
});

describe("discover: sort and paging", () => {
  it.each<[string, DiscoverQuery, string[]]>([
    ["by name by default", {}, ["debate_with_judge", "judge", "odd", "tournament", "tournament_swiss"]],
    // odd's avg_score is a string: numbers first, then strings; judge has none: last.
    ["ascending", { sort: "performance.avg_score" }, ["tournament_swiss", "debate_with_judge", "tournament", "odd", "judge"]],
    ["descending; missing still last", { sort: "-performance.avg_score" }, ["odd", "tournament", "debate_with_judge", "tournament_swiss", "judge"]],
    ["null sorts as missing; ties by name", { sort: "performance.runs" }, ["tournament_swiss", "tournament", "debate_with_judge", "judge", "odd"]],
    ["descending ties still by name", { sort: "-type" }, ["judge", "debate_with_judge", "odd", "tournament", "tournament_swiss"]],
    ["a string path", { sort: "-created" }, ["tournament_swiss", "tournament", "debate_with_judge", "judge", "odd"]],
    ["strings before lists; lists tie, then by name", { sort: "tags" }, ["odd", "debate_with_judge", "tournament", "tournament_swiss", "judge"]],
    ["limit", { limit: 2 }, ["debate_with_judge", "judge"]],
    ["offset", { offset: 3, limit: 1 }, ["tournament"]],
    ["offset and limit with a sort", { sort: "-performance.avg_score", offset: 1, limit: 2 }, ["tournament", "debate_with_judge"]],
    ["offset past the end", { offset: 10 }, []],
  ])("%s", (_label, query, expected) => {
    expect(names(query)).toEqual(expected);
  });

  it("total counts the matches before paging", () => {
    expect(discover(ALL, { type: "orchestration", limit: 1, offset: 1 })).toMatchObject({ total: 4, compositions: [{ name: "odd" }] });
    expect(discover(ALL, { offset: 50 }).total).toBe(5);
  });

  it("pages agree with one full ordering", () => {
    const many = Array.from({ length: 300 }, (_, i) =>
      entry({ name: `p${String((i * 7919) % 300).padStart(3, "0")}`, type: "orchestration", version: "1.0.0", description: "x", performance: { runs: i % 13 } }),
    );
    const full = names({ sort: "-performance.runs", limit: 300 }, many);
    const paged = [0, 1, 2, 3, 4, 5].flatMap((page) => names({ sort: "-performance.runs", limit: 50, offset: page * 50 }, many));
    expect(paged).toEqual(full);
    const runs = (e: DiscoverEntry) => (e.data.performance as { runs: number }).runs;
    const expected = [...many].sort((a, b) => runs(b) - runs(a) || (a.name < b.name ? -1 : 1)).map((e) => e.name);
    expect(full).toEqual(expected);
  });
});

describe("discover: projection", () => {
  it("by default: name, type, version, description and tags ([] when none)", () => {
    expect(discover([tournament, judge], {}).compositions).toEqual([
      { name: "judge", type: "profile", version: "1.0.0", description: "Scores answers against a rubric.", tags: [] },
      { name: "tournament", type: "orchestration", version: "2.0.0", description: tournament.description, tags: ["evaluation", "tournament", "llm-as-judge"] },
    ]);
  });

  it("fields nest as written, wherever the value is kept; name, type and version always come", () => {
    expect(discover([swiss], { fields: ["performance.avg_score", "performance.runs", "tags", "metadata.owner"] }).compositions).toEqual([
      { name: "tournament_swiss", type: "orchestration", version: "0.1.0", performance: { avg_score: 0.65, runs: 2 }, tags: ["tournament", "swiss"], metadata: { owner: null } },
    ]);
  });

  it("leaves out missing paths, paths under another asked-for path, and the identity fields", () => {
    const [result] = discover([tournament], { fields: ["performance.runs", "performance", "nope.x", "name", "version.major", "performance"] }).compositions;
    expect(result).toEqual({ name: "tournament", type: "orchestration", version: "2.0.0", performance: { runs: 6, avg_score: 0.78, success_rate: 0.83 } });
    expect(Object.keys(result!)).toEqual(["name", "type", "version", "performance"]);
  });

  it("never writes into the documents", () => {
    const frozen = entry(deepFreeze({ name: "f", type: "orchestration", version: "1.0.0", description: "d", metadata: { a: { b: 1, c: 2 } } }));
    expect(discover([frozen], { fields: ["a.b", "a.c", "a"] }).compositions).toEqual([{ name: "f", type: "orchestration", version: "1.0.0", a: { b: 1, c: 2 } }]);
    expect(discover([frozen], { fields: ["a.b", "a.c"], sort: "-a.b", text: "d", where: { var: "metadata.a" } }).compositions).toEqual([
      { name: "f", type: "orchestration", version: "1.0.0", a: { b: 1, c: 2 } },
    ]);
  });
});

describe("discover with columns (a caller's kept path values)", () => {
  const queries: DiscoverQuery[] = [
    { tags: ["tournament"] },
    { metadata_filter: { "performance.avg_score": { ">": 0.7 }, tags: "ranking" } },
    { type: "orchestration", metadata_filter: { "selection_criteria.participants.max": { ">=": 10 } } },
    { metadata_filter: { nope: { exists: false } }, tags: [] },
  ];

  it.each(queries.map((q) => [JSON.stringify(q), q] as const))("%s: the same answer as reading the documents", (_, query) => {
    const asked: string[] = [];
    const columns = {
      of: (segments: readonly string[]) => {
        asked.push(segments.join("."));
        return ALL.map((e) => lookup(e.data, segments));
      },
      exact: () => {
        throw new Error("no where in these queries");
      },
      texts: () => searchIndex(ALL),
    };
    expect(discover(ALL, query, columns)).toEqual(discover(ALL, query));
    expect(asked.length).toBe((query.tags?.length ?? 0) > 0 ? 1 + Object.keys(query.metadata_filter ?? {}).length : Object.keys(query.metadata_filter ?? {}).length);
  });

  it("reads a value from its column by position, not from the document", () => {
    const column = ALL.map((e) => (e === swiss ? ["planted"] : []));
    expect(discover(ALL, { tags: ["planted"] }, { of: () => column, exact: () => [], texts: () => searchIndex(ALL) }).compositions.map((c) => c.name)).toEqual(["tournament_swiss"]);
  });

  const exactColumns = (asked: string[]) => ({
    of: (segments: readonly string[]) => ALL.map((e) => lookup(e.data, segments)),
    texts: () => searchIndex(ALL),
    exact: (segments: readonly string[]) => {
      asked.push(segments.join("."));
      return ALL.map((e) => readPath(e.data, segments));
    },
  });

  it.each<[string, unknown]>([
    ["a number", { ">": [{ var: "performance.avg_score" }, 0.8] }],
    ["a path read twice and another", { and: [{ "<": [0.5, { var: "performance.avg_score" }, 0.99] }, { "!": { var: "metadata.nope" } }] }],
    ["a default where the path is missing", { "==": [{ var: ["metadata.stage", "none"] }, "none"] }],
    ["a default where an intermediate is missing", { "==": [{ var: ["x.y.z", 7] }, 7] }],
    ["into a list and a string", { or: [{ "==": [{ var: "components.0.name" }, "rubric"] }, { ">": [{ var: "name.length" }, 15] }] }],
    ["membership", { in: ["swiss", { var: "metadata.tags" }] }],
    ["truthiness of a list", { var: "metadata.use_cases" }],
  ])("where over exact columns (%s) gives what the engine gives over whole documents", (_, rule) => {
    const asked: string[] = [];
    const holds = compileRule(rule);
    const expected = ALL.filter((e) => holds(e.data))
      .map((e) => e.name)
      .sort();
    expect(discover(ALL, { where: rule }, exactColumns(asked)).compositions.map((c) => c.name)).toEqual(expected);
    expect(asked.length).toBeGreaterThan(0);
  });

  it("a where that iterates, or computes a path, reads the documents themselves", () => {
    const asked: string[] = [];
    const rule: unknown = { some: [{ var: "components" }, { "==": [{ var: "name" }, "rubric"] }] };
    expect(discover(ALL, { where: rule }, exactColumns(asked)).compositions.map((c) => c.name)).toEqual(["judge"]);
    expect(asked).toEqual([]);
  });
});

describe("firstInOrder", () => {
  const byValue = (a: number, b: number) => a - b;

  it.each([0, 1, 2, 7, 50, 99, 100, 150])("the first %i of 100 numbers in any order", (count) => {
    for (let seed = 1; seed <= 5; seed++) {
      const items = Array.from({ length: 100 }, (_, i) => (i * 37 * seed + 11) % 101);
      expect(firstInOrder(items, count, byValue)).toEqual([...items].sort(byValue).slice(0, count));
    }
  });

  it("items already in order and in reverse order", () => {
    const up = Array.from({ length: 1000 }, (_, i) => i);
    expect(firstInOrder(up, 10, byValue)).toEqual(up.slice(0, 10));
    expect(firstInOrder([...up].reverse(), 10, byValue)).toEqual(up.slice(0, 10));
  });

  it("does not reorder its input", () => {
    const items = [3, 1, 2];
    firstInOrder(items, 3, byValue);
    firstInOrder(items, 2, byValue);
    expect(items).toEqual([3, 1, 2]);
  });
});

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
