/** pat lint: checks pattern files before they reach a store, by composition:lint's rules (the daemon's model/pattern-lint.ts). */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../args.js";
import { EXIT, type Cli } from "../context.js";
import type { Command } from "./command.js";
import { parseOptions } from "./options.js";

interface Finding {
  file: string;
  path: string;
  message: string;
}

/** Decision logs sit beside patterns and are not patterns. */
const DECISION_LOG = /_decisions\.yaml$/;

export const LINT_COMMANDS = {
  lint: {
    usage: "pat lint [FILE|DIR ...]",
    summary: "check pattern files (default: the bundled library): invalid ones, and orchestration patterns or mixins without metadata.example_tasks",
    details: [
      "A directory means its *.yaml files (decision logs, *_decisions.yaml, are skipped). Each file is sent to composition:lint; exits 1 when anything is found.",
      "example_tasks are how people ask for the pattern in their own words; composition:select searches them, so a pattern without them is found only by its own vocabulary.",
    ],
    examples: ["pat lint", "pat lint compositions/", "pat lint my_pattern.yaml -o json"],
    run: lint,
  },
} satisfies Record<string, Command>;

async function lint(cli: Cli): Promise<number> {
  const { positionals } = parseOptions(cli.argv, {}, Infinity);
  // Loaded here, not at import: every pat call loads this file, and only a bare pat lint needs the package's root.
  const targets = positionals.length === 0 ? [join((await import("../../../daemon/package-info.js")).packageInfo().root, "compositions")] : positionals;
  const files = targets.flatMap(patternFiles);
  const findings: Finding[] = [];
  const client = await cli.connect();
  try {
    for (const file of files) {
      const { findings: found } = await client.request<{ findings: { path: string; message: string }[] }>("composition:lint", { yaml: readFileSync(file, "utf8") });
      for (const finding of found) findings.push({ file, ...finding });
    }
  } finally {
    await client.close();
  }
  cli.print({ files: files.length, findings }, (d: { files: number; findings: Finding[] }) =>
    [...d.findings.map((f) => `${f.file}: ${f.path}: ${f.message}`), `${d.files} file(s), ${d.findings.length} finding(s)`].join("\n"),
  );
  return findings.length === 0 ? EXIT.ok : EXIT.remote;
}

function patternFiles(target: string): string[] {
  let directory: boolean;
  try {
    directory = statSync(target).isDirectory();
  } catch {
    throw new UsageError(`pat lint: no file or directory ${target}; give pattern files (*.yaml) or a directory of them`);
  }
  if (!directory) return [target];
  return readdirSync(target)
    .filter((name) => name.endsWith(".yaml") && !DECISION_LOG.test(name))
    .sort()
    .map((name) => join(target, name));
}
