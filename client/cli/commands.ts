/**
 * The `pat` verbs: one row each, mapping arguments to an event and a
 * rendering. A new verb is one row here.
 */
import { readFileSync } from "node:fs";
import { LOG_LEVELS } from "../../daemon/config.js";
import { addComparison, applyPairs, coerce, parseAssignment, parseComparison, unknownOption, UsageError, type Argv } from "./args.js";
import { EXIT, type Cli } from "./context.js";
import { restart, runForeground, startDetached, status, stop, type DaemonOptions } from "./lifecycle.js";
import {
  renderDecisions,
  renderDiff,
  renderDiscover,
  renderError,
  renderFork,
  renderFound,
  renderHelp,
  renderHistory,
  renderLineage,
  renderMerge,
  renderMergeConflict,
  noDifferences,
  renderPatterns,
  renderPush,
  renderSelection,
  renderTracked,
  renderUpdate,
  type DecisionsResult,
  type DiffResult,
  type ErrorLike,
  type EventSummary,
  type FindResult,
  type ForkResult,
  type HelpResult,
  type LineageResult,
  type MergeResult,
  type PatternSummary,
  type UpdateResult,
  type VersionSummary,
} from "./render.js";
import { renderReload, type ReloadResult } from "./render-reload.js";
import { dataArgument, renderSendError } from "./send-hints.js";
import type { Paint } from "./paint.js";
import { handle } from "./handle.js";
import { serveMcp } from "../mcp/serve.js";

export interface Command {
  readonly usage: string;
  readonly summary: string;
  /** On/off options: they never take the next word as their value. */
  readonly flags?: readonly string[];
  /** More lines for `pat VERB --help`, under the usage and summary. */
  readonly details?: readonly string[];
  run(cli: Cli): Promise<number>;
  /** How a daemon error is printed on stderr (default: renderError). */
  readonly renderError?: (error: ErrorLike, paint: Paint) => string;
  /** Prints JSON when stdout is not a terminal (pat send, pat call: what agents parse); every other command prints text unless -o says otherwise. */
  readonly jsonWhenPiped?: true;
}

const DAEMON_DETAILS = [
  "--store DIR: the pattern store to serve (a git repository; an empty or missing folder is seeded),",
  "  relative to the current directory; else $PATTERND_STORE, else HOME/var/lib/compositions.",
  "--branch NAME: the store's branch the daemon commits to; else $PATTERND_BRANCH, else the branch checked out at start.",
  "  While the store is elsewhere (detached HEAD, another branch, a rebase or merge under way), saves answer store_busy.",
  `--log-level LEVEL: what daemon.log records: ${LOG_LEVELS.join(", ")}; else $PATTERND_LOG_LEVEL, else info.`,
];

export const COMMANDS: Readonly<Record<string, Command>> = {
  start: {
    usage: "pat start [--store DIR] [--branch NAME] [--log-level LEVEL]",
    summary: "start the daemon in the background; waits until it answers",
    details: DAEMON_DETAILS,
    run: (cli) => startDetached(cli, daemonOptions(cli.argv)),
  },
  stop: {
    usage: "pat stop [--store DIR]",
    summary: "stop the daemon cleanly (with --store, only if it serves DIR)",
    run: (cli) => stop(cli, storeOption(cli.argv)),
  },
  status: {
    usage: "pat status [--store DIR]",
    summary: "is the daemon running, and its health (with --store, exit 1 unless it serves DIR)",
    run: (cli) => status(cli, storeOption(cli.argv)),
  },
  restart: {
    usage: "pat restart [--store DIR] [--branch NAME] [--log-level LEVEL]",
    summary: "stop the daemon (whatever store it serves), then start it with these options",
    details: DAEMON_DETAILS,
    run: (cli) => restart(cli, daemonOptions(cli.argv)),
  },
  run: {
    usage: "pat run [--store DIR] [--branch NAME] [--log-level LEVEL]",
    summary: "run the daemon in the foreground (what npm start does)",
    details: DAEMON_DETAILS,
    run: (cli) => runForeground(cli, daemonOptions(cli.argv)),
  },
  send: {
    usage: "pat send EVENT ['{...}'] [--key value ...] [--from-file F|-]",
    summary: "send one event and print its reply",
    details: [
      "--key value pairs are typed by the event's params (pat help EVENT); dotted keys nest.",
      "A rule (event:emit --condition, composition:discover --where) is a JSON Logic object or true/false,",
      `e.g. --condition '{"==": [{"var": "state.a.b"}, 4]}'; text such as 'state.a.b == 4' is refused with its object form.`,
      "composition:discover --where is JSON Logic, unlike pat find --where 'path>0.7' (that one sends metadata_filter).",
    ],
    run: (cli) => send(cli, "send"),
    renderError: renderSendError,
    jsonWhenPiped: true,
  },
  call: {
    usage: "pat call EVENT ['{...}'] [--key value ...] [--from-file F|-]",
    summary: "call an event a connected handler answers and print its result (waits as long as the handler's timeout)",
    details: [
      "Like pat send, without pat's own 30 s limit: the daemon's deadline for the call decides (the handler's timeout_ms).",
      "no_handler: nobody answers the event; timeout: the handler did not answer in time; handler_gone: it went away mid-call.",
    ],
    run: (cli) => send(cli, "call"),
    renderError: renderSendError,
    jsonWhenPiped: true,
  },
  handle: {
    usage: "pat handle EVENT [--group G] [--concurrency N] [--timeout-ms MS] [--observe] -- COMMAND ARGS...",
    summary: "answer EVENT (a name or glob) by running COMMAND once per call: data as JSON on stdin, result as JSON on stdout",
    flags: ["observe"],
    details: [
      "COMMAND runs without a shell. A non-zero exit, or stdout that is not JSON, answers with error handler_failed and the command's stderr;",
      "empty stdout answers null. The call is also in the environment: PAT_CALL_ID, PAT_EVENT, PAT_HANDLER_ID, PAT_AGENT_ID.",
      "--group G: share the event with the group's other members (one answers each call); without it the handler is the event's exclusive owner.",
      "--observe: see every call, never answer. A call cancelled by the daemon (deadline, caller gone) gets SIGTERM.",
      "Runs until Ctrl-C; the registration ends with it.",
    ],
    run: handle,
  },
  mcp: {
    usage: "pat mcp [--http HOST:PORT] [--read-only] [--no-start]",
    summary: "serve the daemon as an MCP server: over stdio for a host to launch, or Streamable HTTP on loopback",
    flags: ["read-only", "no-start"],
    details: [
      "Claude Code: claude mcp add patternd -- pat mcp   (the README shows Claude Desktop and Cursor).",
      "Starts the home's daemon when none answers (--no-start: exit 3 instead); reconnects when it restarts.",
      "--http HOST:PORT: Streamable HTTP on http://HOST:PORT/mcp; loopback hosts only (127.0.0.1, localhost, [::1]), Origin checked; port 0 picks one.",
      "--read-only: only the tools that change nothing (select, discover, get, diff, lineage, decisions, state_get, events_wait, patternd_help;",
      "  patternd_call then sends read events only). system:shutdown, composition:delete and state:delete are never reachable through MCP.",
      "Changes are attributed to --agent-id (or $PATTERND_AGENT_ID), else to mcp:<the MCP client's name>.",
    ],
    run: (cli) => {
      const { values, flags } = parseOptions(cli.argv, { http: "value", "read-only": "flag", "no-start": "flag" }, 0);
      return serveMcp(cli, { http: values.http, readOnly: flags.has("read-only"), noStart: flags.has("no-start") });
    },
  },
  discover: { usage: "pat discover [NAMESPACE]", summary: "list the events the daemon answers", run: discover },
  help: { usage: "pat help EVENT", summary: "describe one event: parameters and an example", run: help },
  watch: { usage: "pat watch [PATTERN ...]", summary: "print routed events as they happen (default: all)", run: watch },
  ls: { usage: "pat ls [--type T]", summary: "list the patterns in the store", run: ls },
  show: { usage: "pat show REF", summary: "print a pattern (name or name@version) as YAML", run: show },
  history: { usage: "pat history NAME", summary: "versions of a pattern, from git", run: history },
  reload: {
    usage: "pat reload",
    summary: "re-read the store now and account for every file: indexed, invalid (with issues), not indexed (with the reason), warnings",
    run: reload,
  },
  fork: {
    usage: "pat fork PARENT NAME --reason TEXT [--set path=value ...] [--replace-maps] [--version V]",
    summary: "copy a pattern under a new name, with lineage; --set edits a dotted path (a map merges into a map unless --replace-maps)",
    flags: ["replace-maps"],
    run: fork,
  },
  set: {
    usage: "pat set NAME path=value ... [--unset path ...] [--replace-maps] [--message M]",
    summary: "change values of a pattern by dotted path: one commit, lossless, patch bumped (pat send composition:save replaces the whole document)",
    flags: ["replace-maps"],
    run: set,
  },
  merge: {
    usage: "pat merge FORK [--into TARGET] [--set path=value ...] [--strategy auto|ours|theirs] [--dry-run] [--message M]",
    summary: "3-way merge a fork into its parent (or TARGET); --set settles a conflict; --dry-run writes nothing (exit 1 on conflicts)",
    flags: ["dry-run"],
    run: merge,
    renderError: (error, paint) => (error.code === "merge_conflict" ? renderMergeConflict(error, paint) : renderError(error, paint)),
  },
  diff: { usage: "pat diff LEFT RIGHT [--unified]", summary: "what changed between two refs, by field or as a unified YAML diff", flags: ["unified"], run: diff },
  lineage: {
    usage: "pat lineage NAME [--format json|tree|mermaid|dot] [--direction up|down|both]",
    summary: "ancestors and descendants of a pattern (default on a terminal: tree)",
    run: lineage,
  },
  find: {
    usage: "pat find [--type T] [--tag T ...] [--text WORDS] [--where 'path>0.7' ...] [--sort [-]PATH] [--fields a,b] [--limit N]",
    summary: "search patterns: every --tag, every --text word, --where comparisons (>= <= != == > < = ~); also --filter '{json}', --rule '{json logic}', --offset N",
    details: [
      "--where 'path OP value': one comparison each, all must hold; OP one of >= <= != == > < = ~ (= equals or is in a list, ~ contains).",
      "  The value is JSON when it parses, else text; quote text that starts with an operator as JSON: --where 'note=\">1\"'.",
      "  Paths are looked up under metadata, then at the top level. Sent as composition:discover's metadata_filter.",
      "--filter '{json}': a metadata_filter object, e.g. '{\"performance.avg_score\": {\">\": 0.7}}'.",
      "--rule '{json logic}': composition:discover's where, a JSON Logic object over the whole document read as written,",
      `  e.g. --rule '{">": [{"var": "performance.avg_score"}, 0.7]}'. (pat send composition:discover --where takes this form too.)`,
    ],
    run: find,
  },
  select: {
    usage: 'pat select "TASK" [--require key=value ...] [--type T] [--limit N]',
    summary: "rank patterns for a task: the pick, each candidate's score, breakdown and reasons",
    run: select,
  },
  decide: {
    usage: "pat decide PATTERN DECISION [--outcome O] [--confidence 0..1] [--context key=value ...] [--context-json '{...}']",
    summary: "append a decision to the pattern's decision log",
    run: decide,
  },
  decisions: {
    usage: "pat decisions PATTERN [--decision TEXT] [--outcome O] [--since ISO-TIME|YYYY-MM-DD] [--limit N]",
    summary: "a pattern's decision log, newest first, with its stats",
    run: decisions,
  },
};

/** pat start / run / restart: the options the daemon takes; anything else is a usage error. */
function daemonOptions(argv: Argv): DaemonOptions {
  const { values } = parseOptions(argv, { store: "value", branch: "value", "log-level": "value" }, 0);
  const logLevel = values["log-level"];
  return { store: values.store, branch: values.branch, logLevel: logLevel === undefined ? undefined : oneOf("log-level", logLevel, LOG_LEVELS) };
}

/** pat status / stop: which store's daemon is meant. */
function storeOption(argv: Argv): DaemonOptions {
  return { store: parseOptions(argv, { store: "value" }, 0).values.store };
}

async function send(cli: Cli, verb: "send" | "call"): Promise<number> {
  const { positionals, pairs } = cli.argv;
  const [event, inline, ...extra] = positionals;
  if (event === undefined) throw new UsageError(verb === "send" ? "pat send needs an event name, e.g. pat send system:health" : `pat call needs an event name, e.g. pat call task:summarize '{"text": "..."}'`);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}; pass data as one JSON object or --key value pairs`);
  const fromFile = pairs.filter((pair) => pair.key === "from-file");
  const fields = pairs.filter((pair) => pair.key !== "from-file");
  let data: Record<string, unknown> = {};
  for (const { value } of fromFile) {
    if (value === true) throw new UsageError("--from-file needs a path (or - for standard input)");
    Object.assign(data, parseObject(readData(value), `--from-file ${value}`));
  }
  if (inline !== undefined) Object.assign(data, await dataArgument(inline, event, () => describe(cli, event)));
  const client = await cli.connect();
  try {
    if (fields.length > 0) {
      const described = await client.request<HelpResult>("system:help", { event });
      data = applyPairs(data, fields, described.params);
    }
    // pat call waits for the handler: the daemon's deadline (the handler's timeout_ms) ends the wait, not ours.
    const result = await client.request(event, data, verb === "call" ? { timeoutMs: 0 } : {});
    cli.print(result);
    warn(cli, result);
    return EXIT.ok;
  } finally {
    await client.close();
  }
}

/** system:help for `event`, or undefined when the daemon does not answer it. */
async function describe(cli: Cli, event: string): Promise<HelpResult | undefined> {
  try {
    const client = await cli.connect();
    try {
      return await client.request<HelpResult>("system:help", { event });
    } finally {
      await client.close();
    }
  } catch {
    return undefined;
  }
}

async function discover(cli: Cli): Promise<number> {
  const [namespace] = onlyPositionals(cli.argv, 1);
  return requestAndPrint(cli, "system:discover", namespace === undefined ? {} : { namespace }, (d: { events: Record<string, EventSummary[]> }) =>
    renderDiscover(d.events, cli.layout),
  );
}

async function help(cli: Cli): Promise<number> {
  const [event] = onlyPositionals(cli.argv, 1);
  if (event === undefined) throw new UsageError("pat help needs an event name, e.g. pat help monitor:subscribe");
  return requestAndPrint(cli, "system:help", { event }, renderHelp);
}

async function ls(cli: Cli): Promise<number> {
  const { type } = parseOptions(cli.argv, { type: "value" }, 0).values;
  return requestAndPrint(cli, "composition:list", type === undefined ? {} : { type }, (d: { compositions: PatternSummary[] }) =>
    renderPatterns(d.compositions, cli.layout),
  );
}

async function show(cli: Cli): Promise<number> {
  const [ref] = onlyPositionals(cli.argv, 1);
  if (ref === undefined) throw new UsageError("pat show needs a pattern, e.g. pat show tournament or pat show tournament@2.0.0");
  return requestAndPrint(cli, "composition:get", { name: ref, format: "yaml" }, (d: { yaml: string }) => d.yaml.trimEnd());
}

async function reload(cli: Cli): Promise<number> {
  onlyPositionals(cli.argv, 0);
  const client = await cli.connect();
  try {
    // The account lists the warnings itself: not echoed on stderr one by one, as other replies' warnings are.
    cli.print(await client.request<ReloadResult>("composition:reload", {}), renderReload);
    return EXIT.ok;
  } finally {
    await client.close();
  }
}

async function history(cli: Cli): Promise<number> {
  const [name] = onlyPositionals(cli.argv, 1);
  if (name === undefined) throw new UsageError("pat history needs a pattern name");
  return requestAndPrint(cli, "composition:history", { name }, (d: { versions: VersionSummary[] }) => renderHistory(d.versions, cli.layout));
}

async function fork(cli: Cli): Promise<number> {
  const options = parseOptions(cli.argv, { reason: "value", set: "list", version: "value", "replace-maps": "flag" }, 2);
  const [parent, name] = options.positionals;
  if (parent === undefined || name === undefined) {
    throw new UsageError("pat fork needs the parent and the new name, e.g. pat fork tournament tournament_swiss --reason 'Swiss pairing'");
  }
  const reason = options.values.reason;
  if (reason === undefined) throw new UsageError("pat fork needs --reason TEXT: why this fork exists (kept in its lineage and commit)");
  const modifications = Object.fromEntries(options.lists.set.map((raw) => parseAssignment(raw, "set")));
  const data: Record<string, unknown> = { parent, name, reason };
  if (Object.keys(modifications).length > 0) data.modifications = modifications;
  if (options.values.version !== undefined) data.version = options.values.version;
  if (options.flags.has("replace-maps")) data.replace_maps = true;
  return requestAndPrint(cli, "composition:fork", data, (d: ForkResult) => renderFork(d, modifications));
}

async function set(cli: Cli): Promise<number> {
  const options = parseOptions(cli.argv, { unset: "list", "replace-maps": "flag", message: "value" }, Infinity);
  const [name, ...assignments] = options.positionals;
  if (name === undefined || (assignments.length === 0 && options.lists.unset.length === 0)) {
    throw new UsageError("pat set needs a pattern and path=value pairs, e.g. pat set tournament variables.rounds.default=4 metadata.tags='[\"swiss\"]'");
  }
  const values = Object.fromEntries(
    assignments.map((raw) => {
      if (!raw.includes("=")) throw new UsageError(`pat set ${name} ${raw}: each change is path=value (quote values with spaces), e.g. description='Swiss pairing'`);
      return parseAssignment(raw, "set");
    }),
  );
  const data: Record<string, unknown> = { name };
  if (Object.keys(values).length > 0) data.set = values;
  if (options.lists.unset.length > 0) data.unset = options.lists.unset;
  if (options.flags.has("replace-maps")) data.replace_maps = true;
  if (options.values.message !== undefined) data.message = options.values.message;
  return requestAndPrint(cli, "composition:update", data, (d: UpdateResult) => renderUpdate(d, values, options.lists.unset));
}

async function merge(cli: Cli): Promise<number> {
  const options = parseOptions(cli.argv, { into: "value", set: "list", strategy: "value", "dry-run": "flag", message: "value" }, 1);
  const [source] = options.positionals;
  if (source === undefined) throw new UsageError("pat merge needs the fork to merge, e.g. pat merge tournament_swiss --dry-run");
  const data: Record<string, unknown> = { source };
  if (options.values.into !== undefined) data.target = options.values.into;
  // Conflict path = value, typed like pat fork --set (JSON when it parses, else text).
  const resolve = Object.fromEntries(options.lists.set.map((raw) => parseAssignment(raw, "set")));
  if (Object.keys(resolve).length > 0) data.resolve = resolve;
  if (options.values.strategy !== undefined) data.strategy = oneOf("strategy", options.values.strategy, ["auto", "ours", "theirs"]);
  if (options.flags.has("dry-run")) data.dry_run = true;
  if (options.values.message !== undefined) data.message = options.values.message;
  const client = await cli.connect();
  try {
    const result = await client.request<MergeResult>("composition:merge", data);
    cli.print(result, renderMerge);
    // A dry run that finds conflicts is a merge that would fail: scripts see it in the exit code.
    return (result.conflicts ?? []).length > 0 ? EXIT.remote : EXIT.ok;
  } finally {
    await client.close();
  }
}

async function diff(cli: Cli): Promise<number> {
  const options = parseOptions(cli.argv, { unified: "flag" }, 2);
  const [left, right] = options.positionals;
  if (left === undefined || right === undefined) throw new UsageError("pat diff needs two refs, e.g. pat diff tournament@2.0.0 tournament_swiss");
  const format = options.flags.has("unified") ? "unified" : "changes";
  const client = await cli.connect();
  try {
    const result = await client.request<DiffResult>("composition:diff", { left, right, format });
    cli.print(result, (d: DiffResult) => renderDiff(d, cli.layout.paint));
    // A patch of no differences is empty, as with diff(1): the note goes where a person sees it, not into p.patch.
    if (cli.format === "text" && result.unified === "") cli.err(noDifferences(result));
    return EXIT.ok;
  } finally {
    await client.close();
  }
}

async function lineage(cli: Cli): Promise<number> {
  const options = parseOptions(cli.argv, { format: "value", direction: "value" }, 1);
  const [name] = options.positionals;
  if (name === undefined) throw new UsageError("pat lineage needs a pattern name, e.g. pat lineage tournament --format mermaid");
  const given = options.values.format;
  const format = given === undefined ? (cli.format === "text" ? "tree" : "json") : oneOf("format", given, ["json", "tree", "mermaid", "dot"]);
  const data: Record<string, unknown> = { name, format };
  if (options.values.direction !== undefined) data.direction = oneOf("direction", options.values.direction, ["up", "down", "both"]);
  return requestAndPrint(cli, "composition:lineage", data, (d: LineageResult) => renderLineage(d));
}

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
  const options = parseOptions(cli.argv, { outcome: "value", confidence: "value", context: "list", "context-json": "value" }, Infinity);
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

/** One request, its result printed (JSON, or `human` on a terminal). */
async function requestAndPrint<T>(cli: Cli, event: string, data: Record<string, unknown>, human: (data: T) => string): Promise<number> {
  const client = await cli.connect();
  try {
    const result = await client.request<T>(event, data);
    cli.print(result, human);
    warn(cli, result);
    return EXIT.ok;
  } finally {
    await client.close();
  }
}

/** A reply's warnings ([{path, message}]: accepted, but probably not what was meant) also go to stderr, where a person sees them whatever the output. */
function warn(cli: Cli, result: unknown): void {
  const warnings = (result as { warnings?: unknown } | null)?.warnings;
  if (!Array.isArray(warnings)) return;
  for (const warning of warnings as { path?: unknown; message?: unknown }[]) {
    if (typeof warning?.message === "string") cli.err(`pat: warning${typeof warning.path === "string" ? ` at ${warning.path}` : ""}: ${warning.message}`);
  }
}

async function watch(cli: Cli): Promise<number> {
  const patterns = onlyPositionals(cli.argv, Infinity);
  const client = await cli.connect();
  const subscription = await client.subscribe(patterns.length > 0 ? patterns : ["**"]);
  let interrupted = false;
  const stopWatching = () => {
    interrupted = true;
    subscription.close();
  };
  process.once("SIGINT", stopWatching);
  process.once("SIGTERM", stopWatching);
  if (!cli.json) cli.err(`watching ${patterns.length > 0 ? patterns.join(" ") : "**"} (Ctrl-C to stop)`);
  let dropped = false;
  for await (const push of subscription) {
    if (push.event === "monitor:dropped") dropped = true;
    cli.out(cli.json ? JSON.stringify(push) : renderPush(push));
  }
  if (dropped) {
    cli.err("the daemon dropped this watch: output was not read fast enough");
    return EXIT.remote;
  }
  await client.close();
  if (!interrupted) {
    cli.err("the daemon closed the connection");
    return EXIT.unreachable;
  }
  return EXIT.ok;
}

type OptionKind = "value" | "flag" | "list";

interface Options<S extends Record<string, OptionKind>> {
  positionals: string[];
  /** `--name value` options given (the last one wins when repeated). */
  values: Partial<Record<{ [K in keyof S]: S[K] extends "value" ? K : never }[keyof S], string>>;
  /** Every value of each repeatable option, in order. */
  lists: Record<{ [K in keyof S]: S[K] extends "list" ? K : never }[keyof S], string[]>;
  /** The on/off options that are on. */
  flags: Set<string>;
}

/** A verb's options by `spec`, at most `max` positionals; anything else is a usage error. */
function parseOptions<const S extends Record<string, OptionKind>>(argv: Argv, spec: S, max: number): Options<S> {
  const values: Record<string, string> = {};
  const lists: Record<string, string[]> = {};
  const flags = new Set<string>();
  for (const [name, kind] of Object.entries(spec)) if (kind === "list") lists[name] = [];
  for (const { key, value } of argv.pairs) {
    const kind = Object.hasOwn(spec, key) ? spec[key] : undefined;
    if (kind === undefined) throw unknownOption(key, Object.keys(spec));
    if (kind === "flag") {
      if (value !== true && value !== "true" && value !== "false") throw new UsageError(`--${key} takes no value (got ${value})`);
      if (value === "false") flags.delete(key);
      else flags.add(key);
    } else if (value === true) {
      throw new UsageError(`--${key} needs a value`);
    } else if (kind === "list") {
      lists[key]!.push(value);
    } else {
      values[key] = value;
    }
  }
  if (argv.positionals.length > max) throw new UsageError(`unexpected argument ${argv.positionals[max]}`);
  return { positionals: argv.positionals, values, lists, flags } as Options<S>;
}

function oneOf<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${option} must be one of ${allowed.join(", ")} (got ${value})`);
  return value as T;
}

function onlyPositionals(argv: Argv, max: number): string[] {
  if (argv.pairs.length > 0) throw unknownOption(argv.pairs[0]!.key, []);
  if (argv.positionals.length > max) throw new UsageError(`unexpected argument ${argv.positionals[max]}`);
  return argv.positionals;
}

function readData(path: string): string {
  try {
    return readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read --from-file ${path}: ${(err as Error).message}`);
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`${what} is not JSON: ${(err as Error).message}`);
  }
}

function parseObject(text: string, what: string): Record<string, unknown> {
  const value = parseJson(text, what);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}
