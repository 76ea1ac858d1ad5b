/** `pat`: argv → command → exit code (0 ok, 1 the daemon answered an error, 2 usage, 3 daemon not reachable). pat.ts is the entry. */
import { existsSync } from "node:fs";
import { resolveConfig } from "../../daemon/config.js";
import { suggest } from "../../daemon/core/suggest.js";
import { DaemonUnreachableError, RemoteError, RequestTimeoutError } from "../client.js";
import { splitArgv, UsageError } from "./args.js";
import { COMMANDS } from "./commands.js";
import { createCli, EXIT } from "./context.js";
import { resolveOutput, serialize } from "./output.js";
import { renderError } from "./render.js";

/** Usage lines longer than this put their summary on the next line. */
const USAGE_COLUMN = 40;

function usage(): string {
  const commands = Object.values(COMMANDS);
  const width = Math.max(...commands.map((c) => c.usage.length).filter((length) => length <= USAGE_COLUMN));
  return [
    "usage: pat COMMAND [ARGS] [--home DIR] [--socket PATH] [--agent-id ID] [-o text|json|yaml] [--json] [--no-color]",
    "",
    ...commands.map((c) => (c.usage.length <= width ? `  ${c.usage.padEnd(width)}  ${c.summary}` : `  ${c.usage}\n  ${"".padEnd(width)}  ${c.summary}`)),
    "",
    "Home: --home, else $PATTERND_HOME, else the nearest directory at or above the current one holding",
    "var/run/patternd.sock or var/lib/compositions/.git (like git finds .git), else the current directory.",
    "Output is text (tables fit the terminal; colour unless NO_COLOR or --no-color), or JSON or YAML with -o json|yaml (--json is -o json);",
    "pat send and pat call print JSON when stdout is not a terminal, for the programs that parse them.",
    "Exit codes: 0 ok, 1 the daemon answered an error, 2 usage error, 3 daemon not reachable.",
    "pat help COMMAND (or pat COMMAND --help) explains a command's options, with examples; pat help EVENT an event's params and reply; pat --version the version.",
  ].join("\n");
}

export async function main(argv: readonly string[]): Promise<number> {
  // The hidden command the completion scripts call (pat completion bash): its words are a command line being typed, not options.
  if (argv[0] === "__complete") return (await import("./complete.js")).printCompletions(argv.slice(1));
  let parsed;
  try {
    parsed = splitArgv(argv, (verb) => new Set(Object.hasOwn(COMMANDS, verb) ? COMMANDS[verb]!.flags : []));
  } catch (err) {
    process.stderr.write(`pat: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  const [verb, ...rest] = parsed.positionals;
  // `--version` before any verb (after one, pat fork --version V is the fork's).
  if (verb === undefined && parsed.pairs.length === 1 && parsed.pairs[0]!.key === "version" && parsed.pairs[0]!.value === true) {
    process.stdout.write(`pat version ${(await import("../../daemon/package-info.js")).packageInfo().version}\n`);
    return EXIT.ok;
  }
  if (verb === undefined || verb === "help" && rest.length === 0 && parsed.pairs.length === 0) {
    (verb === undefined && !parsed.globals.help ? process.stderr : process.stdout).write(usage() + "\n");
    return verb === undefined && !parsed.globals.help ? EXIT.usage : EXIT.ok;
  }
  const command = Object.hasOwn(COMMANDS, verb) ? COMMANDS[verb] : undefined;
  if (command === undefined) {
    const close = suggest(verb, Object.keys(COMMANDS));
    // One line, as git says it: the suggestion is what helps, not the whole usage.
    process.stderr.write(`pat: unknown command ${verb}${close.length > 0 ? `; did you mean ${close.join(", ")}?` : "; pat help lists the commands"}\n`);
    return EXIT.usage;
  }
  if (parsed.globals.help) {
    process.stdout.write(`${(await import("./command-help.js")).commandHelp(verb, command)}\n`);
    return EXIT.ok;
  }
  const config = resolveConfig({ home: parsed.globals.home, socket: parsed.globals.socket }, process.env, process.cwd(), existsSync);
  const output = resolveOutput(parsed.globals, command.jsonWhenPiped === true, {
    stdoutIsTty: process.stdout.isTTY === true,
    stderrIsTty: process.stderr.isTTY === true,
    columns: process.stdout.columns,
    env: process.env,
  });
  const cli = createCli(config, { ...parsed, positionals: rest }, output);
  try {
    return await command.run(cli);
  } catch (err) {
    if (err instanceof UsageError) {
      cli.err(err.showUsage ? `pat: ${err.message}\n${command.usage}` : `pat: ${err.message}`);
      return EXIT.usage;
    }
    if (err instanceof DaemonUnreachableError) {
      cli.err(`pat: ${err.message}`);
      return EXIT.unreachable;
    }
    if (err instanceof RemoteError) {
      const error = { code: err.code, message: err.message, details: err.details };
      if (cli.format !== "text") cli.out(serialize({ error }, cli.format));
      cli.err((command.renderError ?? renderError)(error, cli.errPaint));
      return EXIT.remote;
    }
    if (err instanceof RequestTimeoutError) {
      cli.err(`pat: ${err.message}`);
      return EXIT.remote;
    }
    throw err;
  }
}
