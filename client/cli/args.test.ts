/**
 * splitArgv and applyPairs: what `pat` makes of its command line. The
 * schemas are produced by zod's own toJSONSchema, exactly as the daemon's
 * system:help returns them, plus a hand-written anyOf.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ruleParam } from "../../daemon/core/rule-param.js";
import { addComparison, applyPairs, parseAssignment, parseComparison, refuseUnknownKeys, splitArgv, unknownOption, UsageError, type Argv } from "./args.js";

// ------------------------------------------------------------------ splitArgv

describe("splitArgv", () => {
  const cases: { name: string; argv: string[]; expected: Partial<Argv> & { globals?: Partial<Argv["globals"]> } }[] = [
    {
      name: "globals after the verb",
      argv: ["send", "system:health", "--home", "/h", "--json"],
      expected: { globals: { home: "/h", output: "json", help: false }, positionals: ["send", "system:health"], pairs: [] },
    },
    {
      name: "globals before the verb, --key=value form",
      argv: ["--home=/h", "--agent-id", "orch_1", "--socket=/s.sock", "status"],
      expected: { globals: { home: "/h", agentId: "orch_1", socket: "/s.sock", help: false }, positionals: ["status"], pairs: [] },
    },
    {
      name: "globals between pairs do not end the pairs",
      argv: ["send", "monitor:get_events", "--limit", "2", "--json", "--patterns", "system:*", "--home", "/h"],
      expected: {
        globals: { home: "/h", output: "json", help: false },
        positionals: ["send", "monitor:get_events"],
        pairs: [
          { key: "limit", value: "2" },
          { key: "patterns", value: "system:*" },
        ],
      },
    },
    {
      name: "a bare --flag before another option is true",
      argv: ["send", "x", "--dry-run", "--limit=5"],
      expected: {
        positionals: ["send", "x"],
        pairs: [
          { key: "dry-run", value: true },
          { key: "limit", value: "5" },
        ],
      },
    },
    {
      name: "a bare --flag at the end is true",
      argv: ["send", "x", "--verbose"],
      expected: { positionals: ["send", "x"], pairs: [{ key: "verbose", value: true }] },
    },
    {
      name: "only the first = splits an inline value; an inline value may start with --",
      argv: ["send", "x", "--expr=a=b", "--raw=--not-a-flag", "--empty="],
      expected: {
        pairs: [
          { key: "expr", value: "a=b" },
          { key: "raw", value: "--not-a-flag" },
          { key: "empty", value: "" },
        ],
      },
    },
    {
      name: "values starting with a single dash are values (negative numbers, - for stdin)",
      argv: ["send", "x", "--delay", "-1", "--from-file", "-"],
      expected: {
        positionals: ["send", "x"],
        pairs: [
          { key: "delay", value: "-1" },
          { key: "from-file", value: "-" },
        ],
      },
    },
    {
      name: "the JSON data argument stays positional",
      argv: ["send", "monitor:get_events", '{"limit": 1}', "--limit", "3"],
      expected: { positionals: ["send", "monitor:get_events", '{"limit": 1}'], pairs: [{ key: "limit", value: "3" }] },
    },
    {
      name: "-- ends options: everything after is positional, globals included",
      argv: ["send", "x", "--limit", "1", "--", "--json", "--home", "-h"],
      expected: {
        globals: { help: false },
        positionals: ["send", "x", "--json", "--home", "-h"],
        pairs: [{ key: "limit", value: "1" }],
      },
    },
    { name: "-h alone asks for help", argv: ["-h"], expected: { globals: { help: true }, positionals: [] } },
    { name: "-h after a verb asks for help", argv: ["send", "-h"], expected: { globals: { help: true }, positionals: ["send"] } },
    { name: "--help asks for help", argv: ["watch", "--help"], expected: { globals: { help: true }, positionals: ["watch"] } },
    { name: "a repeated global: the last one wins", argv: ["--home", "/a", "status", "--home", "/b"], expected: { globals: { home: "/b", help: false } } },
    { name: "nothing at all", argv: [], expected: { globals: { help: false }, positionals: [], pairs: [] } },
    { name: "-o FORMAT", argv: ["ls", "-o", "yaml"], expected: { globals: { output: "yaml", help: false }, positionals: ["ls"], pairs: [] } },
    { name: "-oFORMAT and -o=FORMAT", argv: ["-ojson", "ls", "-o=text"], expected: { globals: { output: "text", help: false }, positionals: ["ls"] } },
    { name: "--output FORMAT and --output=FORMAT", argv: ["show", "x", "--output=yaml"], expected: { globals: { output: "yaml", help: false }, positionals: ["show", "x"] } },
    { name: "--json is -o json; the last one given wins", argv: ["ls", "--json", "-o", "yaml"], expected: { globals: { output: "yaml", help: false } } },
    { name: "--json=false takes back a --json", argv: ["ls", "--json", "--json=false"], expected: { globals: { help: false } } },
    { name: "--no-color", argv: ["diff", "a", "b", "--no-color"], expected: { globals: { noColor: true, help: false }, positionals: ["diff", "a", "b"], pairs: [] } },
  ];

  it.each(cases)("$name", ({ argv, expected }) => {
    const parsed = splitArgv(argv);
    if (expected.globals !== undefined) expect(parsed.globals).toEqual(expected.globals);
    if (expected.positionals !== undefined) expect(parsed.positionals).toEqual(expected.positionals);
    if (expected.pairs !== undefined) expect(parsed.pairs).toEqual(expected.pairs);
  });

  it.each([
    { argv: ["status", "--home"], message: /--home needs a value/ },
    { argv: ["status", "--home", "--json"], message: /--home needs a value/ },
    { argv: ["status", "--socket"], message: /--socket needs a value/ },
    { argv: ["send", "x", "--agent-id"], message: /--agent-id needs a value/ },
    { argv: ["send", "x", "--=1"], message: /empty option/ },
    { argv: ["ls", "-o"], message: /-o needs a value: text, json, yaml/ },
    { argv: ["ls", "--output", "--json"], message: /--output needs a value/ },
    { argv: ["ls", "-o", "xml"], message: /-o must be one of text, json, yaml \(got xml\)/ },
    { argv: ["ls", "--output=table"], message: /--output must be one of text, json, yaml \(got table\)/ },
  ])("refuses $argv", ({ argv, message }) => {
    expect(() => splitArgv(argv)).toThrow(UsageError);
    expect(() => splitArgv(argv)).toThrow(message);
  });
});

// ------------------------------------------------------------------ applyPairs

/** An event's params as the daemon describes them (zod → JSON Schema, input side). */
const params = z.toJSONSchema(
  z.strictObject({
    limit: z.number().int().min(1).max(10_000).default(100),
    delay: z.number().nonnegative().optional(),
    verbose: z.boolean().optional(),
    name: z.string().optional(),
    patterns: z.array(z.string().min(1)).max(64).optional(),
    data: z.record(z.string(), z.unknown()).optional(),
    since: z.union([z.iso.datetime({ offset: true }), z.number().int().nonnegative()]).optional(),
    options: z
      .object({
        depth: z.number().int(),
        label: z.string(),
        deep: z.object({ flag: z.boolean(), ratio: z.number() }),
      })
      .partial()
      .optional(),
    note: z.string().nullable().optional(),
    mode: z.enum(["fast", "slow"]).optional(),
    anything: z.unknown().optional(),
    condition: ruleParam({ example: { var: "x" } }).optional(),
  }),
  { io: "input", unrepresentable: "any" },
);

/** `pat send EVENT <args>` → the data it would send. */
function dataFor(args: string[], base: Record<string, unknown> = {}, schema: unknown = params): Record<string, unknown> {
  return applyPairs(base, splitArgv(["send", "some:event", ...args]).pairs, schema);
}

describe("applyPairs typed by the event's JSON Schema", () => {
  it("the schema under test is what zod produces (sanity)", () => {
    const properties = params.properties as Record<string, Record<string, unknown>>;
    expect(properties.limit).toMatchObject({ type: "integer", default: 100 });
    expect(properties.since).toHaveProperty("anyOf");
    expect(properties.note).toMatchObject({ type: ["string", "null"] });
    expect(properties.data).toMatchObject({ type: "object", additionalProperties: {} });
    expect(properties.condition).toEqual({ type: ["object", "boolean"], format: "json-logic" });
  });

  const cases: { args: string[]; expected: Record<string, unknown> }[] = [
    { args: ["--limit", "5"], expected: { limit: 5 } },
    { args: ["--limit=5"], expected: { limit: 5 } },
    { args: ["--limit", "-3"], expected: { limit: -3 } },
    { args: ["--delay", "1.5"], expected: { delay: 1.5 } },
    { args: ["--delay", "0"], expected: { delay: 0 } },
    { args: ["--verbose"], expected: { verbose: true } },
    { args: ["--verbose", "false"], expected: { verbose: false } },
    { args: ["--verbose=true"], expected: { verbose: true } },
    { args: ["--name", "123"], expected: { name: "123" } },
    { args: ["--name", "true"], expected: { name: "true" } },
    { args: ["--name", "two words"], expected: { name: "two words" } },
    { args: ["--name", '{"not":"parsed"}'], expected: { name: '{"not":"parsed"}' } },
    { args: ["--mode", "fast"], expected: { mode: "fast" } },
    { args: ["--note", "null"], expected: { note: null } },
    { args: ["--note", "hello"], expected: { note: "hello" } },
    { args: ["--patterns", "system:*"], expected: { patterns: ["system:*"] } },
    { args: ["--patterns", "system:*", "--patterns", "monitor:**"], expected: { patterns: ["system:*", "monitor:**"] } },
    { args: ["--patterns", '["a:*","b:*"]'], expected: { patterns: ["a:*", "b:*"] } },
    { args: ["--since", "1700000000000"], expected: { since: 1_700_000_000_000 } },
    { args: ["--since", "2026-11-21T10:00:00Z"], expected: { since: "2026-11-21T10:00:00Z" } },
    { args: ["--data", '{"k":1,"l":[true]}'], expected: { data: { k: 1, l: [true] } } },
    { args: ["--data.k", "1"], expected: { data: { k: 1 } } },
    { args: ["--data.k", "hello"], expected: { data: { k: "hello" } } },
    { args: ["--data.k", "null", "--data.m", "false"], expected: { data: { k: null, m: false } } },
    { args: ["--data.k.deeper", '{"z":[1,2]}'], expected: { data: { k: { deeper: { z: [1, 2] } } } } },
    { args: ["--options.depth", "3", "--options.label", "7"], expected: { options: { depth: 3, label: "7" } } },
    { args: ["--options.deep.flag"], expected: { options: { deep: { flag: true } } } },
    { args: ["--options.deep.ratio", "0.25", "--options.deep.flag", "false"], expected: { options: { deep: { ratio: 0.25, flag: false } } } },
    { args: ["--anything", "[1,2]"], expected: { anything: [1, 2] } },
    { args: ["--anything", "plain text"], expected: { anything: "plain text" } },
    // Keys the schema does not know: JSON literals as such, anything else as text (the daemon then judges).
    { args: ["--unknown", "42"], expected: { unknown: 42 } },
    { args: ["--unknown", "true"], expected: { unknown: true } },
    { args: ["--unknown", "null"], expected: { unknown: null } },
    { args: ["--unknown", '{"a":[1]}'], expected: { unknown: { a: [1] } } },
    { args: ["--unknown", "abc"], expected: { unknown: "abc" } },
    { args: ["--unknown"], expected: { unknown: true } },
    { args: ["--unknown.deep", "1.5"], expected: { unknown: { deep: 1.5 } } },
    { args: ["--limit", "1", "--limit", "2"], expected: { limit: 2 } },
    // A JSON Logic rule: JSON as such; text goes on as typed, for the daemon to answer with its object form.
    { args: ["--condition", '{"==": [{"var": "state.a.b"}, 4]}'], expected: { condition: { "==": [{ var: "state.a.b" }, 4] } } },
    { args: ["--condition", "true"], expected: { condition: true } },
    { args: ["--condition", "false"], expected: { condition: false } },
    { args: ["--condition", "state.a.b == 4"], expected: { condition: "state.a.b == 4" } },
    { args: ["--condition", "4"], expected: { condition: 4 } },
    { args: ["--condition", "[1]"], expected: { condition: [1] } },
  ];

  it.each(cases)("$args", ({ args, expected }) => {
    expect(dataFor(args)).toEqual(expected);
  });

  it("without any schema every value is inferred from JSON literals", () => {
    expect(dataFor(["--n", "7", "--s", "x", "--b", "--o.p", "[]"], {}, undefined)).toEqual({ n: 7, s: "x", b: true, o: { p: [] } });
  });

  it("pairs override the keys of the JSON object argument and merge into nested objects", () => {
    const base = { limit: 1, patterns: ["x:*"], data: { a: 1 }, keep: "me" };
    expect(dataFor(["--limit", "3", "--data.b", "2"], base)).toEqual({ limit: 3, patterns: ["x:*"], data: { a: 1, b: 2 }, keep: "me" });
  });

  it("an array flag replaces the object's array, and repeating it appends", () => {
    const base = { patterns: ["from:object"] };
    expect(dataFor(["--patterns", "a:*"], base)).toEqual({ patterns: ["a:*"] });
    expect(dataFor(["--patterns", "a:*", "--patterns", "b:*"], base)).toEqual({ patterns: ["a:*", "b:*"] });
  });

  it("does not modify the object it is given", () => {
    const base = { data: { a: 1 }, patterns: ["p"] };
    dataFor(["--data.b", "2", "--patterns", "q"], base);
    expect(base).toEqual({ data: { a: 1 }, patterns: ["p"] });
  });

  const errors: { args: string[]; message: RegExp }[] = [
    { args: ["--limit", "abc"], message: /--limit expects integer.*abc/ },
    { args: ["--limit", "1.5"], message: /--limit expects a whole number, got 1\.5/ },
    { args: ["--limit", ""], message: /--limit/ },
    { args: ["--limit", "Infinity"], message: /--limit/ },
    { args: ["--limit"], message: /--limit needs a value/ },
    { args: ["--name"], message: /--name needs a value/ },
    { args: ["--patterns"], message: /--patterns needs a value/ },
    { args: ["--delay", "soon"], message: /--delay expects number/ },
    { args: ["--verbose", "yes"], message: /--verbose expects boolean/ },
    { args: ["--options.depth", "deep"], message: /--options\.depth expects integer/ },
    { args: ["--patterns", '["unclosed"'], message: /--patterns expects JSON/ },
    { args: ["--data", "not json"], message: /--data expects object/ },
    { args: ["--condition", '{"==": [1'], message: /--condition expects JSON/ },
    { args: ["--__proto__.x", "1"], message: /--__proto__\.x is not a usable key/ },
    { args: ["--data.__proto__.polluted", "1"], message: /not a usable key/ },
    { args: ["--constructor.prototype.polluted", "1"], message: /not a usable key/ },
    { args: ["--data..x", "1"], message: /not a usable key/ },
    { args: ["--data.", "1"], message: /not a usable key/ },
  ];

  it.each(errors)("refuses $args", ({ args, message }) => {
    let thrown: unknown;
    try {
      dataFor(args);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as Error).message).toMatch(message);
  });

  it("a refused __proto__ key pollutes nothing", () => {
    expect(() => dataFor(["--__proto__.polluted", "yes"])).toThrow(UsageError);
    expect(() => dataFor(["--__proto__", '{"polluted":"yes"}'], {}, undefined)).toThrow(UsageError);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
  });
});

// ------------------------------------------------------------------ verb flags and --set

describe("applyPairs into a parameter keyed by dotted paths (x-keys)", () => {
  const schema = z.toJSONSchema(
    z.strictObject({
      modifications: z.record(z.string(), z.unknown()).meta({ "x-keys": "dotted-paths" }).optional(),
      data: z.record(z.string(), z.unknown()).optional(),
    }),
    { io: "input" },
  );

  it("takes the rest of the flag as one key there, and still nests elsewhere", () => {
    const pairs = [
      { key: "modifications.variables.rounds.default", value: "4" },
      { key: "modifications.metadata.tags", value: '["a"]' },
      { key: "data.run.status", value: "done" },
    ];
    expect(applyPairs({}, pairs, schema)).toEqual({
      modifications: { "variables.rounds.default": 4, "metadata.tags": ["a"] },
      data: { run: { status: "done" } },
    });
  });
});

describe("splitArgv with the verb's on/off options", () => {
  const flagsOf = (verb: string) => new Set(verb === "merge" ? ["dry-run"] : []);

  it("a flag never takes the next word: it stays positional, wherever the flag sits", () => {
    expect(splitArgv(["merge", "--dry-run", "fork_a"], flagsOf)).toMatchObject({ positionals: ["merge", "fork_a"], pairs: [{ key: "dry-run", value: true }] });
    expect(splitArgv(["merge", "fork_a", "--dry-run", "--into", "t"], flagsOf).pairs).toEqual([
      { key: "dry-run", value: true },
      { key: "into", value: "t" },
    ]);
  });

  it("an inline value is still its value; other options still take the next word", () => {
    expect(splitArgv(["merge", "x", "--dry-run=false"], flagsOf).pairs).toEqual([{ key: "dry-run", value: "false" }]);
    expect(splitArgv(["merge", "x", "--strategy", "ours"], flagsOf).pairs).toEqual([{ key: "strategy", value: "ours" }]);
  });

  it("only the verb's flags: the same name under another verb takes a value as before", () => {
    expect(splitArgv(["send", "composition:merge", "--dry-run", "x"], flagsOf).pairs).toEqual([{ key: "dry-run", value: "x" }]);
  });
});

describe("parseAssignment (--set path=value)", () => {
  it.each([
    ["variables.rounds.default=3", "variables.rounds.default", 3],
    ["metadata.tags=[\"a\",\"b\"]", "metadata.tags", ["a", "b"]],
    ["flag=true", "flag", true],
    ["gone=null", "gone", null],
    ["obj={\"k\":1}", "obj", { k: 1 }],
    ["quoted=\"42\"", "quoted", "42"],
    ["text=Swiss pairing", "text", "Swiss pairing"],
    ["expr=a=b", "expr", "a=b"],
    ["empty=", "empty", ""],
    ["broken=[1,", "broken", "[1,"],
  ])("%s", (raw, path, value) => {
    expect(parseAssignment(raw, "set")).toEqual([path, value]);
  });

  it.each<[string | true]>([[true], ["no_equals"], ["=1"], ["a..b=1"], [".a=1"]])("refuses %j", (raw) => {
    expect(() => parseAssignment(raw, "set")).toThrow(UsageError);
  });
});

describe("parseComparison (--where path OP value)", () => {
  it.each([
    ["performance.avg_score>0.7", { path: "performance.avg_score", op: ">", value: 0.7 }],
    ["performance.runs >= 10", { path: "performance.runs", op: ">=", value: 10 }],
    ["x<=3", { path: "x", op: "<=", value: 3 }],
    ["x<-1", { path: "x", op: "<", value: -1 }],
    ["author!=orch_7f3e", { path: "author", op: "!=", value: "orch_7f3e" }],
    ["version==\"2.0.0\"", { path: "version", op: "==", value: "2.0.0" }],
    ["tags=tournament", { path: "tags", op: null, value: "tournament" }],
    ['tags=["a","b"]', { path: "tags", op: null, value: ["a", "b"] }],
    ["flag=true", { path: "flag", op: null, value: true }],
    ["description~blind judges", { path: "description", op: "contains", value: "blind judges" }],
    ["created>2026-01-01", { path: "created", op: ">", value: "2026-01-01" }],
    ["expr=a=b", { path: "expr", op: null, value: "a=b" }],
    ["  padded  >  1  ", { path: "padded", op: ">", value: 1 }],
  ])("%s", (raw, expected) => {
    expect(parseComparison(raw, "where")).toEqual(expected);
  });

  it.each<[string | true, RegExp]>([
    [true, /--where needs a value: it takes path OP value/],
    ["performance.avg_score", /^--where "performance\.avg_score": not a comparison; it takes path OP value with OP one of >= <= != == > < = ~ \(~ is contains\), e\.g\. --where 'performance\.avg_score>0\.7' or --where tags=tournament$/],
    [">0.7", /not a comparison/],
    [">1", /not a comparison/],
    ["x!1", /not a comparison/],
    ["two words>1", /not a comparison/],
    ["x>", /no value after >/],
    ["a<", /no value after </],
    // A doubled or misspelt operator, or two comparisons in one: the rest would be compared as text.
    ["a>>0.7", /^--where "a>>0\.7": the value ">0\.7" after > starts with an operator character.*; it takes path OP value/],
    ["a=>1", /the value ">1" after = starts with an operator character/],
    ["a==>1", /the value ">1" after == starts/],
    ["a>1 && b<2", /joins another comparison on: give one comparison each/],
    ["a..b>1", /is not a dotted path/],
    [".a=1", /is not a dotted path/],
    ["__proto__>1", /is not a usable path/],
    ["metadata.constructor=1", /is not a usable path/],
  ])("refuses %j", (raw, message) => {
    expect(() => parseComparison(raw, "where")).toThrow(UsageError);
    expect(() => parseComparison(raw, "where")).toThrow(message);
  });
});

describe("addComparison (--where into metadata_filter)", () => {
  const build = (...raws: string[]) => {
    const filter: Record<string, unknown> = {};
    for (const raw of raws) addComparison(filter, parseComparison(raw, "where"), "where");
    return filter;
  };

  it("= is the plain-value form; operators an {op: value} object", () => {
    expect(build("tags=tournament", "performance.avg_score>0.7")).toEqual({ tags: "tournament", "performance.avg_score": { ">": 0.7 } });
  });

  it("several operators on one path join one object", () => {
    expect(build("x>0.5", "x<=0.9", "x!=0.7")).toEqual({ x: { ">": 0.5, "<=": 0.9, "!=": 0.7 } });
  });

  it("several = on one path join one list (the field holds all), without repeats", () => {
    expect(build("tags=a", 'tags=["b","c"]', "tags=a")).toEqual({ tags: ["a", "b", "c"] });
  });

  it("= with a map value is exact equality (a bare map would read as operators)", () => {
    expect(build('p={"min":4}')).toEqual({ p: { "==": { min: 4 } } });
  });

  it("the same operator twice with the same value is kept once", () => {
    expect(build("x>1", "x>1")).toEqual({ x: { ">": 1 } });
  });

  it("refuses an operator repeated with another value, and = mixed with operators", () => {
    expect(() => build("x>1", "x>2")).toThrow(/x> is given twice \(1 and 2\)/);
    expect(() => build("tags=a", "tags~b")).toThrow(/cannot be combined/);
    expect(() => build("x>1", "x=2")).toThrow(UsageError);
  });

  it("merges into a filter given as JSON", () => {
    const filter: Record<string, unknown> = { x: { "<": 9 }, y: 1 };
    addComparison(filter, parseComparison("x>1", "where"), "where");
    expect(filter).toEqual({ x: { "<": 9, ">": 1 }, y: 1 });
  });
});

describe("unknownOption (did-you-mean over the verb's options and the globals)", () => {
  const cases: { key: string; known: string[]; message: string }[] = [
    { key: "stroe", known: ["store", "log-level"], message: "unknown option --stroe; did you mean --store?" },
    { key: "log-levl", known: ["store", "log-level"], message: "unknown option --log-levl; did you mean --log-level?" },
    { key: "hme", known: [], message: "unknown option --hme; did you mean --home?" },
    { key: "sokcet", known: ["store"], message: "unknown option --sokcet; did you mean --socket?" },
    { key: "frobnicate", known: ["store"], message: "unknown option --frobnicate" },
  ];
  for (const c of cases) {
    it(`--${c.key}`, () => {
      const error = unknownOption(c.key, c.known);
      expect(error).toBeInstanceOf(UsageError);
      expect(error.message).toBe(c.message);
    });
  }
});

describe("refuseUnknownKeys: a --key the event's params do not have", () => {
  const closed = { type: "object", properties: { name: {}, format: {}, modifications: {} }, additionalProperties: false };
  const pairs = (...keys: string[]) => keys.map((key) => ({ key, value: "x" }));

  it("is a one-line usage error with the closest param (by its first segment)", () => {
    expect(() => refuseUnknownKeys(pairs("nmae"), closed)).toThrow("unknown option --nmae; did you mean --name?");
    expect(() => refuseUnknownKeys(pairs("modifcations.metadata.tags"), closed)).toThrow("unknown option --modifcations; did you mean --modifications?");
    let thrown: unknown;
    try {
      refuseUnknownKeys(pairs("fromat"), closed);
    } catch (err) {
      thrown = err;
    }
    expect((thrown as UsageError).showUsage).toBe(false);
  });

  it("lets known keys (dotted too) through, and everything when the params take other keys or are not known", () => {
    expect(() => refuseUnknownKeys(pairs("name", "modifications.metadata.tags"), closed)).not.toThrow();
    expect(() => refuseUnknownKeys(pairs("anything"), { ...closed, additionalProperties: {} })).not.toThrow();
    expect(() => refuseUnknownKeys(pairs("anything"), { type: "object" })).not.toThrow();
    expect(() => refuseUnknownKeys(pairs("anything"), undefined)).not.toThrow();
  });
});
