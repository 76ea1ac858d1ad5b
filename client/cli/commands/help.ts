/** pat describing itself: pat help, version, completion. */
import { suggest } from "../../../daemon/core/suggest.js";
import { DaemonUnreachableError, RemoteError } from "../../client.js";
import { UsageError } from "../args.js";
import { EXIT, type Cli } from "../context.js";
import type { Command } from "./command.js";
import { onlyPositionals } from "./options.js";
import { requestAndPrint } from "./reply.js";

/** The rows of pat help, version and completion; `table` is every command, pat help's topics. */
export function helpCommands(table: () => Readonly<Record<string, Command>>) {
  return {
  help: {
    usage: "pat help [COMMAND|EVENT]",
    summary: "describe a command (its options and examples) or an event (params, reply and an example)",
    examples: ["pat help fork", "pat help composition:select"],
    run: (cli) => help(cli, table()),
  },
  version: { usage: "pat version", summary: "print pat's version (also pat --version)", examples: ["pat version"], run: version },
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
    run: async (cli) => (await import("../completion-scripts.js")).printCompletionScript(cli),
  },
  } satisfies Record<string, Command>;
}

/** `pat help COMMAND` (from the table, no daemon needed) or `pat help EVENT` (system:help); neither: one line suggesting both kinds. */
async function help(cli: Cli, commands: Readonly<Record<string, Command>>): Promise<number> {
  const [topic] = onlyPositionals(cli.argv, 1);
  if (topic === undefined) throw new UsageError("pat help needs a command or an event, e.g. pat help fork or pat help composition:select");
  if (Object.hasOwn(commands, topic)) {
    cli.out((await import("../command-help.js")).commandHelp(topic, commands[topic]!));
    return EXIT.ok;
  }
  const closeCommands = suggest(topic, Object.keys(commands));
  try {
    const { renderHelp } = await import("../render-help.js");
    return await requestAndPrint(cli, "system:help", { event: topic }, renderHelp);
  } catch (err) {
    // An event name has a namespace: without one, a daemon that does not answer leaves only the commands to suggest.
    const unreachable = err instanceof DaemonUnreachableError && !topic.includes(":");
    if (!unreachable && !(err instanceof RemoteError && err.code === "unknown_event")) throw err;
    const events = err instanceof RemoteError && Array.isArray(err.details?.suggestions) ? (err.details.suggestions as string[]) : [];
    const close = [...closeCommands.map((name) => `${name} (a command)`), ...events.map((name) => `${name} (an event)`)];
    const hint = close.length > 0 ? `; did you mean ${close.join(", ")}?` : " (pat help lists the commands, pat discover the events)";
    throw new UsageError(`no command or event ${topic}${hint}`, false);
  }
}

async function version(cli: Cli): Promise<number> {
  onlyPositionals(cli.argv, 0);
  cli.out(`pat version ${(await import("../../../daemon/package-info.js")).packageInfo().version}`);
  return EXIT.ok;
}

