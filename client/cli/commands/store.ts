/** The patterns in the store: pat ls, show, history, reload. */
import { UsageError } from "../args.js";
import { EXIT, type Cli } from "../context.js";
import { renderHistory, renderPatterns, type PatternSummary, type VersionSummary } from "../render.js";
import type { ReloadResult } from "../render-reload.js";
import type { Command } from "./command.js";
import { onlyPositionals, parseOptions } from "./options.js";
import { requestAndPrint } from "./reply.js";

export const STORE_COMMANDS = {
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
} satisfies Record<string, Command>;

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
    const result = await client.request<ReloadResult>("composition:reload", {});
    cli.print(result, (await import("../render-reload.js")).renderReload);
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

