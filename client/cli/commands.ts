/**
 * The `pat` verbs: one row each, mapping arguments to an event and a
 * rendering. A new verb is one row here.
 */
import { readFileSync } from "node:fs";
import { LOG_LEVELS } from "../../daemon/config.js";
import { suggest } from "../../daemon/core/suggest.js";
import { packageInfo } from "../../daemon/package-info.js";
import { DaemonUnreachableError, RemoteError } from "../client.js";
import { addComparison, applyPairs, coerce, parseAssignment, parseComparison, refuseUnknownKeys, unknownOption, UsageError, type Argv } from "./args.js";
import { EXIT, type Cli } from "./context.js";
import { restart, runForeground, startDetached, status, stop, type DaemonOptions } from "./lifecycle.js";
import {
  renderDecisions,
  renderDiff,
  renderDiscover,
  renderError,
  renderFork,
  renderFound,
  renderHistory,
  renderLineage,
  renderMerge,
  renderMergeConflict,
  noDifferences,
  renderPatterns,
  renderSelection,
  renderTracked,
  renderUpdate,
  type DecisionsResult,
  type DiffResult,
  type ErrorLike,
  type EventSummary,
  type FindResult,
  type ForkResult,
  type LineageResult,
  type MergeResult,
  type PatternSummary,
  type UpdateResult,
  type VersionSummary,
} from "./render.js";
import { renderHelp, type HelpResult } from "./render-help.js";
import { renderReload, type ReloadResult } from "./render-reload.js";
import { dataArgument, renderSendError } from "./send-hints.js";
import type { Paint } from "./paint.js";
import { handle } from "./handle.js";
import { commandHelp } from "./command-help.js";
import { LABEL_COMMANDS } from "./label-commands.js";

export interface Command {
  readonly usage: string;
  readonly summary: string;
  /** On/off options: they never take the next word as their value. */
  readonly flags?: readonly string[];
  /** Each option the verb takes, as written and what it does: `pat help VERB` and `pat VERB --help` list them. */
  readonly options?: readonly (readonly [option: string, explanation: string])[];
  /** More lines for `pat help VERB`, after the options. */
  readonly details?: readonly string[];
  /** Command lines to copy, for `pat help VERB` (at least one). */
  readonly examples: readonly string[];
  run(cli: Cli): Promise<number>;
  /** How a daemon error is printed on stderr (default: renderError). */
  readonly renderError?: (error: ErrorLike, paint: Paint) => string;
  /** Prints JSON when stdout is not a terminal (pat send, pat call: what agents parse); every other command prints text unless -o says otherwise. */
  readonly jsonWhenPiped?: true;
}

const STORE_OPTION = [
  "--store DIR",
  "the pattern store to serve (a git repository; an empty or missing folder is seeded), relative to the current directory; else $PATTERND_STORE, else HOME/var/lib/compositions",
] as const;

const DAEMON_OPTIONS = [
  STORE_OPTION,
  [
    "--branch NAME",
    "the store's branch the daemon commits to; else $PATTERND_BRANCH, else the branch checked out at start. While the store is elsewhere (detached HEAD, another branch, a rebase or merge under way), saves answer store_busy",
  ],
  ["--log-level LEVEL", `what daemon.log records: ${LOG_LEVELS.join(", ")}; else $PATTERND_LOG_LEVEL, else info`],
] as const;

export const COMMANDS: Readonly<Record<string, Command>> = {
  start: {
    usage: "pat start [--store DIR] [--branch NAME] [--log-level LEVEL]",
    summary: "start the daemon in the background; waits until it answers",
    options: DAEMON_OPTIONS,
    examples: ["pat start", "pat start --store ~/patterns --branch main"],
    run: (cli) => startDetached(cli, daemonOptions(cli.argv)),
  },
  stop: {
    usage: "pat stop [--store DIR]",
    summary: "stop the daemon cleanly (with --store, only if it serves DIR)",
    options: [["--store DIR", "stop it only if it serves DIR"]],
    examples: ["pat stop"],
    run: (cli) => stop(cli, storeOption(cli.argv)),
  },
  status: {
    usage: "pat status [--store DIR]",
    summary: "is the daemon running, and its health (with --store, exit 1 unless it serves DIR)",
    options: [["--store DIR", "exit 1 unless the running daemon serves DIR"]],
    examples: ["pat status", "pat status --json"],
    run: (cli) => status(cli, storeOption(cli.argv)),
  },
  restart: {
    usage: "pat restart [--store DIR] [--branch NAME] [--log-level LEVEL]",
    summary: "stop the daemon (whatever store it serves), then start it with these options",
    options: DAEMON_OPTIONS,
    examples: ["pat restart", "pat restart --log-level debug"],
    run: (cli) => restart(cli, daemonOptions(cli.argv)),
  },
  run: {
    usage: "pat run [--store DIR] [--branch NAME] [--log-level LEVEL]",
    summary: "run the daemon in the foreground (what npm start does)",
    options: DAEMON_OPTIONS,
    examples: ["pat run", "pat run --store ./patterns --log-level debug"],
    run: (cli) => runForeground(cli, daemonOptions(cli.argv)),
  },
  send: {
    usage: "pat send EVENT ['{...}'] [--key value ...] [--from-file F|-]",
    summary: "send one event and print its reply",
    options: [
      ["--key value", "a field of the event's data, typed by its params (pat help EVENT lists them); dotted keys nest: --modifications.metadata.tags '[\"swiss\"]'"],
      ["--from-file F|-", "the data as a JSON object from a file, or - for standard input; --KEY VALUE pairs and the data argument go on top"],
    ],
    examples: ["pat send system:health", "pat send composition:get --name tournament --format yaml", `pat send state:set '{"key": "run_1.status", "value": "done"}'`],
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
    options: [
      ["--key value", "a field of the event's data, typed by the params the handler registered; dotted keys nest"],
      ["--from-file F|-", "the data as a JSON object from a file, or - for standard input"],
    ],
    examples: [`pat call task:summarize '{"text": "..."}'`, "pat call evaluation:score --answer 42"],
    details: [
      "Like pat send, without pat's own 30 s limit: the daemon's deadline for the call decides (the handler's timeout_ms).",
      "no_handler: nobody answers the event; timeout: the handler did not answer in time; handler_gone: it went away mid-call.",
    ],
    run: (cli) => send(cli, "call"),
    renderError: renderSendError,
    jsonWhenPiped: true,
  },
  handle: {
    usage: "pat handle EVENT [--group G] [--concurrency N] [--timeout-ms MS] [--description TEXT] [--observe] -- COMMAND ARGS...",
    summary: "answer EVENT (a name or glob) by running COMMAND once per call: data as JSON on stdin, result as JSON on stdout",
    flags: ["observe"],
    options: [
      ["--group G", "share the event with the group's other members (one answers each call); without it the handler is the event's exclusive owner"],
      ["--concurrency N", "calls run at once (default 1); more wait in the daemon's queue"],
      ["--timeout-ms MS", "how long a call may take before the caller gets timeout and the command SIGTERM"],
      ["--description TEXT", "what the event does, shown by system:discover and pat help EVENT"],
      ["--observe", "see every call, never answer"],
    ],
    details: [
      "COMMAND runs without a shell. A non-zero exit, or stdout that is not JSON, answers with error handler_failed and the command's stderr;",
      "empty stdout answers null. The call is also in the environment: PAT_CALL_ID, PAT_EVENT, PAT_HANDLER_ID, PAT_AGENT_ID.",
      "A call cancelled by the daemon (deadline, caller gone) gets SIGTERM. Runs until Ctrl-C; the registration ends with it.",
    ],
    examples: ["pat handle task:summarize -- ./summarize.sh --short", "pat handle 'evaluation:*' --group scorers --concurrency 4 -- python3 score.py"],
    run: handle,
  },
  mcp: {
    usage: "pat mcp [--http HOST:PORT] [--read-only] [--no-start]",
    summary: "serve the daemon as an MCP server: over stdio for a host to launch, or Streamable HTTP on loopback",
    flags: ["read-only", "no-start"],
    options: [
      ["--http HOST:PORT", "Streamable HTTP on http://HOST:PORT/mcp; loopback hosts only (127.0.0.1, localhost, [::1]), Origin checked; port 0 picks one"],
      [
        "--read-only",
        "only the tools that change nothing (select, discover, get, diff, lineage, decisions, state_get, events_wait, patternd_help; patternd_call then sends read events only)",
      ],
      ["--no-start", "exit 3 when no daemon answers, instead of starting the home's daemon"],
    ],
    details: [
      "Claude Code: claude mcp add patternd -- pat mcp   (the README shows Claude Desktop and Cursor).",
      "Reconnects when the daemon restarts. system:shutdown, composition:delete and state:delete are never reachable through MCP.",
      "Changes are attributed to --agent-id (or $PATTERND_AGENT_ID), else to mcp:<the MCP client's name>.",
    ],
    examples: ["claude mcp add patternd -- pat mcp", "pat mcp --http 127.0.0.1:8765 --read-only"],
    run: async (cli) => {
      const { values, flags } = parseOptions(cli.argv, { http: "value", "read-only": "flag", "no-start": "flag" }, 0);
      // Loaded only here: the MCP SDK costs ~350 ms at start, more than every other pat command takes in all.
      const { serveMcp } = await import("../mcp/serve.js");
      return serveMcp(cli, { http: values.http, readOnly: flags.has("read-only"), noStart: flags.has("no-start") });
    },
  },
  discover: { usage: "pat discover [NAMESPACE]", summary: "list the events the daemon answers", examples: ["pat discover", "pat discover composition"], run: discover },
  help: {
    usage: "pat help [COMMAND|EVENT]",
    summary: "describe a command (its options and examples) or an event (params, reply and an example)",
    examples: ["pat help fork", "pat help composition:select"],
    run: help,
  },
  version: { usage: "pat version", summary: "print pat's version (also pat --version)", examples: ["pat version"], run: version },
  watch: {
    usage: "pat watch [PATTERN ...] [--retry]",
    summary: "print routed events as they happen (default: all); --retry reconnects when the daemon restarts",
    flags: ["retry"],
    details: [
      "PATTERN: an event name or a glob over colon segments (* one segment, ** any rest), e.g. composition:* state:**.",
      "Output: one line per event; JSON lines ({event, data, subscription, seq, ts}) when piped or with --json.",
      "--retry: when the daemon stops, wait for it and reconnect (also when none runs yet). The same daemon replays what was missed;",
      "  a restarted one is a fresh instance: a line says so and watching starts again from its first event",
      '  (JSON: {"notice": "fresh_instance", "pid", "previous_pid", "previous_seq"}). Events the daemon no longer holds are',
      '  announced, not replayed: {"notice": "missed", "after_seq"} (the event log keeps them: pat send monitor:get_events).',
      "Without --retry, a daemon that goes away ends pat watch with exit 3.",
    ],
    // Loaded when used, as completion below: each module pat loads at start costs every command a few ms.
    examples: ["pat watch", "pat watch 'composition:*' 'orchestration:**'", "pat watch --retry 'run:**'"],
    run: async (cli) => (await import("./watch.js")).watch(cli),
  },
  ls: {
    usage: "pat ls [--type T]",
    summary: "list the patterns in the store",
    options: [["--type T", "only patterns of this type (orchestration, profile, mixin, ...)"]],
    examples: ["pat ls", "pat ls --type profile"],
    run: ls,
  },
  show: { usage: "pat show REF", summary: "print a pattern (name or name@version) as YAML", examples: ["pat show tournament", "pat show tournament@1.0.0 > tournament.yaml"], run: show },
  history: { usage: "pat history NAME", summary: "versions of a pattern, from git", examples: ["pat history tournament"], run: history },
  reload: {
    usage: "pat reload",
    summary: "re-read the store now and account for every file: indexed, invalid (with issues), not indexed (with the reason), warnings",
    examples: ["pat reload"],
    run: reload,
  },
  fork: {
    usage: "pat fork PARENT NAME --reason TEXT [--set path=value ...] [--replace-maps] [--version V]",
    summary: "copy a pattern under a new name, with lineage; --set edits a dotted path (a map merges into a map unless --replace-maps)",
    flags: ["replace-maps"],
    options: [
      ["--reason TEXT", "why you fork (required; one line is enough): recorded in the fork's lineage"],
      ["--set path=value", "change a dotted path in the fork; the value is JSON when it parses, else text; repeatable"],
      ["--replace-maps", "a map given to --set replaces the map there whole instead of merging key by key"],
      ["--version V", "the fork's version (default 0.1.0)"],
    ],
    details: ["PARENT is a name or name@version; NAME is the new pattern's."],
    examples: [`pat fork tournament tournament_swiss --reason "Swiss pairing for 5-10 entrants" --set metadata.tags='["tournament","swiss"]'`],
    run: fork,
  },
  set: {
    usage: "pat set NAME path=value ... [--unset path ...] [--replace-maps] [--message M]",
    summary: "change values of a pattern by dotted path: one commit, lossless, patch bumped (pat send composition:save replaces the whole document)",
    flags: ["replace-maps"],
    options: [
      ["--unset path", "remove a dotted path; repeatable"],
      ["--replace-maps", "a map given for a map replaces it whole instead of merging key by key"],
      ["--message M", "the commit message"],
    ],
    details: ["Each path=value changes one dotted path; the value is JSON when it parses, else text (quote values with spaces)."],
    examples: [`pat set tournament variables.rounds.default=4 metadata.tags='["swiss"]'`, "pat set tournament --unset metadata.draft --message 'ready'"],
    run: set,
  },
  merge: {
    usage: "pat merge FORK [--into TARGET] [--set path=value ...] [--strategy auto|ours|theirs] [--dry-run] [--message M]",
    summary: "3-way merge a fork into its parent (or TARGET); --set settles a conflict; --dry-run writes nothing (exit 1 on conflicts)",
    flags: ["dry-run"],
    options: [
      ["--into TARGET", "merge into TARGET instead of the fork's parent"],
      ["--set path=value", "settle a conflict at path with this value (whole; null leaves it out); repeatable"],
      ["--strategy auto|ours|theirs", "auto (default): conflicts stop the merge; ours: the target wins them; theirs: the fork wins them"],
      ["--dry-run", "show the merged result and the conflicts; write nothing (exit 1 when there are conflicts)"],
      ["--message M", "the commit message"],
    ],
    examples: ["pat merge tournament_swiss --dry-run", "pat merge tournament_swiss --set variables.rounds.default=5"],
    run: merge,
    renderError: (error, paint) => (error.code === "merge_conflict" ? renderMergeConflict(error, paint) : renderError(error, paint)),
  },
  diff: {
    usage: "pat diff LEFT RIGHT [--unified]",
    summary: "what changed between two refs, by field or as a unified YAML diff",
    flags: ["unified"],
    options: [["--unified", "a unified line diff of the two YAML files instead of the changes by field"]],
    details: ["LEFT and RIGHT are each a name (the current file) or name@version."],
    examples: ["pat diff tournament@1.0.0 tournament", "pat diff tournament tournament_swiss --unified > swiss.patch"],
    run: diff,
  },
  lineage: {
    usage: "pat lineage NAME [--format json|tree|mermaid|dot] [--direction up|down|both]",
    summary: "ancestors and descendants of a pattern (default on a terminal: tree)",
    options: [
      ["--format json|tree|mermaid|dot", "how to draw it (default: tree; json with --json)"],
      ["--direction up|down|both", "ancestors only, descendants only, or both (default)"],
    ],
    examples: ["pat lineage tournament", "pat lineage tournament_swiss --direction up --format mermaid"],
    run: lineage,
  },
  ...LABEL_COMMANDS,
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
    usage: "pat decide PATTERN DECISION [--outcome O] [--confidence 0..1] [--context key=value ...] [--context-json '{...}']",
    summary: "append a decision to the pattern's decision log",
    options: [
      ["--outcome O", "how it went: success, failure, or your word (select counts success and failure words)"],
      ["--confidence 0..1", "how sure you are"],
      ["--context key=value", "a context field (dotted keys nest, value typed like --set); repeatable"],
      ["--context-json '{...}'", "the context as a JSON object (--context adds keys to it)"],
    ],
    examples: ["pat decide tournament 'use 3 judges per match' --outcome success --confidence 0.8 --context entrants=12"],
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
  completion: {
    usage: "pat completion bash|zsh|fish",
    summary: "print a shell completion script: commands, options, event and pattern names (from the running daemon)",
    details: [
      "bash: source <(pat completion bash)   (in ~/.bashrc to keep it)",
      "zsh:  source <(pat completion zsh)    (after compinit, in ~/.zshrc)",
      "fish: pat completion fish | source    (or save it as ~/.config/fish/completions/pat.fish)",
      "Event and pattern names come from the daemon of the home pat finds (or --home); with none running, none are offered.",
    ],
    examples: ["source <(pat completion bash)"],
    run: async (cli) => (await import("./completion-scripts.js")).printCompletionScript(cli),
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
      refuseUnknownKeys(fields, described.params);
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

/** `pat help COMMAND` (from the table, no daemon needed) or `pat help EVENT` (system:help); neither: one line suggesting both kinds. */
async function help(cli: Cli): Promise<number> {
  const [topic] = onlyPositionals(cli.argv, 1);
  if (topic === undefined) throw new UsageError("pat help needs a command or an event, e.g. pat help fork or pat help composition:select");
  if (Object.hasOwn(COMMANDS, topic)) {
    cli.out(commandHelp(topic, COMMANDS[topic]!));
    return EXIT.ok;
  }
  const commands = suggest(topic, Object.keys(COMMANDS));
  try {
    return await requestAndPrint(cli, "system:help", { event: topic }, renderHelp);
  } catch (err) {
    // An event name has a namespace: without one, a daemon that does not answer leaves only the commands to suggest.
    const unreachable = err instanceof DaemonUnreachableError && !topic.includes(":");
    if (!unreachable && !(err instanceof RemoteError && err.code === "unknown_event")) throw err;
    const events = err instanceof RemoteError && Array.isArray(err.details?.suggestions) ? (err.details.suggestions as string[]) : [];
    const close = [...commands.map((name) => `${name} (a command)`), ...events.map((name) => `${name} (an event)`)];
    const hint = close.length > 0 ? `; did you mean ${close.join(", ")}?` : " (pat help lists the commands, pat discover the events)";
    throw new UsageError(`no command or event ${topic}${hint}`, false);
  }
}

function version(cli: Cli): Promise<number> {
  onlyPositionals(cli.argv, 0);
  cli.out(`pat version ${packageInfo().version}`);
  return Promise.resolve(EXIT.ok);
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
