/**
 * `pat promote NAME@VERSION --to LABEL` (issue 17): the release step. It
 * shows the comparison (composition:compare) between what the label points
 * at now (or --over REF) and NAME@VERSION, then moves the label
 * (composition:label), one commit whose reason carries the evidence.
 *
 * Moving a release label is destructive, so it is confirmed as other tools
 * confirm: a question on a terminal, --yes in a script; without a terminal
 * and without --yes it refuses after showing the comparison. A
 * recommendation other than `promote b`, or a protected label, needs
 * --force as well: the comparison is shown first either way, so the person
 * forcing it has seen what they overrule.
 */
import { createInterface } from "node:readline/promises";
import { unknownOption, UsageError } from "../args.js";
import { EXIT, type Cli } from "../context.js";
import { table } from "../table.js";
import type { Command } from "./command.js";
import type { LabelEntry, Moved, Target } from "./labels.js";

interface Arm {
  ref: string;
  runs: number;
  successes: number;
  failures: number;
  undecided: number;
  success_rate: number | null;
  interval: { low: number; high: number };
  mean_confidence: number | null;
  recorded: { runs: number; counted: boolean; note?: string } | null;
}

interface Comparison {
  a: Arm;
  b: Arm;
  since: string | null;
  p_b_better: number;
  recommendation: { action: "promote_b" | "keep_a" | "need_more_runs"; text: string; more_runs: number | null; reason: string };
}

/** What -o json prints: the comparison, and the move (null when nothing moved). */
interface PromoteResult {
  compare: Comparison;
  moved: Moved | null;
  refused?: string;
}

export const PROMOTE_COMMANDS: Readonly<Record<string, Command>> = {
  promote: {
    usage: "pat promote NAME@VERSION --to LABEL [--over REF] [--since TIME] [--reason R] [--force] [--yes]",
    summary: "show how NAME@VERSION compares with what LABEL points at now, then move LABEL to it (asks first)",
    flags: ["force", "yes"],
    options: [
      ["--to LABEL", "the label to move (production, staging…): a label of NAME"],
      ["--over REF", "what to compare against instead of NAME@LABEL: the parent's tournament@production when promoting a fork, one arm of a split"],
      ["--since TIME", "count only decision records from this ISO-8601 time (a date alone is its midnight UTC)"],
      ["--reason R", "why (kept in the commit); default: the comparison's verdict and p"],
      ["--force", "promote although the recommendation is not `promote b`, or move a protected label"],
      ["--yes", "do not ask: needed when stdin is not a terminal (scripts, CI)"],
    ],
    details: [
      "The comparison is composition:compare {a: LABEL's version (or --over), b: NAME@VERSION}: runs, success rate with its 95 % interval, P(b better), and a recommendation.",
      "Without --yes, pat asks on a terminal and refuses (exit 2) anywhere else, after printing the comparison; a recommendation other than `promote b` refuses (exit 2) unless --force.",
      "The move is one commit of labels.yaml (git log -- labels.yaml); a rollback is pat label NAME LABEL OLD_VERSION.",
    ],
    examples: [
      "pat promote tournament@1.3.0 --to production",
      "pat promote tournament_swiss@0.1.0 --to production --over tournament@production --yes",
      'pat promote tournament@1.3.0 --to production --force --reason "hotfix: 1.2.0 loops" --yes',
    ],
    run: promote,
  },
};

const OPTIONS = { to: "value", over: "value", since: "value", reason: "value", force: "flag", yes: "flag" } as const;

async function promote(cli: Cli): Promise<number> {
  const options = parseOptions(cli);
  const [ref, extra] = cli.argv.positionals;
  if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
  const at = ref?.indexOf("@") ?? -1;
  if (ref === undefined || at <= 0 || at === ref.length - 1) {
    throw new UsageError("pat promote needs NAME@VERSION, the version to promote, e.g. pat promote tournament@1.3.0 --to production");
  }
  const label = options.values.to;
  if (label === undefined) throw new UsageError(`pat promote needs --to LABEL, the label to move, e.g. pat promote ${ref} --to production`);
  const name = ref.slice(0, at);
  const force = options.flags.has("force");
  const client = await cli.connect();
  try {
    const { labels } = await client.request<{ labels: LabelEntry[] }>("composition:labels", { name });
    const current = labels.find((l) => l.label === label);
    const over = options.values.over ?? overOf(name, label, current);
    const comparison = await client.request<Comparison>("composition:compare", { a: over, b: ref, ...(options.values.since === undefined ? {} : { since: options.values.since }) });
    if (cli.format === "text") cli.out(describeComparison(comparison, over, cli));
    const target = `${name}@${label}`;
    const refuse = (why: string): number => {
      if (cli.format === "text") cli.err(`pat: ${why}`);
      else cli.print({ compare: comparison, moved: null, refused: why } satisfies PromoteResult);
      return EXIT.usage;
    };
    if (comparison.recommendation.action !== "promote_b" && !force) {
      return refuse(`the recommendation is "${comparison.recommendation.text}", not "promote b": ${target} stays where it is (--force promotes anyway)`);
    }
    if (current?.protected === true && !force) return refuse(`${target} is protected (labels.yaml): --force moves it`);
    if (!options.flags.has("yes") && !(await confirmed(cli, `Move ${target} from ${describe(current?.target ?? null)} to ${ref.slice(at + 1)}? [y/N] `))) {
      return refuse(
        process.stdin.isTTY === true ? `not confirmed: ${target} stays where it is` : `not moving ${target} without confirmation: stdin is not a terminal, so add --yes to move it`,
      );
    }
    const reason = options.values.reason ?? `promoted over ${comparison.a.ref}: ${comparison.recommendation.text}, p(b better) ${probability(comparison.p_b_better)}`;
    const moved = await client.request<Moved>("composition:label", { name, label, version: ref.slice(at + 1), reason, ...(force ? { force: true } : {}) });
    if (cli.format === "text") {
      cli.out(
        moved.unchanged === true
          ? `${target} already points at ${describe(moved.target)}: nothing committed`
          : `${target}: ${describe(moved.previous)} -> ${describe(moved.target)}  commit ${moved.commit?.slice(0, 12) ?? ""}`,
      );
    } else {
      cli.print({ compare: comparison, moved } satisfies PromoteResult);
    }
    return EXIT.ok;
  } finally {
    await client.close();
  }
}

/** What the label points at now, as a ref to compare against; a usage error when there is no one version to compare with. */
function overOf(name: string, label: string, current: LabelEntry | undefined): string {
  if (current === undefined) {
    throw new UsageError(`${name} has no label ${label} yet: give --over REF, what it replaces (the parent's tournament@production when promoting a fork), or make it with pat label ${name} ${label} VERSION`, false);
  }
  if (typeof current.target !== "string") {
    const arms = Object.keys(current.target.split);
    throw new UsageError(`${name}@${label} is a split (${arms.join(", ")}): give --over the arm to compare against, e.g. --over ${arms[0]}`, false);
  }
  return `${name}@${current.target}`;
}

/** Asks on stderr and reads the answer from a terminal; false without a terminal (nothing to ask). */
async function confirmed(cli: Cli, question: string): Promise<boolean> {
  if (process.stdin.isTTY !== true) return false;
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(question);
    return /^(y|yes)$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}

function describeComparison(result: Comparison, over: string, cli: Cli): string {
  const row = (side: string, arm: Arm): string[] => [
    side,
    arm.ref,
    String(arm.runs),
    String(arm.successes),
    String(arm.failures),
    String(arm.undecided),
    arm.success_rate === null ? "-" : arm.success_rate.toFixed(3),
    `${arm.interval.low.toFixed(3)}..${arm.interval.high.toFixed(3)}`,
    arm.mean_confidence === null ? "-" : arm.mean_confidence.toFixed(2),
  ];
  const header = over === result.a.ref ? `a: ${result.a.ref} (in place)` : `a: ${over} = ${result.a.ref} (in place)`;
  const notes = [result.a, result.b].flatMap((arm) => (arm.recorded?.note === undefined ? [] : [`${arm.ref}'s recorded performance (${arm.recorded.runs} runs) is ${arm.recorded.note}`]));
  return [
    `${header}; b: ${result.b.ref} (to promote)${result.since === null ? "" : `; records since ${result.since}`}`,
    table(["", "VARIANT", "RUNS", "SUCCESSES", "FAILURES", "UNDECIDED", "RATE", "95% INTERVAL", "CONFIDENCE"], [row("a", result.a), row("b", result.b)], cli.layout),
    ...notes,
    `p(b better) ${probability(result.p_b_better)}`,
    `recommendation: ${result.recommendation.text} (${result.recommendation.reason})`,
  ].join("\n");
}

function describe(target: Target | null): string {
  if (target === null) return "nothing";
  if (typeof target === "string") return target;
  return Object.entries(target.split)
    .map(([ref, weight]) => `${ref} ${Math.round(weight * 1000) / 10}%`)
    .join(", ");
}

/** Value options by name, flags in `flags`; anything else is a usage error. */
function parseOptions(cli: Cli): { values: Partial<Record<"to" | "over" | "since" | "reason", string>>; flags: Set<string> } {
  const values: Partial<Record<"to" | "over" | "since" | "reason", string>> = {};
  const flags = new Set<string>();
  for (const { key, value } of cli.argv.pairs) {
    const kind = Object.hasOwn(OPTIONS, key) ? OPTIONS[key as keyof typeof OPTIONS] : undefined;
    if (kind === undefined) throw unknownOption(key, Object.keys(OPTIONS));
    if (kind === "flag") {
      if (value !== true && value !== "true" && value !== "false") throw new UsageError(`--${key} takes no value (got ${value})`);
      if (value !== "false") flags.add(key);
    } else if (value === true) {
      throw new UsageError(`--${key} needs a value`);
    } else {
      values[key as keyof typeof values] = value;
    }
  }
  return { values, flags };
}

/** As composition:compare's reasons write it: three decimals, never a certainty the counts cannot give (> 0.999, not 1.000). */
function probability(p: number): string {
  return p > 0.999 ? "> 0.999" : p < 0.001 ? "< 0.001" : p.toFixed(3);
}
