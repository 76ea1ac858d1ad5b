/** Finding and choosing a pattern, and recording how it went: pat find, select, decide, decisions. */
import { addComparison, applyPairs, coerce, parseAssignment, parseComparison, UsageError } from "../args.js";
import type { Cli } from "../context.js";
import { renderDecisions, renderFound, renderSelection, renderTracked, type DecisionsResult, type FindResult } from "../render.js";
import type { Command } from "./command.js";
import { parseJson, parseObject, parseOptions } from "./options.js";
import { requestAndPrint } from "./reply.js";

export const SELECTION_COMMANDS = {
  find: {
    usage: "pat find [--type T] [--tag T ...] [--text WORDS] [--where 'path>0.7' ...] [--sort [-]PATH] [--fields a,b] [--limit N]",
    summary: "search patterns: every --tag, every --text word, --where comparisons (>= <= != == > < = ~); also --filter '{json}', --rule '{json logic}', --offset N",
    options: [
      ["--type T", "only patterns of this type"],
      ["--tag T", "patterns tagged T (metadata.tags); repeatable, all must hold"],
      ["--text WORDS", "every word must start a word of the name, description, tags or use cases"],
      ["--where 'path OP value'", "a comparison; repeatable, all must hold (below)"],
      ["--filter '{json}'", "a metadata_filter object"],
      ["--rule '{json logic}'", "a JSON Logic rule over the whole document (composition:discover's where)"],
      ["--sort [-]PATH", "sort by a dotted path, - for descending"],
      ["--fields a,b", "the dotted paths to show for each pattern"],
      ["--limit N", "at most N patterns (default 50)"],
      ["--offset N", "skip the first N (paging)"],
    ],
    details: [
      "--where 'path OP value': one comparison each, all must hold; OP one of >= <= != == > < = ~ (= equals or is in a list, ~ contains).",
      "  The value is JSON when it parses, else text; quote text that starts with an operator as JSON: --where 'note=\">1\"'.",
      "  Paths are looked up under metadata, then at the top level. Sent as composition:discover's metadata_filter.",
      "--filter '{json}': a metadata_filter object, e.g. '{\"performance.avg_score\": {\">\": 0.7}}'.",
      "--rule '{json logic}': composition:discover's where, a JSON Logic object over the whole document read as written,",
      `  e.g. --rule '{">": [{"var": "performance.avg_score"}, 0.7]}'. (pat send composition:discover --where takes this form too.)`,
    ],
    examples: ["pat find --tag tournament --where 'performance.avg_score>0.7' --sort -performance.avg_score", "pat find --text judge --fields metadata.tags"],
    run: find,
  },
  select: {
    usage: 'pat select "TASK" [--require key=value ...] [--type T] [--limit N]',
    summary: "rank patterns for a task: the pick, each candidate's score, breakdown and reasons",
    options: [
      ["--require key=value", "a requirement the pattern must meet (value typed like --set); repeatable"],
      ["--type T", "rank patterns of this type (default orchestration)"],
      ["--limit N", "at most N candidates (default 5)"],
    ],
    examples: ['pat select "rank 12 candidate answers" --require timeout_handling=true'],
    run: select,
  },
  decide: {
    usage: "pat decide PATTERN DECISION [--outcome O] [--confidence 0..1] [--task TEXT] [--context key=value ...] [--context-json '{...}']",
    summary: "append a decision to the pattern's decision log",
    options: [
      ["--outcome O", "how it went: success, failure, or your word (select counts success and failure words)"],
      ["--confidence 0..1", "how sure you are"],
      ["--task TEXT", "the task the pattern served (recorded as context.task): later selects for similar tasks weigh how it went"],
      ["--context key=value", "a context field (dotted keys nest, value typed like --set); repeatable"],
      ["--context-json '{...}'", "the context as a JSON object (--context adds keys to it)"],
    ],
    examples: [
      "pat decide tournament 'use 3 judges per match' --outcome success --confidence 0.8 --context entrants=12",
      "pat decide tournament 'ranked by knock-out rounds' --outcome success --task 'pick the best of 20 slogans'",
    ],
    run: decide,
  },
  decisions: {
    usage: "pat decisions PATTERN [--decision TEXT] [--outcome O] [--since ISO-TIME|YYYY-MM-DD] [--limit N]",
    summary: "a pattern's decision log, newest first, with its stats",
    options: [
      ["--decision TEXT", "records whose decision contains TEXT (any case)"],
      ["--outcome O", "records with this outcome; success and failure also match their kind"],
      ["--since ISO-TIME|YYYY-MM-DD", "records from then on (a bare date: from midnight UTC)"],
      ["--limit N", "at most N records (default 100)"],
    ],
    examples: ["pat decisions tournament --outcome failure --since 2025-01-01"],
    run: decisions,
  },
} satisfies Record<string, Command>;

async function find(cli: Cli): Promise<number> {
  const options = parseOptions(
    cli.argv,
    { type: "value", tag: "list", text: "value", where: "list", filter: "value", rule: "value", sort: "value", fields: "list", limit: "value", offset: "value" },
    Infinity,
  );
  if (options.positionals.length > 0) {
    throw new UsageError(`unexpected argument ${options.positionals[0]}; words to search for go in --text, e.g. pat find --text ${JSON.stringify(options.positionals.join(" "))}`);
  }
  const { values } = options;
  const data: Record<string, unknown> = {};
  if (values.type !== undefined) data.type = values.type;
  if (options.lists.tag.length > 0) data.tags = options.lists.tag;
  if (values.text !== undefined) data.text = values.text;
  const filter = values.filter === undefined ? {} : parseObject(values.filter, "--filter");
  for (const raw of options.lists.where) addComparison(filter, parseComparison(raw, "where"), "where");
  if (Object.keys(filter).length > 0) data.metadata_filter = filter;
  if (values.rule !== undefined) data.where = parseJson(values.rule, "--rule");
  if (values.sort !== undefined) data.sort = values.sort;
  const fields = options.lists.fields.flatMap((list) => list.split(",")).map((field) => field.trim()).filter((field) => field !== "");
  if (fields.length > 0) data.fields = fields;
  if (values.limit !== undefined) data.limit = coerce(values.limit, { type: "integer" }, "limit");
  if (values.offset !== undefined) data.offset = coerce(values.offset, { type: "integer" }, "offset");
  return requestAndPrint(cli, "composition:discover", data, (d: FindResult) => renderFound(d, { fields, offset: (data.offset as number | undefined) ?? 0, layout: cli.layout }));
}

async function select(cli: Cli): Promise<number> {
  const options = parseOptions(cli.argv, { require: "list", type: "value", limit: "value" }, Infinity);
  const [task, ...extra] = options.positionals;
  if (task === undefined) throw new UsageError('pat select needs the task, e.g. pat select "rank 12 candidate answers" --require timeout_handling=true');
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}; quote the task as one argument: pat select ${JSON.stringify(options.positionals.join(" "))}`);
  const data: Record<string, unknown> = { task };
  const requirements = Object.fromEntries(options.lists.require.map((raw) => parseAssignment(raw, "require")));
  if (Object.keys(requirements).length > 0) data.requirements = requirements;
  if (options.values.type !== undefined) data.type = options.values.type;
  if (options.values.limit !== undefined) data.limit = coerce(options.values.limit, { type: "integer" }, "limit");
  return requestAndPrint(cli, "composition:select", data, renderSelection);
}

async function decide(cli: Cli): Promise<number> {
  const options = parseOptions(cli.argv, { outcome: "value", confidence: "value", task: "value", context: "list", "context-json": "value" }, Infinity);
  const [pattern, decision, ...extra] = options.positionals;
  if (pattern === undefined || decision === undefined) {
    throw new UsageError("pat decide needs the pattern and the decision, e.g. pat decide tournament 'use 3 judges per match' --outcome success --confidence 0.8");
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}; quote the decision as one argument: pat decide ${pattern} ${JSON.stringify(options.positionals.slice(1).join(" "))}`);
  const data: Record<string, unknown> = { pattern, decision };
  const json = options.values["context-json"];
  let context = json === undefined ? undefined : parseJson(json, "--context-json");
  if (options.lists.context.length > 0) {
    if (context !== undefined && (typeof context !== "object" || context === null || Array.isArray(context))) {
      throw new UsageError("--context key=value adds keys to an object: --context-json must then be a JSON object");
    }
    // Dotted keys nest, values typed like --set; applyPairs refuses keys such as __proto__.
    const pairs = options.lists.context.map((raw) => ({ key: parseAssignment(raw, "context")[0], value: raw.slice(raw.indexOf("=") + 1) }));
    context = applyPairs((context ?? {}) as Record<string, unknown>, pairs, undefined);
  }
  if (context !== undefined) data.context = context;
  if (options.values.outcome !== undefined) data.outcome = options.values.outcome;
  if (options.values.task !== undefined) data.task = options.values.task;
  if (options.values.confidence !== undefined) data.confidence = coerce(options.values.confidence, { type: "number" }, "confidence");
  return requestAndPrint(cli, "composition:track_decision", data, renderTracked);
}

async function decisions(cli: Cli): Promise<number> {
  const options = parseOptions(cli.argv, { decision: "value", outcome: "value", since: "value", limit: "value" }, 1);
  const [pattern] = options.positionals;
  if (pattern === undefined) throw new UsageError("pat decisions needs a pattern name, e.g. pat decisions tournament --outcome failure");
  const data: Record<string, unknown> = { pattern };
  if (options.values.decision !== undefined) data.decision = options.values.decision;
  if (options.values.outcome !== undefined) data.outcome = options.values.outcome;
  // A bare date is that day from midnight UTC, as pat prints times.
  if (options.values.since !== undefined) data.since = /^\d{4}-\d{2}-\d{2}$/.test(options.values.since) ? `${options.values.since}T00:00:00Z` : options.values.since;
  if (options.values.limit !== undefined) data.limit = coerce(options.values.limit, { type: "integer" }, "limit");
  const filtered = data.decision !== undefined || data.outcome !== undefined || data.since !== undefined;
  return requestAndPrint(cli, "composition:decisions", data, (d: DecisionsResult) => renderDecisions(d, filtered));
}

