/**
 * `pat label` and `pat labels` (issue 17): move a label of a pattern, list
 * the labels, and show one label's moves from git.
 */
import { unknownOption, UsageError, type Argv } from "../args.js";
import { EXIT, type Cli } from "../context.js";
import { table } from "../table.js";
import type { Command } from "./command.js";

/** The wire shapes of composition:label and composition:labels (promote.ts reads them too). */
export type Target = string | { split: Record<string, number> };

export interface LabelEntry {
  name: string;
  label: string;
  target: Target;
  protected: boolean;
}

export interface Moved extends LabelEntry {
  previous: Target | null;
  commit: string | null;
  unchanged?: true;
}

interface LabelMove {
  commit: string;
  date: string;
  author: string;
  op: string;
  from: Target | null;
  to: Target | null;
  reason?: string;
  forced?: true;
}

export const LABEL_COMMANDS: Readonly<Record<string, Command>> = {
  label: {
    usage: "pat label NAME LABEL VERSION [--reason R] [--force] [--protect] | pat label NAME LABEL --split NAME@VERSION=WEIGHT ...",
    summary: "point a label of a pattern (production, staging…) at a version, or split it between versions for a trial: one commit",
    flags: ["force", "protect"],
    options: [
      ["--reason R", "why (kept in the commit); required with --force"],
      ["--force", "move a protected label (with --reason)"],
      ["--protect", "mark the label protected: it then moves only with --force and --reason"],
      ["--split NAME@VERSION=WEIGHT", "an arm of a split instead of VERSION (two or more; weights are any positive numbers); repeatable"],
    ],
    details: ["NAME@LABEL then works wherever a ref is taken (pat show tournament@production); a rollback is a move back (pat labels NAME LABEL shows the moves)."],
    examples: [
      'pat label tournament production 1.2.0 --reason "passed review"',
      'pat label tournament production 1.1.0 --force --reason "rollback: 1.2.0 loops"',
      "pat label tournament trial --split tournament@1.2.0=50 --split tournament_swiss@0.1.0=50",
    ],
    run: label,
  },
  labels: {
    usage: "pat labels [NAME [LABEL]]",
    summary: "the labels of every pattern (or NAME's) and what they point at; with LABEL, its moves from git, newest first",
    examples: ["pat labels", "pat labels tournament production"],
    run: labels,
  },
};

async function label(cli: Cli): Promise<number> {
  const options = parseLabelOptions(cli.argv, { reason: "value", force: "flag", protect: "flag", split: "list" });
  const [name, labelName, version, extra] = cli.argv.positionals;
  if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
  if (name === undefined || labelName === undefined || (version === undefined) === (options.split.length === 0)) {
    throw new UsageError("pat label needs a pattern, a label and a version (or --split arms), e.g. pat label tournament production 1.2.0 --reason 'passed review'");
  }
  const data: Record<string, unknown> = { name, label: labelName };
  if (version !== undefined) data.version = version;
  else data.split = Object.fromEntries(options.split.map(arm));
  if (options.reason !== undefined) data.reason = options.reason;
  if (options.flags.has("force")) data.force = true;
  if (options.flags.has("protect")) data.protected = true;
  const client = await cli.connect();
  try {
    const moved = await client.request<Moved>("composition:label", data);
    cli.print(moved, (d: Moved) =>
      d.unchanged === true
        ? `${d.name}@${d.label} already points at ${describe(d.target)}: nothing committed`
        : `${d.name}@${d.label}: ${describe(d.previous)} -> ${describe(d.target)}${d.protected ? " (protected)" : ""}  commit ${d.commit?.slice(0, 12) ?? ""}`,
    );
    return EXIT.ok;
  } finally {
    await client.close();
  }
}

async function labels(cli: Cli): Promise<number> {
  parseLabelOptions(cli.argv, {});
  const [name, labelName, extra] = cli.argv.positionals;
  if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
  const client = await cli.connect();
  try {
    if (labelName === undefined) {
      const result = await client.request<{ labels: LabelEntry[] }>("composition:labels", name === undefined ? {} : { name });
      cli.print(result, (d: { labels: LabelEntry[] }) =>
        d.labels.length === 0
          ? `no labels${name === undefined ? "" : ` of ${name}`} (pat label NAME LABEL VERSION makes one)`
          : table(["PATTERN", "LABEL", "PROTECTED", "TARGET"], d.labels.map((l) => [l.name, l.label, l.protected ? "yes" : "", describe(l.target)]), cli.layout),
      );
    } else {
      const result = await client.request<{ moves: LabelMove[] }>("composition:label_history", { name, label: labelName });
      cli.print(result, (d: { moves: LabelMove[] }) =>
        table(
          ["DATE", "COMMIT", "AUTHOR", "FROM", "TO", "REASON"],
          d.moves.map((m) => [m.date.slice(0, 19), m.commit.slice(0, 12), m.author, describe(m.from), describe(m.to), `${m.forced === true ? "(forced) " : ""}${m.reason ?? (m.op === "manual" ? "(a commit by hand)" : "")}`]),
          cli.layout,
        ),
      );
    }
    return EXIT.ok;
  } finally {
    await client.close();
  }
}

function describe(target: Target | null): string {
  if (target === null) return "-";
  if (typeof target === "string") return target;
  return Object.entries(target.split)
    .map(([ref, weight]) => `${ref} ${Math.round(weight * 1000) / 10}%`)
    .join(", ");
}

/** `name@version=weight` → [arm, weight]. */
function arm(raw: string): [string, number] {
  const at = raw.lastIndexOf("=");
  const weight = Number(raw.slice(at + 1));
  if (at <= 0 || raw.slice(at + 1).trim() === "" || !Number.isFinite(weight)) {
    throw new UsageError(`--split ${raw}: each arm is NAME@VERSION=WEIGHT, e.g. --split tournament@1.2.0=50`);
  }
  return [raw.slice(0, at), weight];
}

type Kind = "value" | "flag" | "list";

/** The verb's options by `spec`: value options by name, list options as arrays, flags in `flags`; anything else is a usage error. */
function parseLabelOptions(argv: Argv, spec: Record<string, Kind>): { flags: Set<string>; reason?: string; split: string[] } {
  const flags = new Set<string>();
  const split: string[] = [];
  let reason: string | undefined;
  for (const { key, value } of argv.pairs) {
    const kind = Object.hasOwn(spec, key) ? spec[key] : undefined;
    if (kind === undefined) throw unknownOption(key, Object.keys(spec));
    if (kind === "flag") {
      if (value !== true && value !== "true" && value !== "false") throw new UsageError(`--${key} takes no value (got ${value})`);
      if (value !== "false") flags.add(key);
    } else if (value === true) {
      throw new UsageError(`--${key} needs a value`);
    } else if (kind === "list") {
      split.push(value);
    } else {
      reason = value;
    }
  }
  return { flags, split, ...(reason === undefined ? {} : { reason }) };
}
