/** The patterns in the store: pat ls, show, history, reload. */
import { coerce, UsageError } from "../args.js";
import { EXIT, type Cli } from "../context.js";
import { renderHistory, renderPatterns, type PatternSummary, type VersionSummary } from "../render.js";
import type { ReloadResult } from "../render-reload.js";
import type { Command } from "./command.js";
import { onlyPositionals, parseOptions } from "./options.js";
import { requestAndPrint } from "./reply.js";
import { listPages, type ListPage } from "../../list-pages.js";
import { PatternListPrinter } from "../pattern-pages.js";

export const STORE_COMMANDS = {
  ls: {
    usage: "pat ls [--type T] [--limit N [--cursor C]]",
    summary: "list the patterns in the store, in name order (all of them, printed a page at a time)",
    options: [
      ["--type T", "only patterns of this type (orchestration, profile, mixin, ...)"],
      ["--limit N", "one page of at most N patterns (1..5000) instead of all; the last line (or next_cursor) says how to get the next"],
      ["--cursor C", "the page after the one that gave this cursor"],
    ],
    examples: ["pat ls", "pat ls --type profile", "pat ls --limit 100", "pat ls -o json > patterns.json"],
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
  const { type, limit, cursor } = parseOptions(cli.argv, { type: "value", limit: "value", cursor: "value" }, 0).values;
  const query: Record<string, unknown> = type === undefined ? {} : { type };
  if (limit === undefined && cursor === undefined) return lsAll(cli, query);
  if (limit !== undefined) query.limit = coerce(limit, { type: "integer" }, "limit");
  if (cursor !== undefined) query.cursor = cursor;
  return requestAndPrint(cli, "composition:list", query, (d: ListPage<PatternSummary>) => {
    if (d.next_cursor === undefined) return renderPatterns(d.compositions, cli.layout);
    const again = ["pat ls", ...(type === undefined ? [] : ["--type", type]), ...(limit === undefined ? [] : ["--limit", limit]), "--cursor", d.next_cursor].join(" ");
    return `${renderPatterns(d.compositions, cli.layout)}\n${d.compositions.length} of ${d.total}; next page: ${again}`;
  });
}

/** Every pattern, page after page, each printed as it comes. */
async function lsAll(cli: Cli, query: Record<string, unknown>): Promise<number> {
  const client = await cli.connect();
  try {
    const printer = new PatternListPrinter(cli.format, cli.layout);
    for await (const page of listPages<PatternSummary>(client, query)) process.stdout.write(printer.page(page.compositions));
    process.stdout.write(printer.end());
    return EXIT.ok;
  } finally {
    await client.close();
  }
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

