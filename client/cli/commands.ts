/**
 * The `pat` verbs: one row each, mapping arguments to an event and a
 * rendering. A new verb is one row here.
 */
import { readFileSync } from "node:fs";
import { applyPairs, UsageError, type Argv } from "./args.js";
import { EXIT, type Cli } from "./context.js";
import { restart, runForeground, startDetached, status, stop } from "./lifecycle.js";
import { renderDiscover, renderHelp, renderPush, type EventSummary, type HelpResult } from "./render.js";

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
  const client = await cli.connect();
  try {
    const result = await client.request<{ events: EventSummary[] }>("system:discover", namespace === undefined ? {} : { namespace });
    cli.print(result, (d: typeof result) => renderDiscover(d.events));
    return EXIT.ok;
  } finally {
    await client.close();
  }
}

async function help(cli: Cli): Promise<number> {
  const [event] = onlyPositionals(cli.argv, 1);
  if (event === undefined) throw new UsageError("pat help needs an event name, e.g. pat help monitor:subscribe");
  const client = await cli.connect();
  try {
    cli.print(await client.request<HelpResult>("system:help", { event }), renderHelp);
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
