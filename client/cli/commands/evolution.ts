/** Changing patterns and following their family: pat fork, set, merge, diff, lineage. */
import { parseAssignment, UsageError } from "../args.js";
import { EXIT, type Cli } from "../context.js";
import {
  noDifferences,
  renderDiff,
  renderError,
  renderFork,
  renderLineage,
  renderMerge,
  renderMergeConflict,
  renderUpdate,
  type DiffResult,
  type ForkResult,
  type LineageResult,
  type MergeResult,
  type UpdateResult,
} from "../render.js";
import type { Command } from "./command.js";
import { oneOf, parseOptions } from "./options.js";
import { requestAndPrint } from "./reply.js";

export const EVOLUTION_COMMANDS = {
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
} satisfies Record<string, Command>;

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

