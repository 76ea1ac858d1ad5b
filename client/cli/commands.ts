/**
 * The `pat` verbs: one row each, mapping arguments to an event and a
 * rendering. A new verb is one row here.
 */
import { readFileSync } from "node:fs";
import { applyPairs, UsageError, type Argv } from "./args.js";
import { EXIT, type Cli } from "./context.js";
import { restart, runForeground, startDetached, status, stop } from "./lifecycle.js";
import {
  renderDiscover,
  renderHelp,
  renderHistory,
  renderPatterns,
  renderPush,
  type EventSummary,
  type HelpResult,
  type PatternSummary,
  type VersionSummary,
} from "./render.js";

export interface Command {
  readonly usage: string;
  readonly summary: string;
  run(cli: Cli): Promise<number>;
}

export const COMMANDS: Readonly<Record<string, Command>> = {
  start: { usage: "pat start", summary: "start the daemon in the background; waits until it answers", run: startDetached },
  stop: { usage: "pat stop", summary: "stop the daemon cleanly", run: stop },
  status: { usage: "pat status", summary: "is the daemon running, and its health", run: status },
  restart: { usage: "pat restart", summary: "stop, then start", run: restart },
  run: { usage: "pat run", summary: "run the daemon in the foreground (what npm start does)", run: runForeground },
  send: {
    usage: "pat send EVENT ['{...}'] [--key value ...] [--from-file F|-]",
    summary: "send one event and print its reply",
    run: send,
  },
  discover: { usage: "pat discover [NAMESPACE]", summary: "list the events the daemon answers", run: discover },
  help: { usage: "pat help EVENT", summary: "describe one event: parameters and an example", run: help },
  watch: { usage: "pat watch [PATTERN ...]", summary: "print routed events as they happen (default: all)", run: watch },
  ls: { usage: "pat ls [--type T]", summary: "list the patterns in the store", run: ls },
  show: { usage: "pat show REF", summary: "print a pattern (name or name@version) as YAML", run: show },
  history: { usage: "pat history NAME", summary: "versions of a pattern, from git", run: history },
};

async function send(cli: Cli): Promise<number> {
  const { positionals, pairs } = cli.argv;
  const [event, inline, ...extra] = positionals;
  if (event === undefined) throw new UsageError("pat send needs an event name, e.g. pat send system:health");
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}; pass data as one JSON object or --key value pairs`);
  const fromFile = pairs.filter((pair) => pair.key === "from-file");
  const fields = pairs.filter((pair) => pair.key !== "from-file");
  let data: Record<string, unknown> = {};
  for (const { value } of fromFile) {
    if (value === true) throw new UsageError("--from-file needs a path (or - for standard input)");
    Object.assign(data, parseObject(readData(value), `--from-file ${value}`));
  }
  if (inline !== undefined) Object.assign(data, parseObject(inline, "the data argument"));
  const client = await cli.connect();
  try {
    if (fields.length > 0) {
      const described = await client.request<HelpResult>("system:help", { event });
      data = applyPairs(data, fields, described.params);
    }
    const result = await client.request(event, data);
    cli.print(result);
    return EXIT.ok;
  } finally {
    await client.close();
  }
}

async function discover(cli: Cli): Promise<number> {
  const [namespace] = onlyPositionals(cli.argv, 1);
  return requestAndPrint(cli, "system:discover", namespace === undefined ? {} : { namespace }, (d: { events: EventSummary[] }) =>
    renderDiscover(d.events),
  );
}

async function help(cli: Cli): Promise<number> {
  const [event] = onlyPositionals(cli.argv, 1);
  if (event === undefined) throw new UsageError("pat help needs an event name, e.g. pat help monitor:subscribe");
  return requestAndPrint(cli, "system:help", { event }, renderHelp);
}

async function ls(cli: Cli): Promise<number> {
  const type = cli.argv.pairs.find((pair) => pair.key === "type")?.value;
  if (type === true) throw new UsageError("--type needs a value, e.g. --type orchestration");
  onlyPositionals({ ...cli.argv, pairs: cli.argv.pairs.filter((pair) => pair.key !== "type") }, 0);
  return requestAndPrint(cli, "composition:list", type === undefined ? {} : { type }, (d: { compositions: PatternSummary[] }) =>
    renderPatterns(d.compositions),
  );
}

async function show(cli: Cli): Promise<number> {
  const [ref] = onlyPositionals(cli.argv, 1);
  if (ref === undefined) throw new UsageError("pat show needs a pattern, e.g. pat show tournament or pat show tournament@2.0.0");
  return requestAndPrint(cli, "composition:get", { name: ref, format: "yaml" }, (d: { yaml: string }) => d.yaml.trimEnd());
}

async function history(cli: Cli): Promise<number> {
  const [name] = onlyPositionals(cli.argv, 1);
  if (name === undefined) throw new UsageError("pat history needs a pattern name");
  return requestAndPrint(cli, "composition:history", { name }, (d: { versions: VersionSummary[] }) => renderHistory(d.versions));
}

/** One request, its result printed (JSON, or `human` on a terminal). */
async function requestAndPrint<T>(cli: Cli, event: string, data: Record<string, unknown>, human: (data: T) => string): Promise<number> {
  const client = await cli.connect();
  try {
    cli.print(await client.request<T>(event, data), human);
    return EXIT.ok;
  } finally {
    await client.close();
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

function onlyPositionals(argv: Argv, max: number): string[] {
  if (argv.pairs.length > 0) throw new UsageError(`unknown option --${argv.pairs[0]!.key}`);
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

function parseObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${what} is not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}
