/**
 * `pat help VERB` and `pat VERB --help` (pure): the usage line, what the
 * verb does, each option explained, notes, then examples to copy, as
 * `git help` and `gh help` lay a command out.
 */
import type { Command } from "./commands.js";

/** Options longer than this put their explanation on the next line. */
const OPTION_COLUMN = 28;

export function commandHelp(name: string, command: Command): string {
  const lines = [`usage: ${command.usage}`, "", `${command.summary}.`.replace(/\.\.$/, ".")];
  const options = command.options ?? [];
  if (options.length > 0) {
    const width = Math.max(...options.map(([option]) => option.length).filter((length) => length <= OPTION_COLUMN));
    lines.push("", "options:");
    for (const [option, explanation] of options) {
      lines.push(option.length <= width ? `  ${option.padEnd(width)}  ${explanation}` : `  ${option}\n  ${"".padEnd(width)}  ${explanation}`);
    }
  }
  if (command.details !== undefined && command.details.length > 0) lines.push("", ...command.details.map((line) => `  ${line}`));
  lines.push("", command.examples.length === 1 ? "example:" : "examples:", ...command.examples.map((example) => `  ${example}`));
  lines.push("", `Every command also takes --home DIR, --socket PATH, --agent-id ID and --json (pat help lists them); pat ${name} -h prints this page.`);
  return lines.join("\n");
}
